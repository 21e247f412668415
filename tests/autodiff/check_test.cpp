// check_gradient: agrees on right gradients, flags wrong ones, directional mode, the report.
#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>

using nabla::Var;

namespace {
// x·sin(y) as a custom operation, optionally with a wrong partial for y.
Var x_sin_y(const Var& x, const Var& y, bool wrong) {
  const double dy = x.value() * std::cos(y.value()) * (wrong ? 1.01 : 1.0);
  return nabla::custom(x.value() * std::sin(y.value()), {x, y}, {std::sin(y.value()), dy});
}
}  // namespace

BOOST_AUTO_TEST_SUITE(check)

BOOST_AUTO_TEST_CASE(right_gradients_pass) {
  const auto f = [](const auto& x) {
    return x_sin_y(x[0], x[1], false) + exp(x[0]) * log1p(x[1] * x[1]);
  };
  for (double a : {-2.0, 0.0, 0.3, 5.0})
    for (double b : {-1.0, 0.0, 2.5, 100.0}) {
      const auto report = nabla::check_gradient(f, {a, b});
      BOOST_TEST(report.ok, fmt::format("{}", report));
      BOOST_TEST(report.rows.size() == 2u);
      BOOST_TEST(!report.directional);
    }
}

BOOST_AUTO_TEST_CASE(a_wrong_custom_partial_is_flagged) {
  const auto f = [](const auto& x) { return x_sin_y(x[0], x[1], true) + x[0] * x[0]; };
  const auto report = nabla::check_gradient(f, {1.5, 0.7});
  BOOST_TEST(!report.ok);
  BOOST_TEST(report.rows[0].ok);   // d/dx is right
  BOOST_TEST(!report.rows[1].ok);  // d/dy is 1% off
  BOOST_TEST(report.rows[1].rel_error == 0.01 / 1.01, boost::test_tools::tolerance(1e-4));
  const std::string table = fmt::format("{}", report);
  BOOST_TEST(table.find("FAILED") != std::string::npos);
  BOOST_TEST(table.find("<- disagree") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(numeric_values_are_accurate) {
  // Richardson extrapolation: the numeric derivative of exp at 1 is right to ~1e-10.
  const auto report = nabla::check_gradient([](const auto& x) { return exp(x[0]); }, {1.0});
  BOOST_TEST(report.rows[0].numeric == std::exp(1.0), boost::test_tools::tolerance(1e-10));
  BOOST_TEST(report.max_rel_error < 1e-9);
}

BOOST_AUTO_TEST_CASE(directional_mode_for_large_inputs) {
  const std::size_t n = 500;
  std::vector<double> x(n);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  for (double& xi : x) xi = u(rng);
  const auto f = [](const auto& v) {
    Var s = 0.0;
    for (std::size_t i = 0; i + 1 < v.size(); ++i) s += sin(v[i]) * v[i + 1];
    return s;
  };
  const auto report = nabla::check_gradient(f, x);  // automatic: directional above 100 inputs
  BOOST_TEST(report.directional);
  BOOST_TEST(report.rows.size() == 8u);
  BOOST_TEST(report.ok, fmt::format("{}", report));
  // Same seed, same directions, same report.
  const auto again = nabla::check_gradient(f, x);
  BOOST_TEST(again.rows[3].numeric == report.rows[3].numeric);
  // A wrong partial in one coordinate is caught along random directions too.
  const auto g = [&](const auto& v) { return f(v) + x_sin_y(v[10], v[20], true); };
  BOOST_TEST(
      !nabla::check_gradient(g, x, {.mode = nabla::CheckMode::directional, .directions = 4}).ok);
}

BOOST_AUTO_TEST_CASE(invalid_options_throw) {
  const auto f = [](const auto& x) { return x[0]; };
  BOOST_CHECK_THROW(nabla::check_gradient(f, {1.0}, {.step = -1}), nabla::Error);
  BOOST_CHECK_THROW(nabla::check_gradient(f, {1.0}, {.rtol = std::nan("")}), nabla::Error);
  BOOST_CHECK_THROW(
      nabla::check_gradient(f, {1.0}, {.mode = nabla::CheckMode::directional, .directions = 0}),
      nabla::Error);
}

BOOST_AUTO_TEST_SUITE_END()
