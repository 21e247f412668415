// The program every consumer project in tests/consumers builds (CMake, pkg-config, Meson
// subproject): an exact gradient and an L-BFGS minimisation, checked against closed forms.
// Exits 1 on a mismatch. Links only the scalar component (nabla::nabla, or `nabla`).
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <fmt/format.h>

#include <cmath>

namespace {

bool near(double got, double want, double tol) {
  return std::abs(got - want) <= tol * (1 + std::abs(want));
}

}  // namespace

int main() {
  auto f = [](const auto& x) { return exp(x[0]) * sin(x[1]) + pow(x[0] - x[1], 2); };
  const double x0 = 0.5, x1 = 2.0;
  auto [value, gradient] = nabla::value_and_gradient(f, {x0, x1});
  const double want_value = std::exp(x0) * std::sin(x1) + (x0 - x1) * (x0 - x1);
  const double want_d0 = std::exp(x0) * std::sin(x1) + 2 * (x0 - x1);
  const double want_d1 = std::exp(x0) * std::cos(x1) - 2 * (x0 - x1);
  const bool gradient_ok = near(value, want_value, 1e-14) && near(gradient[0], want_d0, 1e-14) &&
                           near(gradient[1], want_d1, 1e-14);
  fmt::print("f = {:.6f}, grad = [{:.6f}, {:.6f}]: {}\n", value, gradient[0], gradient[1],
             gradient_ok ? "ok" : "WRONG");

  auto rosenbrock = [](const auto& x) {
    return 100 * pow(x[1] - x[0] * x[0], 2) + pow(1 - x[0], 2);
  };
  const auto result = nabla::optim::minimize(rosenbrock, {-1.2, 1.0}, nabla::optim::LBFGS{});
  const bool minimum_ok = result.status == nabla::optim::Status::gradient_converged &&
                          near(result.x[0], 1, 1e-7) && near(result.x[1], 1, 1e-7);
  fmt::print("L-BFGS on Rosenbrock: {}: {}\n", result, minimum_ok ? "ok" : "WRONG");
  return gradient_ok && minimum_ok ? 0 : 1;
}
