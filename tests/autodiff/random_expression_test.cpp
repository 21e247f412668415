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
    BOOST_TEST(report.ok, "seed " << seed << ", trial " << trial << ":\n"
                                  << fmt::format("{}", report));
  }
  BOOST_TEST(failures == 0);
}

// Second order on the same generator: every Hessian (forward over reverse, Dual<Var>) against
// Richardson differences of the reverse-mode gradient, and the Hessian diagonal (forward over
// forward) against the Hessian.
BOOST_AUTO_TEST_CASE(random_expression_hessians_match_differences_of_gradients) {
  const std::uint64_t seed = 20261130;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> point(-2.0, 2.0);
  int failures = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const Expression e = random_expression(rng);
    std::vector<double> x(static_cast<std::size_t>(e.inputs));
    for (double& xi : x) xi = point(rng);
    const auto f = [&](const auto& v) {
      using T = std::decay_t<decltype(v[0])>;
      return e(std::span<const T>(v.data(), v.size()));
    };
    const auto report = nabla::check_hessian(f, x, {.rtol = 1e-5, .atol = 1e-7});
    if (!report.ok) ++failures;
    BOOST_TEST(report.ok, "seed " << seed << ", trial " << trial << ":\n"
                                  << fmt::format("{}", report));
    const auto H = nabla::hessian(f, x);
    const auto diagonal = nabla::hessian_diagonal(f, x);
    for (std::size_t i = 0; i < x.size(); ++i) {
      BOOST_TEST(diagonal[i] == H(i, i), boost::test_tools::tolerance(1e-9));
    }
  }
  BOOST_TEST(failures == 0);
}

namespace {
// The textbook reverse sweep over the recorded statements, straight from the tape's reading
// interface: no carry, no skipping, no special cases. The optimised sweep must agree with it.
std::vector<double> reference_sweep(const nabla::Tape& tape, std::uint32_t output) {
  using nabla::detail::TapeInspect;
  std::vector<double> adjoint(tape.position().statement, 0.0);
  adjoint[output] = 1.0;
  for (std::uint32_t s = output; s >= 1; --s) {
    const auto ops = TapeInspect::operands(tape, s);
    const auto partials = TapeInspect::partials(tape, s);
    if (adjoint[s] == 0.0) continue;  // the convention: a zero adjoint pushes nothing
    for (std::size_t k = 0; k < ops.size(); ++k) adjoint[ops[k]] += partials[k] * adjoint[s];
  }
  return adjoint;
}
}  // namespace

BOOST_AUTO_TEST_CASE(the_optimised_sweep_matches_a_reference_sweep_on_random_tapes) {
  const std::uint64_t seed = 20261129;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> point(-2.0, 2.0);
  for (int trial = 0; trial < 400; ++trial) {
    const Expression e = random_expression(rng);
    std::vector<double> x(static_cast<std::size_t>(e.inputs));
    for (double& xi : x) xi = point(rng);
    nabla::Tape tape;
    nabla::Tape::Scope scope(tape);
    // An outer recording first, so the helper below runs nested (its floored sweep).
    const Var w = tape.variable(0.5);
    const Var outer = Var(w * w + 1.0);
    std::vector<Var> xs(x.size());
    tape.variables(x, xs);
    const Var y = e(std::span<const Var>(xs));
    if (y.is_constant()) continue;
    const std::vector<double> want = reference_sweep(tape, y.index());
    // backward(): every adjoint as the reference has it.
    tape.backward(y);
    // Equal up to the order of additions (the sweep adds two pushes into one statement before
    // adding them to its adjoint).
    const std::span<const double> adjoints = nabla::detail::TapeInspect::adjoints(tape);
    for (std::uint32_t s = 1; s < tape.position().statement; ++s) {
      const double got = adjoints[s];
      BOOST_TEST((got == want[s] || std::abs(got - want[s]) <= 1e-13 * (1 + std::abs(want[s]))),
                 "seed " << seed << ", trial " << trial << ", statement " << s << ": " << got
                         << " vs " << want[s]);
    }
    // The helper's consuming, floored sweep: the same gradient, nothing pushed below its start.
    tape.backward(outer);
    const double outer_adjoint = tape.adjoint_value(w);
    const auto r =
        nabla::value_and_gradient([&](std::span<const Var> v) { return Var(e(v) + w * 0.0); }, x);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double expected = want[xs[i].index()];
      BOOST_TEST((r.gradient[i] == expected ||
                  std::abs(r.gradient[i] - expected) <= 1e-12 * (1 + std::abs(expected))),
                 "seed " << seed << ", trial " << trial << ", input " << i << ": " << r.gradient[i]
                         << " vs " << expected);
    }
    BOOST_TEST(tape.adjoint_value(w) == outer_adjoint);
  }
}
