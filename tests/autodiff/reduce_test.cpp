// Vectorised reductions: values and gradients against closed forms and finite differences,
// one statement each, constants dropped, size and domain errors.
#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "ad_check.hpp"
#include "expect_error.hpp"

using nabla::Var;
using nabla::test::expect_error;

namespace {
std::vector<double> random_vector(std::size_t n, std::uint64_t seed, double lo = -2,
                                  double hi = 2) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = u(rng);
  return v;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(reduce)

BOOST_AUTO_TEST_CASE(sum_squared_norm_and_dot) {
  for (std::size_t n : {1u, 2u, 7u, 64u}) {
    const auto x = random_vector(2 * n, n);
    const auto sum = nabla::value_and_gradient([](const auto& v) { return nabla::sum(v); }, x);
    double s = 0;
    for (double xi : x) s += xi;
    BOOST_TEST(sum.value == s, boost::test_tools::tolerance(1e-14));
    for (double g : sum.gradient) BOOST_TEST(g == 1.0);
    const auto sq =
        nabla::value_and_gradient([](const auto& v) { return nabla::squared_norm(v); }, x);
    for (std::size_t i = 0; i < x.size(); ++i) BOOST_TEST(sq.gradient[i] == 2 * x[i]);
    const auto dot = [n](const auto& v) { return nabla::dot(v.first(n), v.last(n)); };
    const auto d = nabla::value_and_gradient(dot, x);
    double expected = 0;
    for (std::size_t i = 0; i < n; ++i) {
      expected += x[i] * x[n + i];
      BOOST_TEST(d.gradient[i] == x[n + i]);
      BOOST_TEST(d.gradient[n + i] == x[i]);
    }
    BOOST_TEST(d.value == expected, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(nabla::check_gradient(dot, x).ok);
    // Data times parameters, in both orders.
    const std::vector<double> w = random_vector(2 * n, 99);
    const auto wd = nabla::value_and_gradient(
        [&](const auto& v) {
          return nabla::dot(std::span<const double>(w), v) +
                 nabla::dot(v, std::span<const double>(w));
        },
        x);
    for (std::size_t i = 0; i < x.size(); ++i) BOOST_TEST(wd.gradient[i] == 2 * w[i]);
  }
}

BOOST_AUTO_TEST_CASE(reductions_are_one_statement_and_drop_constants) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  std::vector<Var> xs = {tape.variable(1.0), Var(2.0), tape.variable(3.0)};
  const auto before = tape.statistics();
  const Var s = nabla::sum(xs);
  BOOST_TEST(tape.statistics().statements == before.statements + 1);
  BOOST_TEST(tape.statistics().operands == before.operands + 2);  // the constant is dropped
  BOOST_TEST(s.value() == 6.0);
  BOOST_TEST(nabla::op_name(nabla::detail::TapeInspect::op(tape, s.index())) == "sum");
  const std::vector<Var> constants = {Var(1.0), Var(2.0)};
  BOOST_TEST(nabla::sum(constants).is_constant());
  // prod: the constant factor is in the value and the other partials, not an operand.
  const auto middle = tape.statistics();
  const Var p = nabla::prod(xs);
  BOOST_TEST(tape.statistics().statements == middle.statements + 1);
  BOOST_TEST(tape.statistics().operands == middle.operands + 2);
  BOOST_TEST(p.value() == 6.0);
  BOOST_TEST(nabla::op_name(nabla::detail::TapeInspect::op(tape, p.index())) == "prod");
  tape.backward(p);
  BOOST_TEST(tape.adjoint(xs[0]) == 6.0);
  BOOST_TEST(tape.adjoint(xs[2]) == 2.0);
  const Var c = nabla::prod(constants);
  BOOST_TEST(c.is_constant());
  BOOST_TEST(c.value() == 2.0);
}

BOOST_AUTO_TEST_CASE(normal_log_density) {
  const auto y = random_vector(50, 5, -3, 5);
  for (double mu : {-1.0, 0.3, 2.0})
    for (double sigma : {0.1, 1.0, 4.5}) {
      const auto f = [&](const auto& v) { return nabla::normal_log_density(y, v[0], v[1]); };
      const auto r = nabla::value_and_gradient(f, {mu, sigma});
      double lp = 0, dmu = 0, dsigma = 0;
      for (double yi : y) {
        const double z = (yi - mu) / sigma;
        lp += -0.5 * z * z - std::log(sigma) - 0.5 * std::log(2 * std::numbers::pi);
        dmu += z / sigma;
        dsigma += z * z / sigma - 1 / sigma;
      }
      BOOST_TEST(r.value == lp, boost::test_tools::tolerance(1e-12));
      BOOST_TEST(r.gradient[0] == dmu, boost::test_tools::tolerance(1e-12));
      BOOST_TEST(r.gradient[1] == dsigma, boost::test_tools::tolerance(1e-12));
      BOOST_TEST(nabla::check_gradient(f, {mu, sigma}).ok);
      // Variable observations: the same value, and gradients for y too.
      std::vector<double> all(y);
      all.push_back(mu);
      all.push_back(sigma);
      const auto g = [&](const auto& v) {
        return nabla::normal_log_density(v.first(y.size()), v[y.size()], v[y.size() + 1]);
      };
      const auto ry = nabla::value_and_gradient(g, all);
      BOOST_TEST(ry.value == r.value, boost::test_tools::tolerance(1e-14));
      BOOST_TEST(ry.gradient[y.size()] == dmu, boost::test_tools::tolerance(1e-12));
      BOOST_TEST(ry.gradient[0] == -(y[0] - mu) / (sigma * sigma),
                 boost::test_tools::tolerance(1e-12));
      BOOST_TEST(nabla::check_gradient(g, all).ok);
    }
}

BOOST_AUTO_TEST_CASE(errors) {
  const std::vector<double> a = {1.0, 2.0};
  std::vector<Var> b = {Var(1.0)};
  BOOST_CHECK_THROW(nabla::dot(std::span<const double>(a), b), nabla::Error);
  BOOST_CHECK_THROW(nabla::normal_log_density(a, Var(0.0), Var(-1.0)), nabla::Error);
  BOOST_CHECK_THROW(nabla::normal_log_density(a, Var(0.0), Var(0.0)), nabla::Error);
}

// ---- Runs (Note [Reduction runs] in reduce.cpp) ----
//
// A reduction whose operands are consecutive statements (n >= 16) is recorded as one node; any
// other call takes the general path. The checker records each function three ways — the
// gradient helper's inputs (a run), inputs interleaved with unrelated variables (the general
// path), and a tape recording diagnostics (the general path) — and requires the same value
// and the same gradient bit for bit, then the closed form, then finite differences at a few
// coordinates.

namespace {

using nabla::test::inf;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

using Reduction = std::function<Var(std::span<const Var>)>;
using Plain = std::function<double(std::span<const double>)>;
using ClosedForm = std::function<std::vector<double>(std::span<const double>)>;

struct Recorded {
  double value;
  std::vector<double> gradient;
};

// Inputs recorded one by one, each followed by an unrelated variable: never a run.
Recorded interleaved(const Reduction& f, std::span<const double> x, bool diagnose = false) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  if (diagnose) tape.set_diagnostics({.enabled = true});
  std::vector<Var> v(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    v[i] = tape.variable(x[i]);
    if (!diagnose) (void)tape.variable(0.0);
  }
  const Var y = f(v);
  Recorded r{y.value(), std::vector<double>(x.size(), 0.0)};
  if (y.is_constant()) return r;
  tape.backward(y);
  for (std::size_t i = 0; i < x.size(); ++i) r.gradient[i] = tape.adjoint_value(v[i]);
  return r;
}

void expect_reduction(const std::string& name, const Reduction& f, const Plain& plain,
                      const ClosedForm& closed_form, const std::vector<double>& x,
                      std::size_t run_length, bool differences = true) {
  const std::string at = name + " (n = " + std::to_string(x.size()) + ")";
  const auto run = nabla::value_and_gradient([&](std::span<const Var> v) { return f(v); }, x);
  // The run form records no operand: the statement's operands are empty (a node).
  {
    nabla::Tape tape;
    nabla::Tape::Scope scope(tape);
    std::vector<Var> v(x.size());
    tape.variables(x, v);
    const auto before = tape.statistics();
    (void)f(v);
    // Runs of 16 or more are nodes; shorter ones record their operands.
    BOOST_TEST((tape.statistics().operands == before.operands) == (run_length >= 16), at);
  }
  const Recorded general = interleaved(f, x), diagnosed = interleaved(f, x, true);
  nabla::test::expect_same_value(at + " value, general path", general.value, run.value);
  nabla::test::expect_same_value(at + " value, diagnostics", diagnosed.value, run.value);
  nabla::test::expect_same_value(at + " value, doubles", plain(x), run.value);
  const std::vector<double> exact = closed_form(x);
  std::vector<double> probe(x);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::string wrt = at + " d/dx" + std::to_string(i);
    nabla::test::expect_same_value(wrt + ", general path", general.gradient[i], run.gradient[i]);
    nabla::test::expect_same_value(wrt + ", diagnostics", diagnosed.gradient[i], run.gradient[i]);
    const bool probed = differences && (i < 3 || i + 3 >= x.size() || i == x.size() / 2);
    const auto along = [&](double t) {
      probe[i] = t;
      const double v = plain(probe);
      probe[i] = x[i];
      return v;
    };
    nabla::test::expect_partial(wrt, run.gradient[i], exact[i], along, x[i],
                                probed ? nabla::test::fd_step(x[i], inf, 1.0) : 0.0);
  }
}

