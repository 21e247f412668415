// nabla — forward mode: Dual<T, N>, a number carrying N tangents (directional derivatives)
// beside its value, generic in the number type T (double, Var, or another Dual: nesting).
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/autodiff/math.hpp"
#include "nabla/autodiff/reduce.hpp"

namespace nabla {

template <class T, std::size_t N = 1>
class Dual;

// Note [Forward cost]
// A Dual<double> operation is its value plus d·p per tangent. The zero convention (0·∞ = 0,
// as the reverse sweep) made every term a compare and branch, which kept the compiler from
// folding constant partials and cost the chained Rosenbrock JVP 9–10× its plain loop. The
// convention only changes a term whose plain product is NaN (0·±∞; a NaN tangent or partial
// gives NaN either way), so each operation multiplies plainly and looks at its result once:
// only a NaN tangent is recomputed term by term with the convention (tangent_term). The test
// is off the critical path and almost never taken; constant partials (±1 of + and −, c of x·c)
// fold at compile time and need no test (a NaN there comes from a NaN tangent). Measured in
// docs/benchmarks.md ("Forward mode and second derivatives").
//
// Note [Unchecked tangents]
// That one test per operation still keeps GCC from vectorising a loop of Dual<double>
// operations (control flow in the loop): the chained Rosenbrock's JVP cost 3.4× its plain loop,
// against 2.0× without the test. The helpers that evaluate f themselves (derivative, jvp,
// jacobian_forward, hessian_diagonal, gradient at Dual points, the forward least-squares
// Jacobian) therefore first evaluate it *unchecked* — a thread-local flag, read once per loop
// (the compiler hoists it and threads every operation's test into one) — and evaluate it again
// checked only when some component of the result is NaN. This gives the checked result: the
// two evaluations compute the same values and differ only where the checked one turns a plain
// 0·∞ = NaN tangent term into 0; every later tangent is a sum of products with that NaN, so it
// stays NaN up to the outputs (an operation that ignores a tangent, such as floor, gives the
// same in both). What escapes the argument is user code that branches on a tangent inside f
// (docs/higher-order.md says so); f may be called twice. Dual<double> used directly is always
// checked.

namespace detail {
/// The row of a recorded tangent term d·p (forward over reverse): its value follows the zero
/// convention, chain(d, p) — a tangent that is 0 at this point contributes 0 even through an
/// infinite partial, so √a·b at a = 0 has ∂²/∂b² = 0, not NaN — while its partials stay p and
/// d: a tangent that is 0 here may still have a derivative (which then meets p).
struct TangentMulFn {
  static constexpr Op op = Op::mul;
  /// A constant-zero tangent makes the term the constant 0 (detail::zero_left_absorbs).
  static constexpr bool zero_left_absorbs = true;
  static double value(double d, double p) { return chain(d, p); }
  static double partial_a(double, double p, double) { return p; }
  static double partial_b(double d, double, double) { return d; }
};
/// d·c for a recorded tangent d and a number partial c (TangentMulFn with a number).
struct TangentMulNumberFn {
  static constexpr Op op = Op::mul;
  static double value(double d, double c) { return chain(d, c); }
  static double partial(double, double, double c) { return c; }
};
/// The tangent term d·p of a tangent expression d and a partial p (an expression or a number)
/// as a Var expression with TangentMulFn's value.
template <class D, class P>
auto tangent_times(const D& d, const P& p) {
  if constexpr (std::is_arithmetic_v<P>) {
    return WithNumber<TangentMulNumberFn, D>(d, static_cast<double>(p));
  } else {
    return Binary<TangentMulFn, D, P>(d, p);
  }
}

/// True when x is the constant 0 (all its leaves constants, its value ±0).
template <class E>
NABLA_FORCE_INLINE bool zero_constant(const E& x) noexcept {
  return x.value() == 0.0 && constant_leaves(x);
}
/// True when a and b are the same double, bit for bit.
inline bool same_bits(double a, double b) noexcept {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}
/// The Var a tangent expression passes on unchanged — ṫ + 0, 0 + ṫ, ṫ − 0 with a constant 0:
/// an accumulator's tangent plus a term that the direction does not move — or nullptr.
template <class E>
struct PassThrough {
  static const Var* of(const E&) noexcept { return nullptr; }
};
template <class R>
struct PassThrough<Binary<AddFn, Var, R>> {
  static const Var* of(const Binary<AddFn, Var, R>& e) noexcept {
    return zero_constant(e.right) && same_bits(e.value(), e.left.value()) ? &e.left : nullptr;
  }
};
template <class L>
struct PassThrough<Binary<AddFn, L, Var>> {
  static const Var* of(const Binary<AddFn, L, Var>& e) noexcept {
    return zero_constant(e.left) && same_bits(e.value(), e.right.value()) ? &e.right : nullptr;
  }
};
template <>
struct PassThrough<Binary<AddFn, Var, Var>> {
  static const Var* of(const Binary<AddFn, Var, Var>& e) noexcept {
    if (zero_constant(e.right) && same_bits(e.value(), e.left.value())) return &e.left;
    if (zero_constant(e.left) && same_bits(e.value(), e.right.value())) return &e.right;
    return nullptr;
  }
};
template <class R>
struct PassThrough<Binary<SubFn, Var, R>> {
  static const Var* of(const Binary<SubFn, Var, R>& e) noexcept {
    return zero_constant(e.right) && same_bits(e.value(), e.left.value()) ? &e.left : nullptr;
  }
};
/// A recorded tangent expression as a Var (Note [Lazy Dual<Var>]): a constant, with the tape
/// untouched, when every leaf is one (a Hessian column's tangents mostly are); the tangent it
/// passes on when it adds only a constant 0 (PassThrough); else one recorded statement.
template <class E>
NABLA_FORCE_INLINE Var record_tangent(const E& e) {
  if constexpr (std::same_as<E, Var>) {
    return e;
  } else {
    if (constant_leaves(e)) return Var(e.value());
    if (const Var* v = PassThrough<E>::of(e)) return *v;
    return Var(e);
  }
}

/// The tangent term d·p of the chain rule, 0 when d is 0 (even through an infinite partial):
/// the convention of the reverse sweep, where a zero adjoint is never pushed on — a direction
/// that does not move an input gives no derivative. For doubles chain(d, p); for Var tangents
/// a recorded TangentMulFn; for Dual tangents (nesting) the Dual product with its value's term
/// taken by the same rule (its tangents, the product's, may be nonzero).
/// True when x and every tangent in it, at every depth, is 0 (false for anything holding a Var:
/// whether a recorded number is 0 is not known when its tangent expression is built).
inline bool all_zero(double x) noexcept { return x == 0.0; }
template <class T>
bool all_zero(const T& x) noexcept {
  if constexpr (requires { x.tangents(); }) {
    if (!all_zero(x.value())) return false;
    for (const auto& t : x.tangents())
      if (!all_zero(t)) return false;
    return true;
  } else {
    return false;
  }
}
template <class T>
T tangent_term(const T& d, const T& p) {
  if constexpr (std::same_as<T, double>) {
    return chain(d, p);
  } else if constexpr (std::same_as<T, Var>) {
    return record_tangent(tangent_times(d, p));
  } else {
    // A direction that moves the operand at no order gives nothing, whatever p holds (its
    // infinite tangents too: d·p would be 0·∞ in them).
    if (all_zero(d)) return T(0.0);
    const T r = d * p;
    return T(tangent_term(d.value(), p.value()), r.tangents());
  }
}
/// True while Dual<double> operations skip the zero convention's NaN test (Note [Unchecked
/// tangents]); false (checked) unless a forward helper has set it around its first evaluation.
inline thread_local bool unchecked_tangents = false;
/// Sets unchecked_tangents for a scope and restores the previous setting at its end (also when
/// an exception leaves it), so that helpers nest.
class TangentCheckScope {
 public:
  explicit TangentCheckScope(bool unchecked) noexcept : previous_(unchecked_tangents) {
    unchecked_tangents = unchecked;
  }
  ~TangentCheckScope() { unchecked_tangents = previous_; }
  TangentCheckScope(const TangentCheckScope&) = delete;
  TangentCheckScope& operator=(const TangentCheckScope&) = delete;

