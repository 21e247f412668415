// Non-negative least squares: min ½‖Ax − b‖² subject to x ≥ 0, by L-BFGS-B (minimize with
// LBFGS and Bounds) and by projected gradient descent. The unconstrained solution has a negative
// coordinate; the constrained one holds it at 0 — compared with the exact solution.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

int main() {
  namespace opt = nabla::optim;
  const std::vector<std::vector<double>> a = {{1, 2, 0}, {0, 1, 1}, {1, 0, 1},
                                              {2, 1, 1}, {1, 1, 0}, {0, 2, 1}};
  const std::vector<double> b = {3, 1, 4, 6, 1, 0};
  auto loss = [&](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;  // nabla::Var, or double
    T f = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      T r = -b[i];
      for (std::size_t j = 0; j < 3; ++j) r += a[i][j] * x[j];
      f += 0.5 * r * r;
    }
    return f;
  };
  // The exact answer: with x₁ = 0, the normal equations of columns 0 and 2 give
  // [7 3; 3 4]·(x₀, x₂) = (20, 11), so x = (47/19, 0, 17/19); and ∂f/∂x₁ > 0 there.
  const std::vector<double> exact = {47.0 / 19, 0, 17.0 / 19};

  const opt::Bounds nonnegative{.lower = {0, 0, 0}};
  const auto free = opt::minimize(loss, {1.0, 1.0, 1.0}, opt::LBFGS{}, {.grad_tol = 1e-10});
  const auto lbfgsb =
      opt::minimize(loss, {1.0, 1.0, 1.0}, opt::LBFGS{}, nonnegative, {.grad_tol = 1e-10});
  const auto projected =
      opt::minimize(loss, {1.0, 1.0, 1.0}, opt::GradientDescent{.lr = 1, .line_search = true},
                    nonnegative, {.grad_tol = 1e-10, .max_iterations = 10000});
  fmt::print("unconstrained least squares: x = [{:.6f}]\n", fmt::join(free.x, ", "));
  fmt::print("L-BFGS-B:  {}\n", lbfgsb);  // the active set printed too: x[1] at its lower bound
  fmt::print("projected gradient descent: {}\n", projected);
  fmt::print("exact:     x = [{:.8f}]\n", fmt::join(exact, ", "));

  // Projected gradient descent stops earlier, where f = 1.84 is flat to rounding
  // (precision_limit): its x is good to about 1e-7.
  double error = 0, error_projected = 0;
  for (std::size_t j = 0; j < 3; ++j) {
    error = std::max(error, std::abs(lbfgsb.x[j] - exact[j]));
    error_projected = std::max(error_projected, std::abs(projected.x[j] - exact[j]));
  }
  const bool ok = free.x[1] < 0 && error < 1e-9 && error_projected < 1e-6 && lbfgsb.x[1] == 0 &&
                  lbfgsb.active == std::vector<int>{0, -1, 0} &&
                  projected.active == std::vector<int>{0, -1, 0};
  fmt::print("{} (largest error: L-BFGS-B {:.1e}, projected gradient descent {:.1e})\n",
             ok ? "both match the exact solution" : "FAILED", error, error_projected);
  return ok ? 0 : 1;
}
