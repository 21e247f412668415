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
/// ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function (n ≥ 0; NaN at the poles and for n < 0).
double polygamma(int n, double x) noexcept;
/// Throws unless 0 ≤ n ≤ 10000 (the orders polygamma accepts).
void check_polygamma_order(int n);
/// Throws when a log_sum_exp input is empty.
void require_nonempty_log_sum_exp(std::size_t n);

inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// The innermost double of a number: itself, a Var's value, a Dual's value's value, ...
template <class T>
constexpr double primal(const T& x) noexcept {
  if constexpr (std::is_arithmetic_v<T>) {
    return static_cast<double>(x);
  } else {
    return primal(x.value());
  }
}

// Note [Generic rules]
// Every row is written once, generic in the number type T: double (the scalar expression
// nodes, the tensor kernels, the graph's re-evaluation), Var (a partial recorded on a tape:
// reverse over forward, Hessians) and Dual (forward mode, nested to any order). Inside a row,
// `exp(x)` finds std::exp for double and nabla's overloads for Var and Dual; a branch returns
// T(...) on both sides; a branch tests values (comparisons of Var and Dual compare values).
// With T = double the code is the one a hand-written double row would be. For Var and Dual
// only the partials are evaluated in T (their derivatives are the second derivatives); values
// come from applying the row as one operation (detail::apply_unary in dual.hpp), so a partial
// must be differentiable where its function is: it calls rule functions (exp, sigmoid, ...),
// not a branchy formula of them.
#define NABLA_USING_STD                                                                           \
  using std::exp, std::exp2, std::expm1, std::log, std::log2, std::log10, std::log1p, std::sqrt,  \
      std::cbrt, std::sin, std::cos, std::tan, std::asin, std::acos, std::atan, std::sinh,        \
      std::cosh, std::tanh, std::asinh, std::acosh, std::atanh, std::erf, std::erfc, std::tgamma, \
      std::lgamma, std::abs, std::pow, std::hypot, std::atan2

// Unary functions: value(x) and partial(x, value). The derivative is in each row's comment.
#define NABLA_UNARY(Name, opcode, value_expr, partial_expr)                         \
  struct Name {                                                                     \
    static constexpr Op op = Op::opcode;                                            \
    template <class T>                                                              \
    static T value(const T& x) {                                                    \
      NABLA_USING_STD;                                                              \
      return value_expr;                                                            \
    }                                                                               \
    template <class T>                                                              \
    static auto partial([[maybe_unused]] const T& x, [[maybe_unused]] const T& v) { \
      NABLA_USING_STD;                                                              \
      return partial_expr;                                                          \
    }                                                                               \
  };
