// Per-step cost of Adam and L-BFGS on n = 10⁶ parameters, as effective memory bandwidth (bytes
// touched / time) beside a plain std::copy of the same size, measured interleaved in one run.
#include <nabla/optim.hpp>

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double median_seconds(F&& f, int reps = 21) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::nth_element(t.begin(), t.begin() + reps / 2, t.end());
  return t[static_cast<std::size_t>(reps / 2)];
}

}  // namespace

int main() {
  using namespace nabla::optim;
  const std::size_t n = 1000000;
  std::vector<double> x(n, 1.0), g(n), y(n);
  for (std::size_t i = 0; i < n; ++i) g[i] = std::sin(static_cast<double>(i));
  auto adam = make_optimizer(Adam{.lr = 1e-6}, n);
  adam->step(x, g);  // warm: the state is allocated and touched
  // Bytes per parameter: std::copy reads 8 and writes 8; an Adam step reads x, g, m, v (32)
  // and writes x, m, v (24).
  double copy_s = 0, adam_s = 0;
  for (int round = 0; round < 3; ++round) {  // interleave the two
    copy_s = median_seconds([&] { std::copy(x.begin(), x.end(), y.begin()); });
    adam_s = median_seconds([&] { adam->step(x, g); });
  }
  const double copy_bw = 16.0 * n / copy_s / 1e9, adam_bw = 56.0 * n / adam_s / 1e9;

  // The extended Rosenbrock function with its own gradient (one pass per evaluation) from the
  // standard start (−1.2, 1, −1.2, 1, …): L-BFGS needs ~40 iterations.
  const auto f = [](std::span<const double> z, std::span<double> grad) {
    double s = 0;
    for (std::size_t i = 0; i + 1 < z.size(); i += 2) {
      const double t = z[i + 1] - z[i] * z[i], u = 1 - z[i];
      s += 100 * t * t + u * u;
      grad[i] = -400 * t * z[i] - 2 * u;
      grad[i + 1] = 200 * t;
    }
    return s;
  };
  std::vector<double> start(n);
  for (std::size_t i = 0; i < n; ++i) start[i] = i % 2 == 0 ? -1.2 : 1.0;
  // Setup (allocating the memory of 2m vectors) is excluded: the cost per iteration is the
  // difference between runs of 30 and of 15 iterations, divided by 15.
  int evaluations[2] = {0, 0};
  double seconds[2] = {0, 0};
  for (int k = 0; k < 2; ++k) {
    seconds[k] = median_seconds(
        [&] {
          const Result r =
              minimize(f, start, LBFGS{}, Stop{.grad_tol = 0, .max_iterations = 15 * (k + 1)});
          evaluations[k] = r.evaluations;
        },
        5);
  }
  const double per_iteration = (seconds[1] - seconds[0]) / 15;
  const double evals_per_iteration = (evaluations[1] - evaluations[0]) / 15.0;
  fmt::print(
      "| step (n = 10⁶) | time (ms) | bytes touched per parameter | effective bandwidth (GB/s) | "
      "vs std::copy |\n");
  fmt::print("|---|---|---|---|---|\n");
  fmt::print("| std::copy | {:.3f} | 16 | {:.1f} | 100% |\n", copy_s * 1e3, copy_bw);
  fmt::print("| Adam step | {:.3f} | 56 | {:.1f} | {:.0f}% |\n", adam_s * 1e3, adam_bw,
             100 * adam_bw / copy_bw);
  fmt::print(
      "| L-BFGS iteration (m = 10, incl. {:.1f} evaluations of a 1-pass f) | {:.3f} | – | – | "
      "{:.1f} copies |\n",
      evals_per_iteration, per_iteration * 1e3, per_iteration / copy_s);
  return 0;
}
