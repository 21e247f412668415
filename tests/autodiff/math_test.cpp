// Every elementary function against its closed-form derivative and finite differences, at ≥ 20
// points across its domain, including near singularities and at large magnitudes.
#include <nabla/autodiff.hpp>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <numbers>
#include <string>

#include "ad_check.hpp"

// clang-format off  (the rule tables: one function per row)
using namespace nabla::test;
using nabla::Var;

namespace {

std::vector<double> with(std::vector<double> v, std::initializer_list<double> extra) {
  v.insert(v.end(), extra);
  return v;
}
// Points for functions defined on the whole line, including large magnitudes.
const std::vector<double> line = with(linspace(-5, 5, 21), {-30.0, -12.5, 1e-8, -1e-8, 12.5, 30.0});
// Points on (0, ∞), from near the singularity at 0 to large values.
const std::vector<double> positive =
    with(linspace(0.05, 10, 20), {1e-10, 1e-6, 1e-3, 1e3, 1e8, 1e100});
// Points on (−1, 1), including near ±1.
const std::vector<double> open_unit =
    with(linspace(-0.95, 0.95, 20), {-0.999999, -0.9999, 0.9999, 0.999999, 0.0});
const auto distance_to_zero = [](double x) { return std::abs(x); };
const auto distance_to_unit = [](double x) { return 1 - std::abs(x); };

double psi(double x) {  // digamma for the checks, independent of the library's own
  // Shift up with ψ(x) = ψ(x + 1) − 1/x, then a short asymptotic expansion at x ≥ 30.
  double r = 0;
  for (; x < 30; x += 1) r -= 1 / x;
  return r + std::log(x) - 1 / (2 * x) - 1 / (12 * x * x) + 1 / (120 * std::pow(x, 4)) -
         1 / (252 * std::pow(x, 6));
}

// ψ⁽ᵐ⁾(x) for m ≥ 1 and x > 0, independent of the library's: shift up with
// ψ⁽ᵐ⁾(x) = ψ⁽ᵐ⁾(x + 1) + (−1)ᵐ⁺¹ m! / xᵐ⁺¹, then the asymptotic series at x ≥ 30
// (−1)ᵐ⁺¹ [(m−1)!/xᵐ + m!/(2xᵐ⁺¹) + Σₖ B₂ₖ (2k+m−1)!/((2k)! x²ᵏ⁺ᵐ)], k = 1…4.
double psi_n(int m, double x) {
  const auto factorial = [](int k) {
    double f = 1;
    for (int i = 2; i <= k; ++i) f *= i;
    return f;
  };
  const double sign = m % 2 == 1 ? 1.0 : -1.0;  // (−1)ᵐ⁺¹
  double r = 0;
  for (; x < 30; x += 1) r += sign * factorial(m) / std::pow(x, m + 1);
  const double bernoulli[] = {1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30};
  double series = factorial(m - 1) / std::pow(x, m) + factorial(m) / (2 * std::pow(x, m + 1));
  for (int k = 1; k <= 4; ++k) {
    series +=
        bernoulli[k - 1] * factorial(2 * k + m - 1) / (factorial(2 * k) * std::pow(x, 2 * k + m));
  }
  return r + sign * series;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(math)

BOOST_AUTO_TEST_CASE(exponentials_and_logarithms) {
  expect_unary(
      "exp",
      [](auto x) {
        using std::exp;
        return exp(x);
      },
      [](double x) { return std::exp(x); }, with(line, {700.0, -700.0}));
  expect_unary(
      "exp2",
      [](auto x) {
        using std::exp2;
        return exp2(x);
      },
      [](double x) { return std::pow(2.0, x) * std::log(2.0); }, line);
  expect_unary(
      "expm1",
      [](auto x) {
        using std::expm1;
        return expm1(x);
      },
      [](double x) { return std::exp(x); }, with(line, {1e-12, -40.0}));
  expect_unary(
      "log",
      [](auto x) {
        using std::log;
        return log(x);
      },
      [](double x) { return 1 / x; }, positive, distance_to_zero, inf);
  expect_unary(
      "log2",
      [](auto x) {
        using std::log2;
        return log2(x);
      },
      [](double x) { return 1 / x / std::log(2.0); }, positive, distance_to_zero, inf);
  expect_unary(
      "log10",
      [](auto x) {
        using std::log10;
        return log10(x);
      },
      [](double x) { return 1 / x / std::log(10.0); }, positive, distance_to_zero, inf);
  expect_unary(
      "log1p",
      [](auto x) {
        using std::log1p;
        return log1p(x);
      },
      [](double x) { return 1 / (1 + x); }, with(linspace(-0.9, 10, 20), {-0.999999, 1e-12, 1e10}),
      [](double x) { return std::abs(x + 1); });
  // Outside the domain the value and derivative are NaN, as in <cmath>.
  expect_unary(
      "log (negative)",
      [](auto x) {
        using std::log;
        return log(x);
      },
      [](double x) { return 1 / x; }, {-1.0, -0.5}, distance_to_zero);
}

BOOST_AUTO_TEST_CASE(powers_and_roots) {
  expect_unary(
      "sqrt",
      [](auto x) {
        using std::sqrt;
        return sqrt(x);
      },
      [](double x) { return 0.5 * std::pow(x, -0.5); }, positive, distance_to_zero, inf);
  expect_unary(
      "sqrt at 0",
      [](auto x) {
        using std::sqrt;
        return sqrt(x);
      },
      [](double) { return inf; }, {0.0});
  expect_unary(
      "cbrt",
      [](auto x) {
        using std::cbrt;
        return cbrt(x);
      },
      [](double x) { return 1 / (3 * std::pow(std::abs(x), 2.0 / 3)); },
      with(positive, {-1e-6, -0.1, -1.0, -2.0, -4.0, -100.0}), distance_to_zero, inf);
  // pow in all three argument mixes, with positive bases.
  std::vector<std::pair<double, double>> pow_points;
  for (double a : {1e-6, 0.3, 1.0, 2.5, 7.0})
    for (double b : {-2.5, -1.0, 0.5, 2.0, 3.7}) pow_points.emplace_back(a, b);
  expect_binary(
      "pow",
      [](auto x, auto y) {
        using std::pow;
        return pow(x, y);
      },
      [](double a, double b) { return b * std::pow(a, b) / a; },
      [](double a, double b) { return std::pow(a, b) * std::log(a); }, pow_points,
      [](double a, double) { return a; });
  // pow with a negative base and a real exponent (both variables): d/dx exists, d/dy is NaN.
  const auto r =
      nabla::value_and_gradient([](const auto& v) { return pow(v[0], v[1]); }, {-2.0, 3.0});
  BOOST_TEST(r.value == -8.0);
  BOOST_TEST(r.gradient[0] == 12.0);
  BOOST_TEST(std::isnan(r.gradient[1]));
  // pow at base 0 with a positive exponent: d/dy is 0 by convention (the limit).
  const auto z =
      nabla::value_and_gradient([](const auto& v) { return pow(v[0], v[1]); }, {0.0, 2.0});
  BOOST_TEST(z.gradient[0] == 0.0);
  BOOST_TEST(z.gradient[1] == 0.0);
  std::vector<std::pair<double, double>> hypot_points;
  for (double a : {-3.0, -0.5, 1e-8, 2.0, 1e5})
    for (double b : {-4.0, 0.25, 1.0, 1e-7}) hypot_points.emplace_back(a, b);
  expect_binary(
      "hypot",
      [](auto x, auto y) {
        using std::hypot;
        return hypot(x, y);
      },
      [](double a, double b) { return a / std::sqrt(a * a + b * b); },
      [](double a, double b) { return b / std::sqrt(a * a + b * b); }, hypot_points,
      [](double a, double b) { return std::hypot(a, b); },
      [](double a, double b) { return std::hypot(a, b); });
}

BOOST_AUTO_TEST_CASE(integer_powers) {
  // pow(x, n) with integer n: exact for negative bases, no ambiguity for int, long, unsigned.
  for (int n = -3; n <= 5; ++n) {
    const auto pn = [n](auto x) {
      using std::pow;
      return pow(x, n);
    };
    expect_unary(
        "pow(x, " + std::to_string(n) + ")", pn,
        [n](double x) { return n == 0 ? 0.0 : n * std::pow(x, n - 1); },
        with(linspace(-3, 3, 20), {-1e-3, 1e-3, -50.0, 50.0}), distance_to_zero, inf);
  }
  const auto r = nabla::value_and_gradient(
      [](const auto& v) { return pow(v[0], 2L) + pow(v[0], 3u) + pow(v[0], std::size_t{1}); },
      {-2.0});
  BOOST_TEST(r.value == 4.0 - 8.0 - 2.0);
  BOOST_TEST(r.gradient[0] == -4.0 + 12.0 + 1.0);
}

BOOST_AUTO_TEST_CASE(trigonometric) {
  expect_unary(
      "sin",
      [](auto x) {
        using std::sin;
        return sin(x);
      },
      [](double x) { return std::cos(x); }, with(line, {1e6}));
  expect_unary(
      "cos",
      [](auto x) {
        using std::cos;
        return cos(x);
      },
      [](double x) { return -std::sin(x); }, with(line, {1e6}));
  expect_unary(
      "tan",
      [](auto x) {
        using std::tan;
        return tan(x);
      },
      [](double x) { return 1 / (std::cos(x) * std::cos(x)); },
      with(linspace(-1.5, 1.5, 20), {1.5707, -1.5707, 3.0}),
      [](double x) {
        return std::abs(std::abs(std::remainder(x, std::numbers::pi)) - std::numbers::pi / 2);
      });
  expect_unary(
      "asin",
      [](auto x) {
        using std::asin;
        return asin(x);
      },
      [](double x) { return 1 / std::sqrt(1 - x * x); }, open_unit, distance_to_unit);
  expect_unary(
      "acos",
      [](auto x) {
        using std::acos;
        return acos(x);
      },
      [](double x) { return -1 / std::sqrt(1 - x * x); }, open_unit, distance_to_unit);
  expect_unary(
      "atan",
      [](auto x) {
        using std::atan;
        return atan(x);
      },
      [](double x) { return 1 / (1 + x * x); }, with(line, {1e10, -1e10}));
  std::vector<std::pair<double, double>> atan2_points;
  // Away from the branch cut (y = 0, x < 0), and near the origin on the right half-plane.
  for (double y : {-3.0, -0.25, 0.5, 2.0, 1e4})
    for (double x : {-2.0, -0.1, 1e-5, 1.0}) atan2_points.emplace_back(y, x);
  for (double y : {-1e-6, 1e-7}) atan2_points.emplace_back(y, 1e-6);
  expect_binary(
      "atan2",
      [](auto y, auto x) {
        using std::atan2;
        return atan2(y, x);
      },
      [](double y, double x) { return x / (x * x + y * y); },
      [](double y, double x) { return -y / (x * x + y * y); }, atan2_points,
      [](double y, double x) { return std::hypot(x, y); },
      [](double y, double x) { return std::hypot(x, y); });
}

BOOST_AUTO_TEST_CASE(hyperbolic) {
  expect_unary(
      "sinh",
      [](auto x) {
        using std::sinh;
        return sinh(x);
      },
      [](double x) { return (std::exp(x) + std::exp(-x)) / 2; }, line);
  expect_unary(
      "cosh",
      [](auto x) {
        using std::cosh;
        return cosh(x);
      },
      [](double x) { return std::sinh(x); }, line);
  expect_unary(
      "tanh",
      [](auto x) {
        using std::tanh;
        return tanh(x);
      },
      [](double x) { return 4 / ((std::exp(x) + std::exp(-x)) * (std::exp(x) + std::exp(-x))); },
      with(line, {20.0, -20.0, 300.0, -300.0}));
  expect_unary(
      "asinh",
      [](auto x) {
        using std::asinh;
        return asinh(x);
      },
      [](double x) { return 1 / std::sqrt(x * x + 1); }, with(line, {1e6, -1e6}));
  expect_unary(
      "acosh",
      [](auto x) {
        using std::acosh;
        return acosh(x);
      },
      [](double x) { return 1 / std::sqrt((x - 1) * (x + 1)); },
      with(linspace(1.05, 20, 20), {1.000001, 1.0001, 1e6}), [](double x) { return x - 1; });
  expect_unary(
      "atanh",
      [](auto x) {
        using std::atanh;
        return atanh(x);
      },
      [](double x) { return 1 / ((1 - x) * (1 + x)); }, open_unit, distance_to_unit);
}

BOOST_AUTO_TEST_CASE(special_functions) {
  const auto gaussian = [](double x) { return 2 / std::sqrt(std::numbers::pi) * std::exp(-x * x); };
  expect_unary(
      "erf",
      [](auto x) {
        using std::erf;
        return erf(x);
      },
      gaussian, with(line, {6.0, -6.0, 27.0}));
  expect_unary(
      "erfc",
      [](auto x) {
        using std::erfc;
        return erfc(x);
      },
      [&](double x) { return -gaussian(x); }, with(line, {6.0, 27.0}));
  // Γ grows fast: keep steps below 1e−3 also far from the poles.
  const auto to_pole = [](double x) {
    return x > 0.5 ? std::min(0.1, x) : std::abs(x - std::round(x));
  };
  const auto gamma_points =
      with(linspace(0.1, 8, 20), {1e-4, -0.5, -1.5, -2.3, -3.7, -0.999, 25.0, 150.0});
  expect_unary(
      "tgamma",
      [](auto x) {
        using std::tgamma;
        return tgamma(x);
      },
      [](double x) {
        return std::tgamma(x) * psi(x > 0 ? x : 1 - x) -
               (x > 0 ? 0.0 : std::tgamma(x) * std::numbers::pi / std::tan(std::numbers::pi * x));
      },
      gamma_points, to_pole);
  expect_unary(
      "lgamma",
      [](auto x) {
        using std::lgamma;
        return lgamma(x);
      },
      [](double x) {
        return x > 0 ? psi(x) : psi(1 - x) - std::numbers::pi / std::tan(std::numbers::pi * x);
      },
      with(gamma_points, {1e5, 1e10}), to_pole);
  // polygamma(n, x) = ψ⁽ⁿ⁾(x), whose derivative is ψ⁽ⁿ⁺¹⁾(x), against psi_n (a series of its
  // own); n = 0 is digamma.
  const auto positive = with(linspace(0.1, 8, 20), {1e-3, 25.0, 150.0, 1e4});
  for (int n : {0, 1, 2, 3}) {
    expect_unary(
        "polygamma(" + std::to_string(n) + ", x)",
        [n](auto x) {
          using nabla::polygamma;
          return polygamma(n, x);
        },
        [n](double x) { return psi_n(n + 1, x); }, positive,
        [](double x) { return std::min(0.1, x); });
  }
  expect_unary(
      "digamma",
      [](auto x) {
        using nabla::digamma;
        return digamma(x);
      },
      [](double x) { return psi_n(1, x); }, positive, [](double x) { return std::min(0.1, x); });
  // Known values: ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2.
  BOOST_TEST(nabla::detail::digamma(1.0) == -0.57721566490153286,
             boost::test_tools::tolerance(1e-15));
  BOOST_TEST(nabla::detail::digamma(0.5) == -0.57721566490153286 - 2 * std::log(2.0),
             boost::test_tools::tolerance(1e-15));
  BOOST_TEST(std::isnan(nabla::detail::digamma(-2.0)));
}

BOOST_AUTO_TEST_CASE(nonsmooth) {
  const auto sign = [](double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); };
  const auto smooth = with(line, {-0.75, 0.25});
  expect_unary(
      "abs",
      [](auto x) {
        using std::abs;
        return abs(x);
      },
      sign, smooth, distance_to_zero);
  expect_unary(
      "fabs",
      [](auto x) {
        using std::fabs;
        return fabs(x);
      },
      sign, smooth, distance_to_zero);
  expect_unary("abs at 0",
               [](auto x) {
                 using std::abs;
                 return abs(x);
               },
               sign, {0.0});
  expect_unary(
      "relu", [](auto x) { return nabla::relu(x); }, [](double x) { return x > 0 ? 1.0 : 0.0; },
      with(smooth, {0.0}), distance_to_zero);
  std::vector<std::pair<double, double>> pairs;
  for (double a : {-2.0, 0.5, 3.0})
    for (double b : {-1.0, 1.0, 4.0}) pairs.emplace_back(a, b);
  pairs.emplace_back(1.5, 1.5);  // a tie: the derivative is split 0.5/0.5
  const auto lower_a = [](double a, double b) { return a < b ? 1.0 : (a == b ? 0.5 : 0.0); };
  const auto lower_b = [](double a, double b) { return b < a ? 1.0 : (a == b ? 0.5 : 0.0); };
  // Finite differences at a tie give the one-sided average 0.5 as well.
  expect_binary(
      "fmin",
      [](auto a, auto b) {
        using std::fmin;
        return fmin(a, b);
      },
      lower_a, lower_b, pairs);
  expect_binary(
      "min",
      [](auto a, auto b) {
        using std::min;
        return min(a, b);
      },
      lower_a, lower_b, pairs);
  expect_binary(
      "fmax",
      [](auto a, auto b) {
        using std::fmax;
        return fmax(a, b);
      },
      lower_b, lower_a, pairs);
  expect_binary(
      "max",
      [](auto a, auto b) {
        using std::max;
        return max(a, b);
      },
      lower_b, lower_a, pairs);
  // fmin ignores a NaN operand, like std::fmin; the derivative follows the value.
  const auto r = nabla::value_and_gradient([](const auto& v) { return fmin(v[0], v[1]); },
                                           {std::nan(""), 2.0});
  BOOST_TEST(r.value == 2.0);
  BOOST_TEST(r.gradient[1] == 1.0);
  BOOST_TEST(r.gradient[0] == 0.0);
  // Rounding functions have zero derivative and record nothing.
  for (double x : linspace(-3.3, 3.3, 21)) {
    const auto g = nabla::value_and_gradient(
        [](const auto& v) { return floor(v[0]) + ceil(v[0]) + round(v[0]) + trunc(v[0]); }, {x});
    BOOST_TEST(g.value == std::floor(x) + std::ceil(x) + std::round(x) + std::trunc(x));
    BOOST_TEST(g.gradient[0] == 0.0);
  }
}

BOOST_AUTO_TEST_CASE(fused_multiply_add) {
  for (double a : linspace(-2, 2, 5))
    for (double b : {-1.5, 0.0, 3.0})
      for (double c : {-1.0, 2.0}) {
        const auto r = nabla::value_and_gradient(
            [](const auto& v) {
              using std::fma;
              return fma(v[0], v[1], v[2]);
            },
            {a, b, c});
        BOOST_TEST(r.value == std::fma(a, b, c));
        BOOST_TEST(r.gradient[0] == b);
        BOOST_TEST(r.gradient[1] == a);
        BOOST_TEST(r.gradient[2] == 1.0);
        const auto mixed = nabla::value_and_gradient(
            [&](const auto& v) {
              using std::fma;
              return fma(v[0], b, c);
            },
            {a});
        BOOST_TEST(mixed.gradient[0] == b);
      }
}

BOOST_AUTO_TEST_CASE(activations) {
  const auto logistic = [](double x) { return 1 / (1 + std::exp(-x)); };
  const auto dlogistic = [](double x) {
    return std::exp(-x) / ((1 + std::exp(-x)) * (1 + std::exp(-x)));
  };
  const auto pts = with(line, {40.0, -40.0, 700.0, -700.0});
  expect_unary(
      "sigmoid", [](auto x) { return nabla::sigmoid(x); }, dlogistic, pts);
  expect_unary(
      "softplus", [](auto x) { return nabla::softplus(x); }, logistic, pts);
  BOOST_TEST(nabla::softplus(1000.0) == 1000.0);
  BOOST_TEST(nabla::sigmoid(-1000.0) == 0.0);
}

// The activations of deep learning, against closed forms in long double (PyTorch's formulas:
// gelu exact, silu, leaky_relu, elu), at the kinks too: the derivative at 0 is the left one
// (leaky_relu′(0) = s, elu′(0) = α), as relu′(0) = 0 (docs/functions.md).
BOOST_AUTO_TEST_CASE(deep_learning_activations) {
  using L = long double;
  const L inv_sqrt2 = 1 / std::sqrt(2.0L), inv_sqrt_2pi = 1 / std::sqrt(2 * std::numbers::pi_v<L>);
  const auto dgelu = [=](double x) {
    const L t = x;
    return double(0.5L * std::erfc(-t * inv_sqrt2) + t * inv_sqrt_2pi * std::exp(-t * t / 2));
  };
  const auto dsilu = [](double x) {
    const L t = x, s = 1 / (1 + std::exp(-t));
    return double(s * (1 + t * (1 - s)));
  };
  const auto pts = with(line, {40.0, -40.0, 700.0, -700.0, -38.0, 0.0});
  expect_unary(
      "gelu", [](auto x) { return nabla::gelu(x); }, dgelu, pts);
  expect_unary(
      "silu", [](auto x) { return nabla::silu(x); }, dsilu, pts);
  const auto smooth = with(line, {-0.75, 0.25, 0.0});
  for (double s : {0.01, 0.2, 0.0, -0.5, 2.0}) {
    expect_unary(
        "leaky_relu(" + std::to_string(s) + ")", [s](auto x) { return nabla::leaky_relu(x, s); },
        [s](double x) { return x > 0 ? 1.0 : s; }, smooth, distance_to_zero);
  }
  expect_unary(
      "leaky_relu (default slope)", [](auto x) { return nabla::leaky_relu(x); },
      [](double x) { return x > 0 ? 1.0 : 0.01; }, smooth, distance_to_zero);
  for (double a : {1.0, 0.5, 2.0}) {
    expect_unary(
        "elu(" + std::to_string(a) + ")", [a](auto x) { return nabla::elu(x, a); },
        [a](double x) { return x > 0 ? 1.0 : double(a * std::exp(L(x))); },
        with(smooth, {-700.0, -40.0}), distance_to_zero);
  }
  // Values as PyTorch's at known points.
  BOOST_TEST(nabla::gelu(1.0) == 0.8413447460685429, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(nabla::gelu(-1.0) == -0.15865525393145707, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(nabla::silu(1.0) == 0.7310585786300049, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(nabla::elu(-1.0) == std::expm1(-1.0));
  BOOST_TEST(nabla::leaky_relu(-2.0) == -0.02);
  // gelu far left: accurate to its condition number x² (1 + erf(x/√2) would cancel to 0 from
  // x ≈ −8.3 on: 0, where the true value is −1.5e−196 at x = −30).
  BOOST_TEST(nabla::gelu(-30.0) < 0.0);
  BOOST_TEST(nabla::gelu(-30.0) == double(-30.0L * 0.5L * std::erfc(30.0L * inv_sqrt2)),
             boost::test_tools::tolerance(1e-12));
  BOOST_TEST(-30.0 * 0.5 * (1 + std::erf(-30.0 / std::sqrt(2.0))) == 0.0);  // what erf gives
  // Parameters must be finite.
  BOOST_CHECK_THROW((void)nabla::leaky_relu(1.0, std::nan("")), nabla::Error);
  BOOST_CHECK_THROW((void)nabla::elu(Var(1.0), inf), nabla::Error);
  BOOST_CHECK_THROW((void)nabla::leaky_relu(nabla::Dual<double>(1.0, 1.0), -inf), nabla::Error);
}

// Every rule at the awkward points (−0, 0, ±∞, NaN, ±1e300, the kinks): value and derivative
// in reverse and forward mode agree, and are the documented limits (docs/functions.md).
BOOST_AUTO_TEST_CASE(deep_learning_activations_at_special_points) {
  struct Expect {
    double x, value, derivative;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto check = [&](const std::string& name, auto f, const std::vector<Expect>& cases) {
    for (const Expect& c : cases) {
      const auto r = nabla::value_and_gradient([&](const auto& v) { return Var(f(v[0])); }, {c.x});
      const auto d = f(nabla::Dual<double>(c.x, 1.0));
      // Values to the sign of a zero; derivatives as numbers (a sweep adds into +0).
      const auto same = [](double a, double b) {
        return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
      };
      const auto equal = [](double a, double b) {
        return (std::isnan(a) && std::isnan(b)) || a == b;
      };
      BOOST_TEST(same(r.value, c.value), name << "(" << c.x << ") = " << r.value);
      BOOST_TEST(same(d.value(), c.value), name << "(" << c.x << ") forward = " << d.value());
      BOOST_TEST(equal(r.gradient[0], c.derivative),
                 name << "'(" << c.x << ") = " << r.gradient[0] << ", expected " << c.derivative);
      BOOST_TEST(equal(d.tangent(), c.derivative),
                 name << "'(" << c.x << ") forward = " << d.tangent());
    }
  };
  // x·Φ(x) and x·σ(x) share their special points: a gate that is ½ at 0, 0 at −∞, 1 at +∞.
  const std::vector<Expect> gated = {{0.0, 0.0, 0.5},     {-0.0, -0.0, 0.5}, {inf, inf, 1.0},
                                     {-inf, -0.0, 0.0},   {nan, nan, nan},   {1e300, 1e300, 1.0},
                                     {-1e300, -0.0, -0.0}};
  check(
      "gelu", [](auto x) { return nabla::gelu(x); }, gated);
  check(
      "silu", [](auto x) { return nabla::silu(x); }, gated);
  check("leaky_relu", [](auto x) { return nabla::leaky_relu(x, 0.1); },
        {{0.0, 0.0, 0.1},
         {-0.0, -0.0, 0.1},
         {inf, inf, 1.0},
         {-inf, -inf, 0.1},
         {nan, nan, 0.1},
         {1e300, 1e300, 1.0},
         {-2.0, -0.2, 0.1}});
  check("leaky_relu slope 0", [](auto x) { return nabla::leaky_relu(x, 0.0); },
        {{0.0, 0.0, 0.0}, {-inf, 0.0, 0.0}, {2.0, 2.0, 1.0}});
  check("elu", [](auto x) { return nabla::elu(x, 2.0); },
        {{0.0, 0.0, 2.0},
         {-0.0, -0.0, 2.0},
         {inf, inf, 1.0},
         {-inf, -2.0, 0.0},
         {nan, nan, nan},
         {1e300, 1e300, 1.0},
         {-1e300, -2.0, 0.0}});
}

BOOST_AUTO_TEST_CASE(log_sum_exp) {
  const std::vector<std::vector<double>> cases = {{0.0},
                                                  {1.0, 2.0, 3.0},
                                                  {-1000.0, -1000.0},
                                                  {1000.0, 0.0, -5.0},
                                                  {-3.5, 0.25, 7.0, 7.0, -20.0}};
  for (const auto& x : cases) {
    const auto f = [](const auto& v) { return nabla::log_sum_exp(v); };
    const auto r = nabla::value_and_gradient(f, x);
    double m = -inf, s = 0;
    for (double xi : x) m = std::max(m, xi);
    for (double xi : x) s += std::exp(xi - m);
    BOOST_TEST(r.value == m + std::log(s), boost::test_tools::tolerance(1e-14));
    BOOST_TEST(nabla::log_sum_exp(std::span<const double>(x)) == r.value);
    double total = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      BOOST_TEST(r.gradient[i] == std::exp(x[i] - m) / s, boost::test_tools::tolerance(1e-14));
      total += r.gradient[i];
    }
    BOOST_TEST(total == 1.0, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(nabla::check_gradient(f, x).ok);
  }
  // Braced form, and infinite inputs: the weight goes to the infinite entries.
  const auto r = nabla::value_and_gradient(
      [](const auto& v) {
        return nabla::log_sum_exp({v[0], v[1], v[2]});
      },
      {-inf, inf, 1.0});
  BOOST_TEST(r.value == inf);
  BOOST_TEST(r.gradient[1] == 1.0);
  BOOST_TEST(r.gradient[0] == 0.0);
  BOOST_CHECK_THROW(nabla::log_sum_exp(std::span<const Var>()), nabla::Error);
}

BOOST_AUTO_TEST_SUITE_END()
// clang-format on