// clang-format off
NABLA_UNARY(ExpFn, exp, exp(x), v)                                           // eˣ
NABLA_UNARY(Exp2Fn, exp2, exp2(x), v * std::numbers::ln2)                    // 2ˣ ln 2
NABLA_UNARY(Expm1Fn, expm1, expm1(x), exp(x))                                // eˣ
NABLA_UNARY(LogFn, log, log(x), 1.0 / x)                                     // 1/x
NABLA_UNARY(Log2Fn, log2, log2(x), 1.0 / (x * std::numbers::ln2))            // 1/(x ln 2)
NABLA_UNARY(Log10Fn, log10, log10(x), 1.0 / (x * std::numbers::ln10))        // 1/(x ln 10)
NABLA_UNARY(Log1pFn, log1p, log1p(x), 1.0 / (1.0 + x))                       // 1/(1 + x)
NABLA_UNARY(SqrtFn, sqrt, sqrt(x), 0.5 / v)                                  // 1/(2√x)
NABLA_UNARY(CbrtFn, cbrt, cbrt(x), 1.0 / (3.0 * v * v))                      // 1/(3∛x²)
NABLA_UNARY(SinFn, sin, sin(x), cos(x))                                      // cos x
NABLA_UNARY(CosFn, cos, cos(x), -sin(x))                                     // −sin x
NABLA_UNARY(TanFn, tan, tan(x), 1.0 + v * v)                                 // 1 + tan² x
NABLA_UNARY(AsinFn, asin, asin(x), 1.0 / sqrt((1.0 - x) * (1.0 + x)))       // 1/√(1−x²)
NABLA_UNARY(AcosFn, acos, acos(x), -1.0 / sqrt((1.0 - x) * (1.0 + x)))      // −1/√(1−x²)
NABLA_UNARY(AtanFn, atan, atan(x), 1.0 / (1.0 + x * x))                      // 1/(1 + x²)
NABLA_UNARY(SinhFn, sinh, sinh(x), cosh(x))                                  // cosh x
NABLA_UNARY(CoshFn, cosh, cosh(x), sinh(x))                                  // sinh x
// 1/cosh² x: accurate for large |x|, where 1 − tanh² x rounds to 0.
NABLA_UNARY(TanhFn, tanh, tanh(x), 1.0 / (cosh(x) * cosh(x)))
NABLA_UNARY(AsinhFn, asinh, asinh(x), 1.0 / hypot(x, 1.0))                   // 1/√(x² + 1)
// 1/√(x²−1) as 1/(√(x−1)·√(x+1)): (x−1)(x+1) would overflow for x > 1e154.
NABLA_UNARY(AcoshFn, acosh, acosh(x), 1.0 / (sqrt(x - 1.0) * sqrt(x + 1.0)))
NABLA_UNARY(AtanhFn, atanh, atanh(x), 1.0 / ((1.0 - x) * (1.0 + x)))        // 1/(1 − x²)
NABLA_UNARY(ErfFn, erf, erf(x), 2.0 * std::numbers::inv_sqrtpi * exp(-x * x))  // 2/√π e^(−x²)
NABLA_UNARY(ErfcFn, erfc, erfc(x), -2.0 * std::numbers::inv_sqrtpi * exp(-x * x))
NABLA_UNARY(TgammaFn, tgamma, tgamma(x), v * digamma(x))                     // Γ(x) ψ(x)
NABLA_UNARY(LgammaFn, lgamma, lgamma(x), digamma(x))                         // ψ(x)
NABLA_UNARY(DigammaFn, digamma, digamma(x), polygamma(1, x))                 // ψ′(x)
NABLA_UNARY(AbsFn, abs, abs(x), T(x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0)))      // sign x (0 at 0)
NABLA_UNARY(ReluFn, relu, x > 0 ? x : T(0.0), T(x > 0 ? 1.0 : 0.0))         // 1 if x > 0 else 0
// clang-format on
#undef NABLA_UNARY

/// σ(x) = 1/(1 + e^(−x)) and σ′(x) = σ(x)·σ(−x) = e·r² with e = e^(−|x|), r = 1/(1 + e): both
/// exact in the tails, where 1 − σ(x) would round to 0.
struct SigmoidFn {
  static constexpr Op op = Op::sigmoid;
  template <class T>
  static T value(const T& x) {
    NABLA_USING_STD;
    const T e = exp(-abs(x)), r = 1.0 / (1.0 + e);  // e in (0, 1]: no overflow
    return x >= 0 ? r : T(e * r);
  }
  template <class T>
  static auto partial(const T& x, const T&) {
    if constexpr (std::same_as<T, double>) {
      const double e = std::exp(-std::abs(x)), r = 1.0 / (1.0 + e);
      return e * r * r;
    } else {
      return sigmoid(x) * sigmoid(-x);  // differentiable everywhere (|x| has a kink at 0)
    }
  }
};
/// softplus(x) = ln(1 + eˣ) = max(x, 0) + ln(1 + e^(−|x|)) and its derivative σ(x).
struct SoftplusFn {
  static constexpr Op op = Op::softplus;
  template <class T>
  static T value(const T& x) {
    NABLA_USING_STD;
    return (x < 0.0 ? T(0.0) : x) + log1p(exp(-abs(x)));  // std::max(x, 0.0), NaN kept
  }
  template <class T>
  static auto partial(const T& x, const T&) {
    if constexpr (std::same_as<T, double>) {
      return SigmoidFn::value(x);
    } else {
      return sigmoid(x);  // the rule applied (Note [Generic rules]), not its formula expanded
    }
  }
};

