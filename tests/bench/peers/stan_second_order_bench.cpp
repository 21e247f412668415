// Second derivatives on Stan Math (Debian's r-cran-stanheaders 2.21): stan::math::gradient
// (var), stan::math::hessian_times_vector (fvar<var> along v, then one reverse sweep) and the
// dense stan::math::hessian (one fvar<var> pass and sweep per input) on the suite's functions
// (suite.hpp, T = var or fvar<var>). Each row first checks the gradient against the suite's
// analytic one, and H·v (from hessian_times_vector and from the dense H) against central
// differences of the analytic gradient, then times the three interleaved in one process (medians
// of 15 samples of ≥ 20 ms; `small`: 3 of ≥ 2 ms). Prints the same columns as
// `second_order_bench --times`, so the rows can be put side by side.
// Usage: stan_second_order_bench [small]. Built with -Dbench_peers=enabled.
// stan/math.hpp is reverse mode only in 2.21: the mixed (fvar<var>) functionals are here.
#include <stan/math/mix/mat.hpp>

#include <span>
#include <vector>

namespace bench {
// Stan's name for softplus, declared before the suite so its templates find it.
inline stan::math::var softplus(const stan::math::var& x) { return stan::math::log1p_exp(x); }
template <class T>
stan::math::fvar<T> softplus(const stan::math::fvar<T>& x) {
  return stan::math::log1p_exp(x);
}
}  // namespace bench

#include "../harness.hpp"

namespace {

using Vector = Eigen::Matrix<double, Eigen::Dynamic, 1>;
// Microseconds with three significant digits, without an exponent.
std::string microseconds(double seconds) {
  const double us = seconds * 1e6;
  return us < 1000 ? fmt::format("{:.3g}", us) : fmt::format("{:.0f}", us);
}

using bench::calibrate;
using bench::median;
using bench::seconds_per_call;

// A suite function as Stan's functionals call it: on an Eigen vector of any scalar type.
template <class F>
struct OnEigen {
  const F& f;
  template <class T>
  T operator()(const Eigen::Matrix<T, Eigen::Dynamic, 1>& x) const {
    return f(std::span<const T>(x.data(), static_cast<std::size_t>(x.size())));
  }
};

void require_close(std::string_view name, const char* what, const Vector& got,
                   const Vector& expected, double tolerance) {
  for (Eigen::Index i = 0; i < got.size(); ++i) {
    if (!(std::abs(got(i) - expected(i)) <= tolerance * (1 + std::abs(expected(i))))) {
      fmt::print(stderr, "{}: {} mismatch at {}: {} vs {}\n", name, what, i, got(i), expected(i));
      std::exit(1);
    }
  }
}

template <class F>
void row(std::string_view name, const F& f, const std::vector<double>& x0, bool dense) {
  const std::size_t n = x0.size();
  const OnEigen<F> fe{f};
  const Vector x = Eigen::Map<const Vector>(x0.data(), static_cast<Eigen::Index>(n));
  const std::vector<double> v0 = bench::random_vector(n, 11, -1, 1);  // as second_order_bench
  const Vector v = Eigen::Map<const Vector>(v0.data(), static_cast<Eigen::Index>(n));
  // Correctness: the gradient against the analytic one, H·v against central differences of it.
  Vector exact(n), g(n), hv(n), gp(n), gm(n), grad_h(n);
  Eigen::MatrixXd H(n, n);
  double fx = 0;
  f.gradient(x0, std::span<double>(exact.data(), n));
  stan::math::gradient(fe, x, fx, g);
  require_close(name, "gradient", g, exact, 1e-8);
  const double h = 1e-5;
  const Vector xp = x + h * v, xm = x - h * v;
  f.gradient(std::span<const double>(xp.data(), n), std::span<double>(gp.data(), n));
  f.gradient(std::span<const double>(xm.data(), n), std::span<double>(gm.data(), n));
  const Vector numeric = (gp - gm) / (2 * h);
  stan::math::hessian_times_vector(fe, x, v, fx, hv);
  require_close(name, "hessian_times_vector", hv, numeric, 1e-5);
  if (dense) {
    stan::math::hessian(fe, x, fx, grad_h, H);
    require_close(name, "hessian · v", H * v, numeric, 1e-5);
  }
  const auto grad = [&] {
    stan::math::gradient(fe, x, fx, g);
    bench::sink = bench::sink + g(0);
  };
  const auto hvp = [&] {
    stan::math::hessian_times_vector(fe, x, v, fx, hv);
    bench::sink = bench::sink + hv(0);
  };
  const auto hess = [&] {
    stan::math::hessian(fe, x, fx, grad_h, H);
    bench::sink = bench::sink + H(0, 0);
  };
  const long cg = calibrate(grad), ch = calibrate(hvp), cH = dense ? calibrate(hess) : 0;
  std::vector<double> tg, th, tH;
  for (int rep = 0; rep < bench::samples; ++rep) {
    tg.push_back(seconds_per_call(grad, cg));
    th.push_back(seconds_per_call(hvp, ch));
    if (dense) tH.push_back(seconds_per_call(hess, cH));
  }
  const double q = median(tg), hh = median(th), hd = dense ? median(tH) : 0;
  fmt::print("| {} | {} | {} | {} | {} | {:.2f} | {} |\n", name, n, microseconds(q),
             microseconds(hh), dense ? microseconds(hd) : std::string("–"), hh / q,
             dense ? fmt::format("{:.1f}", hd / q) : std::string("–"));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  bool small = false;
  for (int i = 1; i < argc; ++i) small = small || std::string_view(argv[i]) == "small";
  if (small) {
    bench::sample_seconds = 0.002;
    bench::samples = 3;
  }
  fmt::print(
      "| function | inputs | gradient (µs) | HVP (µs) | dense Hessian (µs) | HVP / gradient | "
      "dense Hessian / gradient |\n|---|---|---|---|---|---|---|\n");
  row("chained Rosenbrock", bench::Rosenbrock{}, bench::random_vector(100, 1, -1, 1), true);
  row("logistic regression NLL, 100×10", bench::Logistic(100, 10),
      bench::random_vector(10, 1, -0.5, 0.5), true);
  const bench::Mlp mlp(16, 32, 16, 10);
  row("MLP loss, batch 16, 32-16-10, tanh", mlp,
      bench::random_vector(mlp.parameters(), 1, -0.3, 0.3), false);
  if (!small) {
    row("logistic regression NLL, 1000×100", bench::Logistic(1000, 100),
        bench::random_vector(100, 1, -0.2, 0.2), true);
  }
  return 0;
}
