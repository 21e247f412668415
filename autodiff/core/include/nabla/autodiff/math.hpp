// nabla — the elementary functions of <cmath> on Var and expressions. Each function is a row:
// its value and its partial side by side (Note [Expression templates] for how they record).
// Conventions at non-differentiable points are listed in docs/functions.md.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <initializer_list>
#include <limits>
#include <numbers>
#include <span>

#include "nabla/autodiff/arithmetic.hpp"

namespace nabla {

namespace detail {
/// ψ(x) = d/dx lgamma(x), the digamma function (NaN at the poles 0, −1, −2, ...).
double digamma(double x) noexcept;

inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Unary functions: value(x) and partial(x, value). The derivative is in each row's comment.
#define NABLA_UNARY(Name, opcode, value_expr, partial_expr)       \
  struct Name {                                                   \
    static constexpr Op op = Op::opcode;                          \
    static double value(double x) { return value_expr; }          \
    static double partial([[maybe_unused]] double x,              \
                          [[maybe_unused]] double v) {            \
      return partial_expr;                                        \
    }                                                             \
  };
NABLA_UNARY(ExpFn, exp, std::exp(x), v)                                      // eˣ
NABLA_UNARY(Exp2Fn, exp2, std::exp2(x), v * std::numbers::ln2)              // 2ˣ ln 2
NABLA_UNARY(Expm1Fn, expm1, std::expm1(x), std::exp(x))                      // eˣ
NABLA_UNARY(LogFn, log, std::log(x), 1.0 / x)                                // 1/x
NABLA_UNARY(Log2Fn, log2, std::log2(x), 1.0 / (x * std::numbers::ln2))       // 1/(x ln 2)
NABLA_UNARY(Log10Fn, log10, std::log10(x), 1.0 / (x * std::numbers::ln10))   // 1/(x ln 10)
NABLA_UNARY(Log1pFn, log1p, std::log1p(x), 1.0 / (1.0 + x))                  // 1/(1 + x)
NABLA_UNARY(SqrtFn, sqrt, std::sqrt(x), 0.5 / v)                             // 1/(2√x)
NABLA_UNARY(CbrtFn, cbrt, std::cbrt(x), 1.0 / (3.0 * v * v))                 // 1/(3∛x²)
NABLA_UNARY(SinFn, sin, std::sin(x), std::cos(x))                            // cos x
NABLA_UNARY(CosFn, cos, std::cos(x), -std::sin(x))                           // −sin x
NABLA_UNARY(TanFn, tan, std::tan(x), 1.0 + v * v)                            // 1 + tan² x
NABLA_UNARY(AsinFn, asin, std::asin(x), 1.0 / std::sqrt((1.0 - x) * (1.0 + x)))   // 1/√(1−x²)
NABLA_UNARY(AcosFn, acos, std::acos(x), -1.0 / std::sqrt((1.0 - x) * (1.0 + x)))  // −1/√(1−x²)
NABLA_UNARY(AtanFn, atan, std::atan(x), 1.0 / (1.0 + x * x))                 // 1/(1 + x²)
NABLA_UNARY(SinhFn, sinh, std::sinh(x), std::cosh(x))                        // cosh x
NABLA_UNARY(CoshFn, cosh, std::cosh(x), std::sinh(x))                        // sinh x
// 1/cosh² x: accurate for large |x|, where 1 − tanh² x rounds to 0.
NABLA_UNARY(TanhFn, tanh, std::tanh(x), 1.0 / (std::cosh(x) * std::cosh(x)))
NABLA_UNARY(AsinhFn, asinh, std::asinh(x), 1.0 / std::hypot(x, 1.0))         // 1/√(x² + 1)
// 1/√(x²−1) as 1/(√(x−1)·√(x+1)): (x−1)(x+1) would overflow for x > 1e154.
NABLA_UNARY(AcoshFn, acosh, std::acosh(x), 1.0 / (std::sqrt(x - 1.0) * std::sqrt(x + 1.0)))
NABLA_UNARY(AtanhFn, atanh, std::atanh(x), 1.0 / ((1.0 - x) * (1.0 + x)))   // 1/(1 − x²)
NABLA_UNARY(ErfFn, erf, std::erf(x), 2.0 * std::numbers::inv_sqrtpi * std::exp(-x * x))
NABLA_UNARY(ErfcFn, erfc, std::erfc(x), -2.0 * std::numbers::inv_sqrtpi * std::exp(-x * x))
NABLA_UNARY(TgammaFn, tgamma, std::tgamma(x), v * digamma(x))                // Γ(x) ψ(x)
NABLA_UNARY(LgammaFn, lgamma, std::lgamma(x), digamma(x))                    // ψ(x)
NABLA_UNARY(AbsFn, abs, std::abs(x), x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0))     // sign x (0 at 0)
NABLA_UNARY(ReluFn, relu, x > 0 ? x : 0.0, x > 0 ? 1.0 : 0.0)                // 1 if x > 0 else 0
#undef NABLA_UNARY

/// σ(x) = 1/(1 + e^(−x)) and σ′(x) = σ(x)·σ(−x) = e·r² with e = e^(−|x|), r = 1/(1 + e): both
/// exact in the tails, where 1 − σ(x) would round to 0.
struct SigmoidFn {
  static constexpr Op op = Op::sigmoid;
  static double value(double x) {
    const double e = std::exp(-std::abs(x)), r = 1.0 / (1.0 + e);  // e in (0, 1]: no overflow
    return x >= 0 ? r : e * r;
  }
  static double partial(double x, double) {
    const double e = std::exp(-std::abs(x)), r = 1.0 / (1.0 + e);
    return e * r * r;
  }
};
/// softplus(x) = ln(1 + eˣ) = max(x, 0) + ln(1 + e^(−|x|)) and its derivative σ(x).
struct SoftplusFn {
  static constexpr Op op = Op::softplus;
  static double value(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }
  static double partial(double x, double) { return SigmoidFn::value(x); }
};

/// ∂atan2(y, x)/∂y = x/(x² + y²) and ∂/∂x = −y/(x² + y²), scaled by max(|x|, |y|) first so
/// that x² + y² neither underflows nor overflows (0 at the origin and at infinity).
inline void atan2_partials(double y, double x, double& dy, double& dx) noexcept {
  const double s = std::max(std::abs(x), std::abs(y));
  if (std::isnan(x) || std::isnan(y)) {
    dy = dx = std::numeric_limits<double>::quiet_NaN();
  } else if (s == 0.0 || std::isinf(s)) {
    dy = dx = 0.0;
  } else {
    const double xs = x / s, ys = y / s, r2 = xs * xs + ys * ys;  // r2 in [1, 2]
    dy = xs / r2 / s;
    dx = -ys / r2 / s;
  }
}

// Functions of an expression and a number: value(x, c) and partial(x, value, c).
struct PowNumberFn {  // x^c;  c·x^(c−1)  (0 when c = 0)
  static constexpr Op op = Op::pow;
  static double value(double x, double c) { return std::pow(x, c); }
  static double partial(double x, double, double c) { return c == 0 ? 0.0 : c * std::pow(x, c - 1); }
};
struct NumberPowFn {  // c^y;  c^y ln c  (0 at c = 0 when y > 0)
  static constexpr Op op = Op::pow;
  static double value(double y, double c) { return std::pow(c, y); }
  static double partial(double y, double v, double c) {
    return c > 0 ? v * std::log(c) : (c == 0 && y > 0 ? 0.0 : nan);
  }
};
struct HypotNumberFn {  // √(x² + c²);  x/h  (0 at the origin)
  static constexpr Op op = Op::hypot;
  static double value(double x, double c) { return std::hypot(x, c); }
  static double partial(double x, double h, double) { return h == 0 ? 0.0 : x / h; }
};
struct Atan2NumberXFn {  // atan2(y, c);  c/(y² + c²)  (0 at the origin)
  static constexpr Op op = Op::atan2;
  static double value(double y, double c) { return std::atan2(y, c); }
  static double partial(double y, double, double c) {
    double dy, dx;
    atan2_partials(y, c, dy, dx);
    return dy;
  }
};
struct Atan2NumberYFn {  // atan2(c, x);  −c/(x² + c²)  (0 at the origin)
  static constexpr Op op = Op::atan2;
  static double value(double x, double c) { return std::atan2(c, x); }
  static double partial(double x, double, double c) {
    double dy, dx;
    atan2_partials(c, x, dy, dx);
    return dx;
  }
};

// Functions of two expressions: value(a, b), partial_a and partial_b (a, b, value).
struct PowFn {  // a^b;  ∂a = b·a^(b−1),  ∂b = a^b ln a  (0 at a = 0 when b > 0)
  static constexpr Op op = Op::pow;
  static double value(double a, double b) { return std::pow(a, b); }
  static double partial_a(double a, double b, double) { return b == 0 ? 0.0 : b * std::pow(a, b - 1); }
  static double partial_b(double a, double b, double v) {
    return a > 0 ? v * std::log(a) : (a == 0 && b > 0 ? 0.0 : nan);
  }
};
struct HypotFn {  // √(a² + b²);  ∂a = a/h, ∂b = b/h  (both 0 at the origin)
  static constexpr Op op = Op::hypot;
  static double value(double a, double b) { return std::hypot(a, b); }
  static double partial_a(double a, double, double h) { return h == 0 ? 0.0 : a / h; }
  static double partial_b(double, double b, double h) { return h == 0 ? 0.0 : b / h; }
};
struct Atan2Fn {  // atan2(y, x);  ∂y = x/(x² + y²),  ∂x = −y/(x² + y²)  (both 0 at the origin)
  static constexpr Op op = Op::atan2;
  static double value(double y, double x) { return std::atan2(y, x); }
  static double partial_a(double y, double x, double) {
    double dy, dx;
    atan2_partials(y, x, dy, dx);
    return dy;
  }
  static double partial_b(double y, double x, double) {
    double dy, dx;
    atan2_partials(y, x, dy, dx);
    return dx;
  }
};

// Note [The rule table]
// Every elementary operation is one row above (or in arithmetic.hpp): its op code, its value
// and its partial(s), written once. The lists below name the rows; from them come the scalar
// expression nodes (the functions below), the tensor elementwise nodes (tensor_var.cpp), the
// graph's re-evaluation of a recorded operation (graph/src/partials.cpp) and, through the op code,
// op_name(). Adding a function means adding a row and listing it here.
// clang-format off
#define NABLA_UNARY_RULES(X)                                                                 \
  X(NegFn) X(ExpFn) X(Exp2Fn) X(Expm1Fn) X(LogFn) X(Log2Fn) X(Log10Fn) X(Log1pFn) X(SqrtFn)  \
  X(CbrtFn) X(SinFn) X(CosFn) X(TanFn) X(AsinFn) X(AcosFn) X(AtanFn) X(SinhFn) X(CoshFn)     \
  X(TanhFn) X(AsinhFn) X(AcoshFn) X(AtanhFn) X(ErfFn) X(ErfcFn) X(TgammaFn) X(LgammaFn)     \
  X(AbsFn) X(ReluFn) X(SigmoidFn) X(SoftplusFn)
#define NABLA_BINARY_RULES(X) \
  X(AddFn) X(SubFn) X(MulFn) X(DivFn) X(PowFn) X(HypotFn) X(Atan2Fn)
// clang-format on

/// The one log-sum-exp kernel (Note [The rule table]): every form — doubles, Vars, tensor
/// reductions, softmax, log_softmax, cross_entropy — accumulates its inputs in two passes,
/// see() each, then add() each, and reads value() and weight(): one rule at every point.
/// The common case costs a max per input, then one exp: a NaN input shows up as a NaN sum, and
/// the special inputs (±∞, NaN) are only counted when the maximum is not finite.
struct LogSumExp {
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0.0;
  std::size_t count = 0, infinite = 0;
  bool nan = false;  // a NaN input, when the maximum is not finite (otherwise: sum is NaN)
  /// First pass: the maximum (std::max skips NaN).
  void see(double x) noexcept {
    max = std::max(max, x);
    ++count;
  }
  /// Second pass: Σ e^(x − max); returns the term e^(x − max), which weight(x, term) takes
  /// instead of calling exp again. When the maximum is ±∞, counts +∞ and NaN inputs instead.
  double add(double x) noexcept {
    if (std::isfinite(max)) [[likely]] {
      const double term = std::exp(x - max);
      sum += term;  // NaN for a NaN input: the only way, since every x ≤ max < ∞
      return term;
    }
    nan |= std::isnan(x);
    infinite += x == std::numeric_limits<double>::infinity();
    return 0.0;
  }
  /// True when an input was NaN.
  [[nodiscard]] bool has_nan() const noexcept { return nan || std::isnan(sum); }
  /// ln Σ e^(xᵢ): NaN with a NaN input, the maximum when it is ±∞.
  [[nodiscard]] double value() const noexcept {
    if (has_nan()) return std::numeric_limits<double>::quiet_NaN();
    return std::isfinite(max) ? max + std::log(sum) : max;
  }
  /// ∂value/∂x for an input x (the softmax weight), by the conventions of docs/functions.md:
  /// NaN with a NaN input, shared equally by the +∞ inputs when one is +∞, 1/n each when
  /// every input is −∞ (the limit of equal inputs), e^(x − max)/Σ otherwise.
  [[nodiscard]] double weight(double x) const noexcept {
    return weight(x, std::isfinite(max) ? std::exp(x - max) : 0.0);
  }
  /// weight(x) from the term add(x) returned: one exp per input for value and weights.
  [[nodiscard]] double weight(double x, double term) const noexcept {
    if (std::isfinite(max)) return term / sum;  // NaN when sum is: a NaN input
    if (nan) return std::numeric_limits<double>::quiet_NaN();
    if (max > 0) return x == max ? 1.0 / static_cast<double>(infinite) : 0.0;  // +∞
    return 1.0 / static_cast<double>(count);  // every input −∞
  }
  /// ln(weight(x)), exact for inputs far below the maximum (log_softmax).
  [[nodiscard]] double log_weight(double x) const noexcept {
    return std::isfinite(max) ? (x - max) - std::log(sum) + 0.0 * sum  // NaN with sum
                              : std::log(weight(x));
  }
};
}  // namespace detail

