// A logistic regression over 200,000 observations fitted with L-BFGS, its negative
// log-likelihood and gradient summed over shards of the data on all cores (parallel_sum): the
// fit is the same, bit for bit, on one thread.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <random>

int main() {
  // Synthetic data (seed 1): an intercept and two features, y ~ Bernoulli(σ(0.5 − x₁ + 2x₂)).
  const std::size_t n = 200'000;
  std::vector<double> x1(n), x2(n), y(n);
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal;
  for (std::size_t i = 0; i < n; ++i) {
    x1[i] = normal(rng);
    x2[i] = normal(rng);
    const double p = 1 / (1 + std::exp(-(0.5 - x1[i] + 2 * x2[i])));
    y[i] = std::uniform_real_distribution<double>()(rng) < p ? 1 : 0;
  }

  // One shard's negative log-likelihood: Σ softplus(η) − y η over its observations.
  auto shard_nll = [&](std::span<const nabla::Var> w, nabla::Shard s) {
    nabla::Var sum = 0.0;
    for (std::size_t i = s.begin; i < s.end; ++i) {
      const nabla::Var eta = w[0] + w[1] * x1[i] + w[2] * x2[i];
      sum += softplus(eta) - y[i] * eta;
    }
    return sum;
  };
  const nabla::Shards shards(n, 10'000);  // 20 shards, whatever the number of threads

  auto fit = [&](nabla::ThreadPool& pool) {
    return nabla::optim::minimize(nabla::parallel_sum(shard_nll, shards, pool), {0.0, 0.0, 0.0},
                                  nabla::optim::LBFGS{}, {.grad_tol = 1e-6});
  };
  nabla::ThreadPool all;  // one thread per core
  nabla::ThreadPool one(1);
  const auto r = fit(all);
  const auto r1 = fit(one);
  fmt::print("w = [{:.4f}, {:.4f}, {:.4f}] after {} iterations ({})\n", r.x[0], r.x[1], r.x[2],
             r.iterations, nabla::optim::to_string(r.status));
  const bool same = r.x == r1.x && r.value == r1.value && r.iterations == r1.iterations;
  fmt::print("{} threads and 1 thread: {}\n", all.size(), same ? "the same bits" : "DIFFERENT");
  return same && r.status == nabla::optim::Status::gradient_converged ? 0 : 1;
}
