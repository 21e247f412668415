// Vectorised reductions at n = 10³ and 10⁶ (docs/benchmarks.md, "Reductions at n = 10⁶"):
// plain-double time of sum, dot (variable·variable and data·variable), log_sum_exp,
// normal_log_density (data and variable observations) and a matrix–vector form (η = Xβ as one
// dot per data row, summed) against two gradient times:
//   gradient   nabla::gradient: recording the n inputs and the reduction, the reverse sweep,
//              reading the gradient into a buffer (what scalar_bench times);
//   reduction  the inputs recorded beforehand (untimed, as a peer's pre-built input vector):
//              recording the reduction, the reverse sweep, reading the gradient (Tape::gradient).
// The "floor" row is nabla::gradient of f = x₀: recording n inputs and reading n gradient
// entries, what every function of n inputs pays. Medians of interleaved samples. Prints a
// Markdown table; `small` runs n = 10³ only, briefly (the CI test). The suite's functions run
// here with nabla's reductions (harness.hpp's Vectorised); the plain time is the suite's loop.
#include <nabla/autodiff.hpp>

#include "nabla_policy.hpp"

#include "harness.hpp"

namespace {

using bench::Nabla;

using bench::random_vector;

struct First {  // f = x₀: what nabla::gradient costs around any function of n inputs
  template <class T>
  T operator()(std::span<const T> x) const {
    return x[0];
  }
  void gradient(std::span<const double>, std::span<double> g) const {
    std::fill(g.begin(), g.end(), 0.0);
    g[0] = 1;
  }
};

struct DotData {  // Σ wᵢ xᵢ, data weights
  std::vector<double> w;
  explicit DotData(std::size_t n) : w(random_vector(n, 11, -1, 1)) {}
  template <class T>
  T operator()(std::span<const T> x) const {
    using bench::dot;
    return dot(std::span<const double>(w), x);
  }
  void gradient(std::span<const double>, std::span<double> g) const {
    for (std::size_t i = 0; i < w.size(); ++i) g[i] = w[i];
  }
};

struct NormalDensityY {  // variable observations: x = [y (n), μ, σ]
  template <class T>
  T operator()(std::span<const T> x) const {
    const std::size_t n = x.size() - 2;
    using bench::normal_log_density;
    return normal_log_density(x.first(n), x[n], x[n + 1]);
  }
  void gradient(std::span<const double> x, std::span<double> g) const {
    const std::size_t n = x.size() - 2;
    const double mu = x[n], s = x[n + 1];
    g[n] = g[n + 1] = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double z = (x[i] - mu) / s;
      g[i] = -z / s;
      g[n] += z / s;
      g[n + 1] += z * z / s - 1 / s;
    }
  }
};

struct MatVec {  // Σᵢ ηᵢ with η = Xβ, X m×d row-major data: one dot per row, then a sum
  std::size_t m, d;
  std::vector<double> X;
  MatVec(std::size_t m_, std::size_t d_) : m(m_), d(d_), X(random_vector(m_ * d_, 12, -1, 1)) {}
  template <class T>
  T operator()(std::span<const T> beta) const {
    using bench::dot;
    using bench::sum;
    thread_local std::vector<T> eta;
    eta.resize(m);
    for (std::size_t i = 0; i < m; ++i)
      eta[i] = dot(std::span<const double>(X).subspan(i * d, d), beta);
    return sum(std::span<const T>(eta));
  }
  void gradient(std::span<const double>, std::span<double> g) const {
    std::fill(g.begin(), g.end(), 0.0);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < d; ++j) g[j] += X[i * d + j];
  }
};

}  // namespace

namespace bench {
// The suite's loops for plain doubles and the counting type of a normal density with
// variable observations (suite.hpp has the data form only).
template <class T>
T normal_log_density(std::span<const T> y, const T& mu, const T& sigma) {
  T lp = 0.0;
  for (const T& yi : y) {
    const T z = (yi - mu) / sigma;
    lp += -0.5 * z * z;
  }
  const double n = static_cast<double>(y.size());
  return lp - n * log(sigma) - n * 0.5 * std::log(2 * std::numbers::pi);
}
}  // namespace bench