// ---- One-argument functions: each returns an expression node ----------------------------------

/// eˣ; d/dx = eˣ
template <Expression E>
auto exp(const E& x) { return Unary<detail::ExpFn, E>(x); }
/// 2ˣ; d/dx = 2ˣ ln 2
template <Expression E>
auto exp2(const E& x) { return Unary<detail::Exp2Fn, E>(x); }
/// eˣ − 1; d/dx = eˣ
template <Expression E>
auto expm1(const E& x) { return Unary<detail::Expm1Fn, E>(x); }
/// ln x; d/dx = 1/x
template <Expression E>
auto log(const E& x) { return Unary<detail::LogFn, E>(x); }
/// log₂ x; d/dx = 1/(x ln 2)
template <Expression E>
auto log2(const E& x) { return Unary<detail::Log2Fn, E>(x); }
/// log₁₀ x; d/dx = 1/(x ln 10)
template <Expression E>
auto log10(const E& x) { return Unary<detail::Log10Fn, E>(x); }
/// ln(1 + x); d/dx = 1/(1 + x)
template <Expression E>
auto log1p(const E& x) { return Unary<detail::Log1pFn, E>(x); }
/// √x; d/dx = 1/(2√x)
template <Expression E>
auto sqrt(const E& x) { return Unary<detail::SqrtFn, E>(x); }
/// ∛x; d/dx = 1/(3∛x²)
template <Expression E>
auto cbrt(const E& x) { return Unary<detail::CbrtFn, E>(x); }
/// sin x; d/dx = cos x
template <Expression E>
auto sin(const E& x) { return Unary<detail::SinFn, E>(x); }
/// cos x; d/dx = −sin x
template <Expression E>
auto cos(const E& x) { return Unary<detail::CosFn, E>(x); }
/// tan x; d/dx = 1 + tan² x
template <Expression E>
auto tan(const E& x) { return Unary<detail::TanFn, E>(x); }
/// asin x; d/dx = 1/√(1 − x²)
template <Expression E>
auto asin(const E& x) { return Unary<detail::AsinFn, E>(x); }
/// acos x; d/dx = −1/√(1 − x²)
template <Expression E>
auto acos(const E& x) { return Unary<detail::AcosFn, E>(x); }
/// atan x; d/dx = 1/(1 + x²)
template <Expression E>
auto atan(const E& x) { return Unary<detail::AtanFn, E>(x); }
/// sinh x; d/dx = cosh x
template <Expression E>
auto sinh(const E& x) { return Unary<detail::SinhFn, E>(x); }
/// cosh x; d/dx = sinh x
template <Expression E>
auto cosh(const E& x) { return Unary<detail::CoshFn, E>(x); }
/// tanh x; d/dx = 1/cosh² x
template <Expression E>
auto tanh(const E& x) { return Unary<detail::TanhFn, E>(x); }
/// asinh x; d/dx = 1/√(x² + 1)
template <Expression E>
auto asinh(const E& x) { return Unary<detail::AsinhFn, E>(x); }
/// acosh x; d/dx = 1/√(x² − 1)
template <Expression E>
auto acosh(const E& x) { return Unary<detail::AcoshFn, E>(x); }
/// atanh x; d/dx = 1/(1 − x²)
template <Expression E>
auto atanh(const E& x) { return Unary<detail::AtanhFn, E>(x); }
/// erf x; d/dx = 2/√π e^(−x²)
template <Expression E>
auto erf(const E& x) { return Unary<detail::ErfFn, E>(x); }
/// erfc x; d/dx = −2/√π e^(−x²)
template <Expression E>
auto erfc(const E& x) { return Unary<detail::ErfcFn, E>(x); }
/// Γ(x); d/dx = Γ(x) ψ(x)
template <Expression E>
auto tgamma(const E& x) { return Unary<detail::TgammaFn, E>(x); }
/// ln|Γ(x)|; d/dx = ψ(x)
template <Expression E>
auto lgamma(const E& x) { return Unary<detail::LgammaFn, E>(x); }
/// |x|; d/dx = sign x (0 at x = 0)
template <Expression E>
auto abs(const E& x) { return Unary<detail::AbsFn, E>(x); }
/// |x| (the same as abs)
template <Expression E>
auto fabs(const E& x) { return Unary<detail::AbsFn, E>(x); }
/// max(x, 0); d/dx = 1 for x > 0, else 0 (0 at x = 0)
template <Expression E>
auto relu(const E& x) { return Unary<detail::ReluFn, E>(x); }

