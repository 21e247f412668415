// nabla — expression templates: a whole expression such as `a * b + sin(c)` becomes one tape
// statement with one operand per variable leaf (Note [Expression templates]).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "nabla/autodiff/tape.hpp"

namespace nabla {

// Note [Expression templates]
// Operators and elementary functions on Var return small expression nodes instead of recording
// at once. A node holds its operands *by value* (a Var is a 16-byte handle, a nested node is a
// few more), and computes its value when it is built, so
//     auto e = a * b;          // safe: e owns copies of a and b, never a dangling reference
// and reading e.value() is free. The node is recorded when it becomes a Var (assignment,
// initialisation, a function taking `const Var&`): one statement whose operands are the
// expression's variable leaves, each with the product of the partials on its path (the chain
// rule applied inside the expression at recording time). Nothing is recorded for a node that
// is only compared or read. Two different expression types do not mix in `c ? e1 : e2`; write
// `Var(e1)` there.

template <class Derived>
struct ExpressionBase;

/// A recorded scalar or an expression of them: what the operators and functions accept.
template <class T>
concept Expression = std::same_as<T, Var> || std::derived_from<T, ExpressionBase<T>>;

namespace detail {

/// Writes one statement's operands straight into the tape's arrays (Note [Jacobian taping]),
/// given the current epoch's ids (Note [Tape epochs]). A leaf that is neither a constant nor of
/// the current epoch makes ok() false: the statement then takes the slow path (Note [One slow
/// call]), and what was written is left unused.
class OperandWriter {
 public:
  OperandWriter(const Tape& tape, std::uint32_t* arg, double* partial) noexcept
      : tape_(tape), arg_(arg), partial_(partial) {}
  /// Adds operand x with partial d; constants (index 0) are written but not counted.
  NABLA_FORCE_INLINE void push(const Var& x, double d) {
    std::uint32_t i = 0;
    if (!TapeAccess::current_index(tape_, x, i)) [[unlikely]]
      ok_ &= x.is_constant();
    arg_[count_] = i;
    partial_[count_] = d;
    count_ += (i != 0);
  }
  [[nodiscard]] std::size_t count() const noexcept { return count_; }
  [[nodiscard]] bool ok() const noexcept { return ok_; }

 private:
  const Tape& tape_;
  std::uint32_t* arg_;
  double* partial_;
  std::size_t count_ = 0;
  bool ok_ = true;
};

/// Collects a statement's leaves and partials for the slow path (Note [One slow call]).
class LeafCollector {
 public:
  LeafCollector(Var* xs, double* partials) noexcept : xs_(xs), partials_(partials) {}
  NABLA_FORCE_INLINE void push(const Var& x, double d) noexcept {
    // Rebuilt from its two fields rather than copied: with a copy of the 16-byte handle here,
    // GCC compiled LSTM's statements into 11% more instructions on their fast path (callgrind).
    xs_[count_] = TapeAccess::make_var(x.value(), x.id());
    partials_[count_] = d;
    ++count_;
  }
  [[nodiscard]] std::size_t count() const noexcept { return count_; }