/// gelu(x) = x·Φ(x) = ½·x·erfc(−x/√2) (the exact form, PyTorch's default), and its derivative
/// Φ(x) + x·φ(x). erfc keeps Φ(x) relative-exact for x ≪ 0, where 1 + erf(x/√2) would cancel;
/// at ±∞ the value and derivative are their limits (−0 and 0 at −∞, +∞ and 1 at +∞), where the
/// formulas would give ∞·0.
struct GeluFn {
  static constexpr Op op = Op::gelu;
  template <class T>
  static T value(const T& x) {
    NABLA_USING_STD;
    if (x == -std::numeric_limits<double>::infinity()) return T(-0.0);
    return 0.5 * x * erfc(-x * std::numbers::sqrt2 * 0.5);
  }
  template <class T>
  static auto partial(const T& x, const T&) {
    NABLA_USING_STD;
    if (std::isinf(primal(x))) return T(x > 0 ? 1.0 : 0.0);
    const double inv_sqrt_2pi = 0.5 * std::numbers::sqrt2 * std::numbers::inv_sqrtpi;
    return T(0.5 * erfc(-x * std::numbers::sqrt2 * 0.5) + x * (inv_sqrt_2pi * exp(-0.5 * x * x)));
  }
};
/// silu(x) = x·σ(x) (also called swish) and its derivative σ(x)·(1 + x·σ(−x)), exact in the
/// tails through σ's row; at ±∞ the limits (−0 and 0 at −∞, +∞ and 1 at +∞).
struct SiluFn {
  static constexpr Op op = Op::silu;
  template <class T>
  static T value(const T& x) {
    if (x == -std::numeric_limits<double>::infinity()) return T(-0.0);
    return x * SigmoidFn::value(x);
  }
  template <class T>
  static auto partial(const T& x, const T&) {
    if (std::isinf(primal(x))) return T(x > 0 ? 1.0 : 0.0);
    if constexpr (std::same_as<T, double>) {
      return SigmoidFn::value(x) * (1.0 + x * SigmoidFn::value(-x));
    } else {
      return T(sigmoid(x) * (1.0 + x * sigmoid(-x)));  // the rule applied (Note [Generic rules])
    }
  }
};

// Functions of an expression and a parameter with a default (NABLA_PARAMETRIC_FUNCTIONS):
// value(x, c), partial(x, value, c), and check(c), which throws for a parameter the function
// does not take.
/// Throws a nabla::Error naming `function` unless its parameter `name` = c is finite.
void require_finite_parameter(const char* function, const char* name, double c);
/// leaky_relu(x, s) = x for x > 0, else s·x (s = 0 gives relu exactly, also at −∞); derivative
/// 1 for x > 0, else s: s at the kink x = 0, the left derivative, as relu′(0) = 0 and PyTorch.
struct LeakyReluFn {
  static constexpr Op op = Op::leaky_relu;
  static void check(double c) {
    require_finite_parameter("nabla::leaky_relu", "negative_slope", c);
  }
  template <class T>
  static T value(const T& x, double c) {
    return x > 0 ? x : T(c == 0 ? 0.0 : c * x);
  }
  template <class T>
  static auto partial(const T& x, const T&, double c) {
    return T(x > 0 ? 1.0 : c);
  }
};
/// elu(x, α) = x for x > 0, else α·(eˣ − 1); derivative 1 for x > 0, else α·eˣ: α at x = 0,
/// the left derivative (as relu′(0) = 0 and PyTorch; for α = 1 both sides agree).
struct EluFn {
  static constexpr Op op = Op::elu;
  static void check(double c) { require_finite_parameter("nabla::elu", "alpha", c); }
  template <class T>
  static T value(const T& x, double c) {
    NABLA_USING_STD;
    return x > 0 ? x : T(c * expm1(x));
  }
  template <class T>
  static auto partial(const T& x, const T&, double c) {
    NABLA_USING_STD;
    return x > 0 ? T(1.0) : T(c * exp(x));
  }
};