/// max(x, 0) for a double.
inline double relu(double x) noexcept { return x > 0 ? x : 0.0; }

// ---- Powers and two-argument functions -------------------------------------------------------

/// x^y;  ∂x = y·x^(y−1),  ∂y = x^y ln x  (∂y = 0 at x = 0 when y > 0; NaN for x < 0)
template <Expression L, Expression R>
auto pow(const L& x, const R& y) { return Binary<detail::PowFn, L, R>(x, y); }
/// x^c;  d/dx = c·x^(c−1)  (0 when c = 0)
template <Expression E>
auto pow(const E& x, double c) { return WithNumber<detail::PowNumberFn, E>(x, c); }
/// x^n for an integer n (exact for negative x, never ambiguous);  d/dx = n·x^(n−1)
template <Expression E, std::integral I>
auto pow(const E& x, I n) { return WithNumber<detail::PowNumberFn, E>(x, static_cast<double>(n)); }
/// c^y;  d/dy = c^y ln c  (0 at c = 0 when y > 0)
template <Expression E>
auto pow(double c, const E& y) { return WithNumber<detail::NumberPowFn, E>(y, c); }
/// √(x² + y²);  ∂x = x/h, ∂y = y/h  (both 0 at the origin)
template <Expression L, Expression R>
auto hypot(const L& x, const R& y) { return Binary<detail::HypotFn, L, R>(x, y); }
/// hypot(x, c)
template <Expression E>
auto hypot(const E& x, double c) { return WithNumber<detail::HypotNumberFn, E>(x, c); }
/// hypot(c, y)
template <Expression E>
auto hypot(double c, const E& y) { return WithNumber<detail::HypotNumberFn, E>(y, c); }
/// atan2(y, x);  ∂y = x/(x² + y²),  ∂x = −y/(x² + y²)  (both 0 at the origin)
template <Expression L, Expression R>
auto atan2(const L& y, const R& x) { return Binary<detail::Atan2Fn, L, R>(y, x); }
/// atan2(y, c)
template <Expression E>
auto atan2(const E& y, double c) { return WithNumber<detail::Atan2NumberXFn, E>(y, c); }
/// atan2(c, x)
template <Expression E>
auto atan2(double c, const E& x) { return WithNumber<detail::Atan2NumberYFn, E>(x, c); }

