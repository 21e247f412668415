#include "nabla/autodiff/reduce.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/tape.hpp"

namespace nabla {

void detail::check_equal_sizes(const char* function, std::size_t a, std::size_t b) {
  if (a != b) {
    fail(function,
         fmt::format("the vectors differ in size (got {} and {}, expected equal sizes)", a, b));
  }
}

namespace {

// Per-thread scratch for partials and operands, so a reduction allocates nothing once warm.
std::vector<double>& scratch_partials(std::size_t n) {
  thread_local std::vector<double> partials;
  partials.resize(n);
  return partials;
}

void check_sizes(const char* function, std::size_t a, std::size_t b) {
  detail::check_equal_sizes(function, a, b);
}

void check_sigma(double sigma) {
  if (!(sigma > 0)) {
    detail::fail("nabla::normal_log_density",
                 fmt::format("sigma must be positive (got {}, expected sigma > 0)", sigma));
  }
}

constexpr double half_log_two_pi = 0.91893853320467274178;  // ½ ln 2π

}  // namespace

Var sum(std::span<const Var> xs) {
  std::vector<double>& p = scratch_partials(xs.size());
  double s = 0.0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    s += xs[i].value();
    p[i] = 1.0;
  }
  return Tape::active().record(Op::sum, s, xs, p);
}

Var squared_norm(std::span<const Var> xs) {
  std::vector<double>& p = scratch_partials(xs.size());
  double s = 0.0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double v = xs[i].value();
    s += v * v;
    p[i] = 2.0 * v;
  }
  return Tape::active().record(Op::squared_norm, s, xs, p);
}

Var dot(std::span<const Var> a, std::span<const Var> b) {
  check_sizes("nabla::dot", a.size(), b.size());
  const std::size_t n = a.size();
  thread_local std::vector<Var> operands;
  operands.resize(2 * n);
  std::vector<double>& p = scratch_partials(2 * n);
  double s = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    s += a[i].value() * b[i].value();
    operands[i] = a[i];
    operands[n + i] = b[i];
    p[i] = b[i].value();
    p[n + i] = a[i].value();
  }
  return Tape::active().record(Op::dot, s, operands, p);
}

Var dot(std::span<const double> a, std::span<const Var> b) {
  check_sizes("nabla::dot", a.size(), b.size());
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i].value();
  return Tape::active().record(Op::dot, s, b, a);
}

Var dot(std::span<const Var> a, std::span<const double> b) { return dot(b, a); }

// Note [Standardised residuals]: the density works with z = (y − μ)/σ, not with (y − μ)² and
// 1/σ² apart: at σ = 1e-200, 1/σ² overflows and (y − μ)² underflows, and 0 · ∞ made the value
// and the partials NaN although each is finite. With z: value −½Σz² − n(ln σ + ½ ln 2π),
// ∂μ = Σz/σ, ∂σ = (Σz² − n)/σ, ∂yᵢ = −zᵢ/σ.
Var normal_log_density(std::span<const double> y, const Var& mu, const Var& sigma) {
  const double m = mu.value(), s = sigma.value();
  check_sigma(s);
  double squares = 0.0, residuals = 0.0;  // Σz², Σz
  for (double yi : y) {
    const double z = (yi - m) / s;
    residuals += z;
    squares += z * z;
  }
  const double n = static_cast<double>(y.size());
  const double value = -0.5 * squares - n * (std::log(s) + half_log_two_pi);
  return Tape::active().record(Op::normal_log_density, value, mu, residuals / s, sigma,
                               (squares - n) / s);
}

Var normal_log_density(std::span<const Var> y, const Var& mu, const Var& sigma) {
  const double m = mu.value(), s = sigma.value();
  check_sigma(s);
  const std::size_t n = y.size();
  thread_local std::vector<Var> operands;
  operands.assign(y.begin(), y.end());
  operands.push_back(mu);
  operands.push_back(sigma);
  std::vector<double>& p = scratch_partials(n + 2);
  double squares = 0.0, residuals = 0.0;  // Note [Standardised residuals]
  for (std::size_t i = 0; i < n; ++i) {
    const double z = (y[i].value() - m) / s;
    residuals += z;
    squares += z * z;
    p[i] = -z / s;
  }
  const double count = static_cast<double>(n);
  p[n] = residuals / s;
  p[n + 1] = (squares - count) / s;
  const double value = -0.5 * squares - count * (std::log(s) + half_log_two_pi);
  return Tape::active().record(Op::normal_log_density, value, operands, p);
}

}  // namespace nabla
