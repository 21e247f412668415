// Generic-code fit (issue 14): isnan/isinf/isfinite/signbit and static_cast<double> on Var and
// expressions, Eigen's SelfAdjointEigenSolver on Matrix<Var>, points given as ranges (std::array,
// Eigen vectors, strided blocks, expressions) for the gradient helpers and minimize,
// capture(tape, {y}), and check_gradient's (x, g) form and kink report.
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/eigen.hpp>
#include <nabla/autodiff/graph.hpp>
#include <nabla/optim.hpp>

#include <Eigen/Eigenvalues>
#include <array>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "expect_error.hpp"

using nabla::Var;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

// What generic code writes: std's functions for doubles, nabla's found by ADL for Vars.
template <class T>
std::array<bool, 4> classify(const T& x) {
  using std::isfinite, std::isinf, std::isnan, std::signbit;
  return {isnan(x), isinf(x), isfinite(x), signbit(x)};
}

struct Product {
  template <class X>
  auto operator()(const X& x) const {
    return Var(x[0] * x[1]);
  }
};
template <class X>
concept AcceptsPoint = requires(const X& x) { nabla::value_and_gradient(Product{}, x); };

// A symmetric 3×3 matrix of the parameters p (6 of them: the upper triangle), in any number type.
template <class T, class P>
Eigen::Matrix<T, 3, 3> symmetric(const P& p) {
  Eigen::Matrix<T, 3, 3> a;
  a << T(p[0]), T(p[1]), T(p[2]),  //
      T(p[1]), T(p[3]), T(p[4]),   //
      T(p[2]), T(p[4]), T(p[5]);
  return a;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(generic_code)

BOOST_AUTO_TEST_CASE(classification_of_vars_and_expressions) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Var x = nabla::variable(-2.0), z = nabla::variable(0.0), big = nabla::variable(1e308);
  const auto before = tape.position();
  // Found by ADL and through `using std::isnan`: the same answers as for the doubles.
  for (const double v : {-2.0, 0.0, -0.0, 3.5, inf, -inf, not_a_number, -not_a_number}) {
    const Var c = v;  // a constant
    BOOST_TEST((classify(c) == classify(v)), "value " << v);
    BOOST_TEST((classify(c * 1.0) == classify(v * 1.0)), "value " << v);
  }
  BOOST_TEST((classify(x) == std::array{false, false, true, true}));
  BOOST_TEST((classify(z) == std::array{false, false, true, false}));
  BOOST_TEST((classify(-z) == std::array{false, false, true, true}));           // −0.0
  BOOST_TEST((classify(big * 10.0) == std::array{false, true, false, false}));  // overflows
  BOOST_TEST((classify(log(x)) == std::array{true, false, false, classify(std::log(-2.0))[3]}));
  BOOST_TEST(nabla::isnan(z / z));  // qualified, on an expression
  // Reading the value records nothing.
  BOOST_TEST((tape.position() == before));
}

BOOST_AUTO_TEST_CASE(explicit_conversion_to_double_reads_the_value) {
  static_assert(!std::is_convertible_v<Var, double>, "a Var must not silently become a double");
  static_assert(std::is_constructible_v<double, Var>);
  static_assert(!std::is_constructible_v<int, Var>, "only double, no narrowing to int");
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Var a = nabla::variable(1.5), b = nabla::variable(4.0);
  const auto before = tape.position();
  BOOST_TEST(static_cast<double>(a) == 1.5);
  BOOST_TEST(static_cast<double>(a * b + 1.0) == 7.0);  // an expression: nothing recorded
  BOOST_TEST((tape.position() == before));
  // Not differentiable: the double is a constant to what follows.
  const Var y = a * static_cast<double>(b);
  tape.backward(y);
  BOOST_TEST(tape.adjoint(a) == 4.0);
  BOOST_TEST(tape.adjoint(b) == 0.0);
  // The existing mixed operators are unchanged (no ambiguity with the conversion).
  const Var c = a + 2.0, d = 2.0 * a, e = a / b;
  BOOST_TEST(c.value() == 3.5);
  BOOST_TEST(d.value() == 3.0);
  BOOST_TEST(e.value() == 0.375);
  BOOST_TEST((a < 2.0 && 2.0 > a && a == 1.5 && a != b));
  // Eigen's cast<double>() goes through it.
  Eigen::Matrix<Var, 2, 2> m;
  m << a, b, a * b, 2.0;
  const Eigen::Matrix2d md = m.cast<double>();
  BOOST_TEST(md(1, 0) == 6.0);
  BOOST_TEST(md(1, 1) == 2.0);
}

