// nabla — Var, a recorded scalar.
#pragma once

#include <compare>
#include <cstdint>
#include <type_traits>

namespace nabla {

class Tape;

/// A scalar whose computation is recorded on a tape for reverse-mode differentiation.
///
/// A Var is a 16-byte value handle {value, statement index, tape tag}; it owns nothing, the
/// tape owns the recording (Note [Constants are free]). A Var made from a number is a
/// *constant*: index 0, nothing is recorded for it, and operations whose operands are all
/// constants record nothing either. Independent variables are made with nabla::variable().
///
/// Example:
///   nabla::Var x = nabla::variable(2.0);
///   nabla::Var y = x * x + 1.0;        // y.value() == 5
class Var {
 public:
  /// The constant 0.
  constexpr Var() noexcept = default;
  /// A constant (passive) value: nothing is recorded.
  constexpr Var(double value) noexcept : value_(value) {}  // NOLINT: implicit by design

  /// The value computed in the forward run.
  [[nodiscard]] constexpr double value() const noexcept { return value_; }
  /// The statement index on the tape; 0 for constants.
  [[nodiscard]] constexpr std::uint32_t index() const noexcept { return index_; }
  /// Which tape epoch recorded it (Note [Tape epochs]); 0 for constants.
  [[nodiscard]] constexpr std::uint32_t tag() const noexcept { return tag_; }
  /// True when this Var is a constant (records nothing, has no adjoint).
  [[nodiscard]] constexpr bool is_constant() const noexcept { return index_ == 0; }
  /// True when both handles name the same recorded statement (or are both constants).
  [[nodiscard]] constexpr bool same_variable(const Var& other) const noexcept {
    return index_ == other.index_ && tag_ == other.tag_;
  }

 private:
  friend class Tape;
  constexpr Var(double value, std::uint32_t index, std::uint32_t tag) noexcept
      : value_(value), index_(index), tag_(tag) {}

  double value_ = 0.0;
  std::uint32_t index_ = 0;  // statement index on the tape, 0 = constant
  std::uint32_t tag_ = 0;    // which tape (and which tape epoch) recorded it; 0 = constant
};

static_assert(sizeof(Var) == 16, "Var must stay a 16-byte handle");
static_assert(std::is_trivially_copyable_v<Var>, "Var must be trivially copyable");

/// The value of a Var, or the number itself: lets generic code print or branch on values.
/// (Comparisons of Vars and expressions compare values: arithmetic.hpp.)
[[nodiscard]] constexpr double value(const Var& x) noexcept { return x.value(); }
/// The number itself (the double overload of value(const Var&)).
[[nodiscard]] constexpr double value(double x) noexcept { return x; }

// Note [Constants are free]
// A Var built from a number has index 0 and tag 0. Every recording function drops operands
// with index 0 (they cannot receive an adjoint) and, when no operand is left, returns a
// constant instead of recording. So `Var s = 0.0;` or a literal inside a hot loop costs no tape.

}  // namespace nabla
