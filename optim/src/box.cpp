#include "box.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "nabla/autodiff/error.hpp"
#include "nabla/optim/multistart.hpp"

namespace nabla::optim::detail {

namespace {
void check_side(const std::vector<double>& v, std::size_t n, const char* name) {
  if (!v.empty() && v.size() != n) {
    nabla::detail::fail(
        "nabla::optim::minimize",
        fmt::format("bounds.{} has {} values (expected {}, one per coordinate of x0, or none)",
                    name, v.size(), n));
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(v[i])) {
      nabla::detail::fail(
          "nabla::optim::minimize",
          fmt::format("bounds.{}[{}] is nan (expected a number, or {}inf for no bound)", name, i,
                      name[0] == 'l' ? '-' : '+'));
    }
  }
}
}  // namespace

Box::Box(const Bounds& b, std::size_t n) {
  check_side(b.lower, n, "lower");
  check_side(b.upper, n, "upper");
  constexpr double inf = std::numeric_limits<double>::infinity();
  lower = b.lower.empty() ? std::vector<double>(n, -inf) : b.lower;
  upper = b.upper.empty() ? std::vector<double>(n, inf) : b.upper;
  for (std::size_t i = 0; i < n; ++i) {
    if (lower[i] == inf || upper[i] == -inf || lower[i] > upper[i]) {
      nabla::detail::fail(
          "nabla::optim::minimize",
          fmt::format("invalid bounds for x[{}] (got [{}, {}], expected lower <= upper, "
                      "lower < inf and upper > -inf)",
                      i, lower[i], upper[i]));
    }
    constrained_ = constrained_ || std::isfinite(lower[i]) || std::isfinite(upper[i]);
  }
}

void Box::project(std::span<double> x) const {
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::clamp(x[i], lower[i], upper[i]);
}

double Box::projected_gradient_norm(std::span<const double> x, std::span<const double> g) const {
  // P(x − g) − x coordinate by coordinate as −g clipped to the room left before the bound, so
  // that a small gradient is not lost when |x| is large (x − g rounding to x).
  std::vector<double> p(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    p[i] = g[i] > 0 ? -std::min(g[i], x[i] - lower[i]) : std::min(-g[i], upper[i] - x[i]);
  return norm(p);
}

std::vector<int> Box::active(std::span<const double> x) const {
  std::vector<int> a(x.size(), 0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i] <= lower[i])
      a[i] = -1;
    else if (x[i] >= upper[i])
      a[i] = 1;
  }
  return a;
}

Outcome projected_backtrack(Run& run, const Box& box, std::span<const double> x,
                            std::span<const double> g, double f0, double t0, const Backtracking& o,
                            std::span<double> x_new, std::span<double> g_new, LinePoint& accepted) {
  const double noise = rounding_noise(f0);
  int trials = 0;
  for (double t = t0, previous = t0;
       t >= 1e-20 * previous && t > 0 && trials < o.max_trials && !run.out_of_evaluations();
       previous = t, t *= o.shrink) {
    double decrease = 0;  // gᵀ(x(t) − x) ≤ 0
    for (std::size_t i = 0; i < x.size(); ++i) {
      x_new[i] = std::clamp(x[i] - t * g[i], box.lower[i], box.upper[i]);
      decrease += g[i] * (x_new[i] - x[i]);
    }
    ++trials;
    const double value = run.evaluate(x_new, g_new);
    if (value <= f0 + o.c1 * decrease) {
      accepted = {t, value, std::numeric_limits<double>::quiet_NaN()};
      return Outcome::accepted;
    }
    if (std::abs(value - f0) <= noise && std::abs(decrease) <= noise) return Outcome::flat;
  }
  return run.out_of_evaluations() ? Outcome::out_of_evaluations : Outcome::failed;
}

void check_multistart_bounds(const Bounds& bounds, std::size_t n) {
  for (const auto* side : {&bounds.lower, &bounds.upper}) {
    if (!side->empty() && side->size() != n) {
      nabla::detail::fail(
          "nabla::optim::multistart",
          fmt::format("bounds.{} has {} values (expected {}, one per interval of the box, or none)",
                      side == &bounds.lower ? "lower" : "upper", side->size(), n));
    }
  }
  (void)Box(bounds, n);  // NaN, lower > upper, lower = +inf, upper = -inf
}

}  // namespace nabla::optim::detail
