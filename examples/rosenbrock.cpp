// Rosenbrock's function from (−1.2, 1): L-BFGS vs Adam vs gradient descent.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

int main() {
  using namespace nabla::optim;
  const auto rosenbrock = [](const auto& x) {
    return 100.0 * pow(x[1] - x[0] * x[0], 2) + pow(1.0 - x[0], 2);
  };
  const Stop stop{.grad_tol = 1e-6, .max_iterations = 100000};
  fmt::print("{:<26} {:>10} {:>12} {:>14}  {}\n", "method", "iterations", "evaluations", "final f",
             "status");
  const auto row = [&](const char* name, const Result& r) {
    fmt::print("{:<26} {:>10} {:>12} {:>14.3e}  {}\n", name, r.iterations, r.evaluations, r.value,
               r.status);
    return r;
  };
  const Result lbfgs = row("L-BFGS (m = 10)", minimize(rosenbrock, {-1.2, 1.0}, LBFGS{}, stop));
  row("Adam (lr = 0.01)", minimize(rosenbrock, {-1.2, 1.0}, Adam{.lr = 0.01}, stop));
  row("gradient descent + Armijo",
      minimize(rosenbrock, {-1.2, 1.0}, GradientDescent{.lr = 1.0, .line_search = true}, stop));
  row("gradient descent (0.0019)",
      minimize(rosenbrock, {-1.2, 1.0}, GradientDescent{.lr = 0.0019}, stop));
  return lbfgs.status == Status::gradient_converged ? 0 : 1;
}
