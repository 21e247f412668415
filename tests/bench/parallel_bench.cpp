// Data-parallel gradients (docs/parallel.md, "Measured"): the gradient of a logistic
// regression's negative log-likelihood over n = 10⁶ observations (10 weights: an intercept and
// 9 features) with nabla::parallel_sum on 1 and 2 threads, and nabla::gradient of the whole
// sum on one tape (serial). Shards of 10⁴ observations (100 shards); the same process and
// interleaved samples for every column, so the ratio is measured under the same load. Also the
// fixed-order reduction alone (100 rows of 10 added in shard order) to show what it costs
// against the compute per shard. Prints a Markdown table and the load average; `small` runs
// n = 10⁴ briefly (the CI test, which also checks that 1 and 2 threads give the same bits).
#include <nabla/autodiff.hpp>

#include <cstring>
#include <ctime>
#include <fstream>
#include <random>

#include "harness.hpp"

namespace {

constexpr std::size_t d = 10;

struct Logistic {
  std::vector<double> x;  // n × d, row-major, x[i·d] = 1
  std::vector<double> y;  // 0 or 1
  explicit Logistic(std::size_t n) : x(n * d), y(n) {
    std::mt19937_64 rng(1);
    std::normal_distribution<double> normal;
    for (std::size_t i = 0; i < n; ++i) {
      double eta = 0.2;
      x[i * d] = 1;
      for (std::size_t j = 1; j < d; ++j) eta += 0.3 * (x[i * d + j] = normal(rng));
      y[i] = std::uniform_real_distribution<double>()(rng) < 1 / (1 + std::exp(-eta)) ? 1 : 0;
    }
  }
  // Σ softplus(xᵢ·w) − yᵢ xᵢ·w over observations [begin, end): one dot and one softplus each.
  nabla::Var nll(std::span<const nabla::Var> w, std::size_t begin, std::size_t end) const {
    nabla::Var sum = 0.0;
    for (std::size_t i = begin; i < end; ++i) {
      const nabla::Var eta = nabla::dot(std::span<const double>(&x[i * d], d), w);
      sum += softplus(eta) - y[i] * eta;
    }
    return sum;
  }
};

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

int main(int argc, char** argv) {
  bool small = false;
  for (int i = 1; i < argc; ++i) small = small || std::string_view(argv[i]) == "small";
  if (small) {
    bench::sample_seconds = 0.002;
    bench::samples = 3;
  }
  const std::size_t n = small ? 10000 : 1000000, shard = small ? 1000 : 10000;
  const Logistic data(n);
  const auto f = [&](std::span<const nabla::Var> w, nabla::Shard s) {
    return data.nll(w, s.begin, s.end);
  };
  const nabla::Shards shards(n, shard);
  nabla::ThreadPool one(1), two(2);
  auto on_one = nabla::parallel_sum(f, shards, one);
  auto on_two = nabla::parallel_sum(f, shards, two);
  const std::vector<double> w(d, 0.05);
  std::vector<double> g1(d), g2(d), gs(d);

  // Correctness first: the same bits on 1 and 2 threads, the serial gradient to rounding.
  const double v1 = on_one(w, g1), v2 = on_two(w, g2);
  const double vs =
      nabla::gradient([&](std::span<const nabla::Var> x) { return data.nll(x, 0, n); }, w, gs);
  bool ok = std::memcmp(&v1, &v2, sizeof v1) == 0 && std::memcmp(g1.data(), g2.data(), 8 * d) == 0;
  for (std::size_t j = 0; j < d; ++j) ok = ok && std::abs(g1[j] - gs[j]) <= 1e-9 * std::abs(gs[j]);
  ok = ok && std::abs(v1 - vs) <= 1e-12 * std::abs(vs);
  if (!ok) {
    fmt::print(stderr, "parallel_bench: 1 and 2 threads or the serial gradient disagree\n");
    return 1;
  }

  // The reduction alone: the same engine on shards that only write their row.
  auto rows_only = nabla::parallel_sum(
      [](std::span<const nabla::Var> x, nabla::Shard) { return x[0]; }, shards, two);
  const auto serial = [&] {
    bench::sink =
        bench::sink +
        nabla::gradient([&](std::span<const nabla::Var> x) { return data.nll(x, 0, n); }, w, gs);
  };
  const auto threads1 = [&] { bench::sink = bench::sink + on_one(w, g1); };
  const auto threads2 = [&] { bench::sink = bench::sink + on_two(w, g2); };
  const auto reduction = [&] { bench::sink = bench::sink + rows_only(w, g2); };
  const long cs = bench::calibrate(serial), c1 = bench::calibrate(threads1),
             c2 = bench::calibrate(threads2), cr = bench::calibrate(reduction);
  // CPU seconds of the process per call of f (both threads' together).
  const auto cpu_per_call = [](auto& f, long calls, std::vector<double>& wall) {
    const std::clock_t cpu = std::clock();
    wall.push_back(bench::seconds_per_call(f, calls));
    return static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC / static_cast<double>(calls);
  };
  std::vector<double> ts, t1, t2, tr, busy2, cpu_ratio;
  for (int rep = 0; rep < bench::samples; ++rep) {
    ts.push_back(bench::seconds_per_call(serial, cs));
    const double cpu1 = cpu_per_call(threads1, c1, t1);
    const double cpu2 = cpu_per_call(threads2, c2, t2);
    // CPU over wall time of the 2-thread sample: near 2 when both threads had a core, near 1
    // when the machine's other load left them one (or the scheduler's share of this session:
    // with autogroup scheduling, one busy session elsewhere takes half of 2 cores).
    busy2.push_back(cpu2 / t2.back());
    // The CPU work of 2 threads over that of 1: what parallelism costs in work (the speed-up
    // on 2 free cores is about 2 / this, the 100 shards being evenly shared).
    cpu_ratio.push_back(cpu2 / cpu1);
    tr.push_back(bench::seconds_per_call(reduction, cr));
  }
  const double s = bench::median(ts), a = bench::median(t1), b = bench::median(t2),
               r = bench::median(tr);
  fmt::print(
      "| observations | shards | serial (ms) | 1 thread (ms) | 2 threads (ms) | speed-up 1 → 2 | "
      "CPU / wall, 2 threads | CPU time, 2 threads / 1 | shards without work, 2 threads (ms) "
      "|\n|---|---|---|---|---|---|---|---|---|\n");
  fmt::print("| {} | {} | {:.2f} | {:.2f} | {:.2f} | {:.2f}× | {:.2f} | {:.3f} | {:.3f} |\n", n,
             shards.count(), s * 1e3, a * 1e3, b * 1e3, a / b, bench::median(busy2),
             bench::median(cpu_ratio), r * 1e3);
  fmt::print("load average (1, 5, 15 min) after the run: {}; {} hardware threads\n", load_average(),
             nabla::ThreadPool::default_size());
  return 0;
}
