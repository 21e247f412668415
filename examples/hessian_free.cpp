// Hessian-free Newton: L2-regularised logistic regression with 50 features, minimised by Newton
// steps whose linear systems H·p = −∇f are solved by conjugate gradients using only
// Hessian-vector products (forward over reverse) — the Hessian is never formed.
#include <nabla/autodiff.hpp>

#include <cmath>
#include <random>
#include <vector>

int main() {
  const std::size_t n = 400, d = 50;
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  std::vector<double> X(n * d), y(n), truth(d);
  for (double& t : truth) t = normal(rng) / std::sqrt(static_cast<double>(d));
  for (std::size_t i = 0; i < n; ++i) {
    double eta = 0;
    for (std::size_t j = 0; j < d; ++j) eta += (X[i * d + j] = normal(rng)) * truth[j];
    y[i] = std::uniform_real_distribution<double>()(rng) < 1 / (1 + std::exp(-eta)) ? 1.0 : 0.0;
  }
  // f(β) = Σ softplus(xᵢ·β) − yᵢ xᵢ·β + ½λ‖β‖², generic in the number type.
  auto f = [&](const auto& beta) {
    using T = std::decay_t<decltype(beta[0])>;
    T s = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      T eta = 0.0;
      for (std::size_t j = 0; j < d; ++j) eta += X[i * d + j] * beta[j];
      s += nabla::softplus(eta) - y[i] * eta;
    }
    for (std::size_t j = 0; j < d; ++j) s += 0.5 * beta[j] * beta[j];
    return s;
  };
  const auto dot = [](const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
  };

  std::vector<double> beta(d, 0.0);
  int products = 0;
  double grad_norm = 0;
  for (int newton = 0; newton < 20; ++newton) {
    const auto [value, g] = nabla::value_and_gradient(f, beta);
    grad_norm = std::sqrt(dot(g, g));
    fmt::print("Newton step {:2}: f = {:.10f}, |∇f| = {:.2e}, {} Hessian-vector products so far\n",
               newton, value, grad_norm, products);
    if (grad_norm < 1e-10) break;
    // Conjugate gradients on H·p = −g, each iteration one Hessian-vector product.
    std::vector<double> p(d, 0.0), r(d), q(d);
    for (std::size_t j = 0; j < d; ++j) r[j] = q[j] = -g[j];
    double rr = dot(r, r);
    for (std::size_t k = 0; k < d && std::sqrt(rr) > 1e-12 * grad_norm; ++k) {
      const std::vector<double> Hq = nabla::hessian_vector_product(f, beta, q);
      ++products;
      const double alpha = rr / dot(q, Hq);
      for (std::size_t j = 0; j < d; ++j) {
        p[j] += alpha * q[j];
        r[j] -= alpha * Hq[j];
      }
      const double rr_next = dot(r, r);
      for (std::size_t j = 0; j < d; ++j) q[j] = r[j] + rr_next / rr * q[j];
      rr = rr_next;
    }
    for (std::size_t j = 0; j < d; ++j) beta[j] += p[j];  // convex: the full step converges
  }
  return grad_norm < 1e-10 ? 0 : 1;
}