// ---- Functions recorded at once (they return Var) --------------------------------------------

/// The smaller of x and y (a NaN operand is ignored, as std::fmin does); the derivative goes to
/// the smaller one, split 0.5/0.5 on a tie.
Var fmin(const Var& x, const Var& y);
/// The larger of x and y (a NaN operand is ignored, as std::fmax does); the derivative goes to
/// the larger one, split 0.5/0.5 on a tie.
Var fmax(const Var& x, const Var& y);
/// The smaller of x and y (the same as fmin).
inline Var min(const Var& x, const Var& y) { return fmin(x, y); }
/// The larger of x and y (the same as fmax).
inline Var max(const Var& x, const Var& y) { return fmax(x, y); }
/// x·y + z with one rounding;  ∂x = y, ∂y = x, ∂z = 1
inline Var fma(const Var& x, const Var& y, const Var& z) {
  return Tape::active().record(Op::fma, std::fma(x.value(), y.value(), z.value()), x, y.value(),
                               y, x.value(), z, 1.0);
}

// Mixed Var/double forms of the selecting functions: the number becomes a constant operand.
#define NABLA_MIXED_BINARY(name)                                       \
  /** name(Var, double): the double is a constant operand. */           \
  inline Var name(const Var& x, double c) { return name(x, Var(c)); }  \
  /** name(double, Var): the double is a constant operand. */           \
  inline Var name(double c, const Var& y) { return name(Var(c), y); }