BOOST_AUTO_TEST_CASE(self_adjoint_eigen_solver_on_vars) {
  const std::vector<double> p = {2.0, 0.5, -0.3, 1.0, 0.8, -1.5};
  // The eigenvalues of the double matrix, by Eigen's solver on doubles.
  const auto eigenvalues = [](std::span<const double> q) {
    const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> es(symmetric<double>(q));
    return Eigen::Vector3d(es.eigenvalues());
  };
  const Eigen::Vector3d expected = eigenvalues(p);
  // The matrix's characteristic polynomial vanishes at each eigenvalue (independent of Eigen).
  const Eigen::Matrix3d a = symmetric<double>(p);
  for (int k = 0; k < 3; ++k) {
    BOOST_TEST(std::abs((a - expected(k) * Eigen::Matrix3d::Identity()).determinant()) < 1e-12);
  }
  for (int k = 0; k < 3; ++k) {
    const auto lambda = [k](const auto& q) {
      const Eigen::SelfAdjointEigenSolver<Eigen::Matrix<Var, 3, 3>> es(symmetric<Var>(q));
      BOOST_TEST((es.info() == Eigen::Success));
      return Var(es.eigenvalues()(k));
    };
    const nabla::ValueAndGradient r = nabla::value_and_gradient(lambda, p);
    BOOST_TEST(r.value == expected(k), boost::test_tools::tolerance(1e-12));
    // The gradient against central differences of the double solver's eigenvalue.
    for (std::size_t i = 0; i < p.size(); ++i) {
      std::vector<double> plus = p, minus = p;
      const double h = 1e-6;
      plus[i] += h;
      minus[i] -= h;
      const double numeric = (eigenvalues(plus)(k) - eigenvalues(minus)(k)) / (2 * h);
      // Rounding in the differences is about ε·|λ|/h ≈ 1e-9.
      BOOST_TEST(std::abs(r.gradient[i] - numeric) < 1e-7,
                 "eigenvalue " << k << ", p[" << i << "]: " << r.gradient[i] << " vs " << numeric);
    }
    // And against the exact derivative of a simple eigenvalue, ∂λ/∂A = v vᵀ (Hellmann–Feynman),
    // with the double solver's eigenvector v; an off-diagonal parameter sits in two entries.
    const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> es(a);
    const Eigen::Vector3d v = es.eigenvectors().col(k);
    const std::array<double, 6> exact = {v(0) * v(0),     2 * v(0) * v(1), 2 * v(0) * v(2),
                                         v(1) * v(1),     2 * v(1) * v(2), v(2) * v(2)};
    for (std::size_t i = 0; i < p.size(); ++i) {
      BOOST_TEST(std::abs(r.gradient[i] - exact[i]) < 1e-10,
                 "eigenvalue " << k << ", p[" << i << "]: " << r.gradient[i] << " vs " << exact[i]);
    }
    BOOST_TEST(nabla::check_gradient(lambda, p).ok);
  }
}

BOOST_AUTO_TEST_CASE(points_as_ranges) {
  const auto f = [](const auto& x) { return x[0] * x[0] * x[1] + 3.0 * x[2]; };
  const std::vector<double> want = {2 * 1.0 * 2.0, 1.0, 3.0};  // at (1, 2, 5)
  const auto same = [&](const nabla::ValueAndGradient& r) {
    BOOST_TEST(r.value == 17.0);
    BOOST_TEST(r.gradient == want);
  };
  Eigen::VectorXd x(3);
  x << 1.0, 2.0, 5.0;
  same(nabla::value_and_gradient(f, x));
  same(nabla::value_and_gradient(f, std::array{1.0, 2.0, 5.0}));
  same(nabla::value_and_gradient(f, Eigen::Vector3d(1.0, 2.0, 5.0)));
  same(nabla::value_and_gradient(f, 0.5 * (2 * x)));  // an expression: copied once
  // A strided row of a column-major matrix: viewed through its iterators, not its data().
  Eigen::Matrix3d m;
  m << 1.0, 2.0, 5.0,  //
      -7.0, -8.0, -9.0,  //
      4.0, 4.0, 4.0;
  same(nabla::value_and_gradient(f, m.row(0)));
  // gradient(): Eigen point and buffer; a strided buffer is written through a copy.
  Eigen::VectorXd g(3);
  BOOST_TEST(nabla::gradient(f, x, g) == 17.0);
  BOOST_TEST((g == Eigen::Vector3d(4.0, 1.0, 3.0)));
  Eigen::Matrix3d out = Eigen::Matrix3d::Zero();
  auto row = out.row(2);
  BOOST_TEST(nabla::gradient(f, m.row(0), row) == 17.0);
  BOOST_TEST((out.row(2) == Eigen::RowVector3d(4.0, 1.0, 3.0)));
  BOOST_TEST((out.row(0) == Eigen::RowVector3d::Zero()));
  std::array<double, 3> ga{};
  BOOST_TEST(nabla::gradient(f, x, ga) == 17.0);
  BOOST_TEST(ga[0] == 4.0);
  // jacobian() takes them too.
  const nabla::Jacobian J = nabla::jacobian(
      [](const auto& v) { return std::vector<Var>{v[0] * v[1], v[2]}; }, x);
  BOOST_TEST(J(0, 1) == 1.0);
  BOOST_TEST(J(1, 2) == 1.0);
  // Misuse: a gradient buffer of the wrong size, a point of floats (does not compile).
  Eigen::VectorXd short_g(2);
  nabla::test::expect_error([&] { (void)nabla::gradient(f, x, short_g); },
                            {"nabla::gradient", "3", "2"});
  static_assert(AcceptsPoint<Eigen::VectorXd>);
  static_assert(AcceptsPoint<std::array<double, 2>>);
  static_assert(!AcceptsPoint<std::vector<float>>, "no silent conversion of floats");
  static_assert(!AcceptsPoint<Eigen::VectorXf>);
  static_assert(!AcceptsPoint<Eigen::Matrix<Var, -1, 1>>);
}