namespace {

// The "reduction" time per call: inputs recorded untimed before each call.
template <class F>
double reduction_seconds(const F& f, const std::vector<double>& x, std::span<double> g,
                         long calls) {
  nabla::Tape& tape = nabla::Tape::active();
  std::vector<nabla::Var> xs(x.size());
  bench::Clock::duration total{};
  for (long c = 0; c < calls; ++c) {
    const nabla::Position start = tape.position();
    tape.variables(x, xs);
    const auto t0 = bench::Clock::now();
    const nabla::Var y = f(std::span<const nabla::Var>(xs));
    tape.gradient(y, start, g);
    total += bench::Clock::now() - t0;
    tape.rewind(start);
  }
  return std::chrono::duration<double>(total).count() / static_cast<double>(calls);
}

// `elements`: the terms of the reduction (for the tape bytes per element; 0: the floor row).
template <class F>
void row(std::string_view name, const F& f, const std::vector<double>& x, std::size_t elements) {
  const std::size_t n = x.size();
  std::vector<double> g(n), exact(n);
  f.gradient(x, exact);
  const auto check = [&](const char* what) {
    for (std::size_t i = 0; i < n; ++i) {
      if (!(std::abs(g[i] - exact[i]) <= 1e-8 * (1 + std::abs(exact[i])))) {
        fmt::print(stderr, "{} ({}): gradient mismatch at {}: {} vs {}\n", name, what, i, g[i],
                   exact[i]);
        std::exit(1);
      }
    }
  };
  Nabla library;
  library.gradient(f, x, g);
  check("gradient");
  std::fill(g.begin(), g.end(), 0.0);
  (void)reduction_seconds(f, x, g, 1);
  check("reduction");
  const double bytes = library.tape_bytes(f, x);
  const auto plain = [&] { bench::sink = bench::sink + f(std::span<const double>(x)); };
  const auto grad = [&] { library.gradient(f, x, g); };
  const long plain_calls = bench::calibrate(plain), grad_calls = bench::calibrate(grad);
  long reduction_calls = 1;
  while (reduction_seconds(f, x, g, reduction_calls) * static_cast<double>(reduction_calls) <
         bench::sample_seconds)
    reduction_calls *= 2;
  std::vector<double> tp, tg, tr;
  for (int rep = 0; rep < bench::samples; ++rep) {
    tp.push_back(bench::seconds_per_call(plain, plain_calls));
    tg.push_back(bench::seconds_per_call(grad, grad_calls));
    tr.push_back(reduction_seconds(f, x, g, reduction_calls));
  }
  const double p = bench::median(tp), q = bench::median(tg), r = bench::median(tr);
  // The floor's plain function reads one number: its ratios say nothing (read its times).
  const auto ratio = [&](double t) {
    return elements == 0 ? std::string("–") : fmt::format("{:.2f}", t / p);
  };
  fmt::print("| {} | {:.3g} | {:.3g} | {} | {:.3g} | {} | {} |\n", name, p * 1e6, q * 1e6, ratio(q),
             r * 1e6, ratio(r),
             bytes < 0 || elements == 0
                 ? std::string("–")
                 : fmt::format("{:.1f}", bytes / static_cast<double>(elements)));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  bool small = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "small") small = true;
  }
  if (small) {
    bench::sample_seconds = 0.002;
    bench::samples = 3;
  }
  std::vector<std::size_t> sizes = {1000};
  if (!small) sizes.push_back(1000000);
  fmt::print(
      "| function | plain (µs) | gradient (µs) | gradient / plain | reduction (µs) | "
      "reduction / plain | tape bytes per element |\n|---|---|---|---|---|---|---|\n");
  for (std::size_t n : sizes) {
    const auto size = n == 1000 ? std::string("10³") : std::string("10⁶");
    row("floor: f = x₀ of n inputs, n = " + size, First{}, random_vector(n, 1, -1, 1), 0);
    row("sum, n = " + size, bench::Vectorised<Nabla, bench::Sum>{}, random_vector(n, 1, -1, 1), n);
    row("dot, variable · variable, n = " + size, bench::Vectorised<Nabla, bench::Dot>{},
        random_vector(2 * n, 1, -1, 1), n);
    row("dot, data · variable, n = " + size, DotData(n), random_vector(n, 1, -1, 1), n);
    row("log_sum_exp, n = " + size, bench::Vectorised<Nabla, bench::LogSumExp>{},
        random_vector(n, 1, -3, 3), n);
    row("normal_log_density, data y, n = " + size,
        bench::Vectorised<Nabla, bench::NormalDensity>{bench::NormalDensity(n)}, {0.5, 1.5}, n);
    auto y = random_vector(n, 5, -2, 4);
    y.push_back(0.5);
    y.push_back(1.5);
    row("normal_log_density, variable y, n = " + size, NormalDensityY{}, y, n);
    const std::size_t d = 100, m = n / d;
    row(fmt::format("Σ Xβ, X {}×{} (one dot per row)", m, d), MatVec(m, d),
        random_vector(d, 1, -1, 1), m * d);
  }
  return 0;
}
