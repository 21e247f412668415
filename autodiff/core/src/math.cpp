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

namespace {
void require_nonempty(std::size_t n) {
  if (n == 0) {
    detail::fail("nabla::log_sum_exp",
                 "the input is empty (got 0 values, expected at least one)");
  }
}
}  // namespace

double log_sum_exp(std::span<const double> xs) {
  require_nonempty(xs.size());
  detail::LogSumExp k;
  for (double x : xs) k.see(x);
  for (double x : xs) k.add(x);
  return k.value();
}

Var log_sum_exp(std::span<const Var> xs) {
  require_nonempty(xs.size());
  detail::LogSumExp k;
  for (const Var& x : xs) k.see(x.value());
  // The partials are the softmax weights; a per-thread buffer avoids an allocation per call.
  // It holds the terms e^(x − max) first, so each input costs one exp.
  thread_local std::vector<double> weights;
  weights.resize(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) weights[i] = k.add(xs[i].value());
  const double y = k.value();
  for (std::size_t i = 0; i < xs.size(); ++i) weights[i] = k.weight(xs[i].value(), weights[i]);
  return Tape::active().record(Op::log_sum_exp, y, xs, weights);
}

}  // namespace nabla
