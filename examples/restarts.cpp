// Multistart on a function with many local minima: f(x, y) = Σ (xᵢ² / 10 − cos(3xᵢ)) over two
// coordinates has a grid of local minima and its global minimum at the origin.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <cmath>

int main() {
  using namespace nabla::optim;
  const auto f = [](const auto& x) {
    return x[0] * x[0] / 10.0 - cos(3.0 * x[0]) + x[1] * x[1] / 10.0 - cos(3.0 * x[1]);
  };
  const auto one = minimize(f, {4.0, -3.0}, LBFGS{});
  fmt::print("one local run from (4, -3): f = {:.6f} at ({:.4f}, {:.4f})\n", one.value, one.x[0],
             one.x[1]);
  const MultistartResult r = multistart(f, {{-5, 5}, {-5, 5}}, LBFGS{}, 64, 2026, 2);
  fmt::print("multistart, 64 seeded starts on 2 threads: {} distinct minima; the lowest five:\n",
             r.minima.size());
  for (std::size_t k = 0; k < r.minima.size() && k < 5; ++k)
    fmt::print("  f = {:+.6f} at ({:+.4f}, {:+.4f})\n", r.minima[k].value, r.minima[k].x[0],
               r.minima[k].x[1]);
  const bool global = std::abs(r.best.x[0]) < 1e-6 && std::abs(r.best.x[1]) < 1e-6;
  fmt::print("best: f = {:.6f} at ({:.2g}, {:.2g}) — {}\n", r.best.value, r.best.x[0], r.best.x[1],
             global ? "the global minimum" : "not the global minimum");
  return global ? 0 : 1;
}
