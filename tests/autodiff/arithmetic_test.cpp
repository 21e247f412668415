// Operators on Var: every mix Var∘Var, Var∘double, double∘Var; compound assignment; comparisons.
#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>
#include <sstream>

#include "ad_check.hpp"

using namespace nabla::test;
using nabla::Var;

BOOST_AUTO_TEST_SUITE(arithmetic)

BOOST_AUTO_TEST_CASE(binary_operators) {
  std::vector<std::pair<double, double>> points;
  for (double a : {-1e6, -3.0, -0.5, 1e-9, 0.0, 2.0, 7.5})
    for (double b : {-4.0, -1e-3, 0.25, 3.0, 1e8}) points.emplace_back(a, b);
  const auto one = [](double, double) { return 1.0; };
  expect_binary(
      "+", [](auto a, auto b) { return a + b; }, one, one, points);
  expect_binary(
      "-", [](auto a, auto b) { return a - b; }, one, [](double, double) { return -1.0; }, points);
  expect_binary(
      "*", [](auto a, auto b) { return a * b; }, [](double, double b) { return b; },
      [](double a, double) { return a; }, points);
  expect_binary(
      "/", [](auto a, auto b) { return a / b; }, [](double, double b) { return 1 / b; },
      [](double a, double b) { return -a / (b * b); }, points, {},
      [](double, double b) { return std::abs(b); });
}

BOOST_AUTO_TEST_CASE(unary_and_compound) {
  for (double x : linspace(-3, 3, 21)) {
    const auto r = nabla::value_and_gradient(
        [](const auto& v) {
          Var y = -v[0];
          y += v[0] * 3.0;  // 2x
          y -= 1.0;         // 2x − 1
          y *= v[0];        // 2x² − x
          y /= 2.0;         // x² − x/2
          y += 4.0;
          y -= v[0];  // x² − 1.5x + 4
          y *= 2.0;   // 2x² − 3x + 8
          y /= v[0] * v[0] + 1.0;
          return +y;
        },
        {x});
    BOOST_TEST(r.value == (2 * x * x - 3 * x + 8) / (x * x + 1),
               boost::test_tools::tolerance(1e-14));
    const double d =
        ((4 * x - 3) * (x * x + 1) - (2 * x * x - 3 * x + 8) * 2 * x) / ((x * x + 1) * (x * x + 1));
    BOOST_TEST(r.gradient[0] == d, boost::test_tools::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(comparisons_look_at_values) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Var a = tape.variable(1.0), b = tape.variable(2.0);
  BOOST_TEST((a < b && a <= b && b > a && b >= a && a != b));
  BOOST_TEST((a < 1.5 && 1.5 < b && a == 1.0 && 2.0 == b && a >= 1 && !(a > 1)));
  BOOST_TEST((Var(3.0) == 3.0));
  BOOST_TEST(tape.statistics().statements == 2u);  // comparisons record nothing
}

BOOST_AUTO_TEST_CASE(constants_are_free) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  Var s = 0.0;
  for (int i = 0; i < 100; ++i) s = s * 2.0 + Var(1.0) / 3.0 - sin(Var(0.5));
  BOOST_TEST(s.is_constant());
  BOOST_TEST(tape.statistics().statements == 0u);
  BOOST_TEST(tape.statistics().operands == 0u);
  // A constant operand is never written to the tape, and the whole expression (x·2 + 1)·4 is
  // one statement with one operand (Note [Expression templates]).
  const Var x = tape.variable(3.0);
  const Var y = (x * 2.0 + 1.0) * Var(4.0);
  BOOST_TEST(y.value() == 28.0);
  BOOST_TEST(tape.statistics().statements == 2u);
  BOOST_TEST(tape.statistics().operands == 1u);
  BOOST_TEST(nabla::detail::TapeInspect::fused(tape, y.index()));
  BOOST_TEST(nabla::op_name(nabla::detail::TapeInspect::op(tape, y.index())) == "mul");
  tape.backward(y);
  BOOST_TEST(tape.adjoint(x) == 8.0);
}

BOOST_AUTO_TEST_CASE(expressions_record_one_statement_and_are_safe_with_auto) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Var a = tape.variable(2.0), b = tape.variable(3.0), c = tape.variable(0.5);
  auto e = a * b + sin(c);  // an expression holding copies of a, b, c: nothing recorded yet
  BOOST_TEST(tape.statistics().statements == 3u);
  BOOST_TEST(e.value() == 6.0 + std::sin(0.5));
  const Var y = e * e;  // one statement; e's leaves appear twice
  BOOST_TEST(tape.statistics().statements == 4u);
  BOOST_TEST(nabla::detail::TapeInspect::fused(tape, y.index()));
  tape.backward(y);
  const double v = 6.0 + std::sin(0.5);
  BOOST_TEST(tape.adjoint(a) == 2 * v * 3.0);
  BOOST_TEST(tape.adjoint(b) == 2 * v * 2.0);
  BOOST_TEST(tape.adjoint(c) == 2 * v * std::cos(0.5), boost::test_tools::tolerance(1e-15));
  // x·x records one operand with partial 2x.
  const Var sq = a * a;
  BOOST_TEST(nabla::detail::TapeInspect::operands(tape, sq.index()).size() == 1u);
  BOOST_TEST(nabla::detail::TapeInspect::partials(tape, sq.index())[0] == 4.0);
  BOOST_TEST(!nabla::detail::TapeInspect::fused(tape, sq.index()));
  // Comparisons of expressions look at values and record nothing.
  const auto before = tape.statistics().statements;
  BOOST_TEST((a * b > 5.0 && a + b == b + a && 1.0 < exp(a) && a * b != a));
  BOOST_TEST(tape.statistics().statements == before);
}

BOOST_AUTO_TEST_CASE(printing) {
  const Var x = 2.5;
  std::ostringstream os;
  os << x;
  BOOST_TEST(os.str() == "2.5");
  BOOST_TEST(fmt::format("{:.3f}", x) == "2.500");
  BOOST_TEST(x == Var(2.5));  // Boost.Test can print Vars now
}

BOOST_AUTO_TEST_CASE(generic_code_runs_on_double_and_var) {
  const auto f = [](const auto& x) {
    using std::exp;
    using std::log;
    using std::pow;
    using std::sqrt;
    auto y = exp(x) * log(x + 2.0) + pow(x, 2) - sqrt(x + 1.0) / 3.0;
    return y;
  };
  const double x = 0.7;
  const auto r = nabla::value_and_gradient([&](const auto& v) { return f(v[0]); }, {x});
  BOOST_TEST(r.value == f(x));
  const double h = 1e-5;
  BOOST_TEST(r.gradient[0] == (f(x + h) - f(x - h)) / (2 * h), boost::test_tools::tolerance(1e-8));
}

BOOST_AUTO_TEST_SUITE_END()
