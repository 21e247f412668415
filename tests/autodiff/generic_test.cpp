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
concept AcceptsPoint = requires(const X& x) {
  nabla::value_and_gradient(Product{}, x);
};

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
    const std::array<double, 6> exact = {v(0) * v(0), 2 * v(0) * v(1), 2 * v(0) * v(2),
                                         v(1) * v(1), 2 * v(1) * v(2), v(2) * v(2)};
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
  m << 1.0, 2.0, 5.0,    //
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
  // jacobian() and check_gradient() take them too.
  const nabla::Jacobian J = nabla::jacobian(
      [](const auto& v) {
        return std::vector<Var>{v[0] * v[1], v[2]};
      },
      x);
  BOOST_TEST(J(0, 1) == 1.0);
  BOOST_TEST(J(1, 2) == 1.0);
  BOOST_TEST(nabla::check_gradient(f, x).ok);
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

// ---- check_gradient: the (x, g) form and kinks ----

namespace {

// A 2-2-1 ReLU network on one example u = (1, 2) with target 2: the parameters are the hidden
// weights W (row-major, x[0..3]) and the output weights v (x[4..5]); the loss is (ŷ − 2)².
// The biases are fixed: b₀ = 0, b₁ = −0.7.
template <class T>
auto relu_loss(std::span<const T> x) {
  using nabla::relu;
  const double u0 = 1.0, u1 = 2.0;
  const T z0 = x[0] * u0 + x[1] * u1;
  const T z1 = x[2] * u0 + x[3] * u1 - 0.7;
  const T out = x[4] * relu(z0) + x[5] * relu(z1);
  return T((out - 2.0) * (out - 2.0));
}

// Its gradient by hand (relu′(0) = 0, as nabla's), with `slip` times the right ∂/∂v.
double relu_loss_and_gradient(std::span<const double> x, std::span<double> g, double slip) {
  const double z0 = x[0] + 2 * x[1], z1 = x[2] + 2 * x[3] - 0.7;
  const double h0 = z0 > 0 ? z0 : 0, h1 = z1 > 0 ? z1 : 0;
  const double r = x[4] * h0 + x[5] * h1 - 2.0;
  const double m0 = z0 > 0 ? 1 : 0, m1 = z1 > 0 ? 1 : 0;
  g[0] = 2 * r * x[4] * m0;
  g[1] = 2 * r * x[4] * m0 * 2;
  g[2] = 2 * r * x[5] * m1;
  g[3] = 2 * r * x[5] * m1 * 2;
  g[4] = slip * 2 * r * h0;
  g[5] = slip * 2 * r * h1;
  return r * r;
}

// z₀ = 0 exactly (a kink at x for x[0], x[1]) and z₁ = 0.3 + 2·0.2 − 0.7 + 1e-5 (a kink 1e-5
// away: within the step of x[2] and x[3]).
const std::vector<double> at_kinks = {0.5, -0.25, 0.3 + 1e-5, 0.2, 1.5, -0.8};
// Both units well away from their kinks.
const std::vector<double> smooth_point = {0.5, 0.25, 0.6, 0.2, 1.5, -0.8};

const auto right_hand = [](std::span<const double> x, std::span<double> g) {
  return relu_loss_and_gradient(x, g, 1.0);
};
const auto wrong_hand = [](std::span<const double> x, std::span<double> g) {
  return relu_loss_and_gradient(x, g, 0.5);  // forgot the 2 of d(r²)/dr in ∂/∂v
};

}  // namespace

BOOST_AUTO_TEST_SUITE(check_forms)

BOOST_AUTO_TEST_CASE(hand_written_gradients) {
  const auto f = [](std::span<const double> x, std::span<double> g) {
    g[0] = 2 * x[0] * x[1];
    g[1] = x[0] * x[0] + std::cos(x[1]);
    return x[0] * x[0] * x[1] + std::sin(x[1]);
  };
  const nabla::GradientCheck good = nabla::check_gradient(f, {1.5, -0.5});
  BOOST_TEST(good.ok);
  BOOST_TEST(good.value == 1.5 * 1.5 * -0.5 + std::sin(-0.5));
  const auto bad = [](std::span<const double> x, std::span<double> g) {
    g[0] = x[0] * x[1];  // missing factor 2
    g[1] = x[0] * x[0] + std::cos(x[1]);
    return x[0] * x[0] * x[1] + std::sin(x[1]);
  };
  const nabla::GradientCheck wrong = nabla::check_gradient(bad, std::vector{1.5, -0.5});
  BOOST_TEST(!wrong.ok);
  BOOST_TEST(!wrong.consistent);
  BOOST_TEST(!wrong.rows[0].ok);
  BOOST_TEST(!wrong.rows[0].kink);
  BOOST_TEST(wrong.rows[1].ok);
  BOOST_TEST(wrong.rows[0].numeric == 2 * 1.5 * -0.5, boost::test_tools::tolerance(1e-9));
  // An entry f never writes is NaN, not a silent 0.
  const auto forgets = [](std::span<const double> x, std::span<double> g) {
    g[0] = 2 * x[0];
    return x[0] * x[0] + x[1] * 0.0;
  };
  const nabla::GradientCheck unwritten = nabla::check_gradient(forgets, {1.0, 2.0});
  BOOST_TEST(unwritten.rows[0].ok);
  BOOST_TEST(std::isnan(unwritten.rows[1].analytic));
  BOOST_TEST(!unwritten.rows[1].ok);
  BOOST_TEST(!unwritten.ok);
  // The same form at an Eigen point; invalid input as for the other form.
  BOOST_TEST(nabla::check_gradient(f, Eigen::Vector2d(1.5, -0.5)).ok);
  nabla::test::expect_error(
      [&] {
        (void)nabla::check_gradient(f, {not_a_number, 1.0});
      },
      {"nabla::check_gradient", "x[0]", "not finite"});
  nabla::test::expect_error(
      [&] {
        (void)nabla::check_gradient(f, {1.0, 1.0}, {.rtol = -1});
      },
      {"rtol", "-1"});
}