 private:
  bool previous_;
};
/// True when an operation's double partials are all finite: its plain products then already
/// follow tangent_term's convention (Note [Forward cost]). Constant partials fold to true.
inline bool finite_partials(double p) noexcept {
  return std::abs(p) <= std::numeric_limits<double>::max();
}
inline bool finite_partials(double pa, double pb) noexcept {
  return finite_partials(std::abs(pa) + std::abs(pb));  // ∞ or NaN if either is (or both huge)
}
template <class T>
inline constexpr bool is_dual = false;
template <class T, std::size_t N>
inline constexpr bool is_dual<Dual<T, N>> = true;
/// The number types of forward mode: double, Var, and Duals of them (nesting).
template <class T>
concept ForwardNumber = std::same_as<T, double> || std::same_as<T, Var> || is_dual<T>;
/// Dual<Var, N> operators build DualExpression nodes instead of recording at once
/// (Note [Lazy Dual<Var>]).
template <class T, std::size_t N>
inline constexpr bool lazy_dual = std::same_as<T, Var>;
/// Stands for "no second number type" in Dual<double>'s mixed operators (T is double there).
struct NoOther {};
template <class T>
using DualOther = std::conditional_t<std::same_as<T, double>, NoOther, T>;

template <class F, class T, std::size_t N>
Dual<T, N> dual_unary(const Dual<T, N>& x);
template <class F, class T, std::size_t N>
Dual<T, N> dual_with_number(const Dual<T, N>& x, double c);
template <class F, class T, std::size_t N>
Dual<T, N> dual_binary(const Dual<T, N>& a, const Dual<T, N>& b);
}  // namespace detail

/// A forward-mode number: a value and N tangents, each the derivative of the value along one
/// input direction. Every operator and function of the rule table (docs/functions.md) applies
/// its row's partial to each tangent, with the special-point conventions of Var. T is double
/// (forward mode), Var (forward over reverse: Hessian-vector products), or a Dual (nested
/// forward mode, derivatives of any order). N > 1 carries several directions at once (a few
/// Jacobian columns per evaluation, as Ceres' Jet). Comparisons compare values.
///
/// Example:
///   nabla::Dual<double> x(2.0, 1.0);     // x = 2, dx = 1
///   auto y = x * sin(x);                 // y.value() = 2 sin 2, y.tangent() = sin 2 + 2 cos 2
template <class T, std::size_t N>
class Dual {
  static_assert(N >= 1, "a Dual carries at least one tangent");
  using Other = detail::DualOther<T>;
  static constexpr bool kLazy = detail::lazy_dual<T, N>;  // operators in DualExpression

 public:
  using value_type = T;                         ///< the number type of value and tangents
  static constexpr std::size_t directions = N;  ///< the number of tangents

  /// The constant 0.
  Dual() : value_(0.0) { tangent_.fill(T(0.0)); }
  /// A constant (every tangent 0).
  Dual(double c) : value_(c) { tangent_.fill(T(0.0)); }  // NOLINT: implicit by design
  /// A constant of the inner number type (every tangent 0).
  Dual(const Other& v) : value_(v) { tangent_.fill(T(0.0)); }  // NOLINT: implicit by design
  /// A value with one tangent (N = 1).
  Dual(const T& value, const T& tangent) requires(N == 1) : value_(value), tangent_{tangent} {}
  /// A value with its N tangents.
  Dual(const T& value, const std::array<T, N>& tangents) : value_(value), tangent_(tangents) {}

  /// The value.
  [[nodiscard]] const T& value() const noexcept { return value_; }
  /// Tangent i (the derivative along direction i).
  [[nodiscard]] const T& tangent(std::size_t i = 0) const noexcept { return tangent_[i]; }
  /// Tangent i, writable (to seed an input).
  [[nodiscard]] T& tangent(std::size_t i = 0) noexcept { return tangent_[i]; }
  /// All tangents.
  [[nodiscard]] const std::array<T, N>& tangents() const noexcept { return tangent_; }

  /// +a (the same number)
  friend Dual operator+(const Dual& a) { return a; }
  /// −a
  friend Dual operator-(const Dual& a) requires(!kLazy) {
    return detail::dual_unary<detail::NegFn>(a);
  }

#define NABLA_DUAL_OPERATOR(op, Fn, NumberFn, NumberFirstFn)                                       \
  friend Dual operator op(const Dual& a, const Dual& b) requires(!kLazy) {                         \
    return detail::dual_binary<detail::Fn>(a, b);                                                  \
  }                                                                                                \
  friend Dual operator op(const Dual& a, double c) requires(!kLazy) {                              \
    return detail::dual_with_number<detail::NumberFn>(a, c);                                       \
  }                                                                                                \
  friend Dual operator op(double c, const Dual& b) requires(!kLazy) {                              \
    return detail::dual_with_number<detail::NumberFirstFn>(b, c);                                  \
  }                                                                                                \
  friend Dual operator op(const Dual& a, const Other& b) requires(!kLazy) { return a op Dual(b); } \
  friend Dual operator op(const Other& a, const Dual& b) requires(!kLazy) { return Dual(a) op b; } \
  friend Dual& operator op##=(Dual& a, const Dual& b) requires(!kLazy) { return a = a op b; }      \
  friend Dual& operator op##=(Dual& a, double c) requires(!kLazy) { return a = a op c; }           \
  friend Dual& operator op##=(Dual& a, const Other& b) requires(!kLazy) { return a = a op b; }
  NABLA_DUAL_OPERATOR(+, AddFn, AddNumberFn, AddNumberFn)
  NABLA_DUAL_OPERATOR(-, SubFn, SubNumberFn, NumberSubFn)
  NABLA_DUAL_OPERATOR(*, MulFn, MulNumberFn, MulNumberFn)
  NABLA_DUAL_OPERATOR(/, DivFn, DivNumberFn, NumberDivFn)
#undef NABLA_DUAL_OPERATOR

  /// Compares values (not differentiable).
  friend bool operator==(const Dual& a, const Dual& b) { return a.value_ == b.value_; }
  /// Compares the value with a number.
  friend bool operator==(const Dual& a, double c) { return a.value_ == c; }
  /// Orders by value (not differentiable).
  friend std::partial_ordering operator<=>(const Dual& a, const Dual& b) {
    return detail::primal(a) <=> detail::primal(b);
  }
  /// Orders the value against a number.
  friend std::partial_ordering operator<=>(const Dual& a, double c) {
    return detail::primal(a) <=> c;
  }

