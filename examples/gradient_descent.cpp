// Gradient descent by hand: minimise f(x) = 3x² − 6x + 4 from x = 1.5 with learning rate 0.1,
// taking each gradient from nabla::value_and_gradient.
#include <nabla/autodiff.hpp>

#include <fmt/format.h>
#include <cmath>

int main() {
  const auto f = [](const auto& x) { return 3.0 * x[0] * x[0] - 6.0 * x[0] + 4.0; };
  double x = 1.5;
  const double lr = 0.1;
  fmt::print("{:>4}  {:>12}  {:>12}  {:>12}\n", "step", "x", "f(x)", "f'(x)");
  for (int step = 0; step <= 10; ++step) {
    const auto [value, gradient] = nabla::value_and_gradient(f, {x});
    fmt::print("{:>4}  {:>12.7f}  {:>12.7f}  {:>12.7f}\n", step, x, value, gradient[0]);
    if (step < 10) x -= lr * gradient[0];
  }
  // Each step maps x − 1 to 0.4·(x − 1), so x₁₀ = 1 + 0.5·0.4¹⁰ exactly (in real arithmetic).
  const double expected = 1.0 + 0.5 * std::pow(0.4, 10);
  fmt::print("\nx after 10 steps: {:.7f} (closed form 1 + 0.5·0.4^10 = {:.7f}); minimum at x = 1\n",
             x, expected);
  return std::abs(x - expected) < 1e-12 ? 0 : 1;
}
