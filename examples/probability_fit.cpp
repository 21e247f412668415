// A probability fitted by maximum likelihood within its bounds: the zero-inflated Poisson
// P(0) = π + (1 − π)e^{−λ}, P(k) = (1 − π)e^{−λ}λᵏ/k! (k ≥ 1), with π ∈ [0, 1] and λ ≥ 0 as
// Bounds for L-BFGS-B. With many zeros π lands inside (0, 1) and solves the likelihood
// equations; with fewer zeros than a Poisson has, the maximum is on the bound π = 0, where the
// fit is the plain Poisson one (λ = the mean count) and the active set says so.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <cmath>
#include <type_traits>
#include <vector>

namespace opt = nabla::optim;

// counts[k]: how many observations equal k.
opt::Result fit(const std::vector<double>& counts) {
  auto nll = [&counts](const auto& p) {  // −log-likelihood of (π, λ)
    const auto& pi = p[0];
    const auto& lambda = p[1];
    std::decay_t<decltype(p[0])> f = -counts[0] * log(pi + (1.0 - pi) * exp(-lambda));
    for (std::size_t k = 1; k < counts.size(); ++k) {
      const double kk = static_cast<double>(k);
      f -= counts[k] * (log(1.0 - pi) - lambda + kk * log(lambda) - std::lgamma(kk + 1));
    }
    return f;
  };
  // At π = 1 or λ = 0 the likelihood of a positive count is 0 (f = +∞): the line search steps
  // back from such points, so the bounds may be the closed ones.
  return opt::minimize(nll, {0.5, 1.0}, opt::LBFGS{},
                       opt::Bounds{.lower = {0, 0}, .upper = {1, INFINITY}}, {.grad_tol = 1e-9});
}

int main() {
  bool ok = true;
  // Zero-inflated data: 100 observations, 40 of them zeros.
  const std::vector<double> inflated = {40, 15, 20, 13, 7, 3, 2};
  const auto r = fit(inflated);
  // The likelihood equations: λ/(1 − e^{−λ}) = the mean of the positive counts, and
  // π = 1 − mean/λ; solved here by bisection to compare.
  double n = 0, sum = 0;
  for (std::size_t k = 0; k < inflated.size(); ++k) {
    n += inflated[k];
    sum += static_cast<double>(k) * inflated[k];
  }
  const double positive_mean = sum / (n - inflated[0]);
  double lo = 1e-9, hi = 100;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (mid / (1 - std::exp(-mid)) < positive_mean ? lo : hi) = mid;
  }
  const double lambda = 0.5 * (lo + hi), pi = 1 - (sum / n) / lambda;
  fmt::print("zero-inflated counts: {}\n", r);
  fmt::print("  pi = {:.6f} (likelihood equations {:.6f}), lambda = {:.6f} ({:.6f}), active [{}]\n",
             r.x[0], pi, r.x[1], lambda, fmt::join(r.active, ", "));
  ok = ok && std::abs(r.x[0] - pi) < 1e-7 && std::abs(r.x[1] - lambda) < 1e-7 &&
       r.active == std::vector<int>{0, 0};

  // Fewer zeros than a Poisson with this mean would have: π = 0, on its bound.
  const std::vector<double> deflated = {5, 20, 30, 25, 12, 6, 2};
  const auto d = fit(deflated);
  double m = 0, s = 0;
  for (std::size_t k = 0; k < deflated.size(); ++k) {
    m += deflated[k];
    s += static_cast<double>(k) * deflated[k];
  }
  fmt::print("too few zeros:        {}\n", d);
  fmt::print("  pi = {} on its lower bound, lambda = {:.6f} (the mean count {:.6f}), active [{}]\n",
             d.x[0], d.x[1], s / m, fmt::join(d.active, ", "));
  ok = ok && d.x[0] == 0 && std::abs(d.x[1] - s / m) < 1e-7 && d.active == std::vector<int>{-1, 0};
  fmt::print("{}\n", ok ? "both fits match the likelihood equations" : "FAILED");
  return ok ? 0 : 1;
}
