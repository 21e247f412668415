// The README's example: a loss in plain C++, its exact gradient, and a finite-difference check.
#include <nabla/autodiff.hpp>

int main() {
  auto loss = [](const auto& x) { return exp(x[0]) * sin(x[1]) + pow(x[0] - x[1], 2); };
  auto [value, gradient] = nabla::value_and_gradient(loss, {0.5, 2.0});
  fmt::print("f = {:.6f}, grad = [{:.6f}, {:.6f}]\n", value, gradient[0], gradient[1]);
  auto report = nabla::check_gradient(loss, {0.5, 2.0});
  fmt::print("gradient check: {} (max rel error {:.1e})\n", report.ok ? "ok" : "FAILED",
             report.max_rel_error);
  return report.ok ? 0 : 1;
}