/// ∂atan2(y, x)/∂y = x/(x² + y²) (wrt_y) or ∂/∂x = −y/(x² + y²), scaled by s = max(|x|, |y|)
/// first so that x² + y² neither underflows nor overflows (0 at the origin and at infinity).
/// s is a number: x/s and y/s are exact in any number type, and the result does not depend on s.
template <class T>
T atan2_partial(const T& y, const T& x, bool wrt_y) {
  const double yv = primal(y), xv = primal(x), s = std::max(std::abs(xv), std::abs(yv));
  if (std::isnan(xv) || std::isnan(yv)) return T(nan);
  if (s == 0.0 || std::isinf(s)) return T(0.0);
  const T xs = x / s, ys = y / s, r2 = xs * xs + ys * ys;  // r2 in [1, 2]
  return wrt_y ? T(xs / r2 / s) : T(-ys / r2 / s);
}

// Functions of an expression and a number: value(x, c) and partial(x, value, c).
struct PowNumberFn {  // x^c;  c·x^(c−1)  (0 when c = 0)
  static constexpr Op op = Op::pow;
  template <class T>
  static T value(const T& x, double c) {
    NABLA_USING_STD;
    return pow(x, c);
  }
  template <class T>
  static auto partial(const T& x, const T&, double c) {
    NABLA_USING_STD;
    return c == 0 ? T(0.0) : T(c * pow(x, c - 1));
  }
};
struct NumberPowFn {  // c^y;  c^y ln c  (0 at c = 0 when y > 0)
  static constexpr Op op = Op::pow;
  template <class T>
  static T value(const T& y, double c) {
    NABLA_USING_STD;
    return pow(c, y);
  }
  template <class T>
  static auto partial(const T& y, const T& v, double c) {
    return c > 0 ? T(v * std::log(c)) : T(c == 0 && y > 0 ? 0.0 : nan);
  }
};
struct HypotNumberFn {  // √(x² + c²);  x/h  (0 at the origin)
  static constexpr Op op = Op::hypot;
  template <class T>
  static T value(const T& x, double c) {
    NABLA_USING_STD;
    return hypot(x, c);
  }
  template <class T>
  static auto partial(const T& x, const T& h, double) {
    return h == 0 ? T(0.0) : T(x / h);
  }
};
struct Atan2NumberXFn {  // atan2(y, c);  c/(y² + c²)  (0 at the origin)
  static constexpr Op op = Op::atan2;
  template <class T>
  static T value(const T& y, double c) {
    NABLA_USING_STD;
    return atan2(y, c);
  }
  template <class T>
  static auto partial(const T& y, const T&, double c) {
    return atan2_partial(y, T(c), true);
  }
};
struct Atan2NumberYFn {  // atan2(c, x);  −c/(x² + c²)  (0 at the origin)
  static constexpr Op op = Op::atan2;
  template <class T>
  static T value(const T& x, double c) {
    NABLA_USING_STD;
    return atan2(c, x);
  }
  template <class T>
  static auto partial(const T& x, const T&, double c) {
    return atan2_partial(T(c), x, false);
  }
};
struct PolygammaFn {  // ψ⁽ⁿ⁾(x) for n = c;  ψ⁽ⁿ⁺¹⁾(x)
  static constexpr Op op = Op::polygamma;
  template <class T>
  static T value(const T& x, double c) {
    return polygamma(static_cast<int>(c), x);
  }
  template <class T>
  static auto partial(const T& x, const T&, double c) {
    return polygamma(static_cast<int>(c) + 1, x);
  }
};

