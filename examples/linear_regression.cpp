// Fitting y = w·x + b to a synthetic "traffic" data set (cars per minute against hour of day,
// roughly linear in the morning) with minimize, then with the bias folded into the weights
// (x₀ = 1), and comparing with the closed-form least-squares answer.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <cmath>
#include <random>
#include <vector>

int main() {
  using namespace nabla::optim;
  // Hours 6.0 … 10.0, cars per minute ≈ 4.2·hour − 18 plus noise (seeded).
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0.0, 1.5);
  std::vector<double> hour, cars;
  for (int i = 0; i <= 40; ++i) {
    hour.push_back(6.0 + 0.1 * i);
    cars.push_back(4.2 * hour.back() - 18.0 + noise(rng));
  }
  const std::size_t n = hour.size();

  // 1. Two parameters, mean squared error.
  const auto mse = [&](const auto& p) {
    nabla::Var loss = 0.0;
    for (std::size_t i = 0; i < n; ++i) loss += pow(p[0] * hour[i] + p[1] - cars[i], 2);
    return loss / static_cast<double>(n);
  };
  const Result fit = minimize(mse, {0.0, 0.0}, LBFGS{}, Stop{.grad_tol = 1e-8});

  // 2. The bias folded in: features (1, hour), one weight vector, the same loss as a dot product.
  std::vector<double> features;
  for (double h : hour) features.insert(features.end(), {1.0, h});
  const auto folded = [&](const auto& w) {
    nabla::Var loss = 0.0;
    for (std::size_t i = 0; i < n; ++i)
      loss += pow(nabla::dot(std::span<const double>(features).subspan(2 * i, 2), w) - cars[i], 2);
    return loss / static_cast<double>(n);
  };
  const Result fit2 = minimize(folded, {0.0, 0.0}, LBFGS{}, Stop{.grad_tol = 1e-8});

  // 3. Closed form: w = cov(x, y) / var(x), b = ȳ − w·x̄.
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += hour[i] / n;
    my += cars[i] / n;
  }
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (hour[i] - mx) * (cars[i] - my);
    sxx += (hour[i] - mx) * (hour[i] - mx);
  }
  const double w = sxy / sxx, b = my - w * mx;

  fmt::print("data: {} observations of cars per minute against hour of day\n", n);
  fmt::print("minimize (w, b)       : w = {:.6f}, b = {:.6f}, MSE = {:.6f}  [{}]\n", fit.x[0],
             fit.x[1], fit.value, fit.status);
  fmt::print("minimize (bias folded): w = {:.6f}, b = {:.6f}, MSE = {:.6f}  [{}]\n", fit2.x[1],
             fit2.x[0], fit2.value, fit2.status);
  fmt::print("closed form           : w = {:.6f}, b = {:.6f}\n", w, b);
  const bool agree = std::abs(fit.x[0] - w) < 1e-6 && std::abs(fit.x[1] - b) < 1e-5 &&
                     std::abs(fit2.x[1] - w) < 1e-6 && std::abs(fit2.x[0] - b) < 1e-5;
  fmt::print("{}\n", agree ? "all three agree" : "they disagree (unexpected)");
  return agree ? 0 : 1;
}