// The plain-double loops and closed forms.
double plain_sum(std::span<const double> x) {
  double s = 0;
  for (double v : x) s += v;
  return s;
}
double plain_prod(std::span<const double> x) {
  double p = 1;
  for (double v : x) p *= v;
  return p;
}
// Πⱼ≠ᵢ xⱼ, each partial its own product in index order.
std::vector<double> prod_closed_form(std::span<const double> x) {
  std::vector<double> g(x.size(), 1.0);
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = 0; j < x.size(); ++j)
      if (j != i) g[i] *= x[j];
  return g;
}
double plain_dot(std::span<const double> a, std::span<const double> b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
double plain_density(std::span<const double> y, double m, double s) {
  double squares = 0;
  for (double yi : y) {
    const double z = (yi - m) / s;
    squares += z * z;
  }
  const double n = static_cast<double>(y.size());
  return -0.5 * squares - n * (std::log(s) + 0.91893853320467274178);  // ½ ln 2π
}

std::vector<std::vector<double>> awkward_points(std::size_t n, std::uint64_t seed) {
  std::vector<std::vector<double>> points = {random_vector(n, seed),
                                             random_vector(n, seed + 1, -1e3, 1e3)};
  auto tiny = random_vector(n, seed + 2);
  for (double& v : tiny) v *= 1e-300;
  points.push_back(tiny);
  auto huge = random_vector(n, seed + 3);
  for (double& v : huge) v *= 1e300;
  points.push_back(huge);
  for (double special : {nan, inf, -inf}) {
    auto p = random_vector(n, seed + 4);
    p[n / 2] = special;
    points.push_back(p);
  }
  return points;
}

}  // namespace

