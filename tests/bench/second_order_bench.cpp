// Forward mode and second derivatives on the scalar suite (suite.hpp): the cost of a JVP (the
// nabla::jvp call, and f on the Duals as the helpers evaluate it), of a
// four- and an eight-direction JVP, of a Hessian-vector product and of a dense Hessian, as ratios
// to the plain function and to the gradient, measured interleaved in one process. Each row first
// checks its Hessian-vector product against differences of the suite's analytic gradient.
// Prints a Markdown table (docs/benchmarks.md, "Forward mode and second derivatives").
// `--times` prints the gradient, HVP and dense Hessian in µs instead, the columns of the peer
// program stan_second_order_bench (-Dbench_peers=enabled), so the rows can be put side by side.
// Usage: second_order_bench [small] [--times]
#include <nabla/autodiff.hpp>

#include "harness.hpp"

namespace {

bool print_times = false;  // --times

// Microseconds with three significant digits, without an exponent.
std::string microseconds(double seconds) {
  const double us = seconds * 1e6;
  return us < 1000 ? fmt::format("{:.3g}", us) : fmt::format("{:.0f}", us);
}

using bench::calibrate;
using bench::median;
using bench::seconds_per_call;

template <class F>
void second_order_row(std::string_view name, const F& f, const std::vector<double>& x, bool dense) {
  const std::size_t n = x.size();
  const auto call = [&f](const auto& v) {
    using T = std::decay_t<decltype(v[0])>;
    return f(std::span<const T>(v.data(), v.size()));
  };
  const std::vector<double> v = bench::random_vector(n, 11, -1, 1);
  // Correctness: H·v against central differences of the analytic gradient along v.
  const std::vector<double> hv = nabla::hessian_vector_product(call, x, v);
  const double h = 1e-5;
  std::vector<double> xp(x), xm(x), gp(n), gm(n);
  for (std::size_t i = 0; i < n; ++i) {
    xp[i] += h * v[i];
    xm[i] -= h * v[i];
  }
  f.gradient(xp, gp);
  f.gradient(xm, gm);
  for (std::size_t i = 0; i < n; ++i) {
    const double numeric = (gp[i] - gm[i]) / (2 * h);
    if (!(std::abs(hv[i] - numeric) <= 1e-5 * (1 + std::abs(numeric)))) {
      fmt::print(stderr, "{}: H·v mismatch at {}: {} vs {}\n", name, i, hv[i], numeric);
      std::exit(1);
    }
  }
  std::vector<double> g(n);
  std::vector<nabla::Dual<double>> xd(n);
  std::vector<nabla::Dual<double, 4>> x4(n);
  std::vector<nabla::Dual<double, 8>> x8(n);
  for (std::size_t i = 0; i < n; ++i) {
    xd[i] = nabla::Dual<double>(x[i], v[i]);
    x4[i] = nabla::Dual<double, 4>(x[i], {v[i], -v[i], 0.5 * v[i], 1.0});
    x8[i] = nabla::Dual<double, 8>(
        x[i], {v[i], -v[i], 0.5 * v[i], 1.0, 2.0 * v[i], -0.25 * v[i], 0.5, -1.0});
  }
  const auto plain = [&] { bench::sink = bench::sink + f(std::span<const double>(x)); };
  const auto grad = [&] { bench::sink = bench::sink + nabla::gradient(call, x, g); };
  // nabla::jvp, the call (point and result vectors included); and f on the Duals as the
  // forward helpers evaluate it (Note [Unchecked tangents]), one and four directions.
  // Every result is consumed (value and all tangents): a value or tangent nobody reads is dead
  // code the compiler removes, and the row would time less than a JVP.
  const auto jvp_call = [&] {
    const auto r = nabla::jvp(call, x, v);
    bench::sink = bench::sink + r.value + r.tangent;
  };
  const auto jvp = [&] {
    const nabla::detail::TangentCheckScope unchecked(true);
    const auto y = call(xd);
    bench::sink = bench::sink + y.value() + y.tangent();
  };
  const auto jvp4 = [&] {
    const nabla::detail::TangentCheckScope unchecked(true);
    const auto y = call(x4);
    bench::sink =
        bench::sink + y.value() + y.tangent(0) + y.tangent(1) + y.tangent(2) + y.tangent(3);
  };
  const auto jvp8 = [&] {
    const nabla::detail::TangentCheckScope unchecked(true);
    const auto y = call(x8);
    double sum = y.value();
    for (std::size_t k = 0; k < 8; ++k) sum += y.tangent(k);
    bench::sink = bench::sink + sum;
  };
  const auto hvp = [&] {
    bench::sink = bench::sink + nabla::hessian_vector_product(call, x, v)[0];
  };
  const auto hess = [&] { bench::sink = bench::sink + nabla::hessian(call, x).data[0]; };
  const long cp = calibrate(plain), cg = calibrate(grad), cc = calibrate(jvp_call),
             cj = calibrate(jvp), c4 = calibrate(jvp4), c8 = calibrate(jvp8), ch = calibrate(hvp),
             cH = dense ? calibrate(hess) : 0;
  std::vector<double> tp, tg, tc, tj, t4, t8, th, tH;
  for (int rep = 0; rep < bench::samples; ++rep) {
    tp.push_back(seconds_per_call(plain, cp));
    tg.push_back(seconds_per_call(grad, cg));
    tc.push_back(seconds_per_call(jvp_call, cc));
    tj.push_back(seconds_per_call(jvp, cj));
    t4.push_back(seconds_per_call(jvp4, c4));
    t8.push_back(seconds_per_call(jvp8, c8));
    th.push_back(seconds_per_call(hvp, ch));
    if (dense) tH.push_back(seconds_per_call(hess, cH));
  }
  const double p = median(tp), q = median(tg), j = median(tj), j4 = median(t4), hh = median(th);
  if (print_times) {
    fmt::print("| {} | {} | {} | {} | {} | {:.2f} | {} |\n", name, n, microseconds(q),
               microseconds(hh), dense ? microseconds(median(tH)) : std::string("–"), hh / q,
               dense ? fmt::format("{:.1f}", median(tH) / q) : std::string("–"));
    std::fflush(stdout);
    return;
  }
  fmt::print("| {} | {} | {:.3g} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {} |\n",
             name, n, p * 1e6, q / p, median(tc) / p, j / p, j4 / (4 * j), median(t8) / (8 * j),
             hh / q, dense ? fmt::format("{:.1f}", median(tH) / q) : std::string("–"));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  bool small = false;
  for (int i = 1; i < argc; ++i) {
    small = small || std::string_view(argv[i]) == "small";
    print_times = print_times || std::string_view(argv[i]) == "--times";
  }
  if (small) {
    bench::sample_seconds = 0.002;
    bench::samples = 3;
  }
  if (print_times) {
    fmt::print(
        "| function | inputs | gradient (µs) | HVP (µs) | dense Hessian (µs) | HVP / gradient | "
        "dense Hessian / gradient |\n|---|---|---|---|---|---|---|\n");
  } else {
    fmt::print(
        "| function | inputs | plain (µs) | gradient / plain | jvp() / plain | JVP evaluation / "
        "plain | 4-direction JVP / 4 JVPs | 8-direction JVP / 8 JVPs | HVP / gradient | dense "
        "Hessian / gradient |\n|---|---|---|---|---|---|---|---|---|---|\n");
  }
  second_order_row("chained Rosenbrock", bench::Rosenbrock{}, bench::random_vector(100, 1, -1, 1),
                   true);
  second_order_row("logistic regression NLL, 100×10", bench::Logistic(100, 10),
                   bench::random_vector(10, 1, -0.5, 0.5), true);
  const bench::Mlp mlp(16, 32, 16, 10);
  second_order_row("MLP loss, batch 16, 32-16-10, tanh", mlp,
                   bench::random_vector(mlp.parameters(), 1, -0.3, 0.3), false);
  if (!small) {
    second_order_row("logistic regression NLL, 1000×100", bench::Logistic(1000, 100),
                     bench::random_vector(100, 1, -0.2, 0.2), true);
  }
  return 0;
}