// Functions of two expressions: value(a, b), partial_a and partial_b (a, b, value).
struct PowFn {  // a^b;  ∂a = b·a^(b−1),  ∂b = a^b ln a  (0 at a = 0 when b > 0)
  static constexpr Op op = Op::pow;
  template <class T>
  static T value(const T& a, const T& b) {
    NABLA_USING_STD;
    return pow(a, b);
  }
  template <class T>
  static auto partial_a(const T& a, const T& b, const T&) {
    NABLA_USING_STD;
    return b == 0 ? T(0.0) : T(b * pow(a, b - 1.0));
  }
  template <class T>
  static auto partial_b(const T& a, const T& b, const T& v) {
    NABLA_USING_STD;
    // a < 0 (or NaN): v·ln a is NaN, written so that it depends on a and b — a derivative of
    // this partial (a second derivative of pow) is then NaN too, not the 0 of a constant NaN.
    return a == 0 ? T(b > 0 ? 0.0 : nan) : T(v * log(a));
  }
};
struct HypotFn {  // √(a² + b²);  ∂a = a/h, ∂b = b/h  (both 0 at the origin)
  static constexpr Op op = Op::hypot;
  template <class T>
  static T value(const T& a, const T& b) {
    NABLA_USING_STD;
    return hypot(a, b);
  }
  template <class T>
  static auto partial_a(const T& a, const T&, const T& h) {
    return h == 0 ? T(0.0) : T(a / h);
  }
  template <class T>
  static auto partial_b(const T&, const T& b, const T& h) {
    return h == 0 ? T(0.0) : T(b / h);
  }
};
struct Atan2Fn {  // atan2(y, x);  ∂y = x/(x² + y²),  ∂x = −y/(x² + y²)  (both 0 at the origin)
  static constexpr Op op = Op::atan2;
  template <class T>
  static T value(const T& y, const T& x) {
    NABLA_USING_STD;
    return atan2(y, x);
  }
  template <class T>
  static auto partial_a(const T& y, const T& x, const T&) {
    return atan2_partial(y, x, true);
  }
  template <class T>
  static auto partial_b(const T& y, const T& x, const T&) {
    return atan2_partial(y, x, false);
  }
};
#undef NABLA_USING_STD

// Note [The rule table]
// Every elementary operation is one row above (or in arithmetic.hpp): its op code, its value
// and its partial(s), written once and generic in the number type (Note [Generic rules]). The
// lists below name the rows and the functions users call; from them come the scalar expression
// nodes (the functions below), the forward-mode functions on Dual (dual.hpp), the tensor
// elementwise nodes (tensor_var.cpp), the graph's re-evaluation of a recorded operation
// (graph/src/partials.cpp) and, through the op code, op_name(). Adding a function means adding
// a row and listing it here.
// clang-format off
#define NABLA_UNARY_FUNCTIONS(X)                                                            \
  X(ExpFn, exp) X(Exp2Fn, exp2) X(Expm1Fn, expm1) X(LogFn, log) X(Log2Fn, log2)             \
  X(Log10Fn, log10) X(Log1pFn, log1p) X(SqrtFn, sqrt) X(CbrtFn, cbrt) X(SinFn, sin)         \
  X(CosFn, cos) X(TanFn, tan) X(AsinFn, asin) X(AcosFn, acos) X(AtanFn, atan)               \
  X(SinhFn, sinh) X(CoshFn, cosh) X(TanhFn, tanh) X(AsinhFn, asinh) X(AcoshFn, acosh)       \
  X(AtanhFn, atanh) X(ErfFn, erf) X(ErfcFn, erfc) X(TgammaFn, tgamma) X(LgammaFn, lgamma)   \
  X(DigammaFn, digamma) X(AbsFn, abs) X(ReluFn, relu) X(SigmoidFn, sigmoid)                 \
  X(SoftplusFn, softplus) X(GeluFn, gelu) X(SiluFn, silu)
