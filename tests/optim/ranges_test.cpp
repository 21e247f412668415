// minimize() and least_squares() from starting points given as ranges of doubles other than a
// std::vector (std::array, std::span, a C array); their errors are those of the vector form.
// (Eigen vectors: tests/autodiff/generic_test.cpp, which links Eigen.)
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <array>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <vector>

using namespace nabla::optim;
using nabla::Var;

namespace {
const auto rosenbrock = [](const auto& x) {
  return 100.0 * pow(x[1] - x[0] * x[0], 2) + pow(1.0 - x[0], 2);
};
template <class X>
concept Startable = requires(const X& x) {
  minimize(rosenbrock, x, LBFGS{});
};
}  // namespace

BOOST_AUTO_TEST_SUITE(start_ranges)

BOOST_AUTO_TEST_CASE(array_span_and_c_array_start_the_same_run) {
  const Result v = minimize(rosenbrock, std::vector{-1.2, 1.0}, LBFGS{});
  const std::array<double, 2> a = {-1.2, 1.0};
  const double c[] = {-1.2, 1.0};
  for (const Result& r :
       {minimize(rosenbrock, a, LBFGS{}), minimize(rosenbrock, std::span<const double>(a), LBFGS{}),
        minimize(rosenbrock, c, LBFGS{}, Stop{}, Observer{})}) {
    BOOST_TEST(r.x == v.x);
    BOOST_TEST(r.evaluations == v.evaluations);
  }
  BOOST_TEST(v.x[0] == 1.0, boost::test_tools::tolerance(1e-6));
  // With Bounds, and with a hand-written gradient.
  const Result b = minimize(rosenbrock, a, LBFGS{}, Bounds{.lower = {-2, -2}, .upper = {0.5, 2}});
  BOOST_TEST(b.x[0] == 0.5, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(b.x[1] == 0.25, boost::test_tools::tolerance(1e-6));
  const auto own = [](std::span<const double> x, std::span<double> g) {
    g[0] = 2 * (x[0] - 3);
    return (x[0] - 3) * (x[0] - 3);
  };
  const Result o = minimize(own, std::array{0.0}, GradientDescent{.lr = 0.25});
  BOOST_TEST(o.x[0] == 3.0, boost::test_tools::tolerance(1e-8));
  static_assert(Startable<std::array<double, 2>>);
  static_assert(!Startable<std::vector<float>>, "floats are not converted silently");
  static_assert(!Startable<std::array<int, 2>>);
}

BOOST_AUTO_TEST_CASE(least_squares_from_an_array) {
  const std::array<double, 4> t = {0, 1, 2, 3};
  const auto fit = least_squares(
      [&](const auto& p) {
        std::vector<std::decay_t<decltype(p[0])>> r;
        for (double ti : t) r.push_back(p[0] * exp(-p[1] * ti) - 2.0 * std::exp(-0.5 * ti));
        return r;
      },
      std::array{1.0, 0.1});
  BOOST_TEST(fit.x[0] == 2.0, boost::test_tools::tolerance(1e-8));
  BOOST_TEST(fit.x[1] == 0.5, boost::test_tools::tolerance(1e-8));
}

BOOST_AUTO_TEST_CASE(bad_starting_ranges_are_errors) {
  const std::array<double, 2> nan_start = {std::numeric_limits<double>::quiet_NaN(), 1.0};
  BOOST_CHECK_THROW((void)minimize(rosenbrock, nan_start, LBFGS{}), nabla::Error);
  const std::array<double, 0> empty{};
  BOOST_CHECK_THROW((void)minimize(rosenbrock, empty, LBFGS{}), nabla::Error);
  const std::array<double, 1> short_start = {0.0};
  BOOST_CHECK_THROW(
      (void)minimize(rosenbrock, short_start, LBFGS{}, Bounds{.lower = {0, 0}, .upper = {1, 1}}),
      nabla::Error);
}

BOOST_AUTO_TEST_SUITE_END()