 private:
  Var* xs_;
  double* partials_;
  std::size_t count_ = 0;
};

/// Number of Var leaves of an expression (an upper bound on its operands).
template <class E>
consteval std::size_t leaves() {
  if constexpr (std::same_as<E, Var>) {
    return 1;
  } else {
    return E::leaf_count;
  }
}

/// Number of operation nodes of an expression (0 for a Var).
template <class E>
consteval std::size_t nodes() {
  if constexpr (std::same_as<E, Var>) {
    return 0;
  } else {
    return E::node_count;
  }
}

/// m · partial along a path of the chain rule, with 0 · anything = 0: a fused expression gives
/// what its operations give one statement each, where a zero adjoint is never pushed on (so
/// `0.0 * sqrt(x)` at x = 0 has derivative 0, not 0 · ∞ = NaN).
inline double chain(double m, double partial) noexcept { return m == 0.0 ? 0.0 : m * partial; }

/// Pushes the leaves of e with `multiplier` times their partials into w (an OperandWriter or a
/// LeafCollector).
template <class E, class W>
NABLA_FORCE_INLINE void propagate(const E& e, W& w, double multiplier) {
  if constexpr (std::same_as<E, Var>) {
    w.push(e, multiplier);
  } else {
    e.propagate(w, multiplier);
  }
}

/// True when a Binary node of F is the constant 0 whenever its left operand is the constant 0,
/// whatever the right one (F::zero_left_absorbs): the tangent term ḋ·p of forward over reverse,
/// whose partial with respect to p is ḋ — so a direction that does not move an input records
/// no term at all for it (Note [Hessian blocks] in forward.hpp).
template <class F>
inline constexpr bool zero_left_absorbs = requires {
  requires F::zero_left_absorbs;
};

/// True when every leaf of e is a constant, so that recording e would record nothing (a
/// Hessian column's tangents are mostly such: Note [Lazy Dual<Var>]).
template <class E>
NABLA_FORCE_INLINE bool constant_leaves(const E& e) noexcept {
  if constexpr (std::same_as<E, Var>) {
    return e.is_constant();
  } else {
    return e.constant_leaves();
  }
}

}  // namespace detail

namespace detail {
/// The operation a statement of e carries: a statement of one node carries that node's
/// operation; a larger one is marked fused.
template <class E>
constexpr Op statement_op() noexcept {
  constexpr bool fused = detail::nodes<E>() > 1;
  return fused ? static_cast<Op>(static_cast<std::uint8_t>(E::op) | 0x80) : E::op;
}
/// Records e on `tape` (null: the active tape) the slow way (Note [One slow call]): its leaves
/// and partials are collected and recorded by Tape::record_collected. Out of line, and e taken
/// by value: the caller copies e only on its way here (by reference, GCC kept e in memory on the
/// fast path too).
template <class E>
[[gnu::noinline, gnu::cold]] Var record_slow(Tape* tape, const E e) {
  constexpr std::size_t n = detail::leaves<E>();
  Var xs[n];
  double partials[n];
  LeafCollector c(xs, partials);
  detail::propagate(e, c, 1.0);
  return TapeAccess::record_collected(tape, statement_op<E>(), e.value(),
                                      std::span<const Var>(xs, c.count()),
                                      std::span<const double>(partials, c.count()));
}
}  // namespace detail

/// Records e as one statement on the active tape and returns its Var (what converting an
/// expression to Var does).
template <Expression E>
NABLA_FORCE_INLINE Var record(const E& e) {
  if constexpr (std::same_as<E, Var>) {
    return e;
  } else {
    Tape* tape = detail::active_tape;
    Var out;
    if (tape != nullptr && detail::TapeAccess::try_record_expression(*tape, e, out)) [[likely]]
      return out;
    return detail::record_slow(tape, e);
  }
}

/// The base of every expression node (CRTP): converting a node to Var records it.
template <class Derived>
struct ExpressionBase {
  /// Records the expression as one statement (Note [Expression templates]).
  NABLA_FORCE_INLINE operator Var() const {  // NOLINT: implicit by design
    return record(static_cast<const Derived&>(*this));
  }
  /// The value, as `static_cast<double>(e)`: nothing is recorded and, as with value(), the
  /// double is not differentiable (Var::operator double).
  [[nodiscard]] explicit operator double() const {
    return static_cast<const Derived&>(*this).value();
  }
};

// Note [One slow call]
// Recording an expression has one fast path, with no call in it, and one slow path,
// detail::record_slow, out of line, that does everything else through Tape::record_collected:
// finding the default tape (no tape active yet), growing, diagnostics (set_operand_limit()
// leaves no room while they are on, so the room test sends every statement there), leaves two
// or more epochs down (Note [The epoch below] in tape.hpp) and the errors for stale Vars.
// Each of these used to be its own call on a cold branch of the inlined statement, and a value
// live across a call must survive it: no SSE register does (all are caller-saved), so GCC kept
// values in stack slots — for a whole loop where `p *= x[i]` was inlined into a gradient helper,
// whose product then took 1.7× the sum's time with the same instructions. Now nothing of the
// statement is live across the one call, which returns the statement's Var. record_slow takes e
// by value: by reference, e's address escaped and GCC built big expressions in memory on the
// fast path too (LSTM recording +16% instructions); by value the copy is made on the way there.
template <class E>
inline Var Tape::record_expression(const E& e) {
  Var out;
  if (try_record_expression(e, out)) [[likely]]
    return out;
  return detail::record_slow(this, e);
}

template <class E>
inline bool Tape::try_record_expression(const E& e, Var& out) {
  constexpr std::size_t n = detail::leaves<E>();
  static_assert(n >= 1, "an expression has at least one Var leaf");
  if (operands_ + n > operand_limit_) [[unlikely]]
    return false;  // Note [One room check]; also while diagnosing
  NABLA_ASSERT(!cold_, "the fast path had room while diagnosing or dropping zero partials");
  detail::OperandWriter w(*this, arg_.data() + operands_, partial_.data() + operands_);
  detail::propagate(e, w, 1.0);
  if (!w.ok()) [[unlikely]]
    return false;
  if (w.count() == 0) {
    out = Var(e.value());
    return true;
  }
  operands_ += w.count();
  out = push_undiagnosed(detail::statement_op<E>(), e.value());
  return true;
}

/// An expression node applying F to one operand: F::value(x) and F::partial(x, value).
template <class F, Expression E>
struct Unary : ExpressionBase<Unary<F, E>> {
  static constexpr Op op = F::op;
  static constexpr std::size_t leaf_count = detail::leaves<E>();
  static constexpr std::size_t node_count = detail::nodes<E>() + 1;
  E operand;
  double result;
  explicit Unary(const E& x) : operand(x), result(F::value(x.value())) {}
  [[nodiscard]] double value() const { return result; }
  [[nodiscard]] bool constant_leaves() const noexcept { return detail::constant_leaves(operand); }
  template <class W>
  NABLA_FORCE_INLINE void propagate(W& w, double m) const {
    detail::propagate(operand, w, detail::chain(m, F::partial(operand.value(), result)));
  }
};

/// An expression node applying F to one operand and a number c: F::value(x, c) and
/// F::partial(x, value, c).
template <class F, Expression E>
struct WithNumber : ExpressionBase<WithNumber<F, E>> {
  static constexpr Op op = F::op;
  static constexpr std::size_t leaf_count = detail::leaves<E>();
  static constexpr std::size_t node_count = detail::nodes<E>() + 1;
  E operand;
  double number;
  double result;
  WithNumber(const E& x, double c) : operand(x), number(c), result(F::value(x.value(), c)) {}
  [[nodiscard]] double value() const { return result; }
  [[nodiscard]] bool constant_leaves() const noexcept { return detail::constant_leaves(operand); }
  template <class W>
  NABLA_FORCE_INLINE void propagate(W& w, double m) const {
    detail::propagate(operand, w, detail::chain(m, F::partial(operand.value(), result, number)));
  }
};

/// An expression node applying F to two operands: F::value(a, b), and F::partial_a / partial_b
/// (a, b, value).
template <class F, Expression L, Expression R>
struct Binary : ExpressionBase<Binary<F, L, R>> {
  static constexpr Op op = F::op;
  static constexpr std::size_t leaf_count = detail::leaves<L>() + detail::leaves<R>();
  static constexpr std::size_t node_count = detail::nodes<L>() + detail::nodes<R>() + 1;
  L left;
  R right;
  double result;
  Binary(const L& a, const R& b) : left(a), right(b), result(F::value(a.value(), b.value())) {}
  [[nodiscard]] double value() const { return result; }
  [[nodiscard]] bool constant_leaves() const noexcept {
    if constexpr (detail::zero_left_absorbs<F>) {
      if (zero_constant_left()) return true;
    }
    return detail::constant_leaves(left) && detail::constant_leaves(right);
  }
  template <class W>
  NABLA_FORCE_INLINE void propagate(W& w, double m) const {
    if constexpr (detail::zero_left_absorbs<F>) {
      if (zero_constant_left()) return;  // the constant 0: no operand
    }
    const double a = left.value(), b = right.value();
    if constexpr (std::same_as<L, Var> && std::same_as<R, Var>) {
      // x∘x (a square, most often): one operand with the summed partial, not two.
      if (left.same_variable(right)) {
        w.push(left, detail::chain(m, F::partial_a(a, b, result) + F::partial_b(a, b, result)));
        return;
      }
    }
    detail::propagate(left, w, detail::chain(m, F::partial_a(a, b, result)));
    detail::propagate(right, w, detail::chain(m, F::partial_b(a, b, result)));
  }

 private:
  /// True when the left operand is the constant 0 (all its leaves constants, its value 0).
  [[nodiscard]] bool zero_constant_left() const noexcept {
    return left.value() == 0.0 && detail::constant_leaves(left);
  }
};

}  // namespace nabla
