// Random expression DAGs (depth ≤ 8, shared sub-expressions) over the supported operations,
// differentiated by the tape and compared with finite differences. Seeds are fixed and printed.
#include <nabla/autodiff.hpp>

#include "random_expression.hpp"

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>
#include <vector>

using nabla::Var;

using random_expr::Expression;
using random_expr::random_expression;


BOOST_AUTO_TEST_CASE(random_expressions_match_finite_differences) {
  const std::uint64_t seed = 20261122;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> point(-2.0, 2.0);
  int failures = 0;
  for (int trial = 0; trial < 1200; ++trial) {
    const Expression e = random_expression(rng);
    std::vector<double> x(static_cast<std::size_t>(e.inputs));
    for (double& xi : x) xi = point(rng);
    const auto f = [&](std::span<const Var> v) { return e(v); };
    const auto r = nabla::value_and_gradient(f, x);
    BOOST_TEST(r.value == e(std::span<const double>(x)),
               "seed " << seed << ", trial " << trial << ": value differs from plain doubles");
    const auto report = nabla::check_gradient(f, x, {.rtol = 1e-6, .atol = 1e-8});
    if (!report.ok) ++failures;
    BOOST_TEST(report.ok, "seed " << seed << ", trial " << trial << ":\n" << fmt::format("{}", report));
  }
  BOOST_TEST(failures == 0);
}
