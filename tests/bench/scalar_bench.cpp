// First scalar benchmark: plain-double time vs gradient time (record + sweep + reading the
// gradient) for chained Rosenbrock and logistic regression, measured interleaved in one process.
// Prints a Markdown table: ratio, ns per elementary operation, tape bytes per operation.
#include <nabla/autodiff.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <random>
#include <span>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Chained Rosenbrock: Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)².
template <class T>
T rosenbrock(std::span<const T> x) {
  T f = 0.0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    const T t = x[i + 1] - x[i] * x[i];
    const T u = 1.0 - x[i];
    f += 100.0 * (t * t) + u * u;
  }
  return f;
}

void rosenbrock_gradient(std::span<const double> x, std::span<double> g) {
  std::fill(g.begin(), g.end(), 0.0);
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    const double t = x[i + 1] - x[i] * x[i];
    g[i] += -400 * t * x[i] - 2 * (1 - x[i]);
    g[i + 1] += 200 * t;
  }
}

// Logistic regression negative log-likelihood: Σ softplus(η_i) − y_i η_i, η = X β.
struct Logistic {
  std::size_t n, d;
  std::vector<double> X, y;
  Logistic(std::size_t n_, std::size_t d_) : n(n_), d(d_), X(n_ * d_), y(n_) {
    std::mt19937_64 rng(1);
    std::normal_distribution<double> normal;
    for (double& v : X) v = normal(rng);
    for (double& v : y) v = normal(rng) > 0 ? 1.0 : 0.0;
  }
  template <class T>
  T operator()(std::span<const T> beta) const {
    using nabla::softplus;
    T f = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      T eta = 0.0;
      for (std::size_t j = 0; j < d; ++j) eta += X[i * d + j] * beta[j];
      f += softplus(eta) - y[i] * eta;
    }
    return f;
  }
  void gradient(std::span<const double> beta, std::span<double> g) const {
    std::fill(g.begin(), g.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      double eta = 0;
      for (std::size_t j = 0; j < d; ++j) eta += X[i * d + j] * beta[j];
      const double r = nabla::sigmoid(eta) - y[i];
      for (std::size_t j = 0; j < d; ++j) g[j] += r * X[i * d + j];
    }
  }
};

template <class F>
double seconds_per_call(F&& f, int calls) {
  const auto t0 = Clock::now();
  for (int i = 0; i < calls; ++i) f();
  return std::chrono::duration<double>(Clock::now() - t0).count() / calls;
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

volatile double sink = 0;

template <class Plain, class Grad, class Exact>
void row(const char* name, std::span<const double> x, Plain plain, Grad grad, Exact exact) {
  const std::size_t n = x.size();
  std::vector<double> g(n), ge(n);
  // Correctness first: the gradient must match the analytic one before it is timed.
  grad(x, std::span<double>(g));
  exact(x, std::span<double>(ge));
  for (std::size_t i = 0; i < n; ++i) {
    if (std::abs(g[i] - ge[i]) > 1e-9 * (1 + std::abs(ge[i]))) {
      fmt::print(stderr, "{}: gradient mismatch at {}: {} vs {}\n", name, i, g[i], ge[i]);
      std::exit(1);
    }
  }
  // Operation count and tape size from one recording.
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  std::size_t ops = 0, bytes = 0;
  {
    std::vector<nabla::Var> xs;
    for (double xi : x) xs.push_back(tape.variable(xi));
    const auto before = tape.statistics();
    (void)grad.record(std::span<const nabla::Var>(xs));
    const auto after = tape.statistics();
    ops = after.statements - before.statements;
    bytes = after.bytes_used - before.bytes_used;
    tape.clear();
  }
  // Calibrate the number of calls to ~20 ms per sample, then interleave samples.
  int calls = 1;
  while (seconds_per_call([&] { sink = sink + plain(x); }, calls) * calls < 0.02) calls *= 2;
  int gcalls = 1;
  while (seconds_per_call([&] { grad(x, std::span<double>(g)); }, gcalls) * gcalls < 0.02)
    gcalls *= 2;
  std::vector<double> tp, tg;
  for (int rep = 0; rep < 15; ++rep) {
    tp.push_back(seconds_per_call([&] { sink = sink + plain(x); }, calls));
    tg.push_back(seconds_per_call([&] { grad(x, std::span<double>(g)); }, gcalls));
  }
  const double p = median(tp), q = median(tg);
  fmt::print("| {} | {} | {:.3g} | {:.3g} | {:.2f} | {:.2f} | {:.1f} |\n", name, ops, p * 1e6,
             q * 1e6, q / p, q / static_cast<double>(ops) * 1e9,
             static_cast<double>(bytes) / static_cast<double>(ops));
}

// A gradient functor: grad(x, g) computes the gradient; grad.record(xs) records once.
template <class F>
struct Grad {
  F f;
  void operator()(std::span<const double> x, std::span<double> g) const {
    (void)nabla::gradient([&](std::span<const nabla::Var> v) { return f(v); }, x, g);
  }
  nabla::Var record(std::span<const nabla::Var> v) const { return f(v); }
};
template <class F>
Grad(F) -> Grad<F>;

}  // namespace

int main() {
  fmt::print("| function | elementary ops | plain (µs) | gradient (µs) | gradient / plain | ns per op "
             "| tape bytes per op |\n|---|---|---|---|---|---|---|\n");
  {
    std::vector<double> x(10000);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.1 * static_cast<double>(i));
    row("chained Rosenbrock, n = 10⁴", x, [](std::span<const double> v) { return rosenbrock(v); },
        Grad{[](std::span<const nabla::Var> v) { return rosenbrock(v); }}, rosenbrock_gradient);
  }
  {
    const Logistic model(10000, 10);
    std::vector<double> beta(10);
    for (std::size_t j = 0; j < beta.size(); ++j) beta[j] = 0.1 * static_cast<double>(j) - 0.4;
    row("logistic regression NLL, 10⁴ × 10", beta,
        [&](std::span<const double> b) { return model(b); },
        Grad{[&](std::span<const nabla::Var> b) { return model(b); }},
        [&](std::span<const double> b, std::span<double> g) { model.gradient(b, g); });
  }
  return 0;
}
