// Maximum likelihood with standard errors: fit a gamma distribution (shape k, rate β) to data
// with L-BFGS, polish with trust-region Newton, then invert the exact Hessian of the negative
// log-likelihood at the optimum (forward over reverse) with covariance(): the covariance of the
// estimate.
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

  // Trust-region Newton with the exact Hessian polishes the estimate to rounding level.
  const auto polish = nabla::optim::minimize(nll, p, nabla::optim::Newton{}, {.grad_tol = 1e-9});
  p = polish.x;
  fmt::print("Newton: {} after {} iterations, |∇| = {:.1e}\n", polish.status, polish.iterations,
             polish.grad_norm);

  // Observed information = ∇²(−ln L) at the estimate; covariance() inverts it.
  const nabla::optim::Covariance cov = nabla::optim::covariance(nll, p);
  const double se_k = cov.standard_errors[0], se_beta = cov.standard_errors[1];
  fmt::print("shape k = {:.4f} ± {:.4f}, rate β = {:.4f} ± {:.4f}, correlation {:.3f}\n", p[0],
             se_k, p[1], se_beta, cov(0, 1) / (se_k * se_beta));

  // For the gamma distribution the information has a closed form: n·[[ψ′(k), −1/β],
  // [−1/β, k/β²]]; the covariance must match its inverse.
  const double n = static_cast<double>(y.size());
  const double a = n * nabla::polygamma(1, p[0]), b = -n / p[1], c = n * p[0] / (p[1] * p[1]);
  const double det = a * c - b * b;
  const double expected[2][2] = {{c / det, -b / det}, {-b / det, a / det}};
  double worst = 0;
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      worst = std::max(worst, std::abs(cov(i, j) - expected[i][j]) / std::abs(expected[i][j]));
  fmt::print("largest relative difference from the closed-form covariance: {:.1e}\n", worst);
  // The Hessian check compares H·v with differences of the gradient.
  const auto check = nabla::check_hessian(nll, p);
  fmt::print("Hessian check {}\n", check.ok ? "passed" : "FAILED");
  const bool converged = polish.status == nabla::optim::Status::gradient_converged ||
                         polish.status == nabla::optim::Status::precision_limit;
  return converged && polish.grad_norm < 1e-9 * n && worst < 1e-10 && check.ok ? 0 : 1;
}
