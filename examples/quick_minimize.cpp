// The README's optimization example: minimise Rosenbrock's function with L-BFGS.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

int main() {
  auto rosenbrock = [](const auto& x) {
    return 100 * pow(x[1] - x[0] * x[0], 2) + pow(1 - x[0], 2);
  };
  auto result = nabla::optim::minimize(rosenbrock, {-1.2, 1.0}, nabla::optim::LBFGS{});
  fmt::print("{}\n", result);
  auto adam = nabla::optim::minimize(rosenbrock, {-1.2, 1.0}, nabla::optim::Adam{.lr = 0.01},
                                     {.grad_tol = 1e-6, .max_iterations = 20000});
  fmt::print("{}\n", adam);
  return result.status == nabla::optim::Status::gradient_converged ? 0 : 1;
}