BOOST_AUTO_TEST_CASE(minimize_and_least_squares_from_eigen_vectors) {
  const auto rosenbrock = [](const auto& x) {
    return 100.0 * pow(x[1] - x[0] * x[0], 2) + pow(1.0 - x[0], 2);
  };
  Eigen::VectorXd x0(2);
  x0 << -1.2, 1.0;
  const auto r = nabla::optim::minimize(rosenbrock, x0, nabla::optim::LBFGS{});
  BOOST_TEST(r.x[0] == 1.0, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(r.x[1] == 1.0, boost::test_tools::tolerance(1e-6));
  // The same run as from a std::vector.
  const auto v = nabla::optim::minimize(rosenbrock, std::vector{-1.2, 1.0}, nabla::optim::LBFGS{});
  BOOST_TEST(r.x == v.x);
  BOOST_TEST(r.evaluations == v.evaluations);
  // Within bounds, from an Eigen vector.
  const auto b = nabla::optim::minimize(rosenbrock, x0, nabla::optim::LBFGS{},
                                        nabla::optim::Bounds{.lower = {-2, -2}, .upper = {0.5, 2}});
  BOOST_TEST(b.x[0] == 0.5, boost::test_tools::tolerance(1e-9));
  // An exponential decay fitted by least_squares from an Eigen vector.
  const std::vector<double> t = {0, 1, 2, 3};
  const auto fit = nabla::optim::least_squares(
      [&](const auto& p) {
        std::vector<std::decay_t<decltype(p[0])>> res;
        for (double ti : t) res.push_back(p[0] * exp(-p[1] * ti) - 2.0 * std::exp(-0.5 * ti));
        return res;
      },
      Eigen::Vector2d(1.0, 0.1));
  BOOST_TEST(fit.x[0] == 2.0, boost::test_tools::tolerance(1e-8));
  BOOST_TEST(fit.x[1] == 0.5, boost::test_tools::tolerance(1e-8));
}

BOOST_AUTO_TEST_CASE(capture_with_braced_outputs) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Var a = nabla::variable(2.0), b = nabla::variable(3.0);
  const Var y = a * b;
  const Var z = y + sin(a);
  const auto outputs = [](const nabla::graph::Graph& g) {
    std::vector<std::uint32_t> s;
    for (auto v : boost::make_iterator_range(boost::vertices(g)))
      if (g[v].output) s.push_back(g[v].statement);
    return s;
  };
  const std::vector<std::uint32_t> just_y = {y.index()}, both = {y.index(), z.index()};
  BOOST_TEST(outputs(nabla::graph::capture(tape, {y})) == just_y);
  BOOST_TEST(outputs(nabla::graph::capture(tape, y)) == just_y);
  BOOST_TEST(outputs(nabla::graph::capture(tape, {y, z})) == both);
  BOOST_TEST(outputs(nabla::graph::capture(tape, std::vector<Var>{y, z})) == both);
  // Empty braces mean what no outputs means: the last statement.
  const std::vector<std::uint32_t> last = {z.index()};
  BOOST_TEST(outputs(nabla::graph::capture(tape, {})) == last);
  BOOST_TEST(outputs(nabla::graph::capture(tape)) == last);
  // A Var of another tape is an error, as with a span.
  nabla::Tape other;
  const Var foreign = other.variable(1.0);
  nabla::test::expect_error([&] { (void)nabla::graph::capture(tape, {foreign}); }, {"tape"});
}

BOOST_AUTO_TEST_SUITE_END()

