// The tape's memory and its cold start (issue 15, item 4): on a chained Rosenbrock of about
// 10⁷ statements, the first gradient on a fresh tape against a warm one, and the process's peak
// resident memory against what the recording and its adjoints use.
//
//   tape_memory_bench [statements]       one process per measurement:
//     cold   — the first gradient of a fresh process (the tape grows from nothing);
//     warm   — the median of later gradients on the same tape;
//     peak   — the process's peak resident set (getrusage) minus its resident set before the
//              first gradient, over the bytes of the recording, its adjoints and the input
//              handles (one Var per input, which the gradient helper keeps).
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nabla/autodiff.hpp>
#include <string>
#include <vector>

#include "suite.hpp"

namespace {

// The resident set now, in bytes (Linux: /proc/self/statm, pages).
double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * 4096.0;
}

double peak_resident_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) * 1024.0;  // kB on Linux
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t statements = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  // The chained Rosenbrock records 4 statements per term (its input and 3 lines).
  const std::size_t n = std::max<std::size_t>(2, statements / 4);
  const bench::Rosenbrock f;
  const std::vector<double> x = bench::random_vector(n, 1, -1, 1);
  std::vector<double> g(n), exact(n);
  const auto call = [&f](const auto& v) {
    using T = std::decay_t<decltype(v[0])>;
    return f(std::span<const T>(v.data(), v.size()));
  };
  f.gradient(x, exact);
  using Clock = std::chrono::steady_clock;
  const double before = resident_bytes();
  const auto t0 = Clock::now();
  nabla::gradient(call, x, g);
  const double cold = std::chrono::duration<double>(Clock::now() - t0).count();
  for (std::size_t i = 0; i < n; ++i) {
    if (std::abs(g[i] - exact[i]) > 1e-9 * (1 + std::abs(exact[i]))) {
      fmt::print(stderr, "gradient mismatch at {}: {} vs {}\n", i, g[i], exact[i]);
      return 1;
    }
  }
  std::vector<double> warm;
  for (int r = 0; r < 7; ++r) {
    const auto t1 = Clock::now();
    nabla::gradient(call, x, g);
    warm.push_back(std::chrono::duration<double>(Clock::now() - t1).count());
  }
  std::sort(warm.begin(), warm.end());
  const double warm_median = warm[warm.size() / 2];
  const double peak = peak_resident_bytes() - before;
  // What one recording of f uses: record once more and read the tape's statistics before the
  // helper rewinds (a gradient leaves the tape empty).
  nabla::Tape& tape = nabla::Tape::active();
  nabla::TapeStatistics s;
  {
    const nabla::Position start = tape.position();
    std::vector<nabla::Var> xv(n);
    tape.variables(x, xv);
    const nabla::Var y = call(xv);
    tape.backward(y);
    s = tape.statistics();
    tape.rewind(start);
  }
  // The recording, its adjoints and the gradient helper's input handles (one Var per input).
  const double used = static_cast<double>(s.bytes_used + s.adjoint_bytes + n * sizeof(nabla::Var));
  fmt::print(
      "| {} statements | cold {:.1f} ms | warm {:.1f} ms | cold / warm {:.2f} | recording, "
      "adjoints and input handles {:.0f} MB | peak resident growth {:.0f} MB | peak / used {:.2f} "
      "| reserved {:.0f} "
      "MB | bytes per statement {:.1f} |\n",
      s.statements, cold * 1e3, warm_median * 1e3, cold / warm_median, used / 1e6, peak / 1e6,
      peak / used, static_cast<double>(s.scalar_bytes_reserved) / 1e6,
      used / static_cast<double>(s.statements));
  return 0;
}