 private:
  T value_;
  std::array<T, N> tangent_;
};

namespace detail {
// The value of a row at a number of type T: the row's double formula for doubles, and for Var
// and Dual the row applied as one operation (one recorded statement, one Dual step) — never the
// formula expanded in T, whose derivative could differ from the row's partial at a point where
// the formula branches (σ(x) is written with |x|).
template <class F, class T>
T apply_unary(const T& x) {
  if constexpr (std::same_as<T, double>) {
    return F::value(x);
  } else if constexpr (std::same_as<T, Var>) {
    return Unary<F, Var>(x);
  } else {
    return dual_unary<F>(x);
  }
}
template <class F, class T>
T apply_with_number(const T& x, double c) {
  if constexpr (std::same_as<T, double>) {
    return F::value(x, c);
  } else if constexpr (std::same_as<T, Var>) {
    return WithNumber<F, Var>(x, c);
  } else {
    return dual_with_number<F>(x, c);
  }
}
template <class F, class T>
T apply_binary(const T& a, const T& b) {
  if constexpr (std::same_as<T, double>) {
    return F::value(a, b);
  } else if constexpr (std::same_as<T, Var>) {
    return Binary<F, Var, Var>(a, b);
  } else {
    return dual_binary<F>(a, b);
  }
}

#if defined(__GNUC__) && (defined(__SSE2__) || defined(__aarch64__))
/// Two adjacent tangents of a Dual<double, N> as one SSE pair: GCC's SLP vectoriser paired only
/// some of the four tangents of an operation (Note [Forward cost]), so forward_tangents computes
/// even N two lanes at a time explicitly (GCC's and Clang's vector extension; where 16-byte
/// vectors are not native, the scalar loop).
using LanePair = double __attribute__((vector_size(16)));
inline constexpr bool lane_pairs = true;
#else
using LanePair = double;
inline constexpr bool lane_pairs = false;
#endif
/// Which tangents plain(i) of forward_tangents computes: one (a std::size_t) or two (Pair).
struct Pair {
  std::size_t first;
};
/// Tangent i of x, or tangents p.first and p.first + 1 as a LanePair.
template <std::size_t N>
NABLA_FORCE_INLINE double lanes(const Dual<double, N>& x, std::size_t i) noexcept {
  return x.tangent(i);
}
template <std::size_t N>
NABLA_FORCE_INLINE LanePair lanes(const Dual<double, N>& x, Pair p) noexcept {
  LanePair r;
  std::memcpy(&r, &x.tangent(p.first), sizeof r);
  return r;
}

/// y with the tangents ẋ·p of an operation of one operand x whose partial is p.
template <class T, std::size_t N>
NABLA_FORCE_INLINE Dual<T, N> with_tangents(const T& y, const Dual<T, N>& x, const T& p) {
  if constexpr (std::same_as<T, double>) {
    return Dual<T, N>(
        y, forward_tangents<N>([&] { return finite_partials(p); },
                               [&](auto i) {
                                 // One tangent without lanes(): through it, GCC compiled
                                 // the jvp() call on the Rosenbrock loop to 67% more
                                 // instructions.
                                 if constexpr (N == 1) {
                                   return x.tangent(i) * p;
                                 } else {
                                   return lanes(x, i) * p;
                                 }
                               },
                               [&](std::size_t i) { return tangent_term(x.tangent(i), p); }));
  } else {
    std::array<T, N> d;
    for (std::size_t i = 0; i < N; ++i) d[i] = tangent_term(x.tangent(i), p);
    return Dual<T, N>(y, d);
  }
}

/// The N tangents of a Dual<double> operation (Note [Forward cost]). plain(i) is direction
/// i's plain product, careful(i) the same term by term with the zero convention, finite()
/// whether the partials are all finite (then plain = careful). One direction: the plain tangent,
/// recomputed only when it came out NaN with a non-finite partial. Several: one test of the
/// partials for all directions. Unchecked (Note [Unchecked tangents]): the plain products.
template <std::size_t N, class Finite, class Plain, class Careful>
NABLA_FORCE_INLINE std::array<double, N> forward_tangents(Finite finite, Plain plain,
                                                          Careful careful) {
  std::array<double, N> d;
  if constexpr (N == 1) {
    // The flag first: read once per loop, it then leaves the unchecked loop without a test.
    d[0] = plain(0);
    if (!unchecked_tangents && d[0] != d[0] && !finite()) [[unlikely]]
      d[0] = careful(0);
  } else if (unchecked_tangents || finite()) [[likely]] {  // one test for both
    if constexpr (lane_pairs && N % 2 == 0) {
      for (std::size_t i = 0; i < N; i += 2) {
        const LanePair r = plain(Pair{i});
        std::memcpy(d.data() + i, &r, sizeof r);
      }
    } else {
      for (std::size_t i = 0; i < N; ++i) d[i] = plain(i);
    }
  } else {
    for (std::size_t i = 0; i < N; ++i) d[i] = careful(i);
  }
  return d;
}

// For Var tangents, the partial (an expression of Vars) is fused into each tangent's
// statement: ẏ = ẋ·f′(x) records as one statement, not two (none when ẋ is a constant).
template <class F, class T, std::size_t N>
NABLA_FORCE_INLINE Dual<T, N> dual_unary(const Dual<T, N>& x) {
  const T& a = x.value();
  const T y = apply_unary<F>(a);
  if constexpr (std::same_as<T, Var>) {
    const auto p = F::partial(a, y);
    std::array<Var, N> d;
    for (std::size_t i = 0; i < N; ++i) d[i] = record_tangent(tangent_times(x.tangent(i), p));
    return Dual<T, N>(y, d);
  } else {
    const T p = F::partial(a, y);
    return with_tangents(y, x, p);
  }
}
template <class F, class T, std::size_t N>
NABLA_FORCE_INLINE Dual<T, N> dual_with_number(const Dual<T, N>& x, double c) {
  const T& a = x.value();
  const T y = apply_with_number<F>(a, c);
  if constexpr (std::same_as<T, Var>) {
    const auto p = F::partial(a, y, c);
    std::array<Var, N> d;
    for (std::size_t i = 0; i < N; ++i) d[i] = record_tangent(tangent_times(x.tangent(i), p));
    return Dual<T, N>(y, d);
  } else {
    const T p = F::partial(a, y, c);
    return with_tangents(y, x, p);
  }
}
template <class F, class T, std::size_t N>
NABLA_FORCE_INLINE Dual<T, N> dual_binary(const Dual<T, N>& a, const Dual<T, N>& b) {
  const T y = apply_binary<F>(a.value(), b.value());
  if constexpr (std::same_as<T, Var>) {
    const auto pa = F::partial_a(a.value(), b.value(), y);
    const auto pb = F::partial_b(a.value(), b.value(), y);
    std::array<Var, N> d;
    for (std::size_t i = 0; i < N; ++i)
      d[i] = record_tangent(tangent_times(a.tangent(i), pa) + tangent_times(b.tangent(i), pb));
    return Dual<T, N>(y, d);
  } else {
    const T pa = F::partial_a(a.value(), b.value(), y);
    const T pb = F::partial_b(a.value(), b.value(), y);
    const auto careful = [&](std::size_t i) {
      return tangent_term(a.tangent(i), pa) + tangent_term(b.tangent(i), pb);
    };
    if constexpr (std::same_as<T, double>) {
      return Dual<T, N>(y, forward_tangents<N>([&] { return finite_partials(pa, pb); },
                                               [&](auto i) {
                                                 if constexpr (N == 1) {
                                                   return a.tangent(i) * pa + b.tangent(i) * pb;
                                                 } else {
                                                   return lanes(a, i) * pa + lanes(b, i) * pb;
                                                 }
                                               },
                                               careful));
    } else {
      std::array<T, N> d;
      for (std::size_t i = 0; i < N; ++i) d[i] = careful(i);
      return Dual<T, N>(y, d);
    }
  }
}
/// x with the mean of x's and y's tangents (fmin and fmax on a tie).
template <class T, std::size_t N>
Dual<T, N> dual_tie(const Dual<T, N>& x, const Dual<T, N>& y) {
  Dual<T, N> r = x;
  for (std::size_t i = 0; i < N; ++i) r.tangent(i) = 0.5 * x.tangent(i) + 0.5 * y.tangent(i);
  return r;
}
}  // namespace detail

// Note [Lazy Dual<Var>]
// Forward over reverse (Hessian-vector products) runs f on Dual<Var>: a value and a tangent,
// both recorded. Recorded one operation at a time, the chained Rosenbrock's loop line
//     f += 100.0 * (t * t) + u * u;
// took 16 statements per iteration (a value and a tangent statement per operation) where the
// gradient takes one fused statement per line. So + − · / on Dual<Var> build a
// DualExpression instead: its value and its tangent are Var expression templates (Note
// [Expression templates]) — the tangent of a·b is ȧ·b + a·ḃ, an expression over the leaves of
// a, b and their tangents — and becoming a Dual<Var> (initialisation, assignment, a function
// call) records each as one statement: two statements per line. The tangent's partials are the
// rows' partials written out (1, −1, b, a, 1/b, −q/b), as the eager operations use them. The
// functions of the rule table take a DualExpression by recording it first. A DualExpression
// holds its operands by value, so `auto e = a * b;` is safe; two different expression types
// do not mix in `c ? e1 : e2` (write `Dual<Var>(e1)`), as for Var. Nor does an expression
// take what only a Dual<Var> does: `auto s = a * b; s += c;`, `c ? a * b : 0.0`,
// `std::max(a * b, c)`, a user's `template <class T> T sq(const T&)` called with `a - b` (T
// is deduced as the expression), or a template over Dual<T, N> (name the type: `const T s =
// a * b;`). A DualExpression of more than max_lazy_leaves leaves (value and tangents) is
// recorded as it is built, so a line of any length needs bounded stack and compile time.
// Dual<Var, N> (N tangents: the dense Hessian's blocks, Note [Hessian blocks] in forward.hpp)
// is lazy the same way: one value expression and N tangent expressions of one type, built in
// place, recorded as one value statement and one statement per tangent. A tangent whose leaves are
// all constants becomes a constant, and records nothing (detail::record_tangent) — with seeds e_j,
// most of them.

/// A Dual<Var, N> operation not yet recorded: its value and N tangents as Var expressions
/// (Note [Lazy Dual<Var>]). Converting it to Dual<Var, N> records each as one statement.
template <Expression V, Expression D, std::size_t N = 1>
class DualExpression {
 public:
  using value_type = Var;                       ///< the number type it becomes
  static constexpr std::size_t directions = N;  ///< the number of tangents, as Dual<Var, N>
  /// The expression of a value and of its tangent (N = 1).
  DualExpression(const V& value, const D& tangent) requires(N == 1)
      : value_(value), tangent_{tangent} {}
  /// The expression of a value and of its N tangents.
  DualExpression(const V& value, const std::array<D, N>& tangents)
      : value_(value), tangent_(tangents) {}
  /// The expression of a value and tangents g(0), …, g(N − 1), built in place.
  template <class G, std::size_t... I>
  NABLA_FORCE_INLINE DualExpression(const V& value, G&& g, std::index_sequence<I...>)
      : value_(value), tangent_{g(I)...} {}
  /// The value's expression (value().value() is the number).
  [[nodiscard]] const V& value() const noexcept { return value_; }
  /// Tangent i's expression (i < N; with one tangent, as Dual<Var>::tangent(i) in generic code
  /// that writes `y.tangent(0)`).
  [[nodiscard]] const D& tangent(std::size_t i = 0) const noexcept { return tangent_[i]; }
  /// Records the value and each tangent (one statement each; a tangent whose leaves are all
  /// constants, as most of a Hessian column's, is a constant and records nothing).
  NABLA_FORCE_INLINE operator Dual<Var, N>() const {  // NOLINT: implicit by design
    const Var v(value_);
    std::array<Var, N> d;
    for (std::size_t i = 0; i < N; ++i) d[i] = detail::record_tangent(tangent_[i]);
    return Dual<Var, N>(v, d);
  }

