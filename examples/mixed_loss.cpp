// A tensor model and a scalar penalty in one loss, one gradient: ridge-like regression where
// the weights are a tensor and the penalty is written with plain Vars, checked against finite
// differences.
#include <nabla/autodiff.hpp>

#include <fmt/format.h>

#include <cmath>

int main() {
  // Data: 50 points of y = x·w* + noise-free curvature, 4 features.
  nabla::Tensor x({50, 4}), y({50, 1});
  for (std::size_t i = 0; i < 50; ++i) {
    const double t = static_cast<double>(i) / 49.0;
    for (std::size_t j = 0; j < 4; ++j) x(i, j) = std::sin(static_cast<double>(j + 1) * 3.0 * t);
    y(i, 0) = 1.5 * x(i, 0) - 0.5 * x(i, 2) + 0.1 * t * t;
  }
  // loss(w) = mse(x·w, y) + λ·Σ log(1 + wᵢ²)   (the penalty: a scalar loop over elements)
  const auto loss = [&](const nabla::TensorVar& w) {
    const nabla::TensorVar fit =
        nabla::mse(nabla::matmul(nabla::constant(x), w), nabla::constant(y));
    nabla::Var penalty = 0.0;
    for (std::size_t j = 0; j < 4; ++j) penalty += nabla::log1p(w(j, 0) * w(j, 0));
    return fit.item() + 0.01 * penalty;
  };
  const nabla::Tensor w0({4, 1}, {0.5, -0.2, 0.1, 0.3});
  const auto g = nabla::value_and_gradient(loss, w0);
  fmt::print("loss = {:.6f}\ngradient = [{:.6f}]\n", g.value, fmt::join(g.gradient, ", "));
  const nabla::GradientCheck check = nabla::check_gradient(loss, w0);
  fmt::print("{}\n", check);
  // A few steps of gradient descent with the same gradient.
  nabla::Tensor w = w0;
  for (int step = 0; step < 200; ++step) {
    const auto r = nabla::value_and_gradient(loss, w);
    for (std::size_t j = 0; j < 4; ++j) w[j] -= 0.5 * r.gradient[j];
  }
  fmt::print("after 200 steps: loss = {:.6f}, w = {}\n", nabla::value_and_gradient(loss, w).value,
             w);
  return check.ok ? 0 : 1;
}