// Functions of an operand and a parameter with a default: the row, the name, the default.
#define NABLA_PARAMETRIC_FUNCTIONS(X) X(LeakyReluFn, leaky_relu, 0.01) X(EluFn, elu, 1.0)
#define NABLA_UNARY_RULES(X) X(NegFn, operator-) NABLA_UNARY_FUNCTIONS(X)
// Two-argument functions: the row for two operands, the rows for an operand and a number.
#define NABLA_BINARY_FUNCTIONS(X)                                       \
  X(PowFn, PowNumberFn, NumberPowFn, pow)                               \
  X(HypotFn, HypotNumberFn, HypotNumberFn, hypot)                       \
  X(Atan2Fn, Atan2NumberXFn, Atan2NumberYFn, atan2)
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
    return 1.0 / static_cast<double>(count);                                   // every input −∞
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
auto exp(const E& x) {
  return Unary<detail::ExpFn, E>(x);
}
/// 2ˣ; d/dx = 2ˣ ln 2
template <Expression E>
auto exp2(const E& x) {
  return Unary<detail::Exp2Fn, E>(x);
}
/// eˣ − 1; d/dx = eˣ
template <Expression E>
auto expm1(const E& x) {
  return Unary<detail::Expm1Fn, E>(x);
}
/// ln x; d/dx = 1/x
template <Expression E>
auto log(const E& x) {
  return Unary<detail::LogFn, E>(x);
}
/// log₂ x; d/dx = 1/(x ln 2)
template <Expression E>
auto log2(const E& x) {
  return Unary<detail::Log2Fn, E>(x);
}
/// log₁₀ x; d/dx = 1/(x ln 10)
template <Expression E>
auto log10(const E& x) {
  return Unary<detail::Log10Fn, E>(x);
}
/// ln(1 + x); d/dx = 1/(1 + x)
template <Expression E>
auto log1p(const E& x) {
  return Unary<detail::Log1pFn, E>(x);
}
/// √x; d/dx = 1/(2√x)
template <Expression E>
auto sqrt(const E& x) {
  return Unary<detail::SqrtFn, E>(x);
}
/// ∛x; d/dx = 1/(3∛x²)
template <Expression E>
auto cbrt(const E& x) {
  return Unary<detail::CbrtFn, E>(x);
}
/// sin x; d/dx = cos x
template <Expression E>
auto sin(const E& x) {
  return Unary<detail::SinFn, E>(x);
}
/// cos x; d/dx = −sin x
template <Expression E>
auto cos(const E& x) {
  return Unary<detail::CosFn, E>(x);
}
/// tan x; d/dx = 1 + tan² x
template <Expression E>
auto tan(const E& x) {
  return Unary<detail::TanFn, E>(x);
}
/// asin x; d/dx = 1/√(1 − x²)
template <Expression E>
auto asin(const E& x) {
  return Unary<detail::AsinFn, E>(x);
}
/// acos x; d/dx = −1/√(1 − x²)
template <Expression E>
auto acos(const E& x) {
  return Unary<detail::AcosFn, E>(x);
}
/// atan x; d/dx = 1/(1 + x²)
template <Expression E>
auto atan(const E& x) {
  return Unary<detail::AtanFn, E>(x);
}
/// sinh x; d/dx = cosh x
template <Expression E>
auto sinh(const E& x) {
  return Unary<detail::SinhFn, E>(x);
}
/// cosh x; d/dx = sinh x
template <Expression E>
auto cosh(const E& x) {
  return Unary<detail::CoshFn, E>(x);
}
/// tanh x; d/dx = 1/cosh² x
template <Expression E>
auto tanh(const E& x) {
  return Unary<detail::TanhFn, E>(x);
}
/// asinh x; d/dx = 1/√(x² + 1)
template <Expression E>
auto asinh(const E& x) {
  return Unary<detail::AsinhFn, E>(x);
}
/// acosh x; d/dx = 1/√(x² − 1)
template <Expression E>
auto acosh(const E& x) {
  return Unary<detail::AcoshFn, E>(x);
}
/// atanh x; d/dx = 1/(1 − x²)
template <Expression E>
auto atanh(const E& x) {
  return Unary<detail::AtanhFn, E>(x);
}
/// erf x; d/dx = 2/√π e^(−x²)
template <Expression E>
auto erf(const E& x) {
  return Unary<detail::ErfFn, E>(x);
}
/// erfc x; d/dx = −2/√π e^(−x²)
template <Expression E>
auto erfc(const E& x) {
  return Unary<detail::ErfcFn, E>(x);
}
/// Γ(x); d/dx = Γ(x) ψ(x)
template <Expression E>
auto tgamma(const E& x) {
  return Unary<detail::TgammaFn, E>(x);
}
/// ln|Γ(x)|; d/dx = ψ(x)
template <Expression E>
auto lgamma(const E& x) {
  return Unary<detail::LgammaFn, E>(x);
}
/// ψ(x) = d/dx ln Γ(x), the digamma function (NaN at the poles 0, −1, −2, ...); d/dx = ψ′(x)
template <Expression E>
auto digamma(const E& x) {
  return Unary<detail::DigammaFn, E>(x);
}
/// ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function; d/dx = ψ⁽ⁿ⁺¹⁾(x)
/// @throws nabla::Error when n is not in [0, 10000].
template <Expression E>
auto polygamma(int n, const E& x) {
  detail::check_polygamma_order(n);
  return WithNumber<detail::PolygammaFn, E>(x, n);
}
/// ψ(x) for a double (NaN at the poles 0, −1, −2, ...).
inline double digamma(double x) noexcept { return detail::digamma(x); }
/// ψ⁽ⁿ⁾(x) for a double.
/// @throws nabla::Error when n is not in [0, 10000].
inline double polygamma(int n, double x) {
  detail::check_polygamma_order(n);
  return detail::polygamma(n, x);
}
/// |x|; d/dx = sign x (0 at x = 0)
template <Expression E>
auto abs(const E& x) {
  return Unary<detail::AbsFn, E>(x);
}
/// |x| (the same as abs)
template <Expression E>
auto fabs(const E& x) {
  return Unary<detail::AbsFn, E>(x);
}
/// max(x, 0); d/dx = 1 for x > 0, else 0 (0 at x = 0)
template <Expression E>
auto relu(const E& x) {
  return Unary<detail::ReluFn, E>(x);
}