 private:
  V value_;
  std::array<D, N> tangent_;
};

namespace detail {
template <class T>
inline constexpr bool is_dual_expression = false;
template <class V, class D, std::size_t N>
inline constexpr bool is_dual_expression<DualExpression<V, D, N>> = true;
template <class T>
inline constexpr bool is_var_dual = false;
template <std::size_t N>
inline constexpr bool is_var_dual<Dual<Var, N>> = true;
/// A Dual<Var, N>, recorded or not.
template <class T>
concept LazyDual = is_var_dual<T> || is_dual_expression<T>;
/// A number beside a lazy operand: an arithmetic type, or an unscoped enumeration (which
/// converts to double, as the eager operators' double parameter took it).
template <class T>
concept LazyNumber = std::is_arithmetic_v<T> ||
    (std::is_enum_v<T>&& std::is_convertible_v<T, double>);
/// What a lazy operator takes beside a LazyDual: a LazyDual, a Var expression or a number
/// (these two have no tangent).
template <class T>
concept LazyOperand = LazyDual<T> || Expression<T> || LazyNumber<T>;
/// The number of tangents of lazy operands (those of either: they agree).
template <class A, class B>
inline constexpr std::size_t lazy_directions = [] {
  if constexpr (LazyDual<A>) {
    return A::directions;
  } else {
    return B::directions;
  }
}();
/// True unless both carry tangents and their numbers differ.
template <class A, class B>
inline constexpr bool same_directions = [] {
  if constexpr (LazyDual<A> && LazyDual<B>) {
    return A::directions == B::directions;
  } else {
    return true;
  }
}();
template <class A, class B>
concept LazyOperands =
    ((LazyDual<A> && LazyOperand<B>) || (LazyOperand<A> && LazyDual<B>)) && same_directions<A, B>;
/// The N tangents g(0), …, g(N − 1) of a DualExpression, as dual_expression() takes them.
template <std::size_t N, class G>
struct Tangents {
  G g;
};
template <std::size_t N, class G>
NABLA_FORCE_INLINE Tangents<N, G> tangent_array(G g) {
  return {g};
}

/// The value of a lazy operand as a Var expression (a number stays a double).
template <class X>
auto lazy_value(const X& x) {
  if constexpr (LazyDual<X>) {
    return x.value();
  } else if constexpr (LazyNumber<X>) {
    return static_cast<double>(x);
  } else {
    return x;
  }
}

/// The most Var leaves (value and tangent together) a DualExpression keeps unrecorded. The
/// tangent of a product holds copies of both values, so without a bound a long line grows
/// quadratically (a Horner polynomial: the tangent of each step copies the value so far), and
/// its temporaries, all alive until the end of the line, overflowed the stack at a few hundred
/// operations. A line of ordinary length stays far below it.
inline constexpr std::size_t max_lazy_leaves = 64;
/// The DualExpression of v and tangents d; recorded first (a statement each) when value and
/// tangents would exceed max_lazy_leaves leaves, so the line goes on from Vars.
template <class V, std::size_t N, class G>
NABLA_FORCE_INLINE auto dual_expression(const V& v, const Tangents<N, G>& d) {
  using D = decltype(d.g(std::size_t{0}));
  if constexpr (leaves<V>() + N * leaves<D>() > max_lazy_leaves) {
    const Var value(v);
    std::array<Var, N> t;
    for (std::size_t i = 0; i < N; ++i) t[i] = record_tangent(d.g(i));
    return DualExpression<Var, Var, N>(value, t);
  } else {
    return DualExpression<V, D, N>(v, d.g, std::make_index_sequence<N>{});
  }
}
// The four operations on lazy operands, by which of them carry tangents.
template <class A, class B>
NABLA_FORCE_INLINE auto lazy_add(const A& a, const B& b) {
  constexpr std::size_t N = lazy_directions<A, B>;
  const auto va = lazy_value(a), vb = lazy_value(b);
  if constexpr (LazyDual<A> && LazyDual<B>) {
    return dual_expression(
        va + vb, tangent_array<N>([&](std::size_t i) { return a.tangent(i) + b.tangent(i); }));
  } else if constexpr (LazyDual<A>) {
    return dual_expression(va + vb, tangent_array<N>([&](std::size_t i) { return a.tangent(i); }));
  } else {
    return dual_expression(va + vb, tangent_array<N>([&](std::size_t i) { return b.tangent(i); }));
  }
}
template <class A, class B>
NABLA_FORCE_INLINE auto lazy_sub(const A& a, const B& b) {
  constexpr std::size_t N = lazy_directions<A, B>;
  const auto va = lazy_value(a), vb = lazy_value(b);
  if constexpr (LazyDual<A> && LazyDual<B>) {
    return dual_expression(
        va - vb, tangent_array<N>([&](std::size_t i) { return a.tangent(i) - b.tangent(i); }));
  } else if constexpr (LazyDual<A>) {
    return dual_expression(va - vb, tangent_array<N>([&](std::size_t i) { return a.tangent(i); }));
  } else {
    return dual_expression(va - vb, tangent_array<N>([&](std::size_t i) { return -b.tangent(i); }));
  }
}
template <class A, class B>
NABLA_FORCE_INLINE auto lazy_mul(const A& a, const B& b) {
  constexpr std::size_t N = lazy_directions<A, B>;
  const auto va = lazy_value(a), vb = lazy_value(b);
  if constexpr (LazyDual<A> && LazyDual<B>) {
    return dual_expression(va * vb, tangent_array<N>([&](std::size_t i) {
                             return tangent_times(a.tangent(i), vb) +
                                    tangent_times(b.tangent(i), va);
                           }));
  } else if constexpr (LazyDual<A>) {
    return dual_expression(
        va * vb, tangent_array<N>([&](std::size_t i) { return tangent_times(a.tangent(i), vb); }));
  } else {
    return dual_expression(
        va * vb, tangent_array<N>([&](std::size_t i) { return tangent_times(b.tangent(i), va); }));
  }
}
template <class A, class B>
NABLA_FORCE_INLINE auto lazy_div(const A& a, const B& b) {  // ∂a = 1/b, ∂b = −q/b
  constexpr std::size_t N = lazy_directions<A, B>;
  const auto va = lazy_value(a), vb = lazy_value(b);
  const auto q = va / vb;
  if constexpr (LazyDual<A> && LazyDual<B>) {
    return dual_expression(q, tangent_array<N>([&](std::size_t i) {
                             return tangent_times(a.tangent(i), 1.0 / vb) +
                                    tangent_times(b.tangent(i), -q / vb);
                           }));
  } else if constexpr (LazyDual<A>) {
    return dual_expression(
        q, tangent_array<N>([&](std::size_t i) { return tangent_times(a.tangent(i), 1.0 / vb); }));
  } else {
    return dual_expression(
        q, tangent_array<N>([&](std::size_t i) { return tangent_times(b.tangent(i), -q / vb); }));
  }
}
}  // namespace detail

/// a + b of Dual<Var>s (recorded or not), Var expressions and numbers: a DualExpression.
template <class A, class B>
requires detail::LazyOperands<A, B> NABLA_FORCE_INLINE auto operator+(const A& a, const B& b) {
  return detail::lazy_add(a, b);
}
/// a − b (a DualExpression).
template <class A, class B>
requires detail::LazyOperands<A, B> NABLA_FORCE_INLINE auto operator-(const A& a, const B& b) {
  return detail::lazy_sub(a, b);
}
/// a · b (a DualExpression).
template <class A, class B>
requires detail::LazyOperands<A, B> NABLA_FORCE_INLINE auto operator*(const A& a, const B& b) {
  return detail::lazy_mul(a, b);
}
/// a / b (a DualExpression).
template <class A, class B>
requires detail::LazyOperands<A, B> NABLA_FORCE_INLINE auto operator/(const A& a, const B& b) {
  return detail::lazy_div(a, b);
}
/// −a (a DualExpression).
template <detail::LazyDual A>
auto operator-(const A& a) {
  return detail::dual_expression(
      -detail::lazy_value(a),
      detail::tangent_array<A::directions>([&](std::size_t i) { return -a.tangent(i); }));
}
/// +a of an unrecorded Dual<Var> operation (the same expression).
template <class V, class D, std::size_t N>
DualExpression<V, D, N> operator+(const DualExpression<V, D, N>& a) {
  return a;
}
/// a += b on a Dual<Var, N>: recorded as one value and one statement per tangent.
template <std::size_t N, class B>
requires detail::LazyOperands<Dual<Var, N>, B> NABLA_FORCE_INLINE Dual<Var, N>
&operator+=(Dual<Var, N>& a, const B& b) { return a = a + b; }
/// a −= b
template <std::size_t N, class B>
requires detail::LazyOperands<Dual<Var, N>, B> NABLA_FORCE_INLINE Dual<Var, N>
&operator-=(Dual<Var, N>& a, const B& b) { return a = a - b; }
/// a ·= b
template <std::size_t N, class B>
requires detail::LazyOperands<Dual<Var, N>, B> NABLA_FORCE_INLINE Dual<Var, N>
&operator*=(Dual<Var, N>& a, const B& b) { return a = a * b; }
/// a /= b
template <std::size_t N, class B>
requires detail::LazyOperands<Dual<Var, N>, B> NABLA_FORCE_INLINE Dual<Var, N>
&operator/=(Dual<Var, N>& a, const B& b) { return a = a / b; }
/// Compares values (not differentiable; records nothing).
template <class A, class B>
requires(detail::is_dual_expression<A> || detail::is_dual_expression<B>) &&
    detail::LazyOperands<A, B> bool operator==(const A& a, const B& b) {
  return detail::primal(a) == detail::primal(b);
}
/// Orders by value (not differentiable; records nothing).
template <class A, class B>
requires(detail::is_dual_expression<A> || detail::is_dual_expression<B>) &&
    detail::LazyOperands<A, B> std::partial_ordering operator<=>(const A& a, const B& b) {
  return detail::primal(a) <=> detail::primal(b);
}
/// The innermost value of an unrecorded Dual<Var> operation (nothing is recorded).
template <class V, class D, std::size_t N>
[[nodiscard]] double value(const DualExpression<V, D, N>& x) noexcept {
  return detail::primal(x);
}

/// The innermost value of a Dual as a double (for printing and branching in generic code).
template <class T, std::size_t N>
[[nodiscard]] double value(const Dual<T, N>& x) noexcept {
  return detail::primal(x);
}

// ---- The functions of the rule table (Note [The rule table]) ---------------------------------

#define NABLA_DUAL_UNARY(Fn, name)                    \
  /** name of a Dual: the row's value and partial. */ \
  template <class T, std::size_t N>                   \
  Dual<T, N> name(const Dual<T, N>& x) {              \
    return detail::dual_unary<detail::Fn>(x);         \
  }
NABLA_UNARY_FUNCTIONS(NABLA_DUAL_UNARY)
#undef NABLA_DUAL_UNARY
/// |x| (the same as abs)
template <class T, std::size_t N>
Dual<T, N> fabs(const Dual<T, N>& x) {
  return detail::dual_unary<detail::AbsFn>(x);
}
/// ψ⁽ⁿ⁾(x);  d/dx = ψ⁽ⁿ⁺¹⁾(x)
/// @throws nabla::Error when n is not in [0, 10000].
template <class T, std::size_t N>
Dual<T, N> polygamma(int n, const Dual<T, N>& x) {
  detail::check_polygamma_order(n);
  return detail::dual_with_number<detail::PolygammaFn>(x, n);
}

#define NABLA_DUAL_PARAMETRIC(Fn, name, default_parameter)                    \
  /** name of a Dual and the row's parameter: the row's value and partial. */ \
  template <class T, std::size_t N>                                           \
  Dual<T, N> name(const Dual<T, N>& x, double c = default_parameter) {        \
    detail::Fn::check(c);                                                     \
    return detail::dual_with_number<detail::Fn>(x, c);                        \
  }
NABLA_PARAMETRIC_FUNCTIONS(NABLA_DUAL_PARAMETRIC)
#undef NABLA_DUAL_PARAMETRIC

#define NABLA_DUAL_BINARY(Fn, NumberFn, NumberFirstFn, name)                             \
  /** name of two Duals. */                                                              \
  template <class T, std::size_t N>                                                      \
  Dual<T, N> name(const Dual<T, N>& a, const Dual<T, N>& b) {                            \
    return detail::dual_binary<detail::Fn>(a, b);                                        \
  }                                                                                      \
  /** name of a Dual and a number. */                                                    \
  template <class T, std::size_t N>                                                      \
  Dual<T, N> name(const Dual<T, N>& a, double c) {                                       \
    return detail::dual_with_number<detail::NumberFn>(a, c);                             \
  }                                                                                      \
  /** name of a number and a Dual. */                                                    \
  template <class T, std::size_t N>                                                      \
  Dual<T, N> name(double c, const Dual<T, N>& b) {                                       \
    return detail::dual_with_number<detail::NumberFirstFn>(b, c);                        \
  }                                                                                      \
  /** name of a Dual and its inner number type (a constant Dual). */                     \
  template <class T, std::size_t N>                                                      \
  requires(!std::same_as<T, double>) Dual<T, N> name(const Dual<T, N>& a,                \
                                                     const std::type_identity_t<T>& b) { \
    return name(a, Dual<T, N>(b));                                                       \
  }                                                                                      \
  /** name of the inner number type and a Dual. */                                       \
  template <class T, std::size_t N>                                                      \
  requires(!std::same_as<T, double>) Dual<T, N> name(const std::type_identity_t<T>& a,   \
                                                     const Dual<T, N>& b) {              \
    return name(Dual<T, N>(a), b);                                                       \
  }
NABLA_BINARY_FUNCTIONS(NABLA_DUAL_BINARY)
#undef NABLA_DUAL_BINARY
/// x^n for an integer n (exact for negative x).
template <class T, std::size_t N, std::integral I>
Dual<T, N> pow(const Dual<T, N>& x, I n) {
  return detail::dual_with_number<detail::PowNumberFn>(x, static_cast<double>(n));
}

/// The smaller value (a NaN operand is ignored, as std::fmin does); the tangent of the smaller
/// one, the mean of both on a tie (the reverse-mode convention).
template <class T, std::size_t N>
Dual<T, N> fmin(const Dual<T, N>& x, const Dual<T, N>& y) {
  const double a = detail::primal(x), b = detail::primal(y);
  if (a == b) return detail::dual_tie(x, y);
  return a < b || std::isnan(b) ? x : y;
}
/// The larger value (a NaN operand is ignored, as std::fmax does); the tangent of the larger
/// one, the mean of both on a tie.
template <class T, std::size_t N>
Dual<T, N> fmax(const Dual<T, N>& x, const Dual<T, N>& y) {
  const double a = detail::primal(x), b = detail::primal(y);
  if (a == b) return detail::dual_tie(x, y);
  return a > b || std::isnan(b) ? x : y;
}
/// The smaller value (the same as fmin).
template <class T, std::size_t N>
Dual<T, N> min(const Dual<T, N>& x, const Dual<T, N>& y) {
  return fmin(x, y);
}
/// The larger value (the same as fmax).
template <class T, std::size_t N>
Dual<T, N> max(const Dual<T, N>& x, const Dual<T, N>& y) {
  return fmax(x, y);
}
// The selecting functions with a number on either side: the number is a constant Dual.
#define NABLA_DUAL_MIXED(name)                     \
  /** name(x, c): c is a constant. */              \
  template <class T, std::size_t N>                \
  Dual<T, N> name(const Dual<T, N>& x, double c) { \
    return name(x, Dual<T, N>(c));                 \
  }                                                \
  /** name(c, y): c is a constant. */              \
  template <class T, std::size_t N>                \
  Dual<T, N> name(double c, const Dual<T, N>& y) { \
    return name(Dual<T, N>(c), y);                 \
  }
NABLA_DUAL_MIXED(fmin)
NABLA_DUAL_MIXED(fmax)
NABLA_DUAL_MIXED(min)
NABLA_DUAL_MIXED(max)
#undef NABLA_DUAL_MIXED
/// x·y + z, the value rounded once (as std::fma), the tangents those of x·y + z.
template <class T, std::size_t N>
Dual<T, N> fma(const Dual<T, N>& x, const Dual<T, N>& y, const Dual<T, N>& z) {
  using std::fma;
  const Dual<T, N> r = x * y + z;
  return Dual<T, N>(T(fma(x.value(), y.value(), z.value())), r.tangents());
}
namespace detail {
/// An operand beside a Dual<T, N> in fma: that Dual, or a number (a constant).
template <class X, class T, std::size_t N>
concept FmaOperand = std::same_as<X, Dual<T, N>> || std::is_arithmetic_v<X>;
}  // namespace detail
/// fma(x, y, z) with numbers among the operands (the numbers are constants).
template <class T, std::size_t N, class Y, class Z>
requires(!detail::lazy_dual<T, N> && detail::FmaOperand<Y, T, N> && detail::FmaOperand<Z, T, N> &&
         !(std::same_as<Y, Dual<T, N>> &&
           std::same_as<Z, Dual<T, N>>)) Dual<T, N> fma(const Dual<T, N>& x, const Y& y,
                                                        const Z& z) {
  return fma(x, Dual<T, N>(static_cast<const Y&>(y)), Dual<T, N>(static_cast<const Z&>(z)));
}
/// fma(c, y, z) with a number c (and possibly a number z).
template <class A, class T, std::size_t N, class Z>
requires(!detail::lazy_dual<T, N> && std::is_arithmetic_v<A> &&
         detail::FmaOperand<Z, T, N>) Dual<T, N> fma(A c, const Dual<T, N>& y, const Z& z) {
  return fma(Dual<T, N>(static_cast<double>(c)), y, Dual<T, N>(static_cast<const Z&>(z)));
}
/// fma(a, b, z) with numbers a and b.
template <class A, class B, class T, std::size_t N>
requires(!detail::lazy_dual<T, N> && std::is_arithmetic_v<A> &&
         std::is_arithmetic_v<B>) Dual<T, N> fma(A a, B b, const Dual<T, N>& z) {
  return fma(Dual<T, N>(static_cast<double>(a)), Dual<T, N>(static_cast<double>(b)), z);
}

#define NABLA_DUAL_STEP(name)                              \
  /** name of the value, as a constant (zero tangents). */ \
  template <class T, std::size_t N>                        \
  Dual<T, N> name(const Dual<T, N>& x) {                   \
    using std::name;                                       \
    return Dual<T, N>(T(name(x.value())));                 \
  }
NABLA_DUAL_STEP(floor)
NABLA_DUAL_STEP(ceil)
NABLA_DUAL_STEP(round)
NABLA_DUAL_STEP(trunc)
#undef NABLA_DUAL_STEP

/// True when the value is NaN.
template <class T, std::size_t N>
bool isnan(const Dual<T, N>& x) noexcept {
  return std::isnan(detail::primal(x));
}
/// True when the value is ±∞.
template <class T, std::size_t N>
bool isinf(const Dual<T, N>& x) noexcept {
  return std::isinf(detail::primal(x));
}
/// True when the value is finite.
template <class T, std::size_t N>
bool isfinite(const Dual<T, N>& x) noexcept {
  return std::isfinite(detail::primal(x));
}

// ---- The same functions of an unrecorded Dual<Var> operation: recorded first --------------

namespace detail {
/// A DualExpression recorded as a Dual<Var>; anything else as it is.
template <class X>
decltype(auto) recorded(const X& x) {
  if constexpr (is_dual_expression<X>) {
    return Dual<Var, X::directions>(x);
  } else {
    return (x);
  }
}
template <class A, class B>
concept WithDualExpression = (is_dual_expression<A> || is_dual_expression<B>)&&LazyOperands<A, B>;
}  // namespace detail

#define NABLA_DUAL_EXPRESSION_UNARY(Fn, name)           \
  /** name of an unrecorded Dual<Var> operation. */     \
  template <class V, class D, std::size_t N>            \
  Dual<Var, N> name(const DualExpression<V, D, N>& x) { \
    return name(Dual<Var, N>(x));                       \
  }
NABLA_UNARY_FUNCTIONS(NABLA_DUAL_EXPRESSION_UNARY)
NABLA_DUAL_EXPRESSION_UNARY(AbsFn, fabs)
NABLA_DUAL_EXPRESSION_UNARY(_, floor)
NABLA_DUAL_EXPRESSION_UNARY(_, ceil)
NABLA_DUAL_EXPRESSION_UNARY(_, round)
NABLA_DUAL_EXPRESSION_UNARY(_, trunc)
#undef NABLA_DUAL_EXPRESSION_UNARY
#define NABLA_DUAL_EXPRESSION_BINARY(name)                                                 \
  /** name with an unrecorded Dual<Var> operation on either side. */                       \
  template <class A, class B>                                                              \
  requires detail::WithDualExpression<A, B> Dual<Var, detail::lazy_directions<A, B>> name( \
      const A& a, const B& b) {                                                            \
    return name(detail::recorded(a), detail::recorded(b));                                 \
  }
NABLA_DUAL_EXPRESSION_BINARY(pow)
NABLA_DUAL_EXPRESSION_BINARY(hypot)
NABLA_DUAL_EXPRESSION_BINARY(atan2)
NABLA_DUAL_EXPRESSION_BINARY(fmin)
NABLA_DUAL_EXPRESSION_BINARY(fmax)
NABLA_DUAL_EXPRESSION_BINARY(min)
NABLA_DUAL_EXPRESSION_BINARY(max)
#undef NABLA_DUAL_EXPRESSION_BINARY
#define NABLA_DUAL_EXPRESSION_PARAMETRIC(Fn, name, default_parameter)                 \
  /** name of an unrecorded Dual<Var> operation and the row's parameter. */           \
  template <class V, class D, std::size_t N>                                          \
  Dual<Var, N> name(const DualExpression<V, D, N>& x, double c = default_parameter) { \
    return name(Dual<Var, N>(x), c);                                                  \
  }
NABLA_PARAMETRIC_FUNCTIONS(NABLA_DUAL_EXPRESSION_PARAMETRIC)
#undef NABLA_DUAL_EXPRESSION_PARAMETRIC
/// ψ⁽ⁿ⁾ of an unrecorded Dual<Var> operation.
template <class V, class D, std::size_t N>
Dual<Var, N> polygamma(int n, const DualExpression<V, D, N>& x) {
  return polygamma(n, Dual<Var, N>(x));
}
/// x·y + z with an unrecorded Dual<Var> operation among them.
template <class X, class Y, class Z>
requires(detail::LazyDual<X> || detail::LazyDual<Y> || detail::LazyDual<Z>) &&
    detail::LazyOperand<X>&& detail::LazyOperand<Y>&& detail::LazyOperand<Z> auto fma(const X& x,
                                                                                      const Y& y,
                                                                                      const Z& z) {
  constexpr std::size_t N = [] {
    if constexpr (detail::LazyDual<X>) {
      return X::directions;
    } else {
      return detail::lazy_directions<Y, Z>;
    }
  }();
  using D = Dual<Var, N>;
  // Each operand as a Dual<Var, N>: a lazy one recorded, a Var expression or a number a constant
  // (zero tangents); then the value is rounded once, as std::fma.
  const auto dual = [](const auto& a) -> D {
    using A = std::decay_t<decltype(a)>;
    if constexpr (detail::LazyDual<A>) {
      return D(a);
    } else if constexpr (detail::LazyNumber<A>) {
      return D(static_cast<double>(a));
    } else {
      return D(Var(a), std::array<Var, N>{});
    }
  };
  return fma(dual(x), dual(y), dual(z));
}
/// True when the value is NaN.
template <class V, class D, std::size_t N>
bool isnan(const DualExpression<V, D, N>& x) noexcept {
  return std::isnan(detail::primal(x));
}
/// True when the value is ±∞.
template <class V, class D, std::size_t N>
bool isinf(const DualExpression<V, D, N>& x) noexcept {
  return std::isinf(detail::primal(x));
}
/// True when the value is finite.
template <class V, class D, std::size_t N>
bool isfinite(const DualExpression<V, D, N>& x) noexcept {
  return std::isfinite(detail::primal(x));
}

// ---- Reductions: the value and each tangent as one reduction (one statement each for Var) ----

namespace detail {
/// The values, or tangent i, of a span of Duals.
template <class T, std::size_t N>
std::vector<T> values_of(std::span<const Dual<T, N>> xs) {
  std::vector<T> out;
  out.reserve(xs.size());
  for (const auto& x : xs) out.push_back(x.value());
  return out;
}
template <class T, std::size_t N>
std::vector<T> tangents_of(std::span<const Dual<T, N>> xs, std::size_t i) {
  std::vector<T> out;
  out.reserve(xs.size());
  for (const auto& x : xs) out.push_back(x.tangent(i));
  return out;
}
/// Σ aᵢbᵢ in T: nabla::dot for Var (one statement), a loop otherwise.
template <class A, class B>
auto dot_of(const std::vector<A>& a, const std::vector<B>& b) {
  if constexpr (std::same_as<A, Var> || std::same_as<B, Var>) {
    return dot(std::span<const A>(a), std::span<const B>(b));
  } else {
    using R = std::conditional_t<std::same_as<A, double>, B, A>;
    R s = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
  }
}
}  // namespace detail

/// Σ xᵢ of Duals;  each tangent is the sum of the tangents.
template <class T, std::size_t N>
Dual<T, N> sum(std::span<const Dual<T, N>> xs) {
  if constexpr (std::same_as<T, Var>) {
    const std::vector<double> ones(xs.size(), 1.0);
    std::array<T, N> d;
    for (std::size_t i = 0; i < N; ++i) d[i] = detail::dot_of(ones, detail::tangents_of(xs, i));
    return Dual<T, N>(detail::dot_of(ones, detail::values_of(xs)), d);
  } else {
    Dual<T, N> s(0.0);
    for (const auto& x : xs) s += x;
    return s;
  }
}
/// Π xᵢ of Duals (1 for none): the loop `p *= x[i]`, so value and tangents are the loop's,
/// with its conventions at zeros and infinities (of Dual<Var>, its statements: second order).
template <class T, std::size_t N>
Dual<T, N> prod(std::span<const Dual<T, N>> xs) {
  Dual<T, N> p(1.0);
  for (const auto& x : xs) p *= x;
  return p;
}
/// Σ aᵢbᵢ with constant weights a;  tangent Σ aᵢḃᵢ.
/// @throws nabla::Error when the sizes differ.
template <class T, std::size_t N>
Dual<T, N> dot(std::span<const double> a, std::span<const Dual<T, N>> b) {
  detail::check_equal_sizes("nabla::dot", a.size(), b.size());
  if constexpr (std::same_as<T, Var>) {
    const std::vector<double> w(a.begin(), a.end());
    std::array<T, N> d;
    for (std::size_t i = 0; i < N; ++i) d[i] = detail::dot_of(w, detail::tangents_of(b, i));
    return Dual<T, N>(detail::dot_of(w, detail::values_of(b)), d);
  } else {  // no allocation: forward mode on doubles is a plain loop
    Dual<T, N> s(0.0);
    for (std::size_t j = 0; j < a.size(); ++j) s += b[j] * a[j];
    return s;
  }
}
/// Σ aᵢbᵢ with constant weights b.
/// @throws nabla::Error when the sizes differ.
template <class T, std::size_t N>
Dual<T, N> dot(std::span<const Dual<T, N>> a, std::span<const double> b) {
  return dot(b, a);
}
/// Σ aᵢbᵢ of two Dual vectors;  tangent Σ ȧᵢbᵢ + aᵢḃᵢ (one reduction of 2n terms).
/// @throws nabla::Error when the sizes differ.
template <class T, std::size_t N>
Dual<T, N> dot(std::span<const Dual<T, N>> a, std::span<const Dual<T, N>> b) {
  detail::check_equal_sizes("nabla::dot", a.size(), b.size());
  if constexpr (std::same_as<T, Var>) {
    const std::vector<T> av = detail::values_of(a), bv = detail::values_of(b);
    std::array<T, N> d;
    for (std::size_t i = 0; i < N; ++i) {
      std::vector<T> left = detail::tangents_of(a, i), right = bv;
      left.insert(left.end(), av.begin(), av.end());
      const std::vector<T> tb = detail::tangents_of(b, i);
      right.insert(right.end(), tb.begin(), tb.end());
      d[i] = detail::dot_of(left, right);
    }
    return Dual<T, N>(detail::dot_of(av, bv), d);
  } else {
    Dual<T, N> s(0.0);
    for (std::size_t j = 0; j < a.size(); ++j) s += a[j] * b[j];
    return s;
  }
}

/// log_sum_exp() of a braced list (of Dual<Var> and Dual<Var, 4>: the overloads below).
template <class T, std::size_t N>
requires(!std::same_as<T, Var>) Dual<T, N> log_sum_exp(std::initializer_list<Dual<T, N>> xs) {
  return log_sum_exp(std::span<const Dual<T, N>>(xs.begin(), xs.size()));
}

/// log_sum_exp() of a braced list of Dual<Var>s, which may mix in unrecorded operations
/// (`log_sum_exp({a * b, c})`: the list's type is not deduced, its elements become Dual<Var>).
template <class T = Var>
requires std::same_as<T, Var> Dual<T> log_sum_exp(
    std::initializer_list<std::type_identity_t<Dual<T>>> xs) {
  return log_sum_exp(std::span<const Dual<T>>(xs.begin(), xs.size()));
}
/// The same for the four tangents of the dense Hessian's blocks (Note [Hessian blocks]).
template <class T = Var>
requires std::same_as<T, Var> Dual<T, 4> log_sum_exp(
    std::initializer_list<std::type_identity_t<Dual<T, 4>>> xs) {
  return log_sum_exp(std::span<const Dual<T, 4>>(xs.begin(), xs.size()));
}

/// ln Σ e^(xᵢ) of Duals, by the one log-sum-exp rule: the tangent is Σ wᵢ ẋᵢ with the softmax
/// weights wᵢ of the values (with their conventions at ±∞ and NaN, docs/functions.md).
/// @throws nabla::Error when xs is empty.
template <class T, std::size_t N>
Dual<T, N> log_sum_exp(std::span<const Dual<T, N>> xs) {
  detail::require_nonempty_log_sum_exp(xs.size());
  if constexpr (std::same_as<T, double>) {
    detail::LogSumExp k;
    for (const auto& x : xs) k.see(x.value());
    for (const auto& x : xs) k.add(x.value());
    Dual<T, N> y(k.value());
    for (const auto& x : xs) {
      const double w = k.weight(x.value());
      for (std::size_t i = 0; i < N; ++i) y.tangent(i) += detail::chain(x.tangent(i), w);
    }
    return y;
  } else {
    // ln Σ e^(xᵢ) = m + ln Σ e^(xᵢ − m) with m the largest value (a number: exact in any type).
    double m = -std::numeric_limits<double>::infinity();
    for (const auto& x : xs) m = std::max(m, detail::primal(x));
    if (!std::isfinite(m)) {
      // Every input −∞, or one +∞ (or NaN): the value and the weights of the one-level rule.
      detail::LogSumExp k;
      for (const auto& x : xs) k.see(detail::primal(x));
      for (const auto& x : xs) k.add(detail::primal(x));
      Dual<T, N> y(k.value());
      for (const auto& x : xs) {
        const double w = k.weight(detail::primal(x));
        for (std::size_t i = 0; i < N; ++i) y.tangent(i) += w * x.tangent(i);
      }
      return y;
    }
    if constexpr (std::same_as<T, Var>) {
      // One statement for the value; the softmax weights e^(xᵢ − y) as Vars (the tangent's
      // derivative needs them); each tangent one reduction.
      const std::vector<Var> v = detail::values_of(xs);
      const Var y = log_sum_exp(std::span<const Var>(v));
      std::vector<Var> w(v.size());
      for (std::size_t j = 0; j < v.size(); ++j) w[j] = exp(v[j] - y);
      std::array<Var, N> d;
      for (std::size_t i = 0; i < N; ++i) d[i] = detail::dot_of(w, detail::tangents_of(xs, i));
      return Dual<T, N>(y, d);
    } else {
      using std::exp, std::log;
      Dual<T, N> s(0.0);
      for (const auto& x : xs) s += exp(x - m);
      return m + log(s);
    }
  }
}
}  // namespace nabla
