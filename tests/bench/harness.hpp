// The benchmark harness: times the plain-double function and one library's gradient of it,
// interleaved in one process, and prints a Markdown row. A library is a policy type with
//   static constexpr const char* name;
//   template <class F> void gradient(const F& f, std::span<const double> x, std::span<double> g);
//   template <class F> double tape_bytes(const F& f, std::span<const double> x);  // < 0: unknown
// and, for the vectorised rows (run_vectorised), its own reductions of its recorded scalar S:
//   static S vectorised(const Sum&, std::span<const S> x);            // and likewise for
//   Product, Dot, LogSumExp and NormalDensity (suite.hpp's functions, whose data they read).
#pragma once

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "counted.hpp"
#include "instructions.hpp"
#include "suite.hpp"

namespace bench {

using Clock = std::chrono::steady_clock;
inline volatile double sink = 0;
// Full runs: 15 interleaved samples of ≥ 20 ms; `small` runs (the CI test): 3 of ≥ 2 ms.
inline double sample_seconds = 0.02;
inline int samples = 15;
// `--row=K` runs only the K-th row (0-based), so a peer can run each case in its own process;
// `--rows` prints how many rows there are. `--reps=N` counts instructions (instructions.hpp).
inline long selected_row = -1;
inline long row_counter = 0;

template <class F>
double seconds_per_call(F&& f, long calls) {
  const auto t0 = Clock::now();
  for (long i = 0; i < calls; ++i) f();
  return std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(calls);
}

// Calls per sample so that one sample takes at least 20 ms.
template <class F>
long calibrate(F&& f) {
  long calls = 1;
  while (seconds_per_call(f, calls) * static_cast<double>(calls) < sample_seconds) calls *= 2;
  return calls;
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

template <class Library, class F>
void row(std::string_view name, const F& f, const std::vector<double>& x) {
  const long index = row_counter++;
  if (selected_row == -2 || (selected_row >= 0 && index != selected_row)) return;
  const std::size_t n = x.size();
  std::vector<double> g(n), exact(n);
  Library library;
  // Correctness first: the library's gradient must match the analytic one before it is timed.
  library.gradient(f, x, g);
  f.gradient(x, exact);
  for (std::size_t i = 0; i < n; ++i) {
    if (!(std::abs(g[i] - exact[i]) <= 1e-8 * (1 + std::abs(exact[i])))) {
      fmt::print(stderr, "{}: gradient mismatch at {}: {} vs {}\n", name, i, g[i], exact[i]);
      std::exit(1);
    }
  }
  // Elementary operations of the function, counted on bench::Counted.
  const std::vector<bench::Counted> xc(x.begin(), x.end());
  bench::Counted::ops = 0;
  (void)f(std::span<const bench::Counted>(xc));
  const double ops = static_cast<double>(bench::Counted::ops);
  const double bytes = reps > 0 ? -1 : library.tape_bytes(f, x);
  const auto plain = [&] { sink = sink + f(std::span<const double>(x)); };
  const auto grad = [&] { library.gradient(f, x, g); };
  if (reps > 0) {  // --reps=N: instruction counts (scripts/callgrind-compare), no timing
    count_instructions(fmt::format("row {}: {}", index, name), grad);
    fmt::print("| {} | {:.0f} | {} gradients counted |\n", name, ops, reps);
    std::fflush(stdout);
    return;
  }
  const long plain_calls = calibrate(plain), grad_calls = calibrate(grad);
  std::vector<double> tp, tg;
  for (int rep = 0; rep < samples; ++rep) {
    tp.push_back(seconds_per_call(plain, plain_calls));
    tg.push_back(seconds_per_call(grad, grad_calls));
  }
  const double p = median(tp), q = median(tg);
  fmt::print("| {} | {:.0f} | {:.3g} | {:.3g} | {:.2f} | {:.2f} | {} |\n", name, ops, p * 1e6,
             q * 1e6, q / p, q / ops * 1e9,
             bytes < 0 ? std::string("–") : fmt::format("{:.1f}", bytes / ops));
  std::fflush(stdout);
}

std::vector<double> near_one(std::size_t n) {  // for the product: stays near 1 for any n
  auto v = bench::random_vector(n, 2, -1, 1);
  for (double& x : v) x = 1 + x * 1e-3 / std::sqrt(static_cast<double>(n));
  return v;
}

/// The command line of a suite program: `small` (the small sizes, briefly: the CI test),
/// `small-sizes` (the small sizes, full sampling), `--rows` (print the number of rows only),
/// `--row=K` (run only row K), `--reps=N` (count instructions), `vectorised` (the vectorised
/// rows instead of the identical-code rows). Sets the sampling globals above; returns whether
/// to run the large sizes too.
inline bool parse_arguments(int argc, char** argv) {
  bool small_only = false, small_sizes = false, count_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "small") small_only = true;
    if (arg == "small-sizes") small_sizes = true;
    if (arg == "--rows") count_only = true;
    if (arg.starts_with("--row=")) selected_row = std::stol(std::string(arg.substr(6)));
    if (arg.starts_with("--reps=")) reps = std::stol(std::string(arg.substr(7)));
  }
  if (count_only) selected_row = -2;
  if (small_only) {
    sample_seconds = 0.002;
    samples = 3;
  }
  return !(small_sizes || small_only);
}