/// max(x, 0) for a double.
inline double relu(double x) noexcept { return x > 0 ? x : 0.0; }
/// gelu(x) = x·Φ(x) (Φ the standard normal CDF; the exact form, PyTorch's default);
/// d/dx = Φ(x) + x·φ(x)
template <Expression E>
auto gelu(const E& x) {
  return Unary<detail::GeluFn, E>(x);
}
/// gelu(x) = x·Φ(x) for a double.
inline double gelu(double x) noexcept { return detail::GeluFn::value(x); }
/// silu(x) = x·σ(x) (swish); d/dx = σ(x)·(1 + x·σ(−x))
template <Expression E>
auto silu(const E& x) {
  return Unary<detail::SiluFn, E>(x);
}
/// silu(x) = x·σ(x) for a double.
inline double silu(double x) noexcept { return detail::SiluFn::value(x); }
/// leaky_relu(x, s) = x for x > 0, else s·x; d/dx = 1 for x > 0, else s (s at 0)
/// @throws nabla::Error when negative_slope is not finite.
template <Expression E>
auto leaky_relu(const E& x, double negative_slope = 0.01) {
  detail::LeakyReluFn::check(negative_slope);
  return WithNumber<detail::LeakyReluFn, E>(x, negative_slope);
}
/// leaky_relu(x, s) for a double.
/// @throws nabla::Error when negative_slope is not finite.
inline double leaky_relu(double x, double negative_slope = 0.01) {
  detail::LeakyReluFn::check(negative_slope);
  return detail::LeakyReluFn::value(x, negative_slope);
}
/// elu(x, α) = x for x > 0, else α·(eˣ − 1); d/dx = 1 for x > 0, else α·eˣ (α at 0)
/// @throws nabla::Error when alpha is not finite.
template <Expression E>
auto elu(const E& x, double alpha = 1.0) {
  detail::EluFn::check(alpha);
  return WithNumber<detail::EluFn, E>(x, alpha);
}
/// elu(x, α) for a double.
/// @throws nabla::Error when alpha is not finite.
inline double elu(double x, double alpha = 1.0) {
  detail::EluFn::check(alpha);
  return detail::EluFn::value(x, alpha);
}