BOOST_AUTO_TEST_CASE(runs_match_the_general_path_and_closed_forms) {
  for (std::size_t n : {1u, 2u, 15u, 16u, 17u, 100u, 1000u}) {
    for (const auto& x : awkward_points(n, n)) {
      expect_reduction(
          "sum", [](std::span<const Var> v) { return nabla::sum(v); }, plain_sum,
          [](std::span<const double> v) { return std::vector<double>(v.size(), 1.0); }, x, n);
      if (x.size() <= 100 || std::abs(x[1]) < 1e3)  // (the other products overflow)
        expect_reduction(
            "prod", [](std::span<const Var> v) { return nabla::prod(v); }, plain_prod,
            prod_closed_form, x, n);
      expect_reduction(
          "squared_norm", [](std::span<const Var> v) { return nabla::squared_norm(v); },
          [](std::span<const double> v) { return plain_dot(v, v); },
          [](std::span<const double> v) {
            std::vector<double> g(v.begin(), v.end());
            for (double& gi : g) gi *= 2;
            return g;
          },
          x, n);
      const std::vector<double> w = random_vector(n, 77);
      expect_reduction(
          "dot(data, x)",
          [&](std::span<const Var> v) { return nabla::dot(std::span<const double>(w), v); },
          [&](std::span<const double> v) { return plain_dot(w, v); },
          [&](std::span<const double>) { return w; }, x, n);
      expect_reduction(
          "dot(x, data)",
          [&](std::span<const Var> v) { return nabla::dot(v, std::span<const double>(w)); },
          [&](std::span<const double> v) { return plain_dot(w, v); },
          [&](std::span<const double>) { return w; }, x, n);
      // Two variable vectors: x and its mirror image as the second operand.
      std::vector<double> ab(x);
      ab.insert(ab.end(), w.begin(), w.end());
      expect_reduction(
          "dot(a, b)", [n](std::span<const Var> v) { return nabla::dot(v.first(n), v.last(n)); },
          [n](std::span<const double> v) { return plain_dot(v.first(n), v.last(n)); },
          [n](std::span<const double> v) {
            std::vector<double> g(2 * n);
            for (std::size_t i = 0; i < n; ++i) {
              g[i] = v[n + i];
              g[n + i] = v[i];
            }
            return g;
          },
          ab, n);
      expect_reduction(
          "log_sum_exp", [](std::span<const Var> v) { return nabla::log_sum_exp(v); },
          [](std::span<const double> v) { return nabla::log_sum_exp(v); },
          [](std::span<const double> v) {
            nabla::detail::LogSumExp k;
            for (double t : v) k.see(t);
            for (double t : v) k.add(t);
            std::vector<double> g;
            for (double t : v) g.push_back(k.weight(t));
            return g;
          },
          x, n);
      // Variable observations, μ and σ: y = x, then μ, σ.
      for (const auto& [m, s] : {std::pair{0.3, 1.5}, std::pair{-2.0, 1e-200},
                                 std::pair{1e3, 1e200}, std::pair{0.0, 7.0}}) {
        std::vector<double> all(x);
        all.push_back(m);
        all.push_back(s);
        expect_reduction(
            "normal_log_density(y, mu, sigma)",
            [n](std::span<const Var> v) {
              return nabla::normal_log_density(v.first(n), v[n], v[n + 1]);
            },
            [n](std::span<const double> v) { return plain_density(v.first(n), v[n], v[n + 1]); },
            [n](std::span<const double> v) {
              const double mu = v[n], sigma = v[n + 1];
              std::vector<double> g(n + 2);
              double residuals = 0, squares = 0;
              for (std::size_t i = 0; i < n; ++i) {
                const double z = (v[i] - mu) / sigma;
                residuals += z;
                squares += z * z;
                g[i] = -z / sigma;
              }
              g[n] = residuals / sigma;
              g[n + 1] = (squares - static_cast<double>(n)) / sigma;
              return g;
            },
            all, n, std::abs(s) < 1e100 && s > 1e-100);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(prod_is_the_loop_at_zeros_overflow_and_non_finite_factors) {
  // nabla::prod's value and partials are what `p *= x[i]` records and sweeps, bit for bit:
  // zeros (the partials without a division), overflow and non-finite factors, and the
  // reverse sweep's rule that a zero adjoint pushes nothing on (an overflow before a zero
  // factor leaves the partials before it 0, not NaN).
  const double big = 1e300, tiny = 1e-300;
  std::vector<std::vector<double>> points = {
      {},
      {3.0},
      {0.0},
      {2.0, 0.0, 5.0},
      {0.0, -3.0, 0.0, 4.0},
      {big, big, 0.0, 5.0},
      {big, big, big, 0.0},
      {0.0, big, big, 2.0},
      {tiny, tiny, 0.5, big},
      {inf, 2.0, -3.0},
      {2.0, -inf, 0.0},
      {0.0, inf},
      {nan, 2.0, 0.0},
      {-0.0, 2.0, -1.0},
  };
  // Runs too: 20 factors, the zeros and the infinity among them.
  std::vector<double> long_one = random_vector(20, 5);
  long_one[3] = 0.0;
  long_one[11] = inf;
  points.push_back(long_one);
  long_one[15] = 0.0;
  points.push_back(long_one);
  for (const auto& x : points) {
    const std::string at = "prod at " + std::to_string(x.size()) + " factors, x0 = " +
                           (x.empty() ? std::string("-") : std::to_string(x[0]));
    const auto reduced =
        nabla::value_and_gradient([](std::span<const Var> v) { return nabla::prod(v); }, x);
    const auto looped = nabla::value_and_gradient(
        [](std::span<const Var> v) {
          Var p = 1.0;
          for (const Var& vi : v) p *= vi;
          return p;
        },
        x);
    nabla::test::expect_same_value(at + " value", reduced.value, looped.value);
    nabla::test::expect_same_value(at + " value, doubles", reduced.value, plain_prod(x));
    for (std::size_t i = 0; i < x.size(); ++i)
      nabla::test::expect_same_value(at + " d/dx" + std::to_string(i), reduced.gradient[i],
                                     looped.gradient[i]);
  }
  // Under an outer adjoint (3 · prod, log prod) the gradient is a · Πⱼ≠ᵢ xⱼ: the loop's up to
  // rounding at regular points.
  const std::vector<double> regular = random_vector(20, 9);
  for (const bool take_log : {false, true}) {
    const auto outer = [take_log](std::span<const Var> v) {
      const Var p = nabla::prod(v);
      return take_log ? Var(log(abs(p))) : Var(3.0 * p);
    };
    const auto outer_loop = [take_log](std::span<const Var> v) {
      Var p = 1.0;
      for (const Var& vi : v) p *= vi;
      return take_log ? Var(log(abs(p))) : Var(3.0 * p);
    };
    const auto a = nabla::value_and_gradient(outer, regular);
    const auto b = nabla::value_and_gradient(outer_loop, regular);
    BOOST_TEST(a.value == b.value);
    for (std::size_t i = 0; i < regular.size(); ++i)
      BOOST_TEST(nabla::test::close(a.gradient[i], b.gradient[i], 1e-14, 0.0),
                 "d/dx" << i << ": " << a.gradient[i] << " vs " << b.gradient[i]);
  }
  // No factor: the constant 1, nothing recorded.
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const auto before = tape.statistics().statements;
  const Var one = nabla::prod(std::span<const Var>());
  BOOST_TEST(one.is_constant());
  BOOST_TEST(one.value() == 1.0);
  BOOST_TEST(tape.statistics().statements == before);
}

BOOST_AUTO_TEST_CASE(runs_at_a_million_inputs) {
  const std::size_t n = std::size_t{1} << 20;
  const auto x = random_vector(n, 3);
  const auto s = nabla::value_and_gradient([](const auto& v) { return nabla::sum(v); }, x);
  BOOST_TEST(s.value == plain_sum(x));
  BOOST_TEST(std::all_of(s.gradient.begin(), s.gradient.end(), [](double g) { return g == 1; }));
  const auto w = random_vector(n, 4);
  const auto d = nabla::value_and_gradient(
      [&](const auto& v) { return nabla::dot(std::span<const double>(w), v); }, x);
  BOOST_TEST(d.value == plain_dot(w, x));
  BOOST_TEST(d.gradient == w);
  // The helper's tape keeps nothing: the node and its weights are given back.
  BOOST_TEST(nabla::Tape::active().statistics().tensor_bytes == 0u);
}

BOOST_AUTO_TEST_CASE(repeated_constant_and_out_of_order_operands_take_the_general_path) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const auto values = random_vector(40, 8);
  std::vector<Var> x(40);
  tape.variables(values, x);
  // Repeated: x₀ forty times; the gradient counts every use.
  const std::vector<Var> repeated(40, x[0]);
  tape.backward(nabla::sum(repeated));
  BOOST_TEST(tape.adjoint_value(x[0]) == 40.0);
  // A constant inside an otherwise consecutive run: dropped, the others still receive.
  std::vector<Var> holed(x);
  holed[20] = Var(5.0);
  const Var s = nabla::sum(holed);
  BOOST_TEST(s.value() == plain_sum(values) - values[20] + 5.0,
             boost::test_tools::tolerance(1e-14));
  tape.backward(s);
  BOOST_TEST(tape.adjoint_value(x[20]) == 0.0);
  BOOST_TEST(tape.adjoint_value(x[19]) == 1.0);
  // Reversed, and every other input: not consecutive.
  const std::vector<Var> reversed(x.rbegin(), x.rend());
  const Var r = nabla::dot(std::span<const double>(values), reversed);
  tape.backward(r);
  for (std::size_t i = 0; i < 40; ++i) BOOST_TEST(tape.adjoint_value(x[i]) == values[39 - i]);
  std::vector<Var> strided;
  for (std::size_t i = 0; i < 40; i += 2) strided.push_back(x[i]);
  const Var l = nabla::log_sum_exp(strided);
  tape.backward(l);
  BOOST_TEST(tape.adjoint_value(x[1]) == 0.0);
  BOOST_TEST(tape.adjoint_value(x[0]) > 0.0);
  // Overlapping runs: dot(x, x) is Σ xᵢ², ∂ = 2xᵢ.
  const std::span<const Var> all(x);
  tape.backward(nabla::dot(all, all));
  for (std::size_t i = 0; i < 40; ++i) BOOST_TEST(tape.adjoint_value(x[i]) == 2 * values[i]);
  // μ and σ among the observations, all constants.
  tape.backward(nabla::normal_log_density(all, x[0], x[1]));
  BOOST_TEST(std::isfinite(tape.adjoint_value(x[0])));
  const std::vector<Var> constants(40, Var(1.0));
  BOOST_TEST(nabla::sum(constants).is_constant());
  BOOST_TEST(nabla::dot(std::span<const double>(values), constants).is_constant());
  BOOST_TEST(nabla::log_sum_exp(constants).is_constant());
  BOOST_TEST(nabla::normal_log_density(constants, Var(0.0), Var(1.0)).is_constant());
  // Empty: constants, or the documented error.
  BOOST_TEST(nabla::sum(std::span<const Var>()).value() == 0.0);
  BOOST_TEST(nabla::dot(std::span<const Var>(), std::span<const Var>()).is_constant());
  BOOST_CHECK_THROW(nabla::log_sum_exp(std::span<const Var>()), nabla::Error);
}

BOOST_AUTO_TEST_CASE(runs_of_reduction_outputs_and_the_gradient_helpers) {
  // η = Xβ, one dot per row: the dots are consecutive statements, so sum(η) is a run too.
  const std::size_t m = 30, d = 20;
  const auto X = random_vector(m * d, 9);
  const auto beta = random_vector(d, 10);
  const auto f = [&](const auto& b) {
    using T = std::decay_t<decltype(b[0])>;
    std::vector<T> eta;
    for (std::size_t i = 0; i < m; ++i)
      eta.push_back(nabla::dot(std::span<const double>(X).subspan(i * d, d), b));
    return T(nabla::sum(std::span<const T>(eta)) + nabla::squared_norm(std::span<const T>(eta)));
  };
  const auto r = nabla::value_and_gradient(f, beta);
  std::vector<double> g(d, 0.0);
  for (std::size_t i = 0; i < m; ++i) {
    double eta = 0;
    for (std::size_t j = 0; j < d; ++j) eta += X[i * d + j] * beta[j];
    for (std::size_t j = 0; j < d; ++j) g[j] += (1 + 2 * eta) * X[i * d + j];
  }
  for (std::size_t j = 0; j < d; ++j)
    BOOST_TEST(r.gradient[j] == g[j], boost::test_tools::tolerance(1e-12));
  BOOST_TEST(nabla::check_gradient(f, beta).ok);
  // Jacobians: one consuming sweep per output, on one recording.
  const auto J = nabla::jacobian(
      [](std::span<const Var> v) {
        return std::vector<Var>{nabla::sum(v), nabla::log_sum_exp(v), nabla::sum(v) * 2.0};
      },
      random_vector(32, 12));
  for (std::size_t j = 0; j < 32; ++j) {
    BOOST_TEST(J(0, j) == 1.0);
    BOOST_TEST(J(2, j) == 2.0);
  }
}

BOOST_AUTO_TEST_CASE(nested_helpers_do_not_push_below_their_floor) {
  // The inner gradient's reduction reads the outer inputs (a run recorded before the inner
  // helper's floor): its sweep must leave them alone, and the outer gradient stays exact.
  const auto x0 = random_vector(24, 13);
  const auto outer = [](std::span<const Var> x) {
    const auto inner = nabla::gradient(
        [&](std::span<const Var> u) { return u[0] * nabla::sum(x) + nabla::dot(x, x) * u[0]; },
        std::vector<double>{2.0});
    (void)inner;
    return nabla::sum(x) * 3.0;
  };
  const auto r = nabla::value_and_gradient(outer, x0);
  for (double g : r.gradient) BOOST_TEST(g == 3.0);
}

BOOST_AUTO_TEST_CASE(runs_keep_the_tape_checks) {
  const auto values = random_vector(32, 14);
  std::vector<Var> x(32);
  {
    nabla::Tape other;
    nabla::Tape::Scope scope(other);
    other.variables(values, x);
    nabla::Tape mine;
    nabla::Tape::Scope inner(mine);
    expect_error([&] { (void)nabla::sum(x); }, {"nabla::Var", "is not on"});
    expect_error([&] { (void)nabla::dot(std::span<const double>(values), x); }, {"is not on"});
    expect_error([&] { (void)nabla::log_sum_exp(x); }, {"is not on"});
    expect_error([&] { (void)nabla::normal_log_density(x, Var(0.0), Var(1.0)); }, {"is not on"});
  }
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const nabla::Position start = tape.position();
  tape.variables(values, x);
  tape.rewind(start);
  expect_error([&] { (void)nabla::sum(x); }, {"nabla::Var", "rewound"});
  expect_error([&] { (void)nabla::dot(x, x); }, {"rewound"});
  // Half rewound: the live half's ids run on into the stale half's.
  tape.variables(values, x);
  const nabla::Position half{start.statement + 16, start.operand};
  tape.rewind(half);
  expect_error([&] { (void)nabla::sum(x); }, {"rewound"});
  expect_error([&] { (void)nabla::squared_norm(x); }, {"rewound"});
  // Old-epoch inputs still on the tape (recorded before a rewind above them) are fine.
  // The rewind to `half` began a new block: the live half is a run of consecutive statements
  // in an older block, which takes the general path.
  std::vector<Var> live(x.begin(), x.begin() + 16);
  const Var old_epoch = nabla::sum(live);
  BOOST_TEST(old_epoch.value() == plain_sum(std::span<const double>(values).first(16)));
  tape.backward(old_epoch);
  for (const Var& v : live) BOOST_TEST(tape.adjoint_value(v) == 1.0);
  std::vector<Var> more(20);
  tape.variables(random_vector(20, 15), more);
  live.insert(live.end(), more.begin(), more.end());
  const Var s = nabla::sum(live);
  tape.backward(s);
  for (const Var& v : live) BOOST_TEST(tape.adjoint_value(v) == 1.0);
}

BOOST_AUTO_TEST_SUITE_END()
