// Checking a loss against finite differences: logistic regression on a small synthetic data
// set, once as plain nabla code and once with a hand-derived custom operation that has a bug.
#include <nabla/autodiff.hpp>

#include <fmt/format.h>
#include <cmath>
#include <random>
#include <vector>

namespace {

struct Data {
  std::vector<std::vector<double>> x;
  std::vector<double> y;
};

Data make_data(std::size_t n, std::size_t d, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Data data;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> row(d);
    double score = 0;
    for (std::size_t j = 0; j < d; ++j) score += (row[j] = normal(rng)) * (j % 2 ? 1.0 : -0.5);
    data.x.push_back(row);
    data.y.push_back(score + 0.5 * normal(rng) > 0 ? 1.0 : 0.0);
  }
  return data;
}

// Negative log-likelihood of logistic regression: Σ softplus(η) − y·η with η = x·β.
template <class Softplus>
nabla::Var nll(const Data& data, std::span<const nabla::Var> beta, Softplus softplus) {
  nabla::Var loss = 0.0;
  for (std::size_t i = 0; i < data.y.size(); ++i) {
    nabla::Var eta = 0.0;
    for (std::size_t j = 0; j < beta.size(); ++j) eta += data.x[i][j] * beta[j];
    loss += softplus(eta) - data.y[i] * eta;
  }
  return loss;
}

// softplus as a "hand-optimised" custom operation whose derivative has a sign slip:
// it should be σ(x) = 1/(1 + e^(−x)) but says 1/(1 + e^(x)).
nabla::Var buggy_softplus(const nabla::Var& x) {
  const double v = x.value();
  return nabla::custom(nabla::softplus(v), {x}, {1.0 / (1.0 + std::exp(v))});
}

}  // namespace

int main() {
  const Data data = make_data(40, 3, 7);
  const std::vector<double> beta = {0.3, -0.2, 0.8};

  const auto good = [&](const auto& b) {
    return nll(data, b, [](const nabla::Var& e) { return nabla::softplus(e); });
  };
  const auto bad = [&](const auto& b) { return nll(data, b, buggy_softplus); };

  const nabla::GradientCheck ok = nabla::check_gradient(good, beta);
  fmt::print("logistic regression NLL (40 observations, 3 features), nabla::softplus:\n{}\n", ok);
  const nabla::GradientCheck wrong = nabla::check_gradient(bad, beta);
  fmt::print("the same loss with a hand-written softplus derivative that has a sign slip:\n{}",
             wrong);
  return ok.ok && !wrong.ok ? 0 : 1;
}
