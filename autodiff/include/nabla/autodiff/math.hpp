// nabla — the elementary functions of <cmath> on Var, each with its value and its partials side
// by side. Conventions at non-differentiable points are listed in docs/functions.md.
#pragma once

#include <cmath>
#include <concepts>
#include <initializer_list>
#include <numbers>
#include <span>

#include "nabla/autodiff/arithmetic.hpp"

namespace nabla {

namespace detail {
inline Var record(Op op, double v, const Var& x, double dx) {
  return Tape::active().record(op, v, x, dx);
}
inline Var record(Op op, double v, const Var& x, double dx, const Var& y, double dy) {
  return Tape::active().record(op, v, x, dx, y, dy);
}
/// ψ(x) = d/dx lgamma(x), the digamma function (NaN at the poles 0, −1, −2, ...).
double digamma(double x) noexcept;
}  // namespace detail

// ---- Powers and roots ------------------------------------------------------------------------

/// x^y;  d/dx = y·x^(y−1),  d/dy = x^y·ln x  (d/dy taken as 0 at x = 0 when y > 0)
inline Var pow(const Var& x, const Var& y) {
  const double a = x.value(), b = y.value(), v = std::pow(a, b);
  const double dy = a > 0 ? v * std::log(a) : (a == 0 && b > 0 ? 0.0 : std::nan(""));
  return detail::record(Op::pow, v, x, b == 0 ? 0.0 : b * std::pow(a, b - 1), y, dy);
}
/// x^c;  d/dx = c·x^(c−1)  (0 when c = 0)
inline Var pow(const Var& x, double c) {
  const double a = x.value();
  return detail::record(Op::pow, std::pow(a, c), x, c == 0 ? 0.0 : c * std::pow(a, c - 1));
}
/// x^n for an integer n (exact for negative x);  d/dx = n·x^(n−1)
template <std::integral I>
Var pow(const Var& x, I n) {
  const double a = x.value(), c = static_cast<double>(n);
  return detail::record(Op::pow, std::pow(a, c), x, n == 0 ? 0.0 : c * std::pow(a, c - 1));
}
/// c^y;  d/dy = c^y·ln c  (0 at c = 0 when y > 0)
inline Var pow(double c, const Var& y) {
  const double v = std::pow(c, y.value());
  const double dy = c > 0 ? v * std::log(c) : (c == 0 && y.value() > 0 ? 0.0 : std::nan(""));
  return detail::record(Op::pow, v, y, dy);
}
/// √x;  d/dx = 1/(2√x)
inline Var sqrt(const Var& x) {
  const double v = std::sqrt(x.value());
  return detail::record(Op::sqrt, v, x, 0.5 / v);
}
/// ∛x;  d/dx = 1/(3·∛x²)
inline Var cbrt(const Var& x) {
  const double v = std::cbrt(x.value());
  return detail::record(Op::cbrt, v, x, 1.0 / (3.0 * v * v));
}
/// √(x² + y²);  d/dx = x/h, d/dy = y/h  (both 0 at the origin)
inline Var hypot(const Var& x, const Var& y) {
  const double h = std::hypot(x.value(), y.value());
  const double r = h == 0 ? 0.0 : 1.0 / h;
  return detail::record(Op::hypot, h, x, x.value() * r, y, y.value() * r);
}

// ---- Exponentials and logarithms -------------------------------------------------------------

/// eˣ;  d/dx = eˣ
inline Var exp(const Var& x) {
  const double v = std::exp(x.value());
  return detail::record(Op::exp, v, x, v);
}
/// 2ˣ;  d/dx = 2ˣ·ln 2
inline Var exp2(const Var& x) {
  const double v = std::exp2(x.value());
  return detail::record(Op::exp2, v, x, v * std::numbers::ln2);
}
/// eˣ − 1;  d/dx = eˣ
inline Var expm1(const Var& x) {
  return detail::record(Op::expm1, std::expm1(x.value()), x, std::exp(x.value()));
}
/// ln x;  d/dx = 1/x
inline Var log(const Var& x) {
  return detail::record(Op::log, std::log(x.value()), x, 1.0 / x.value());
}
/// log₂ x;  d/dx = 1/(x·ln 2)
inline Var log2(const Var& x) {
  return detail::record(Op::log2, std::log2(x.value()), x, 1.0 / (x.value() * std::numbers::ln2));
}
/// log₁₀ x;  d/dx = 1/(x·ln 10)
inline Var log10(const Var& x) {
  return detail::record(Op::log10, std::log10(x.value()), x,
                        1.0 / (x.value() * std::numbers::ln10));
}
/// ln(1 + x);  d/dx = 1/(1 + x)
inline Var log1p(const Var& x) {
  return detail::record(Op::log1p, std::log1p(x.value()), x, 1.0 / (1.0 + x.value()));
}

// ---- Trigonometric ---------------------------------------------------------------------------

/// sin x;  d/dx = cos x
inline Var sin(const Var& x) {
  return detail::record(Op::sin, std::sin(x.value()), x, std::cos(x.value()));
}
/// cos x;  d/dx = −sin x
inline Var cos(const Var& x) {
  return detail::record(Op::cos, std::cos(x.value()), x, -std::sin(x.value()));
}
/// tan x;  d/dx = 1 + tan² x
inline Var tan(const Var& x) {
  const double v = std::tan(x.value());
  return detail::record(Op::tan, v, x, 1.0 + v * v);
}
/// asin x;  d/dx = 1/√(1 − x²)
inline Var asin(const Var& x) {
  const double a = x.value();
  return detail::record(Op::asin, std::asin(a), x, 1.0 / std::sqrt((1.0 - a) * (1.0 + a)));
}
/// acos x;  d/dx = −1/√(1 − x²)
inline Var acos(const Var& x) {
  const double a = x.value();
  return detail::record(Op::acos, std::acos(a), x, -1.0 / std::sqrt((1.0 - a) * (1.0 + a)));
}
/// atan x;  d/dx = 1/(1 + x²)
inline Var atan(const Var& x) {
  const double a = x.value();
  return detail::record(Op::atan, std::atan(a), x, 1.0 / (1.0 + a * a));
}
/// atan2(y, x);  d/dy = x/(x² + y²),  d/dx = −y/(x² + y²)  (both 0 at the origin)
inline Var atan2(const Var& y, const Var& x) {
  const double b = y.value(), a = x.value(), r2 = a * a + b * b;
  const double r = r2 == 0 ? 0.0 : 1.0 / r2;
  return detail::record(Op::atan2, std::atan2(b, a), y, a * r, x, -b * r);
}

// ---- Hyperbolic ------------------------------------------------------------------------------

/// sinh x;  d/dx = cosh x
inline Var sinh(const Var& x) {
  return detail::record(Op::sinh, std::sinh(x.value()), x, std::cosh(x.value()));
}
/// cosh x;  d/dx = sinh x
inline Var cosh(const Var& x) {
  return detail::record(Op::cosh, std::cosh(x.value()), x, std::sinh(x.value()));
}
/// tanh x;  d/dx = 1/cosh² x  (accurate for large |x|, unlike 1 − tanh²)
inline Var tanh(const Var& x) {
  const double c = std::cosh(x.value());
  return detail::record(Op::tanh, std::tanh(x.value()), x, 1.0 / (c * c));
}
/// asinh x;  d/dx = 1/√(x² + 1)
inline Var asinh(const Var& x) {
  return detail::record(Op::asinh, std::asinh(x.value()), x, 1.0 / std::hypot(x.value(), 1.0));
}
/// acosh x;  d/dx = 1/√(x² − 1)
inline Var acosh(const Var& x) {
  const double a = x.value();
  return detail::record(Op::acosh, std::acosh(a), x, 1.0 / std::sqrt((a - 1.0) * (a + 1.0)));
}
/// atanh x;  d/dx = 1/(1 − x²)
inline Var atanh(const Var& x) {
  const double a = x.value();
  return detail::record(Op::atanh, std::atanh(a), x, 1.0 / ((1.0 - a) * (1.0 + a)));
}

// ---- Special functions -----------------------------------------------------------------------

/// erf x;  d/dx = 2/√π · e^(−x²)
inline Var erf(const Var& x) {
  const double a = x.value();
  return detail::record(Op::erf, std::erf(a), x,
                        2.0 * std::numbers::inv_sqrtpi * std::exp(-a * a));
}
/// erfc x;  d/dx = −2/√π · e^(−x²)
inline Var erfc(const Var& x) {
  const double a = x.value();
  return detail::record(Op::erfc, std::erfc(a), x,
                        -2.0 * std::numbers::inv_sqrtpi * std::exp(-a * a));
}
/// Γ(x);  d/dx = Γ(x)·ψ(x)
inline Var tgamma(const Var& x) {
  const double v = std::tgamma(x.value());
  if (x.is_constant()) return Var(v);
  return detail::record(Op::tgamma, v, x, v * detail::digamma(x.value()));
}
/// ln|Γ(x)|;  d/dx = ψ(x)
inline Var lgamma(const Var& x) {
  const double v = std::lgamma(x.value());
  if (x.is_constant()) return Var(v);
  return detail::record(Op::lgamma, v, x, detail::digamma(x.value()));
}

// ---- Non-smooth ------------------------------------------------------------------------------

/// |x|;  d/dx = sign x  (0 at x = 0)
inline Var abs(const Var& x) {
  const double a = x.value();
  return detail::record(Op::abs, std::abs(a), x, a > 0 ? 1.0 : (a < 0 ? -1.0 : 0.0));
}
/// |x| (the same as abs)
inline Var fabs(const Var& x) { return abs(x); }
/// The smaller of x and y (a NaN operand is ignored, as std::fmin does);  the derivative goes
/// to the smaller one, split 0.5/0.5 on a tie.
inline Var fmin(const Var& x, const Var& y) {
  const double a = x.value(), b = y.value();
  if (a == b) return detail::record(Op::fmin, a, x, 0.5, y, 0.5);
  const bool take_x = a < b || std::isnan(b);
  return detail::record(Op::fmin, take_x ? a : b, x, take_x ? 1.0 : 0.0, y, take_x ? 0.0 : 1.0);
}
/// The larger of x and y (a NaN operand is ignored, as std::fmax does);  the derivative goes
/// to the larger one, split 0.5/0.5 on a tie.
inline Var fmax(const Var& x, const Var& y) {
  const double a = x.value(), b = y.value();
  if (a == b) return detail::record(Op::fmax, a, x, 0.5, y, 0.5);
  const bool take_x = a > b || std::isnan(b);
  return detail::record(Op::fmax, take_x ? a : b, x, take_x ? 1.0 : 0.0, y, take_x ? 0.0 : 1.0);
}
/// The smaller of x and y (the same as fmin).
inline Var min(const Var& x, const Var& y) { return fmin(x, y); }
/// The larger of x and y (the same as fmax).
inline Var max(const Var& x, const Var& y) { return fmax(x, y); }
/// x·y + z with one rounding;  d/dx = y, d/dy = x, d/dz = 1
inline Var fma(const Var& x, const Var& y, const Var& z) {
  return Tape::active().record(Op::fma, std::fma(x.value(), y.value(), z.value()), x, y.value(),
                               y, x.value(), z, 1.0);
}
/// ⌊x⌋ as a constant (zero derivative: nothing is recorded)
inline Var floor(const Var& x) { return Var(std::floor(x.value())); }
/// ⌈x⌉ as a constant (zero derivative: nothing is recorded)
inline Var ceil(const Var& x) { return Var(std::ceil(x.value())); }
/// x rounded half away from zero, as a constant (zero derivative)
inline Var round(const Var& x) { return Var(std::round(x.value())); }
/// x rounded toward zero, as a constant (zero derivative)
inline Var trunc(const Var& x) { return Var(std::trunc(x.value())); }

// Mixed Var/double forms of the binary functions: the number becomes a constant operand.
#define NABLA_MIXED_BINARY(name)                                                   \
  /** name(Var, double): the double is a constant operand. */                       \
  inline Var name(const Var& x, double c) { return name(x, Var(c)); }              \
  /** name(double, Var): the double is a constant operand. */                       \
  inline Var name(double c, const Var& y) { return name(Var(c), y); }
NABLA_MIXED_BINARY(hypot)
NABLA_MIXED_BINARY(atan2)
NABLA_MIXED_BINARY(fmin)
NABLA_MIXED_BINARY(fmax)
NABLA_MIXED_BINARY(min)
NABLA_MIXED_BINARY(max)
#undef NABLA_MIXED_BINARY

// ---- Activations and reductions (with double overloads for generic code) ---------------------

/// σ(x) = 1/(1 + e^(−x)) for a double, computed without overflow.
inline double sigmoid(double x) noexcept {
  const double e = std::exp(-std::abs(x)), r = 1.0 / (1.0 + e);  // e in (0, 1]: no overflow
  return x >= 0 ? r : e * r;
}
/// σ(x) = 1/(1 + e^(−x));  d/dx = σ(x)·σ(−x)  (one exponential for both)
inline Var sigmoid(const Var& x) {
  const double a = x.value(), e = std::exp(-std::abs(a)), r = 1.0 / (1.0 + e);
  return detail::record(Op::sigmoid, a >= 0 ? r : e * r, x, e * r * r);
}
/// softplus(x) = ln(1 + eˣ) for a double, computed without overflow.
inline double softplus(double x) noexcept {
  return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
}
/// softplus(x) = ln(1 + eˣ);  d/dx = σ(x)  (one exponential for both)
inline Var softplus(const Var& x) {
  const double a = x.value(), e = std::exp(-std::abs(a)), r = 1.0 / (1.0 + e);
  return detail::record(Op::softplus, std::max(a, 0.0) + std::log1p(e), x, a >= 0 ? r : e * r);
}
/// max(x, 0) for a double.
inline double relu(double x) noexcept { return x > 0 ? x : 0.0; }
/// max(x, 0);  d/dx = 1 for x > 0, else 0 (0 at x = 0)
inline Var relu(const Var& x) {
  return detail::record(Op::relu, relu(x.value()), x, x.value() > 0 ? 1.0 : 0.0);
}

/// ln Σ e^(xᵢ) for doubles, computed stably (shifted by the maximum).
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