BOOST_AUTO_TEST_CASE(relu_network_kinks_are_not_wrong_derivatives) {
  const auto ad = [](const auto& x) { return relu_loss(std::span<const Var>(x)); };
  // At the kinks: nabla's gradient (reverse mode) and the right hand gradient agree with each
  // other, and the check calls the rows with kinks in the step unreliable, not wrong.
  for (const nabla::GradientCheck& c :
       {nabla::check_gradient(ad, at_kinks), nabla::check_gradient(right_hand, at_kinks)}) {
    BOOST_TEST(!c.ok);
    BOOST_TEST(c.consistent);
    BOOST_TEST(c.kinks == 4u);
    for (std::size_t i = 0; i < 4; ++i) BOOST_TEST((c.rows[i].kink && !c.rows[i].ok), i);
    BOOST_TEST(c.rows[4].ok);
    BOOST_TEST(c.rows[5].ok);
    const std::string report = nabla::to_string(c);
    BOOST_TEST(report.find("INCONCLUSIVE") != std::string::npos, report);
    BOOST_TEST(report.find("kink within h of x[i]") != std::string::npos, report);
    BOOST_TEST(report.find("<- disagree") == std::string::npos, report);
    BOOST_TEST(report.find("FAILED") == std::string::npos, report);
  }
  // A smaller step (below the distance to z₁'s kink) checks x[2] and x[3]; x[0], x[1] sit on it.
  const nabla::GradientCheck small = nabla::check_gradient(ad, at_kinks, {.step = 1e-7});
  BOOST_TEST(small.rows[2].ok);
  BOOST_TEST(small.rows[3].ok);
  BOOST_TEST(small.rows[0].kink);
  // Away from the kinks every row agrees.
  const nabla::GradientCheck smooth = nabla::check_gradient(right_hand, smooth_point);
  BOOST_TEST(smooth.ok);
  BOOST_TEST(smooth.kinks == 0u);
}

BOOST_AUTO_TEST_CASE(wrong_derivatives_on_a_relu_network_are_reported_wrong) {
  // ∂/∂v off by a factor 2: the smooth rows (v) disagree and are not called kinks.
  for (const auto& x : {at_kinks, smooth_point}) {
    const nabla::GradientCheck c = nabla::check_gradient(wrong_hand, x);
    BOOST_TEST(!c.ok);
    BOOST_TEST(!c.consistent);
    for (std::size_t i = 4; i < 6; ++i) {
      if (c.rows[i].analytic == 0.0) continue;  // h₀ = 0 at the kinks: 0.5·0 is still right
      BOOST_TEST((!c.rows[i].ok && !c.rows[i].kink), i);
    }
    const std::string report = nabla::to_string(c);
    BOOST_TEST(report.find("gradient check FAILED") != std::string::npos, report);
    BOOST_TEST(report.find("<- disagree") != std::string::npos, report);
  }
  // Smooth rows of a smooth function with a wrong derivative are never kinks, whatever the
  // curvature: sin(30x) with a derivative off by 1%.
  const auto wavy = [](std::span<const double> x, std::span<double> g) {
    g[0] = 1.01 * 30 * std::cos(30 * x[0]);
    return std::sin(30 * x[0]);
  };
  const nabla::GradientCheck w = nabla::check_gradient(wavy, {0.3});
  BOOST_TEST(!w.ok);
  BOOST_TEST(!w.rows[0].kink);
  BOOST_TEST(w.rows[0].kink_size < 0.01 * w.rows[0].abs_error);
}

BOOST_AUTO_TEST_CASE(abs_and_max_kinks_in_directional_mode) {
  // |x₀| with x₀ = 10⁻⁵ and max(x₁, x₂) with x₁ − x₂ = 10⁻⁵: kinks inside the steps (a kink
  // on x itself would be invisible here: symmetric differences of |x| at 0 give 0, which is
  // what nabla's abs′(0) is).
  const auto f = [](const auto& x) {
    return Var(abs(x[0]) + 0.5 * (x[1] + x[2] + abs(x[1] - x[2])) + x[3] * x[3]);
  };
  const std::vector<double> x = {1e-5, 1.0 + 1e-5, 1.0, 2.0};
  const nabla::GradientCheck full = nabla::check_gradient(f, x);
  BOOST_TEST(full.consistent);
  BOOST_TEST(full.rows[0].kink);
  BOOST_TEST(full.rows[1].kink);
  BOOST_TEST(full.rows[2].kink);
  BOOST_TEST(full.rows[3].ok);
  const nabla::GradientCheck dir =
      nabla::check_gradient(f, x, {.mode = nabla::CheckMode::directional, .directions = 6});
  BOOST_TEST(dir.consistent);
  BOOST_TEST(dir.kinks > 0u);
  const std::string report = nabla::to_string(dir);
  BOOST_TEST(report.find("along that direction") != std::string::npos, report);
}

BOOST_AUTO_TEST_SUITE_END()
