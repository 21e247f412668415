// nabla — Var, a recorded scalar.
#pragma once

#include <compare>
#include <cstdint>
#include <type_traits>

namespace nabla {

class Tape;

/// A scalar whose computation is recorded on a tape for reverse-mode differentiation.
///
/// A Var is a 16-byte value handle {value, id}; it owns nothing, the tape owns the recording
/// (Note [Constants are free]). The id names one recorded statement for the life of the
/// process: no two statements ever recorded, on any tape, share one (Note [Tape epochs] in
/// tape.hpp), so a Var that was rewound away or belongs to another tape is always recognised.
/// A Var made from a number is a *constant*: id 0, nothing is recorded for it, and operations
/// whose operands are all constants record nothing either. Independent variables are made with
/// nabla::variable().
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
  /// The value, for generic code that writes `static_cast<double>(x)` (Eigen's `cast<double>()`
  /// among others). Reading a value is not differentiable: the double is a constant to any later
  /// computation, exactly like value(). Explicit, so a Var never silently becomes a double.
  [[nodiscard]] constexpr explicit operator double() const noexcept { return value_; }
  /// The statement index of this Var on the active tape; 0 for constants (tape.hpp).
  /// @throws nabla::Error when it belongs to another tape or was rewound away.
  [[nodiscard]] std::uint32_t index() const;
  /// The process-wide identity of the recorded statement (Note [Tape epochs]); 0 for constants.
  [[nodiscard]] constexpr std::uint64_t id() const noexcept { return id_; }
  /// True when this Var is a constant (records nothing, has no adjoint).
  [[nodiscard]] constexpr bool is_constant() const noexcept { return id_ == 0; }
  /// True when both handles name the same recorded statement (or are both constants).
  [[nodiscard]] constexpr bool same_variable(const Var& other) const noexcept {
    return id_ == other.id_;
  }

 private:
  friend class Tape;
  constexpr Var(double value, std::uint64_t id) noexcept : value_(value), id_(id) {}

  double value_ = 0.0;
  std::uint64_t id_ = 0;  // which recorded statement, unique in the process; 0 = constant
};

static_assert(sizeof(Var) == 16, "Var must stay a 16-byte handle");
static_assert(std::is_trivially_copyable_v<Var>, "Var must be trivially copyable");

/// The value of a Var, or the number itself: lets generic code print or branch on values.
/// (Comparisons of Vars and expressions compare values: arithmetic.hpp.)
[[nodiscard]] constexpr double value(const Var& x) noexcept { return x.value(); }
/// The number itself (the double overload of value(const Var&)).
[[nodiscard]] constexpr double value(double x) noexcept { return x; }

// Note [Constants are free]
// A Var built from a number has id 0. Every recording function drops constant operands
// (they cannot receive an adjoint) and, when no operand is left, returns a
// constant instead of recording. So `Var s = 0.0;` or a literal inside a hot loop costs no tape.

}  // namespace nabla