NABLA_MIXED_BINARY(fmin)
NABLA_MIXED_BINARY(fmax)
NABLA_MIXED_BINARY(min)
NABLA_MIXED_BINARY(max)
#undef NABLA_MIXED_BINARY

/// ⌊x⌋ as a constant (zero derivative: nothing is recorded)
template <Expression E>
Var floor(const E& x) { return Var(std::floor(x.value())); }
/// ⌈x⌉ as a constant (zero derivative: nothing is recorded)
template <Expression E>
Var ceil(const E& x) { return Var(std::ceil(x.value())); }
/// x rounded half away from zero, as a constant (zero derivative)
template <Expression E>
Var round(const E& x) { return Var(std::round(x.value())); }
/// x rounded toward zero, as a constant (zero derivative)
template <Expression E>
Var trunc(const E& x) { return Var(std::trunc(x.value())); }

/// σ(x) = 1/(1 + e^(−x)) for a double, computed without overflow.
inline double sigmoid(double x) noexcept { return detail::SigmoidFn::value(x); }
/// σ(x) = 1/(1 + e^(−x));  d/dx = σ(x)·σ(−x)  (one exponential for both)
inline Var sigmoid(const Var& x) {
  const double a = x.value(), e = std::exp(-std::abs(a)), r = 1.0 / (1.0 + e);
  return Tape::active().record(Op::sigmoid, a >= 0 ? r : e * r, x, e * r * r);
}
/// softplus(x) = ln(1 + eˣ) for a double, computed without overflow.
inline double softplus(double x) noexcept { return detail::SoftplusFn::value(x); }
/// softplus(x) = ln(1 + eˣ);  d/dx = σ(x)  (one exponential for both)
inline Var softplus(const Var& x) {
  const double a = x.value(), e = std::exp(-std::abs(a)), r = 1.0 / (1.0 + e);
  return Tape::active().record(Op::softplus, std::max(a, 0.0) + std::log1p(e), x,
                               a >= 0 ? r : e * r);
}

/// ln Σ e^(xᵢ) for doubles, computed stably (shifted by the maximum); NaN when an input is NaN.
/// @throws nabla::Error when xs is empty.
double log_sum_exp(std::span<const double> xs);
/// ln Σ e^(xᵢ), recorded as one statement;  d/dxᵢ = e^(xᵢ) / Σ e^(xⱼ) (the softmax)
/// @throws nabla::Error when xs is empty.
Var log_sum_exp(std::span<const Var> xs);
/// ln Σ e^(xᵢ) of a braced list: `log_sum_exp({a, b, c})`.
inline Var log_sum_exp(std::initializer_list<Var> xs) {
  return log_sum_exp(std::span<const Var>(xs.begin(), xs.size()));
}

}  // namespace nabla
