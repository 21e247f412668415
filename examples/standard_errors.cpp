// Maximum likelihood with standard errors: fit a gamma distribution (shape k, rate β) to data
// with L-BFGS, then take the exact Hessian of the negative log-likelihood at the optimum
// (forward over reverse) and invert it: the covariance of the estimate.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <cmath>
#include <random>
#include <vector>

int main() {
  std::mt19937 rng(7);
  std::gamma_distribution<double> gamma(3.0, 1.0 / 2.0);  // shape 3, rate 2
  std::vector<double> y(500);
  for (double& v : y) v = gamma(rng);

  // −ln L(k, β) = Σ lnΓ(k) − k ln β − (k − 1) ln yᵢ + β yᵢ, written once for every number type:
  // doubles, Var (gradients), Dual<Var> (Hessians).
  auto nll = [&](const auto& p) {
    using T = std::decay_t<decltype(p[0])>;
    const T k = p[0], beta = p[1];
    T s = 0.0;
    for (double v : y) s += lgamma(k) - k * log(beta) - (k - 1.0) * std::log(v) + beta * v;
    return s;
  };
  // Fit in log-parameters (k and β stay positive), report in the natural ones.
  auto in_logs = [&](const auto& q) {
    using T = std::decay_t<decltype(q[0])>;
    const std::vector<T> p = {exp(q[0]), exp(q[1])};
    return nll(p);
  };
  const auto fit = nabla::optim::minimize(in_logs, {0.0, 0.0}, nabla::optim::LBFGS{});
  std::vector<double> p = {std::exp(fit.x[0]), std::exp(fit.x[1])};
  fmt::print("L-BFGS: {} after {} iterations, |∇| = {:.1e}\n", fit.status, fit.iterations,
             fit.grad_norm);

  // Two Newton steps with the exact Hessian polish the estimate to rounding level.
  for (int step = 0; step < 2; ++step) {
    const auto [value, g, h] = nabla::value_gradient_hessian(nll, p);
    const double d = h(0, 0) * h(1, 1) - h(0, 1) * h(1, 0);
    p[0] -= (h(1, 1) * g[0] - h(0, 1) * g[1]) / d;
    p[1] -= (h(0, 0) * g[1] - h(1, 0) * g[0]) / d;
  }
  const auto at_p = nabla::value_and_gradient(nll, p);
  const double grad_norm = std::hypot(at_p.gradient[0], at_p.gradient[1]);
  fmt::print("Newton: |∇| = {:.1e}\n", grad_norm);

  // Observed information = ∇²(−ln L) at the estimate; covariance = its inverse.
  const nabla::Hessian H = nabla::hessian(nll, p);
  const double det = H(0, 0) * H(1, 1) - H(0, 1) * H(1, 0);
  const double se_k = std::sqrt(H(1, 1) / det), se_beta = std::sqrt(H(0, 0) / det);
  const double corr = -H(0, 1) / det / (se_k * se_beta);
  fmt::print("shape k = {:.4f} ± {:.4f}, rate β = {:.4f} ± {:.4f}, correlation {:.3f}\n", p[0],
             se_k, p[1], se_beta, corr);

  // For the gamma distribution the information has a closed form: n·[[ψ′(k), −1/β],
  // [−1/β, k/β²]] — the exact Hessian must match it.
  const double n = static_cast<double>(y.size());
  const double expected[2][2] = {{n * nabla::polygamma(1, p[0]), -n / p[1]},
                                 {-n / p[1], n * p[0] / (p[1] * p[1])}};
  double worst = 0;
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      worst = std::max(worst, std::abs(H(i, j) - expected[i][j]) / std::abs(expected[i][j]));
  fmt::print("largest relative difference from the closed-form information: {:.1e}\n", worst);
  // The Hessian check compares H·v with differences of the gradient.
  const auto check = nabla::check_hessian(nll, p);
  fmt::print("Hessian check {}\n", check.ok ? "passed" : "FAILED");
  return grad_norm < 1e-9 * n && worst < 1e-12 && check.ok ? 0 : 1;
}
