#include "nabla/autodiff/math.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "nabla/autodiff/custom.hpp"
#include "nabla/autodiff/error.hpp"

namespace nabla {

double detail::digamma(double x) noexcept {
  if (std::isnan(x)) return x;
  if (x <= 0 && x == std::floor(x)) return std::numeric_limits<double>::quiet_NaN();  // a pole
  // Reflection ψ(x) = ψ(1 − x) − π / tan(πx) moves negative arguments to positive ones.
  if (x < 0) return digamma(1.0 - x) - std::numbers::pi / std::tan(std::numbers::pi * x);
  // Recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the asymptotic series
  // ψ(x) ~ ln x − 1/(2x) − Σ B₂ₖ / (2k x²ᵏ), whose next term is below 1e−16 there.
  double result = 0.0;
  while (x < 10.0) {
    result -= 1.0 / x;
    x += 1.0;
  }
  const double f = 1.0 / (x * x);
  const double series =
      f * (1.0 / 12 -
           f * (1.0 / 120 -
                f * (1.0 / 252 -
                     f * (1.0 / 240 - f * (1.0 / 132 - f * (691.0 / 32760 - f * (1.0 / 12)))))));
  return result + std::log(x) - 0.5 / x - series;
}

double detail::polygamma(int n, double x) noexcept {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (n == 0) return digamma(x);
  if (n < 0 || std::isnan(x) || x == -std::numeric_limits<double>::infinity()) return nan;
  if (x <= 0 && x == std::floor(x)) return nan;  // a pole
  if (x == std::numeric_limits<double>::infinity()) return 0.0;
  // The recurrence below steps up from x one by one: far below zero it would take too long
  // (and x + 1 == x past 2⁵³), so the function is not computed there.
  if (x < -1e7) return nan;
  // ψ⁽ⁿ⁾(x) = (−1)ⁿ⁺¹ n! Σₖ 1/(x + k)ⁿ⁺¹: the first terms summed up to z = x + K ≥ 20 + n, the
  // tail by Euler–Maclaurin, Σⱼ 1/(z + j)ⁿ⁺¹ ≈ z⁻ⁿ/n + z⁻⁽ⁿ⁺¹⁾/2
  // + Σₖ B₂ₖ/(2k)! (n+1)(n+2)···(n+2k−1) z⁻⁽ⁿ⁺²ᵏ⁾. Small orders in plain powers (exact n!),
  // large ones with n!/zⁿ⁺¹ in logarithms (n! overflows past n = 170).
  const double order = n;
  const bool big = n > 20;
  const double log_factorial = std::lgamma(order + 1.0), factorial = std::tgamma(order + 1.0);
  const auto scaled_power = [&](double t, double p) {  // n! · |t|^(−p), signed as t^(−p)
    const double magnitude = big ? std::exp(log_factorial - p * std::log(std::abs(t)))
                                 : factorial * std::pow(std::abs(t), -p);
    return t < 0 && std::fmod(p, 2.0) != 0.0 ? -magnitude : magnitude;
  };
  double sum = 0.0;
  const double limit = 20.0 + order;
  while (x < limit) {
    sum += scaled_power(x, order + 1.0);
    x += 1.0;
  }
  constexpr double bernoulli[] = {1.0 / 6,       -1.0 / 30,      1.0 / 42, -1.0 / 30,
                                  5.0 / 66,      -691.0 / 2730,  7.0 / 6,  -3617.0 / 510,
                                  43867.0 / 798, -174611.0 / 330};  // B₂, B₄, ..., B₂₀
  double tail = scaled_power(x, order) / order + 0.5 * scaled_power(x, order + 1.0);
  double coefficient = order + 1.0;  // (n+1)(n+2)···(n+2k−1) / (2k)!
  double factorial_2k = 2.0;
  for (int k = 1; k <= 10; ++k) {
    const double term =
        bernoulli[k - 1] / factorial_2k * coefficient * scaled_power(x, order + 2.0 * k);
    tail += term;
    if (std::abs(term) <= 1e-17 * std::abs(tail)) break;
    coefficient *= (order + 2.0 * k) * (order + 2.0 * k + 1.0);
    factorial_2k *= (2.0 * k + 1.0) * (2.0 * k + 2.0);
  }
  const double s = sum + tail;
  return n % 2 == 1 ? s : -s;
}

void detail::check_polygamma_order(int n) {
  if (n < 0 || n > 10000) {
    fail("nabla::polygamma", fmt::format("invalid order n (got {}, expected 0 <= n <= 10000)", n));
  }
}

void detail::require_finite_parameter(const char* function, const char* name, double c) {
  if (!std::isfinite(c)) {
    fail(function, fmt::format("invalid {} (got {}, expected a finite number)", name, c));
  }
}

Var fmin(const Var& x, const Var& y) {
  const double a = x.value(), b = y.value();
  if (a == b) return Tape::active().record(Op::fmin, a, x, 0.5, y, 0.5);
  const bool take_x = a < b || std::isnan(b);
  return Tape::active().record(Op::fmin, take_x ? a : b, x, take_x ? 1.0 : 0.0, y,
                               take_x ? 0.0 : 1.0);
}

Var fmax(const Var& x, const Var& y) {
  const double a = x.value(), b = y.value();
  if (a == b) return Tape::active().record(Op::fmax, a, x, 0.5, y, 0.5);
  const bool take_x = a > b || std::isnan(b);
  return Tape::active().record(Op::fmax, take_x ? a : b, x, take_x ? 1.0 : 0.0, y,
                               take_x ? 0.0 : 1.0);
}

void detail::require_nonempty_log_sum_exp(std::size_t n) {
  if (n == 0)
    fail("nabla::log_sum_exp", "the input is empty (got 0 values, expected at least one)");
}

double log_sum_exp(std::span<const double> xs) {
  detail::require_nonempty_log_sum_exp(xs.size());
  detail::LogSumExp k;
  for (double x : xs) k.see(x);
  for (double x : xs) k.add(x);
  return k.value();
}

// log_sum_exp(std::span<const Var>) is in reduce.cpp, with the other reductions (Note
// [Reduction runs]).

}  // namespace nabla
