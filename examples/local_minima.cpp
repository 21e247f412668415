// Gradient descent finds the minimum of the basin it starts in, not the global one:
// f(x) = x⁴ − 4x² + 2x has a local minimum near 1.267 and the global one near −1.526.
#include <nabla/autodiff.hpp>

#include <fmt/format.h>
#include <cmath>

namespace {

const auto f = [](const auto& x) { return pow(x[0], 4) - 4.0 * x[0] * x[0] + 2.0 * x[0]; };

double value(double x) { return nabla::value_and_gradient(f, {x}).value; }
double slope(double x) { return nabla::value_and_gradient(f, {x}).gradient[0]; }

// A root of f' in [lo, hi] (f' changes sign there), by bisection on the AD derivative.
double critical_point(double lo, double hi) {
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    ((slope(lo) < 0) == (slope(mid) < 0) ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// Plain gradient descent until the derivative vanishes.
double descend(double x, double lr, int& steps) {
  for (steps = 0; steps < 100000; ++steps) {
    const double g = slope(x);
    if (std::abs(g) < 1e-12) break;
    x -= lr * g;
  }
  return x;
}

}  // namespace

int main() {
  const double global = critical_point(-3, -1), maximum = critical_point(-1, 1),
               local = critical_point(1, 3);
  fmt::print("critical points of f(x) = x^4 - 4x^2 + 2x (roots of f'(x) = 4x^3 - 8x + 2):\n");
  fmt::print("  global minimum  x = {:.4f}  f = {:.4f}\n", global, value(global));
  fmt::print("  local maximum   x = {:.4f}  f = {:.4f}\n", maximum, value(maximum));
  fmt::print("  local minimum   x = {:.4f}  f = {:.4f}\n\n", local, value(local));
  fmt::print("f'(-0.5) = {}\n\n", slope(-0.5));

  const double lr = 0.01;
  int ok = 0;
  for (double start : {0.5, -0.5}) {
    int steps = 0;
    const double end = descend(start, lr, steps);
    const bool in_global = std::abs(end - global) < 1e-9;
    fmt::print(
        "gradient descent from x = {:+.1f} (lr {}): x = {:.4f}, f = {:.4f} after {} steps "
        "-> the {} minimum\n",
        start, lr, end, value(end), steps, in_global ? "global" : "local");
    ok += (start > 0) != in_global && (in_global || std::abs(end - local) < 1e-9);
  }
  return ok == 2 ? 0 : 1;
}
