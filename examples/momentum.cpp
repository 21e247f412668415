// Momentum escapes a local minimum that plain gradient descent stays in:
// f(x) = x⁴ − 4x² + 2x has a local minimum near 1.2670 and the global one near −1.5257.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <cmath>

int main() {
  using namespace nabla::optim;
  const auto f = [](const auto& x) { return pow(x[0], 4) - 4.0 * x[0] * x[0] + 2.0 * x[0]; };
  const double start = 2.0, lr = 0.01;
  const Stop stop{.grad_tol = 1e-8, .max_iterations = 20000};
  const Result gd = minimize(f, {start}, GradientDescent{.lr = lr}, stop);
  const Result heavy = minimize(f, {start}, Momentum{.lr = lr, .rho = 0.9}, stop);
  fmt::print("f(x) = x^4 - 4x^2 + 2x from x = {}, learning rate {}\n", start, lr);
  fmt::print("  gradient descent : x = {:+.4f}, f = {:.4f}  ({})\n", gd.x[0], gd.value, gd);
  fmt::print("  momentum rho=0.9 : x = {:+.4f}, f = {:.4f}  ({})\n", heavy.x[0], heavy.value,
             heavy);
  const bool escaped = gd.x[0] > 1 && heavy.x[0] < -1;
  fmt::print("{}\n", escaped ? "momentum carried the iterate over the hump at x = 0.2587 into "
                               "the global minimum; plain gradient descent stopped in the local one"
                             : "momentum did not escape (unexpected)");
  return escaped ? 0 : 1;
}