// ---- Powers and two-argument functions -------------------------------------------------------

/// x^y;  ∂x = y·x^(y−1),  ∂y = x^y ln x  (∂y = 0 at x = 0 when y > 0; NaN for x < 0)
template <Expression L, Expression R>
auto pow(const L& x, const R& y) {
  return Binary<detail::PowFn, L, R>(x, y);
}
/// x^c;  d/dx = c·x^(c−1)  (0 when c = 0)
template <Expression E>
auto pow(const E& x, double c) {
  return WithNumber<detail::PowNumberFn, E>(x, c);
}
/// x^n for an integer n (exact for negative x, never ambiguous);  d/dx = n·x^(n−1)
template <Expression E, std::integral I>
auto pow(const E& x, I n) {
  return WithNumber<detail::PowNumberFn, E>(x, static_cast<double>(n));
}
/// c^y;  d/dy = c^y ln c  (0 at c = 0 when y > 0)
template <Expression E>
auto pow(double c, const E& y) {
  return WithNumber<detail::NumberPowFn, E>(y, c);
}
/// √(x² + y²);  ∂x = x/h, ∂y = y/h  (both 0 at the origin)
template <Expression L, Expression R>
auto hypot(const L& x, const R& y) {
  return Binary<detail::HypotFn, L, R>(x, y);
}
/// hypot(x, c)
template <Expression E>
auto hypot(const E& x, double c) {
  return WithNumber<detail::HypotNumberFn, E>(x, c);
}
/// hypot(c, y)
template <Expression E>
auto hypot(double c, const E& y) {
  return WithNumber<detail::HypotNumberFn, E>(y, c);
}
/// atan2(y, x);  ∂y = x/(x² + y²),  ∂x = −y/(x² + y²)  (both 0 at the origin)
template <Expression L, Expression R>
auto atan2(const L& y, const R& x) {
  return Binary<detail::Atan2Fn, L, R>(y, x);
}
/// atan2(y, c)
template <Expression E>
auto atan2(const E& y, double c) {
  return WithNumber<detail::Atan2NumberXFn, E>(y, c);
}
/// atan2(c, x)
template <Expression E>
auto atan2(double c, const E& x) {
  return WithNumber<detail::Atan2NumberYFn, E>(x, c);
}

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
  return Tape::active().record(Op::fma, std::fma(x.value(), y.value(), z.value()), x, y.value(), y,
                               x.value(), z, 1.0);
}

// Mixed Var/double forms of the selecting functions: the number becomes a constant operand.
#define NABLA_MIXED_BINARY(name)                                      \
  /** name(Var, double): the double is a constant operand. */         \
  inline Var name(const Var& x, double c) { return name(x, Var(c)); } \
  /** name(double, Var): the double is a constant operand. */         \
  inline Var name(double c, const Var& y) { return name(Var(c), y); }
NABLA_MIXED_BINARY(fmin)
NABLA_MIXED_BINARY(fmax)
NABLA_MIXED_BINARY(min)
NABLA_MIXED_BINARY(max)
#undef NABLA_MIXED_BINARY

/// ⌊x⌋ as a constant (zero derivative: nothing is recorded)
template <Expression E>
Var floor(const E& x) {
  return Var(std::floor(x.value()));
}
/// ⌈x⌉ as a constant (zero derivative: nothing is recorded)
template <Expression E>
Var ceil(const E& x) {
  return Var(std::ceil(x.value()));
}
/// x rounded half away from zero, as a constant (zero derivative)
template <Expression E>
Var round(const E& x) {
  return Var(std::round(x.value()));
}
/// x rounded toward zero, as a constant (zero derivative)
template <Expression E>
Var trunc(const E& x) {
  return Var(std::trunc(x.value()));
}

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