/// Whether the command line asks for the vectorised rows (`vectorised`).
inline bool wants_vectorised(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "vectorised") return true;
  return false;
}

/// Prints the Markdown table's header, unless one row (`--row=K`) or the row count is asked for.
inline void print_header() {
  if (selected_row == -1) {
    fmt::print(
        "| function | elementary ops | plain (µs) | gradient (µs) | gradient / plain | "
        "ns per op | tape bytes per op |\n|---|---|---|---|---|---|---|\n");
  }
}

/// A suite function (Sum, Product, Dot, LogSumExp, NormalDensity) whose reduction is the library's
/// own vectorised one on the library's recorded scalar (Library::vectorised), and the suite's loop
/// on double and Counted: the plain time and the operation count are the identical rows'.
template <class Library, class Function>
struct Vectorised : Function {
  template <class T>
  T operator()(std::span<const T> x) const {
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, Counted>)
      return Function::operator()(x);
    else
      return Library::vectorised(static_cast<const Function&>(*this), x);
  }
};

/// The vectorised rows: sum, product, dot, log-sum-exp and the normal log density at n = 100
/// and 10⁶,
/// each library with its own reductions (Library::vectorised); the same inputs, sizes and
/// analytic gradient checks as the identical-code rows of run_suite.
template <class Library>
int run_vectorised(int argc, char** argv) {
  const bool large = parse_arguments(argc, argv);
  const bool count_only = selected_row == -2;
  print_header();
  std::vector<std::size_t> sizes = {100};
  if (large) sizes.push_back(1000000);
  for (std::size_t n : sizes) {
    const auto size = n == 100 ? std::string("100") : std::string("10⁶");
    row<Library>("vectorised sum, n = " + size, Vectorised<Library, Sum>{},
                 random_vector(n, 1, -1, 1));
    row<Library>("vectorised product, n = " + size, Vectorised<Library, Product>{}, near_one(n));
    row<Library>("vectorised log-sum-exp, n = " + size, Vectorised<Library, LogSumExp>{},
                 random_vector(n, 1, -3, 3));
    row<Library>("vectorised dot of two variable vectors, n = " + size, Vectorised<Library, Dot>{},
                 random_vector(2 * n, 1, -1, 1));
    row<Library>("vectorised normal log density, n = " + size,
                 Vectorised<Library, NormalDensity>{NormalDensity(n)}, {0.5, 1.5});
  }
  if (count_only) fmt::print("{}\n", row_counter);
  return 0;
}

/// Runs every row of the suite for one library, every row the same code in every library
/// (parse_arguments lists the options).
template <class Library>
int run_suite(int argc, char** argv) {
  const bool large = parse_arguments(argc, argv);
  const bool count_only = selected_row == -2;
  const bool small_sizes = !large;
  std::vector<std::size_t> sizes = {100};
  if (large) sizes.push_back(1000000);
  print_header();
  row<Library>("f(x) = x² sin x + eˣ (one variable)", OneVariable{}, {0.7});
  for (std::size_t n : sizes) {
    const auto size = n == 100 ? std::string("100") : std::string("10⁶");
    row<Library>("sum, n = " + size, Sum{}, random_vector(n, 1, -1, 1));
    row<Library>("product, n = " + size, Product{}, near_one(n));
    row<Library>("log-sum-exp, n = " + size, LogSumExp{}, random_vector(n, 1, -3, 3));
    row<Library>("dot of two variable vectors, n = " + size, Dot{}, random_vector(2 * n, 1, -1, 1));
    row<Library>("normal log density, n = " + size, NormalDensity(n), {0.5, 1.5});
    row<Library>("chained Rosenbrock, n = " + size, Rosenbrock{}, random_vector(n, 1, -1, 1));
  }
  row<Library>("least squares ‖Ax − b‖², 10×10", LeastSquares(10, 10), random_vector(10, 1, -1, 1));
  row<Library>("logistic regression NLL, 100×10", Logistic(100, 10),
               random_vector(10, 1, -0.5, 0.5));
  const Mlp small_mlp(16, 32, 16, 10);
  row<Library>("MLP loss, batch 16, 32-16-10, tanh", small_mlp,
               random_vector(small_mlp.parameters(), 1, -0.3, 0.3));
  if (!small_sizes) {
    row<Library>("least squares ‖Ax − b‖², 1000×1000", LeastSquares(1000, 1000),
                 random_vector(1000, 1, -1, 1));
    row<Library>("logistic regression NLL, 10⁴×100", Logistic(10000, 100),
                 random_vector(100, 1, -0.2, 0.2));
    const Mlp mlp(64, 784, 128, 10);
    row<Library>("MLP loss, batch 64, 784-128-10, tanh", mlp,
                 random_vector(mlp.parameters(), 1, -0.05, 0.05));
  }
  if (count_only) fmt::print("{}\n", row_counter);
  return 0;
}

}  // namespace bench
