// Vectorised reductions: values and gradients against closed forms and finite differences,
// one statement each, constants dropped, size and domain errors.
#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

using nabla::Var;

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

BOOST_AUTO_TEST_SUITE_END()
