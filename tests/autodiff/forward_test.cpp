// Forward mode (Dual) and second derivatives: derivative, jvp, jacobian_forward, vjp,
// hessian_vector_product, hessian, value_gradient_hessian, hessian_diagonal, gradient at any
// number type, nesting, and their misuse. Every elementary function's forward and second-order
// derivatives are checked by the shared checker (ad_check.hpp) in math_test.cpp.
#include <fmt/format.h>
#include <nabla/autodiff.hpp>

#include <algorithm>
#include <array>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "expect_error.hpp"

using nabla::Dual;
using nabla::Var;
using nabla::test::expect_error;
namespace tt = boost::test_tools;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

// A generic loss: the idiom for code that runs on double, Var and Dual alike.
const auto rosenbrock = [](const auto& x) {
  using T = std::decay_t<decltype(x[0])>;
  T f = 0.0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    f += 100.0 * pow(x[i + 1] - x[i] * x[i], 2) + pow(1.0 - x[i], 2);
  }
  return f;
};

// The closed-form Hessian of the Rosenbrock function.
std::vector<double> rosenbrock_hessian(const std::vector<double>& x) {
  const std::size_t n = x.size();
  std::vector<double> h(n * n, 0.0);
  for (std::size_t i = 0; i + 1 < n; ++i) {
    h[i * n + i] += 1200 * x[i] * x[i] - 400 * x[i + 1] + 2;
    h[(i + 1) * n + i + 1] += 200;
    h[i * n + i + 1] += -400 * x[i];
    h[(i + 1) * n + i] += -400 * x[i];
  }
  return h;
}

std::vector<double> random_point(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.5, 1.5);
  std::vector<double> x(n);
  for (double& v : x) v = u(rng);
  return x;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(forward)

BOOST_AUTO_TEST_CASE(dual_arithmetic_and_generic_code) {
  const Dual<double> x(2.0, 1.0), c(3.0);
  const auto y = x * x * c + 1.0 / x - 2.0;
  BOOST_TEST(y.value() == 12.0 + 0.5 - 2.0, tt::tolerance(1e-15));
  BOOST_TEST(y.tangent() == 12.0 - 0.25, tt::tolerance(1e-15));
  // Generic code: T(0), comparisons, std::max, compound assignment.
  using std::max;
  Dual<double> s = 0;
  for (int i = 1; i <= 3; ++i) s += max(x * i, Dual<double>(3.0));
  BOOST_TEST(s.value() == 3.0 + 4.0 + 6.0);
  BOOST_TEST(s.tangent() == 2.0 + 3.0);
  BOOST_TEST((x < 3.0));
  BOOST_TEST((x == 2.0));
  BOOST_TEST((x > c) == false);
  BOOST_TEST(nabla::value(Dual<Dual<double>>(Dual<double>(4.0, 1.0))) == 4.0);
  // Several directions at once.
  const Dual<double, 3> z(2.0, {1.0, 0.0, 5.0});
  const auto w = sin(z) * z;
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(w.tangent(i) == (std::cos(2.0) * 2.0 + std::sin(2.0)) * z.tangent(i),
               tt::tolerance(1e-15));
  }
}

BOOST_AUTO_TEST_CASE(dual_special_points_follow_the_var_conventions) {
  // A direction that does not move an input gives no derivative, even through ∞ partials.
  const auto at_zero = sqrt(Dual<double>(0.0, 0.0));
  BOOST_TEST(at_zero.tangent() == 0.0);
  BOOST_TEST(sqrt(Dual<double>(0.0, 1.0)).tangent() == inf);
  BOOST_TEST((Dual<double>(inf, 0.0) * 2.0).tangent() == 0.0);
  BOOST_TEST(std::isnan(exp(Dual<double>(not_a_number, 1.0)).tangent()));
  BOOST_TEST(abs(Dual<double>(0.0, 1.0)).tangent() == 0.0);
  BOOST_TEST(atan2(Dual<double>(0.0, 1.0), Dual<double>(0.0, 1.0)).tangent() == 0.0);
  BOOST_TEST(hypot(Dual<double>(0.0, 1.0), 0.0).tangent() == 0.0);
  BOOST_TEST(floor(Dual<double>(2.5, 1.0)).tangent() == 0.0);
  BOOST_TEST(std::isnan(pow(-2.0, Dual<double>(0.5, 1.0)).tangent()));
  // Ties of fmin/fmax share the tangent, as Var's do.
  const auto m = fmax(Dual<double>(1.0, 1.0), Dual<double>(1.0, 3.0));
  BOOST_TEST(m.tangent() == 2.0);
  // pow(0, y) for y > 0 has ∂y = 0; x^0 has derivative 0.
  BOOST_TEST(pow(0.0, Dual<double>(2.0, 1.0)).tangent() == 0.0);
  BOOST_TEST(pow(Dual<double>(0.0, 1.0), 0.0).tangent() == 0.0);
  // Large magnitudes: tails exact.
  BOOST_TEST(tanh(Dual<double>(300.0, 1.0)).tangent() > 0.0);  // 1/cosh² = 4e^(−600)
  BOOST_TEST(sigmoid(Dual<double>(-800.0, 1.0)).tangent() == 0.0);
  BOOST_TEST(sigmoid(Dual<double>(-700.0, 1.0)).tangent() > 0.0);
  BOOST_TEST(nabla::isnan(Dual<double>(not_a_number)));
  BOOST_TEST(nabla::isinf(Dual<double>(-inf)));
  BOOST_TEST(nabla::isfinite(Dual<double>(1e300)));
  // log_sum_exp: the one kernel's rule at ±∞ and NaN.
  const std::vector<Dual<double>> all_minus_inf = {Dual<double>(-inf, 1.0),
                                                   Dual<double>(-inf, 3.0)};
  const auto l = nabla::log_sum_exp(std::span<const Dual<double>>(all_minus_inf));
  BOOST_TEST(l.value() == -inf);
  BOOST_TEST(l.tangent() == 2.0);  // 1/n each
  const auto big = nabla::log_sum_exp({Dual<double>(1000.0, 1.0), Dual<double>(1000.0, 0.0)});
  BOOST_TEST(big.value() == 1000.0 + std::log(2.0), tt::tolerance(1e-15));
  BOOST_TEST(big.tangent() == 0.5, tt::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(dual_reductions_match_their_loops) {
  // sum, prod, dot (all mixes) and log_sum_exp of Duals against the same loops, in forward mode and
  // in second order (their Hessians, through Dual<Var>).
  const auto reduced = [](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;
    const std::span<const T> a(x.data(), 3), b(x.data() + 3, 3);
    const std::vector<double> w = {0.5, -1.5, 2.0};
    return nabla::sum(a) * nabla::dot(a, b) + nabla::dot(std::span<const double>(w), b) +
           nabla::dot(b, std::span<const double>(w)) * nabla::log_sum_exp(b) +
           nabla::prod(std::span<const T>(x.data() + 1, 4));
  };
  const auto looped = [](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;
    const std::vector<double> w = {0.5, -1.5, 2.0};
    T s = 0.0, d = 0.0, wb = 0.0, e = 0.0, p = 1.0;
    for (std::size_t i = 0; i < 3; ++i) {
      s += x[i];
      d += x[i] * x[3 + i];
      wb += w[i] * x[3 + i];
      e += exp(x[3 + i]);
    }
    for (std::size_t i = 1; i < 5; ++i) p *= x[i];
    return s * d + wb + wb * log(e) + p;
  };
  const auto x = random_point(6, 21);
  const auto v = random_point(6, 22);
  const auto r1 = nabla::jvp(reduced, x, v), r2 = nabla::jvp(looped, x, v);
  BOOST_TEST(r1.value == r2.value, tt::tolerance(1e-13));
  BOOST_TEST(r1.tangent == r2.tangent, tt::tolerance(1e-13));
  const auto h1 = nabla::hessian(reduced, x), h2 = nabla::hessian(looped, x);
  for (std::size_t k = 0; k < h1.data.size(); ++k)
    BOOST_TEST(h1.data[k] == h2.data[k], tt::tolerance(1e-12));
  const std::vector<Dual<double>> three(3), two(2);
  expect_error(
      [&] {
        (void)nabla::dot(std::span<const Dual<double>>(three), std::span<const Dual<double>>(two));
      },
      {"nabla::dot", "got 3 and 2"});
}

namespace {
// H·v by forward over forward (Dual<Dual<double>>, no tape): (H v)_i = ∂/∂ε ∂f/∂x_i at x + εv.
// A reference independent of Dual<Var> and its expressions.
template <class F>
std::vector<double> forward_over_forward_hvp(const F& f, const std::vector<double>& x,
                                             const std::vector<double>& v) {
  using D = Dual<Dual<double>>;
  std::vector<double> hv(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::vector<D> p(x.size());
    for (std::size_t j = 0; j < x.size(); ++j) {
      p[j] = D(Dual<double>(x[j], v[j]), Dual<double>(i == j ? 1.0 : 0.0, 0.0));
    }
    hv[i] = f(p).tangent().tangent();
  }
  return hv;
}
}  // namespace

BOOST_AUTO_TEST_CASE(dual_var_expressions_fuse_and_mix_with_every_operand) {
  // + − · / on Dual<Var> build DualExpressions (Note [Lazy Dual<Var>]). Every operand mix —
  // Dual op Dual, expression op expression, with double, int, and functions of expressions —
  // must give the Hessian-vector products of forward over forward, which never builds one.
  const auto mixed = [](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;
    using std::max, std::min;
    const auto e = x[0] * x[1] - 2 * x[2];  // kept unrecorded
    T f = e / (1.5 + x[0] * x[0]) + 3.0 / (x[1] * x[1] + 2.0) - (x[2] - 1) * e;
    f += sin(x[0] * x[1]) + pow(x[1] * x[2], 2) + pow(x[0] * x[0] + 1.0, 1.5) +
         pow(2.0, x[1] * x[0]) + atan2(x[0] * x[1], x[2] + 3.0) + hypot(x[1] * x[2], 1.0) +
         exp(-x[0] * x[0]) * cos(x[1] - x[2]) + polygamma(1, x[0] * x[0] + 1.0);
    f -= fmin(x[0] * x[1], x[2] + 0.25) + max(T(x[1] * x[2]), T(-1.0));
    f *= 1.0 + x[2] * x[2] / 10;
    f /= 2;
    const T g = -(x[0] - x[1]) + fma(x[0], x[1], x[2] * x[2]);
    return x[0] * x[1] < x[2] ? T(f + g) : T(f - g);  // a comparison of an expression
  };
  for (unsigned seed = 1; seed <= 6; ++seed) {
    const std::vector<double> x = random_point(3, seed), v = random_point(3, seed + 100);
    const std::vector<double> hv = nabla::hessian_vector_product(mixed, x, v);
    const std::vector<double> ref = forward_over_forward_hvp(mixed, x, v);
    for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(hv[i] == ref[i], tt::tolerance(1e-12));
  }
  // Values, tangents, comparisons and printing of an expression, with a Var and a Var
  // expression as the other operand (they have no tangent).
  nabla::Tape tape;
  const nabla::Tape::Scope scope(tape);
  const Var a = tape.variable(1.5), w = tape.variable(2.0);
  const Dual<Var> x(a, Var(0.5));
  const auto e = x * w + w * w / x;  // 1.5·2 + 4/1.5; tangent 0.5·2 − 4·0.5/1.5²
  BOOST_TEST(nabla::value(e) == 3.0 + 4.0 / 1.5, tt::tolerance(1e-15));
  BOOST_TEST(e.tangent().value() == 1.0 - 2.0 / 2.25, tt::tolerance(1e-15));
  BOOST_TEST((e > 5.0));
  BOOST_TEST((e == e));
  BOOST_TEST(!nabla::isnan(e));
  BOOST_TEST(fmt::format("{:.2f}", x * 2) == "3.00 + 1.00ε");
  const auto before = tape.position();
  (void)(e * e + sin(x) > 0.0);  // comparing records only what sin() needed
  const Dual<Var> y = e;         // one value and one tangent statement
  BOOST_TEST(tape.position().statement - before.statement <= 4u);
  // ∂ẏ/∂a and ∂ẏ/∂w: ẏ = ẋ w − w² ẋ / x² with ẋ = 0.5.
  tape.backward(y.tangent());
  const std::vector<double> g = {tape.adjoint_value(a), tape.adjoint_value(w)};
  BOOST_TEST(g[0] == 2.0 * 4.0 * 0.5 / (1.5 * 1.5 * 1.5), tt::tolerance(1e-14));
  BOOST_TEST(g[1] == 0.5 - 2.0 * 2.0 * 0.5 / 2.25, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(a_dual_var_loop_line_records_two_statements) {
  // The chained Rosenbrock's loop (three lines) on Dual<Var>: at most two statements per line
  // (value and tangent), where one statement per operation took 16 per iteration.
  const std::size_t n = 50;
  const std::vector<double> x0 = random_point(n, 7);
  nabla::Tape tape;
  const nabla::Tape::Scope scope(tape);
  std::vector<Dual<Var>> x;
  for (std::size_t i = 0; i < n; ++i) x.emplace_back(tape.variable(x0[i]), Var(1.0));
  const auto before = tape.position();
  Dual<Var> f = 0.0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const Dual<Var> t = x[i + 1] - x[i] * x[i];
    const Dual<Var> u = 1.0 - x[i];
    f += 100.0 * (t * t) + u * u;
  }
  BOOST_TEST(tape.position().statement - before.statement <= 6 * (n - 1));
  // And its tangent's gradient is H·1 (the closed form).
  tape.backward(f.tangent());
  std::vector<double> hv;
  for (const auto& xi : x) hv.push_back(tape.adjoint_value(xi.value()));
  const std::vector<double> h = rosenbrock_hessian(x0);
  for (std::size_t i = 0; i < n; ++i) {
    double expected = 0.0;
    for (std::size_t j = 0; j < n; ++j) expected += h[i * n + j];
    BOOST_TEST(hv[i] == expected, tt::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(hessian_blocks_record_values_once_and_match_single_columns) {
  // hessian() evaluates f on Dual<Var, 4> (Note [Hessian blocks] in forward.hpp): the value
  // statements once for four columns, a tangent statement only where a direction moves it.
  // Each column must be what one Hessian-vector product with e_j (Dual<Var>) gives.
  const auto mixed = [](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;
    T f = 0.0;
    for (std::size_t i = 0; i + 1 < x.size(); ++i) {
      const T t = x[i + 1] - x[i] * x[i];
      f += 100.0 * (t * t) + sin(x[i]) * exp(-x[i + 1] / (1.0 + x[i] * x[i])) +
           pow(x[i] * x[i] + 1.0, 1.5);
    }
    return T(f * (1.0 + x[0] * x[x.size() - 1]) + log_sum_exp(x));
  };
  for (std::size_t n : {1u, 3u, 4u, 5u, 9u}) {  // blocks full, partial, and several
    const std::vector<double> x = random_point(n, static_cast<unsigned>(n));
    const nabla::Hessian H = nabla::hessian(mixed, x);
    for (std::size_t j = 0; j < n; ++j) {
      std::vector<double> e(n, 0.0);
      e[j] = 1.0;
      const std::vector<double> column = nabla::hessian_vector_product(mixed, x, e);
      for (std::size_t i = 0; i < n; ++i) {
        BOOST_TEST(H(i, j) == column[i], tt::tolerance(1e-13));
      }
    }
  }
  // Statement counts: a dot product with constant weights on Dual<Var, 4> seeded with e_0…e_3
  // records its value statements and nothing for the tangents (constant seeds times constants),
  // as many as one Dual<Var> column does.
  nabla::Tape tape;
  const nabla::Tape::Scope scope(tape);
  const std::size_t n = 12;
  const std::vector<double> x0 = random_point(n, 3);
  std::vector<Dual<Var, 4>> x4;
  std::vector<Dual<Var>> x1;
  for (std::size_t j = 0; j < n; ++j) {
    const Var v = tape.variable(x0[j]);
    std::array<Var, 4> seed{Var(0.0), Var(0.0), Var(0.0), Var(0.0)};
    if (j < 4) seed[j] = Var(1.0);
    x4.emplace_back(v, seed);
    x1.emplace_back(v, Var(j == 0 ? 1.0 : 0.0));
  }
  const auto dot_loop = [&](const auto& x) {
    std::decay_t<decltype(x[0])> s = 0.0;
    for (std::size_t j = 0; j < n; ++j) s += (0.5 + static_cast<double>(j)) * x[j];
    return s;
  };
  auto before = tape.position();
  const Dual<Var, 4> s4 = dot_loop(x4);
  const std::uint32_t block = tape.position().statement - before.statement;
  before = tape.position();
  const Dual<Var> s1 = dot_loop(x1);
  const std::uint32_t column = tape.position().statement - before.statement;
  BOOST_TEST(block == n);
  BOOST_TEST(column == n);
  for (std::size_t i = 0; i < 4; ++i) {
    BOOST_TEST(s4.tangent(i).is_constant());
    BOOST_TEST(s4.tangent(i).value() == 0.5 + static_cast<double>(i));
  }
  BOOST_TEST(s1.tangent().value() == 0.5);
  // A chain x_{j+1}·x_j: a direction moves two terms, so a block of four records the n − 1
  // products once and at most two tangent statements per direction and term it moves.
  before = tape.position();
  Dual<Var, 4> p = 0.0;
  for (std::size_t j = 0; j + 1 < n; ++j) p += x4[j + 1] * x4[j];
  BOOST_TEST(tape.position().statement - before.statement <= (n - 1) + 4 * 4);
  // Printing an unrecorded four-direction expression prints the Dual it becomes.
  const auto e = x4[0] * 2.0;
  BOOST_TEST(fmt::format("{:.1f}", e) == fmt::format("{:.1f}", Dual<Var, 4>(e)));
}

BOOST_AUTO_TEST_CASE(an_accumulators_tangent_passes_a_constant_zero_on) {
  // ṫ + 0, 0 + ṫ and ṫ − 0 with a constant 0 are ṫ itself (detail::PassThrough): nothing is
  // recorded. Unless the sum's bits differ from ṫ's: −0 + 0 = +0 must be recorded as +0.
  nabla::Tape tape;
  const nabla::Tape::Scope scope(tape);
  const Var a = tape.variable(1.5), b = tape.variable(-0.0);
  const Dual<Var, 2> x(a, {a * 2.0, Var(0.0)}), zero(a, {Var(0.0), Var(0.0)});
  const Dual<Var, 2> z(b, {b * 1.0, Var(0.0)});  // a tangent whose value is −0
  auto before = tape.position();
  const Dual<Var, 2> sum = x + zero, left = zero + x, difference = x - zero;
  BOOST_TEST(tape.position().statement - before.statement == 3u);  // the three values only
  BOOST_TEST(sum.tangent(0).same_variable(x.tangent(0)));
  BOOST_TEST(left.tangent(0).same_variable(x.tangent(0)));
  BOOST_TEST(difference.tangent(0).same_variable(x.tangent(0)));
  BOOST_TEST(sum.tangent(1).is_constant());
  before = tape.position();
  const Dual<Var, 2> signed_zero = z + zero;  // −0 + (+0) = +0: not −0's Var
  BOOST_TEST(!signed_zero.tangent(0).same_variable(z.tangent(0)));
  BOOST_TEST(!std::signbit(signed_zero.tangent(0).value()));
  BOOST_TEST(tape.position().statement - before.statement == 2u);  // value and that tangent
  // f returning an input or a constant, and log_sum_exp of a braced list (Dual<Var, 4>'s own
  // overload): the same Hessians as one column at a time.
  const std::vector<double> p = {0.3, -1.2};
  BOOST_TEST(
      nabla::hessian([](const auto& v) { return v[1]; }, p).data == std::vector<double>(4, 0.0),
      tt::per_element());
  const auto lse = [](const auto& v) { return nabla::log_sum_exp({v[0] * v[1], v[0], -v[1]}); };
  const nabla::Hessian H = nabla::hessian(lse, p);
  for (std::size_t j = 0; j < 2; ++j) {
    std::vector<double> e(2, 0.0);
    e[j] = 1.0;
    const std::vector<double> column = nabla::hessian_vector_product(lse, p, e);
    for (std::size_t i = 0; i < 2; ++i) BOOST_TEST(H(i, j) == column[i], tt::tolerance(1e-14));
  }
}

BOOST_AUTO_TEST_CASE(hessian_takes_a_function_written_for_one_direction) {
  // A function whose parameter names Dual<Var> (one tangent) cannot take the blocks of four:
  // hessian() then evaluates it column by column.
  const auto f = [](std::span<const Dual<Var>> x) { return Dual<Var>(x[0] * x[0] * x[1]); };
  const auto g = [](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;
    return T(x[0] * x[0] * x[1]);
  };
  const std::vector<double> x = {1.5, -2.0};
  const nabla::Hessian a = nabla::hessian(f, x);
  const nabla::Hessian b = nabla::hessian(g, x);
  BOOST_TEST(a.data == b.data, tt::per_element());
  BOOST_TEST(a(0, 0) == 2 * x[1]);
  BOOST_TEST(a(0, 1) == 2 * x[0]);
}

BOOST_AUTO_TEST_CASE(dual_formats) {
  BOOST_TEST(fmt::format("{}", Dual<double>(1.5, 2.0)) == "1.5 + 2ε");
  BOOST_TEST(fmt::format("{:.4f}", Dual<double>(2.0, 1.0) * sin(Dual<double>(2.0, 1.0))) ==
             "1.8186 + 0.0770ε");  // the docs' example
  BOOST_TEST(fmt::format("{:.1f}", Dual<double, 2>(1.0, {2.0, 3.0})) == "1.0 + [2.0, 3.0]ε");
  BOOST_TEST(
      fmt::format("{}", Dual<Dual<double>>(Dual<double>(1.0, 2.0), Dual<double>(3.0, 4.0))) ==
      "(1 + 2ε) + (3 + 4ε)ε");
}

BOOST_AUTO_TEST_CASE(zero_tangents_through_infinite_partials_on_the_fast_and_slow_paths) {
  // Each operation multiplies plainly when its partials are finite (Note [Forward cost]) and
  // applies 0·∞ = 0 term by term otherwise; both paths, one and several directions.
  BOOST_TEST((Dual<double>(0.0, 0.0) * Dual<double>(inf, 1.0)).tangent() == 0.0);
  BOOST_TEST((Dual<double>(inf, 0.0) * Dual<double>(2.0, 1.0)).tangent() == inf);
  BOOST_TEST((Dual<double>(1.0, 0.0) / Dual<double>(0.0, 0.0)).tangent() == 0.0);
  BOOST_TEST((Dual<double>(0.0, 1.0) * Dual<double>(inf, 1.0)).tangent() == inf);  // 1·∞ + 1·0
  BOOST_TEST(std::isnan((Dual<double>(-inf, 1.0) * Dual<double>(inf, 1.0)).tangent()));  // ∞ − ∞
  // Huge finite partials whose sum overflows take the careful path and stay exact.
  const double big = 1.5e308;
  BOOST_TEST((Dual<double>(big, 1.0) * Dual<double>(big, 0.0)).tangent() == big);
  BOOST_TEST((Dual<double>(1e300, 2.0) * Dual<double>(1e-300, 3.0)).tangent() ==
             2.0 * 1e-300 + 3.0 * 1e300);
  const Dual<double, 4> a(0.0, {0.0, 1.0, 0.0, -1.0});
  const Dual<double, 4> b(inf, {1.0, 0.0, 0.0, 0.0});
  const auto p = a * b;  // ∂ = ȧ·∞ + ḃ·0
  BOOST_TEST(p.tangent(0) == 0.0);
  BOOST_TEST(p.tangent(1) == inf);
  BOOST_TEST(p.tangent(2) == 0.0);
  BOOST_TEST(p.tangent(3) == -inf);
  const auto r = sqrt(Dual<double, 4>(0.0, {0.0, 1.0, 0.0, 2.0}));
  BOOST_TEST(r.tangent(0) == 0.0);
  BOOST_TEST(r.tangent(1) == inf);
  BOOST_TEST((Dual<double, 4>(0.0, {0.0, 1.0, 0.0, 0.0}) * inf).tangent(0) == 0.0);
  // A finite Jacobian column next to an infinite one: forward agrees with reverse.
  const auto f = [](const auto& x) { return sqrt(x[0]) + 3.0 * x[1]; };
  const auto col = nabla::jvp(f, std::vector<double>{0.0, 1.0}, std::vector<double>{0.0, 1.0});
  BOOST_TEST(col.tangent == 3.0);
}

BOOST_AUTO_TEST_CASE(helpers_evaluate_unchecked_and_again_checked_only_on_a_nan) {
  // Note [Unchecked tangents]: the forward helpers evaluate f without the per-operation NaN
  // test, and again with it when the result has a NaN; Dual<double> used directly is checked.
  BOOST_TEST(!nabla::detail::unchecked_tangents);
  int calls = 0;
  bool unchecked_inside = false;
  const auto f = [&](const auto& x) {
    ++calls;
    unchecked_inside = nabla::detail::unchecked_tangents;
    return sqrt(x[0]) * x[1] + x[1] * x[1];
  };
  // A regular point: one evaluation, unchecked. ∂/∂x₀ = x₁/(2√x₀) = 3/4, ∂/∂x₁ = √x₀ + 2x₁ = 8.
  auto r = nabla::jvp(f, std::vector<double>{4.0, 3.0}, std::vector<double>{1.0, 1.0});
  BOOST_TEST(calls == 1);
  BOOST_TEST(unchecked_inside);
  BOOST_TEST(r.tangent == 8.75);
  BOOST_TEST(!nabla::detail::unchecked_tangents);
  // √x₀ at 0 along a direction that does not move x₀: the plain term 0·∞ is NaN, the checked
  // one 0, so f is evaluated again, checked: √0 + 2·3 = 6.
  calls = 0;
  r = nabla::jvp(f, std::vector<double>{0.0, 3.0}, std::vector<double>{0.0, 1.0});
  BOOST_TEST(calls == 2);
  BOOST_TEST(!unchecked_inside);
  BOOST_TEST(r.tangent == 6.0);
  BOOST_TEST(!nabla::detail::unchecked_tangents);
  // A NaN the checked evaluation gives too: evaluated twice, still NaN.
  calls = 0;
  r = nabla::jvp(f, std::vector<double>{-1.0, 3.0}, std::vector<double>{1.0, 0.0});
  BOOST_TEST(calls == 2);
  BOOST_TEST(std::isnan(r.tangent));
  // jacobian_forward: the column that moves x₀ is ∞, the other one 6.
  calls = 0;
  const nabla::Jacobian J = nabla::jacobian_forward(f, {0.0, 3.0});
  BOOST_TEST(calls == 2);
  BOOST_TEST(J(0, 0) == inf);
  BOOST_TEST(J(0, 1) == 6.0);
  // hessian_diagonal: ∂²/∂x₁² = 2 (unchecked, √x₀'s zero tangents meet ∂ = ∞: NaN), and
  // ∂²/∂x₀² what the checked evaluation along e₀ gives.
  const auto diagonal = nabla::hessian_diagonal(f, {0.0, 3.0});
  BOOST_TEST(diagonal.at(1) == 2.0);
  using DD = Dual<Dual<double>>;
  const std::vector<DD> along_e0{DD(Dual<double>(0.0, 1.0), Dual<double>(1.0, 0.0)),
                                 DD(Dual<double>(3.0))};
  const double checked = f(along_e0).tangent().tangent();
  BOOST_TEST(((std::isnan(checked) && std::isnan(diagonal.at(0))) || checked == diagonal.at(0)));
  // derivative: a constant √0 (its tangent 0 meets ∂ = ∞) times t, plus t: 0·t + 1 = 1.
  const double d = nabla::derivative([](auto t) { return sqrt(decltype(t)(0.0)) * t + t; }, 2.0);
  BOOST_TEST(d == 1.0);
  // The direct evaluation is checked: the same 0, no second evaluation needed.
  BOOST_TEST((sqrt(Dual<double>(0.0, 0.0)) * 3.0).tangent() == 0.0);
}

BOOST_AUTO_TEST_CASE(the_unchecked_setting_nests_survives_exceptions_and_is_per_thread) {
  // f throwing during the unchecked evaluation leaves the setting as it was.
  BOOST_CHECK_THROW(nabla::jvp([](const auto&) -> Dual<double> { throw std::runtime_error("f"); },
                               std::vector<double>{1.0}, std::vector<double>{1.0}),
                    std::runtime_error);
  BOOST_TEST(!nabla::detail::unchecked_tangents);
  // A helper called inside f restores the outer evaluation's setting when it returns.
  bool after_inner = false;
  bool other_thread = true;
  const auto r = nabla::jvp(
      [&](const auto& x) {
        const double inner = nabla::derivative([](auto t) { return t * t; }, 3.0);
        after_inner = nabla::detail::unchecked_tangents;
        std::thread([&] { other_thread = nabla::detail::unchecked_tangents; }).join();
        return inner * x[0] * x[0];
      },
      std::vector<double>{2.0}, std::vector<double>{1.0});
  BOOST_TEST(r.tangent == 24.0);  // 6 · 2x
  BOOST_TEST(after_inner);
  BOOST_TEST(!other_thread);  // another thread evaluates checked
  BOOST_TEST(!nabla::detail::unchecked_tangents);
}

BOOST_AUTO_TEST_CASE(derivative_at_an_integer_point) {
  const auto f = [](auto x) { return x * x * x; };
  BOOST_TEST(nabla::derivative(f, 2) == 12.0);
  BOOST_TEST(nabla::derivative(f, 2.0f) == 12.0);
  static_assert(std::same_as<decltype(nabla::derivative(f, 2)), double>);
}

BOOST_AUTO_TEST_CASE(derivatives_of_any_order) {
  const auto f = [](auto x) { return exp(x) * sin(x); };
  const double x = 0.7;
  const double d1 = nabla::derivative(f, x);
  const double d2 = nabla::derivative([&](auto t) { return nabla::derivative(f, t); }, x);
  const double d3 = nabla::derivative(
      [&](auto u) { return nabla::derivative([&](auto t) { return nabla::derivative(f, t); }, u); },
      x);
  // (eˣ sin x)′ = eˣ(sin + cos), ″ = 2eˣ cos x, ‴ = 2eˣ(cos − sin)
  BOOST_TEST(d1 == std::exp(x) * (std::sin(x) + std::cos(x)), tt::tolerance(1e-14));
  BOOST_TEST(d2 == 2 * std::exp(x) * std::cos(x), tt::tolerance(1e-14));
  BOOST_TEST(d3 == 2 * std::exp(x) * (std::cos(x) - std::sin(x)), tt::tolerance(1e-13));
  // The third derivative by reverse over forward over forward agrees.
  const auto r = nabla::value_and_gradient(
      [&](const auto& v) {
        return nabla::derivative([&](auto t) { return nabla::derivative(f, t); }, v[0]);
      },
      {x});
  BOOST_TEST(r.gradient[0] == d3, tt::tolerance(1e-13));
}

BOOST_AUTO_TEST_CASE(nested_closures_lift_the_inner_point) {
  // d/dx [x · d/dy (x·y)] = d/dx x² = 2x. The inner function closes over the outer x, so the
  // inner point is given the outer's type: the levels stay apart (docs/higher-order.md).
  const auto outer = [](auto x) {
    using T = decltype(x);
    return x * nabla::derivative([&](auto y) { return x * y; }, T(2.0));
  };
  BOOST_TEST(nabla::derivative(outer, 1.5) == 3.0);
  const auto r = nabla::value_and_gradient([&](const auto& v) { return outer(v[0]); }, {1.5});
  BOOST_TEST(r.gradient[0] == 3.0);
}

BOOST_AUTO_TEST_CASE(jvp_vjp_and_forward_jacobian_agree_with_reverse) {
  const auto f = [](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;
    std::vector<T> y;
    for (std::size_t i = 0; i < x.size(); ++i) {
      y.push_back(x[i] * x[(i + 1) % x.size()] + sin(x[i]));
      y.push_back(exp(x[i] / 3.0) - x[0]);
    }
    return y;
  };
  for (std::size_t n : {1u, 3u, 4u, 5u, 9u}) {
    const auto x = random_point(n, static_cast<unsigned>(n));
    const nabla::Jacobian reverse = nabla::jacobian(f, x);
    const nabla::Jacobian forward = nabla::jacobian_forward(f, x);
    BOOST_TEST(forward.rows == 2 * n);
    BOOST_TEST(forward.cols == n);
    for (std::size_t k = 0; k < reverse.data.size(); ++k)
      BOOST_TEST(forward.data[k] == reverse.data[k], tt::tolerance(1e-14));
    for (std::size_t i = 0; i < reverse.rows; ++i)
      BOOST_TEST(forward.values[i] == reverse.values[i]);
    const auto v = random_point(n, 7), w = random_point(2 * n, 8);
    const auto jv = nabla::jvp(f, x, v);
    const auto wj = nabla::vjp(f, x, w);
    for (std::size_t i = 0; i < 2 * n; ++i) {
      double expected = 0;
      for (std::size_t j = 0; j < n; ++j) expected += reverse(i, j) * v[j];
      BOOST_TEST(jv.tangent[i] == expected, tt::tolerance(1e-13));
      BOOST_TEST(jv.value[i] == reverse.values[i]);
    }
    for (std::size_t j = 0; j < n; ++j) {
      double expected = 0;
      for (std::size_t i = 0; i < 2 * n; ++i) expected += w[i] * reverse(i, j);
      BOOST_TEST(wj.product[j] == expected, tt::tolerance(1e-13));
    }
  }
}

BOOST_AUTO_TEST_CASE(jvp_is_shaped_as_the_output) {
  // One number out: two doubles (no allocation); a range out, even of one entry: two vectors.
  const auto scalar = [](const auto& x) { return x[0] * x[1] + sin(x[0]); };
  const auto vector = [](const auto& x) { return std::vector{x[0] * x[1] + sin(x[0])}; };
  const std::vector<double> x{0.5, -2.0}, v{3.0, 0.25};
  static_assert(std::is_same_v<decltype(nabla::jvp(scalar, x, v)), nabla::DirectionalDerivative>);
  static_assert(std::is_same_v<decltype(nabla::jvp(vector, x, v)), nabla::JacobianVectorProduct>);
  const auto [y, dy] = nabla::jvp(scalar, x, v);
  BOOST_TEST(y == 0.5 * -2.0 + std::sin(0.5));
  BOOST_TEST(dy == (-2.0 + std::cos(0.5)) * 3.0 + 0.5 * 0.25, tt::tolerance(1e-15));
  const auto r = nabla::jvp(vector, x, v);
  BOOST_TEST(r.value.size() == 1u);
  BOOST_TEST(r.value[0] == y);
  BOOST_TEST(r.tangent[0] == dy);
  // A constant (a double, or a Dual built from one) has tangent 0, at an empty point too.
  const auto two = nabla::jvp([](const auto&) { return 2.0; }, x, v);
  BOOST_TEST(two.value == 2.0);
  BOOST_TEST(two.tangent == 0.0);
  const auto empty = nabla::jvp([](const auto& p) { return Dual<double>(double(p.size())); },
                                std::span<const double>(), std::span<const double>());
  BOOST_TEST(empty.value == 0.0);
  BOOST_TEST(empty.tangent == 0.0);
  // A NaN output from a NaN input: evaluated again checked, still NaN (not lost, not thrown).
  const std::vector<double> nan_point{std::nan(""), 1.0};
  BOOST_TEST(std::isnan(nabla::jvp(scalar, nan_point, v).tangent));
  expect_error([&] { (void)nabla::jvp(scalar, x, std::vector<double>{1.0}); },
               {"nabla::jvp", "got 1"});
}

BOOST_AUTO_TEST_CASE(jvp_points_of_every_size_nested_throwing_and_on_threads) {
  // Note [JVP point]: the thread's storage (up to 4096 entries), a point of its own past it or
  // inside a jvp, a fill of any length (the wide loops' remainders) from unaligned x and v.
  // Σ x_j·w_j + x_j² with weights w_j = j + 1: the tangent is Σ (w_j + 2 x_j) v_j.
  const auto f = [](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;
    T s = 0.0;
    for (std::size_t j = 0; j < x.size(); ++j) s += x[j] * double(j + 1) + x[j] * x[j];
    return s;
  };
  const auto expected = [](std::span<const double> x, std::span<const double> v) {
    double y = 0, dy = 0;
    for (std::size_t j = 0; j < x.size(); ++j) {
      y += x[j] * double(j + 1) + x[j] * x[j];
      dy += (double(j + 1) + 2 * x[j]) * v[j];
    }
    return std::pair{y, dy};
  };
  std::vector<double> xs(5001), vs(5001);
  for (std::size_t j = 0; j < xs.size(); ++j) {
    xs[j] = std::ldexp(double(j % 7) - 3.0, -2);  // exact: sums are exact in doubles
    vs[j] = double(j % 5) - 2.0;
  }
  for (std::size_t n : {0, 1, 2, 3, 5, 7, 8, 9, 17, 100, 4095, 4096, 4097, 5000}) {
    for (std::size_t offset : {0, 1}) {  // x and v one double off their vectors' alignment
      const std::span<const double> x(xs.data() + offset, n), v(vs.data() + offset, n);
      const auto [y, dy] = nabla::jvp(f, x, v);
      const auto [ey, edy] = expected(x, v);
      BOOST_TEST_CONTEXT("n = " << n << ", offset " << offset) {
        BOOST_TEST(y == ey);
        BOOST_TEST(dy == edy);
      }
    }
  }
  // A jvp inside f: the outer point stays in the thread's storage, the inner one gets its own.
  const std::vector<double> x{1.0, 2.0, 3.0}, v{1.0, 0.0, -1.0};
  const auto outer = [&](const auto& p) {
    const auto inner = nabla::jvp(f, x, v);  // 1+1 + 2·2+4 + 3·3+9 = 28; (1+2) − (3+6) = −6
    return p[0] * inner.value + p[1] * inner.tangent;
  };
  const auto r = nabla::jvp(outer, x, v);
  BOOST_TEST(r.value == 28.0 - 2.0 * 6.0);
  BOOST_TEST(r.tangent == 28.0);
  // f throwing leaves the storage free for the next jvp (which gives the right answer).
  BOOST_CHECK_THROW(
      (void)nabla::jvp([](const auto&) -> Dual<double> { throw std::runtime_error("f"); }, x, v),
      std::runtime_error);
  BOOST_TEST(nabla::jvp(outer, x, v).tangent == 28.0);
  // Threads each with their own storage, freed when they end (the sanitizer build checks leaks).
  std::vector<double> tangents(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < tangents.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 200; ++k) tangents[t] = nabla::jvp(outer, x, v).tangent;
    });
  }
  for (std::thread& t : threads) t.join();
  for (const double d : tangents) BOOST_TEST(d == 28.0);
}

namespace {
// N directions at once against N one-direction evaluations of the same f, lane by lane.
template <std::size_t N, class F>
void expect_lanes_match_single_directions(const F& f, const std::vector<double>& x,
                                          std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<std::array<double, N>> d(x.size());
  for (auto& row : d)
    for (double& e : row) e = u(rng);
  std::vector<Dual<double, N>> xn(x.size());
  for (std::size_t j = 0; j < x.size(); ++j) xn[j] = Dual<double, N>(x[j], d[j]);
  const Dual<double, N> yn = f(std::span<const Dual<double, N>>(xn));
  for (std::size_t k = 0; k < N; ++k) {
    std::vector<Dual<double>> x1(x.size());
    for (std::size_t j = 0; j < x.size(); ++j) x1[j] = Dual<double>(x[j], d[j][k]);
    const Dual<double> y1 = f(std::span<const Dual<double>>(x1));
    BOOST_TEST(yn.value() == y1.value());
    BOOST_TEST(yn.tangent(k) == y1.tangent(), "N = " << N << ", lane " << k);
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(vector_mode_lanes_match_single_directions_for_2_to_8) {
  // Dual<double, N> computes even N two lanes at a time (LanePair); every lane is the
  // one-direction result, bit for bit, through every kind of operation.
  const auto f = [](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;
    T s = 0.0;
    for (std::size_t i = 0; i + 1 < x.size(); ++i) {
      const T t = x[i + 1] - x[i] * x[i];
      s += 100.0 * t * t + (1.0 - x[i]) * (1.0 - x[i]);
      s += exp(0.1 * x[i]) * sin(x[i + 1]) / (2.0 + tanh(x[i]));
      s += sqrt(x[i] * x[i] + 1.0) + log1p(x[i] * x[i]) + pow(x[i] * x[i] + 1.0, x[i + 1]);
      s -= atan2(x[i], x[i + 1] + 3.0) * cbrt(x[i + 1] + 2.0);
    }
    return s;
  };
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u(-1, 1);
  for (std::size_t n : {1, 2, 7, 20}) {
    std::vector<double> x(n);
    for (double& e : x) e = u(rng);
    expect_lanes_match_single_directions<2>(f, x, rng);
    expect_lanes_match_single_directions<3>(f, x, rng);
    expect_lanes_match_single_directions<4>(f, x, rng);
    expect_lanes_match_single_directions<5>(f, x, rng);
    expect_lanes_match_single_directions<8>(f, x, rng);
  }
}

BOOST_AUTO_TEST_CASE(fma_rounds_once_on_every_number_type_and_takes_numbers) {
  // At a = 1 + 2⁻³⁰, b = 1 − 2⁻³⁰, c = −1: a·b + c = −2⁻⁶⁰ exactly, 0 when a·b is rounded first.
  const double a = 1.0 + std::ldexp(1.0, -30), b = 1.0 - std::ldexp(1.0, -30), c = -1.0;
  const double exact = std::fma(a, b, c);
  BOOST_TEST(exact == -std::ldexp(1.0, -60));
  const auto y = fma(Dual<double>(a, 1.0), Dual<double>(b, 2.0), Dual<double>(c, 3.0));
  BOOST_TEST(y.value() == exact);
  BOOST_TEST(y.tangent() == b + 2.0 * a + 3.0);
  const auto f = [](const auto& x) { return fma(x[0], x[1], x[2]); };
  const std::vector<double> point{a, b, c};
  BOOST_TEST(nabla::jvp(f, point, std::vector<double>{1.0, 0.0, 0.0}).value == exact);
  BOOST_TEST(nabla::value_gradient_hessian(f, point).value == exact);
  BOOST_TEST(nabla::jacobian_forward(f, point).values.at(0) == exact);
  // Numbers among the operands, on every number type: f = 2·x₀ + x₁ and x₀·x₁ + 3.
  const auto g = [](const auto& x) {
    return fma(x[0], 2.0, x[1]) + fma(x[0], x[1], 3) + fma(2.0, x[1], 1.0) + fma(1.0, 2.0, x[0]);
  };
  const std::vector<double> at{0.5, -1.5};  // g = 2x₀ + x₁ + x₀x₁ + 3 + 2x₁ + 1 + 2 + x₀
  const auto jv = nabla::jvp(g, at, std::vector<double>{1.0, 1.0});
  BOOST_TEST(jv.value == 1.0 - 1.5 - 0.75 + 3.0 - 3.0 + 1.0 + 2.0 + 0.5);
  BOOST_TEST(jv.tangent == (3.0 + at[1]) + (3.0 + at[0]));
  const auto H = nabla::hessian(g, at);
  BOOST_TEST(H(0, 1) == 1.0);
  BOOST_TEST(H(0, 0) == 0.0);
  BOOST_TEST(nabla::hessian_diagonal(g, at).at(1) == 0.0);
}

BOOST_AUTO_TEST_CASE(the_diagonal_helper_agrees_with_hessian_at_special_points) {
  // hessian_diagonal (forward over forward) took 0·∞ = NaN where a direction that does not
  // move an operand at any order met an infinite inner tangent; hessian (forward over reverse)
  // gives the entries. Both now agree, NaN for NaN.
  const auto expect_same = [](const auto& f, std::vector<double> x) {
    const auto H = nabla::hessian(f, x);
    const auto d = nabla::hessian_diagonal(f, x);
    for (std::size_t i = 0; i < x.size(); ++i) {
      BOOST_TEST_INFO("entry " << i << " at x = (" << x[0] << ", " << x[1] << ")");
      BOOST_TEST(((std::isnan(H(i, i)) && std::isnan(d[i])) || H(i, i) == d[i]));
    }
  };
  expect_same([](const auto& x) { return x[1] / x[0]; }, {1e-300, 1.0});
  expect_same([](const auto& x) { return x[1] * exp(x[0]); }, {710.0, 1.0});
  expect_same([](const auto& x) { return sqrt(x[0]) * x[1]; }, {0.0, 2.0});
  expect_same([](const auto& x) { return pow(x[0], x[1]); }, {0.0, 0.5});
  expect_same([](const auto& x) { return pow(x[0], x[1]); }, {-2.0, 3.0});
  const auto d = nabla::hessian_diagonal([](const auto& x) { return x[1] / x[0]; },
                                         std::vector<double>{1e-300, 1.0});
  BOOST_TEST(d[0] == inf);  // 2x₁/x₀³
  BOOST_TEST(d[1] == 0.0);  // linear in x₁
}

BOOST_AUTO_TEST_CASE(pow_of_a_negative_base_has_nan_second_derivatives_in_b) {
  // ∂f/∂b = aᵇ ln a is NaN for a < 0; its derivatives are NaN too (they were the 0 of a
  // constant NaN: H₁₁ = 0, and the HVP along e₁ all zeros).
  const auto f = [](const auto& x) { return pow(x[0], x[1]); };
  const std::vector<double> x{-2.0, 3.0};
  const auto H = nabla::hessian(f, x);
  BOOST_TEST(H(0, 0) == -12.0);  // b(b − 1)a^(b−2)
  BOOST_TEST(std::isnan(H(0, 1)));
  BOOST_TEST(std::isnan(H(1, 1)));
  const auto e1 = nabla::hessian_vector_product(f, x, std::vector<double>{0.0, 1.0});
  BOOST_TEST(std::isnan(e1[0]));
  BOOST_TEST(std::isnan(e1[1]));
  const auto g = nabla::value_and_gradient(f, x);
  BOOST_TEST(g.gradient[0] == 12.0);
  BOOST_TEST(std::isnan(g.gradient[1]));
  // a > 0 and a = 0 as before: ∂²/∂b² = aᵇ ln² a, and 0 at a = 0 with b > 0.
  const auto Hp = nabla::hessian(f, std::vector<double>{2.0, 3.0});
  BOOST_TEST(Hp(1, 1) == 8.0 * std::log(2.0) * std::log(2.0), tt::tolerance(1e-14));
  BOOST_TEST(nabla::hessian(f, std::vector<double>{0.0, 0.5})(1, 1) == 0.0);
}

BOOST_AUTO_TEST_CASE(derivative_at_an_unrecorded_operation_of_any_block) {
  // f = d/dt t³ at t = x₀x₁, i.e. 3(x₀x₁)²: the point of derivative() is an unrecorded
  // Dual<Var> operation, with one tangent (the HVP) or four (the dense Hessian's blocks).
  const auto f = [](const auto& v) {
    return nabla::derivative([](const auto& t) { return t * t * t; }, v[0] * v[1]);
  };
  const std::vector<double> x{0.7, 1.3};
  const auto H = nabla::hessian(f, x);
  const auto col0 = nabla::hessian_vector_product(f, x, std::vector<double>{1.0, 0.0});
  BOOST_TEST(H(0, 0) == 6.0 * x[1] * x[1], tt::tolerance(1e-14));
  BOOST_TEST(H(0, 1) == 12.0 * x[0] * x[1], tt::tolerance(1e-14));
  BOOST_TEST(H(1, 1) == 6.0 * x[0] * x[0], tt::tolerance(1e-14));
  BOOST_TEST(H(0, 0) == col0[0]);
  BOOST_TEST(H(1, 0) == col0[1], tt::tolerance(1e-15));  // H is the symmetric mean
}

BOOST_AUTO_TEST_CASE(hessians_match_the_closed_form) {
  for (std::size_t n : {2u, 3u, 4u, 5u, 8u, 11u}) {
    const auto x = random_point(n, 100 + static_cast<unsigned>(n));
    const auto expected = rosenbrock_hessian(x);
    const auto vgh = nabla::value_gradient_hessian(rosenbrock, x);
    const auto vg = nabla::value_and_gradient(rosenbrock, x);
    BOOST_TEST(vgh.value == vg.value);
    for (std::size_t i = 0; i < n; ++i)
      BOOST_TEST(vgh.gradient[i] == vg.gradient[i], tt::tolerance(1e-14));
    for (std::size_t k = 0; k < n * n; ++k)
      BOOST_TEST(vgh.hessian.data[k] == expected[k], tt::tolerance(1e-12));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) BOOST_TEST(vgh.hessian(i, j) == vgh.hessian(j, i));
    const auto diag = nabla::hessian_diagonal(rosenbrock, x);
    const auto v = random_point(n, 5);
    const auto hv = nabla::hessian_vector_product(rosenbrock, x, v);
    for (std::size_t i = 0; i < n; ++i) {
      BOOST_TEST(diag[i] == expected[i * n + i], tt::tolerance(1e-12));
      double e = 0;
      for (std::size_t j = 0; j < n; ++j) e += expected[i * n + j] * v[j];
      BOOST_TEST(hv[i] == e, tt::tolerance(1e-11));
    }
  }
}

BOOST_AUTO_TEST_CASE(hessian_of_a_log_likelihood_gives_standard_errors) {
  // Normal log-likelihood in (μ, log σ): at the maximum the observed information is
  // diag(n/σ², 2n), so the standard errors are σ/√n and 1/√(2n).
  const std::vector<double> y = {1.2, 0.7, 2.1, 1.6, 0.9, 1.4, 1.1, 1.8};
  const double n = static_cast<double>(y.size());
  double mean = 0, var = 0;
  for (double v : y) mean += v / n;
  for (double v : y) var += (v - mean) * (v - mean) / n;
  const auto nll = [&](const auto& p) {
    using T = std::decay_t<decltype(p[0])>;
    T s = 0.0;
    for (double v : y) s += 0.5 * pow((v - p[0]) / exp(p[1]), 2) + p[1];
    return s;
  };
  const auto H = nabla::hessian(nll, {mean, 0.5 * std::log(var)});
  BOOST_TEST(H(0, 0) == n / var, tt::tolerance(1e-12));
  BOOST_TEST(H(1, 1) == 2 * n, tt::tolerance(1e-12));
  BOOST_TEST(H(0, 1) == 0.0, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(a_gradient_descent_loop_inside_a_loss) {
  // loss(θ) = (x_K(θ) − 1)², x_{k+1} = x_k − η ∂g/∂x (x_k, θ), g(x, θ) = (x − θ)² + 0.1 x⁴:
  // the inner gradient is taken at Var points (forward passes recorded on the tape), the outer
  // by one reverse sweep; checked against finite differences of the plain-double loop.
  const auto loss = [](const auto& th) {
    using T = std::decay_t<decltype(th[0])>;
    std::vector<T> x = {T(0.0)};
    for (int k = 0; k < 20; ++k) {
      const auto g = nabla::gradient(
          [&](const auto& v) { return pow(v[0] - th[0], 2) + 0.1 * pow(v[0], 4); }, x);
      x[0] = x[0] - 0.1 * g[0];
    }
    return pow(x[0] - 1.0, 2);
  };
  const auto report = nabla::check_gradient(loss, {0.8});
  BOOST_TEST(report.ok, fmt::format("{}", report));
  // And its second derivative by forward over that (Dual<Dual> inside).
  const double d2 = nabla::derivative(
      [&](auto t) { return nabla::derivative([&](auto u) { return loss(std::vector{u}); }, t); },
      0.8);
  const double h = 1e-4;
  const auto d1 = [&](double t) {
    return nabla::derivative([&](auto u) { return loss(std::vector{u}); }, t);
  };
  BOOST_TEST(d2 == (d1(0.8 + h) - d1(0.8 - h)) / (2 * h), tt::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(check_hessian_reports_agreement_and_kinks) {
  const auto full = nabla::check_hessian(rosenbrock, random_point(6, 3));
  BOOST_TEST(full.ok, fmt::format("{}", full));
  BOOST_TEST(full.rows.size() == 36u);
  BOOST_TEST(!full.directional);
  nabla::CheckOptions directional;
  directional.mode = nabla::CheckMode::directional;
  directional.directions = 3;
  const auto big = nabla::check_hessian(rosenbrock, random_point(150, 4), directional);
  BOOST_TEST(big.ok, fmt::format("{}", big));
  BOOST_TEST(big.directional);
  BOOST_TEST(big.rows.size() == 3u * 150u);
  // At the kink of relu(x)², the differences of the gradient (1) and H (0) disagree: reported.
  const auto kink = nabla::check_hessian([](const auto& x) { return pow(relu(x[0]), 2); }, {0.0});
  BOOST_TEST(!kink.ok);
  BOOST_TEST(fmt::format("{}", kink).find("FAILED") != std::string::npos);
  expect_error(
      [&] {
        (void)nabla::check_hessian(rosenbrock, {not_a_number, 1.0});
      },
      {"nabla::check_hessian", "x[0]"});
  nabla::CheckOptions bad;
  bad.rtol = -1;
  expect_error(
      [&] {
        (void)nabla::check_hessian(rosenbrock, {1.0, 1.0}, bad);
      },
      {"nabla::check_hessian", "rtol"});
}

BOOST_AUTO_TEST_CASE(misuse_is_reported) {
  const std::vector<double> x = {1.0, 2.0}, v3 = {1.0, 2.0, 3.0};
  expect_error([&] { (void)nabla::hessian_vector_product(rosenbrock, x, v3); },
               {"nabla::hessian_vector_product", "got 3", "2 inputs"});
  expect_error([&] { (void)nabla::jvp(rosenbrock, x, v3); }, {"nabla::jvp", "got 3"});
  expect_error(
      [&] {
        (void)nabla::vjp([](const auto& p) { return std::vector{p[0], p[1]}; }, x, v3);
      },
      {"nabla::vjp", "got 3"});
  expect_error([&] { (void)nabla::polygamma(-1, 2.0); }, {"nabla::polygamma", "got -1"});
  expect_error(
      [&] {
        (void)nabla::jacobian_forward([](const auto&) { return std::vector<Dual<double, 4>>{}; },
                                      x);
      },
      {"no outputs"});
  expect_error([&] { (void)nabla::jacobian_forward(rosenbrock, x, 2); },
               {"nabla::jacobian_forward", "got 1, expected 2"});
  expect_error(
      [] {
        (void)nabla::jacobian_forward([](const auto&) { return std::vector<Dual<double, 4>>{}; },
                                      {1.0});
      },
      {"nabla::jacobian_forward", "got 0", "at least one Dual"});
  // An f whose number of outputs changes from one block of four columns to the next.
  int blocks = 0;
  const auto changing = [&](const auto& p) {
    return std::vector(static_cast<std::size_t>(2 + blocks++), p[0]);
  };
  expect_error([&] { (void)nabla::jacobian_forward(changing, std::vector<double>(6, 1.0)); },
               {"nabla::jacobian_forward", "got 3, expected 2"});
  // f throwing in the middle of a Hessian leaves the tape where it was.
  nabla::Tape& tape = nabla::Tape::active();
  const nabla::Position before = tape.position();
  BOOST_CHECK_THROW((void)nabla::hessian(
                        [](const auto& p) -> std::decay_t<decltype(p[0])> {
                          if (nabla::value(p[0]) > 0) throw std::runtime_error("user");
                          return p[0];
                        },
                        x),
                    std::runtime_error);
  BOOST_TEST((tape.position() == before));
  // A dense Hessian past 2^28 entries is refused before f runs (not std::bad_alloc).
  const std::vector<double> huge(20000, 0.5);
  expect_error([&] { (void)nabla::hessian(rosenbrock, huge); },
               {"nabla::hessian", "20000 inputs", "hessian_vector_product"});
  BOOST_TEST((tape.position() == before));
  // Empty points: value only.
  const auto empty = nabla::value_gradient_hessian(
      [](const auto& p) { return std::decay_t<decltype(p[0])>(3.0); }, std::span<const double>());
  BOOST_TEST(empty.value == 3.0);
  BOOST_TEST(empty.hessian.n == 0u);
  // A long loop of Hessians does not grow the tape.
  for (int i = 0; i < 200; ++i) (void)nabla::hessian(rosenbrock, x);
  BOOST_TEST((tape.position() == before));
}

// ---- Adversarial cases of the lazy Dual<Var> (Note [Lazy Dual<Var>]) -----------------------

namespace {
// The functions of the special-point table below, by number (a generic body per case).
template <class T>
T special_point_function(int k, const T& a, const T& b) {
  using std::sqrt, std::log, std::abs, std::pow;
  switch (k) {
    case 0:
      return T(a * b);
    case 1:
      return T(a / b);
    case 2:
      return T(a * a * a);
    case 3:
      return T(100.0 * (b - a * a) * (b - a * a) + (1.0 - a) * (1.0 - a));
    case 4:
      return T(sqrt(a * b));
    case 5:
      return T(abs(a * b) + relu(a - b));
    case 6:
      return T(fmin(a, b) * a);
    case 7:
      return T(log(a) * b);
    case 8:
      return T(a / (b * b));
    case 9:
      return T(pow(a, b));
    case 10:
      return T(pow(a * b, 2));
    case 12:
      return T(a * b / (a + b));
    case 13:
      return T((a / b) * b);
    case 15:
      return T(sqrt(a) * b);
    case 21:
      return T(sigmoid(a * b));
    case 23:
      return T(sqrt(a * a + b * b));
    case 27:
      return T(abs(a) * abs(b));
    case 29:
      return T(sqrt(a) * sqrt(b));
    case 32:
      return T(pow(0.0, a) * b);
    case 36:
      return T(a * (1.0 / b));
    case 37:
      return T(fmax(a * b, b));
    default:
      throw std::logic_error("no such case");
  }
}
bool same_number(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b ||
         std::abs(a - b) <= 1e-14 * std::max(1.0, std::abs(a));
}
}  // namespace

BOOST_AUTO_TEST_CASE(dual_expressions_keep_the_eager_hessians_at_special_points) {
  // The Hessians and Hessian-vector products (v = (1, −2)) that the eager Dual<Var> of 7c4bda5
  // gave at kinks (abs, relu, fmin/fmax ties), the ends of domains (sqrt and log at 0, pow(0, y)),
  // poles (division by ±0), ±∞, NaN and 1e300: the lazy operators must give the same.
  struct Row {
    int k;
    double a, b;
    std::array<double, 4> h;
    std::array<double, 2> hv;
  };
  // clang-format off
  const Row rows[] = {
      {5, 0.0, 0.0, {0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0}, {0x0p+0, 0x0p+0}},
      {5, 0.0, -0.0, {0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0}, {0x0p+0, 0x0p+0}},
      {5, 1.0, 1.0, {0x0p+0, 0x1p+0, 0x1p+0, 0x0p+0}, {-0x1p+1, 0x1p+0}},
      {5, 0.0, 2.5, {0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0}, {0x0p+0, 0x0p+0}},
      {6, 1.0, 1.0, {0x1.8p+0, 0x1p-2, 0x1p-2, 0x0p+0}, {0x1p-1, 0x0p+0}},
      {6, 2.5, 2.5, {0x1.8p+0, 0x1p-2, 0x1p-2, 0x0p+0}, {0x1p-1, 0x0p+0}},
      {6, 0.0, 0.0, {0x1.8p+0, 0x1p-2, 0x1p-2, 0x0p+0}, {0x1p-1, 0x0p+0}},
      {4, 0.0, 1.0, {-inf, not_a_number, not_a_number, 0x0p+0}, {-inf, not_a_number}},
      {4, 0.0, 0.0, {0x0p+0, inf, inf, 0x0p+0}, {-inf, inf}},
      {4, 1.0, 0.0, {0x0p+0, not_a_number, not_a_number, -inf}, {not_a_number, inf}},
      {7, 0.0, 1.0, {-inf, inf, inf, 0x0p+0}, {-inf, inf}},
      {7, 0.0, -1.0, {inf, inf, inf, 0x0p+0}, {not_a_number, inf}},
      {7, -0.0, 1.0, {-inf, -inf, -inf, 0x0p+0}, {not_a_number, -inf}},
      {1, 1.0, 0.0, {0x0p+0, -inf, -inf, inf}, {inf, -inf}},
      {1, 0.0, 0.0, {0x0p+0, -inf, -inf, not_a_number}, {inf, not_a_number}},
      {1, 1.0, -0.0, {0x0p+0, -inf, -inf, -inf}, {inf, not_a_number}},
      {32, 0.0, 1.0, {0x0p+0, not_a_number, not_a_number, 0x0p+0}, {not_a_number, not_a_number}},
      {32, 1.0, 0.0, {0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0}, {0x0p+0, 0x0p+0}},
      {32, 2.5, 1.0, {0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0}, {0x0p+0, 0x0p+0}},
      {9, 0.0, 2.5, {0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0}, {0x0p+0, 0x0p+0}},
      {9, 0.0, 0.0, {0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0}, {0x0p+0, 0x0p+0}},
      {9, -1.0, 2.5, {not_a_number, not_a_number, not_a_number, not_a_number}, {not_a_number, not_a_number}},  // H₁₁ was 0
      {15, 0.0, 1.0, {-inf, inf, inf, 0x0p+0}, {-inf, inf}},
      {10, 0.0, 0.0, {0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0}, {0x0p+0, 0x0p+0}},
      {12, 0.0, 0.0, {not_a_number, not_a_number, not_a_number, not_a_number}, {not_a_number, not_a_number}},
      {12, 1.0, -1.0, {not_a_number, not_a_number, not_a_number, -inf}, {not_a_number, inf}},
      {23, 0.0, 0.0, {inf, 0x0p+0, 0x0p+0, inf}, {inf, -inf}},
      {37, 1.0, 1.0, {0x0p+0, 0x1p-1, 0x1p-1, 0x0p+0}, {-0x1p+0, 0x1p-1}},
      {37, 0.0, 0.0, {0x0p+0, 0x1p-1, 0x1p-1, 0x0p+0}, {-0x1p+0, 0x1p-1}},
      {27, 0.0, 0.0, {0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0}, {0x0p+0, 0x0p+0}},
      {13, 1.0, 0.0, {0x0p+0, inf, inf, -inf}, {-inf, inf}},
      {0, inf, 1.0, {0x0p+0, 0x1p+0, 0x1p+0, 0x0p+0}, {-0x1p+1, 0x1p+0}},
      {2, inf, 0.0, {inf, 0x0p+0, 0x0p+0, 0x0p+0}, {inf, 0x0p+0}},
      {3, not_a_number, 1.0, {not_a_number, not_a_number, not_a_number, 0x1.9p+7}, {not_a_number, not_a_number}},
      {3, 1e+300, 1.0, {inf, -400.0 * 1e300, -400.0 * 1e300, 0x1.9p+7}, {inf, -0x1.2aa4f4a405be2p+1005}},
      {36, 1.0, -0.0, {0x0p+0, -inf, -inf, -inf}, {inf, not_a_number}},  // 7c4bda5: hv[1] = +inf, see below
      {21, inf, 1.0, {0x0p+0, not_a_number, not_a_number, not_a_number}, {not_a_number, not_a_number}},
      {8, 0.0, 1.0, {0x0p+0, -0x1p+1, -0x1p+1, 0x0p+0}, {0x1p+2, -0x1p+1}},
      {29, 0.0, 1.0, {-inf, inf, inf, 0x0p+0}, {-inf, inf}},
  };
  // clang-format on
  // Since the recorded tangent terms follow the zero convention (detail::TangentMulFn), a
  // Hessian column whose direction does not move an operand with an infinite (or NaN) partial
  // no longer picks up 0·∞: √a·b, log(a)·b, 0^a·b, √a·√b at a = 0 have H₂₂ = 0 (f is linear
  // in b there), a·(1/b) at b = −0 has H₁₁ = 0, σ(a·b) at a = ∞ has H₁₁ = 0, Rosenbrock at
  // a = NaN has H₂₂ = 200 (its b-part does not involve a), and (a/b)·b at b = 0 — NaN there —
  // reports ±∞ instead of NaN in its b entries. Those rows were NaN before.
  // Since a tangent term whose direction is the constant 0 is itself the constant 0 (detail::
  // zero_left_absorbs: it records no operand, so no 0·∞ through a zero partial either), a
  // column whose direction does not move an operand gets nothing from that operand's
  // infinities: √(ab) at a = 0 has H₁₁ = 0 (f(0, b) = 0 for all b) and H₀₀ = −∞ at b = 1 (the
  // limit of −b²/4(ab)^{3/2}), the same with a and b exchanged at (1, 0), and both 0 at (0, 0);
  // a³ at a = ∞ and the cone √(a² + b²) at 0 have zero mixed entries (∂f/∂a does not move with b
  // there); Rosenbrock at a = 10³⁰⁰ has its mixed entry −400a; ab/(a + b) at the pole (1, −1)
  // has H₁₁ = −2/(1 + b)³ = −∞ as the formula gives at 1 + b = +0. These were NaN before.
  // Row 9 (aᵇ at a = −1): ∂f/∂b = aᵇ ln a is NaN, and now so is its derivative H₁₁ (it was
  // the 0 of a constant NaN partial).
  // Row 36 (a·(1/b) at b = −0) is the one change of the lazy recording: 7c4bda5 gave hv[1] = +∞,
  // the lazy recording NaN. H·v there is H₁₀ + H₁₁·(−2) = −∞ + ∞ (both recordings give H₁₀ = H₁₁ =
  // −∞): NaN is the product of the Hessian both report; +∞ came from summing the adjoints of the
  // recorded 1/b before multiplying.
  for (const Row& r : rows) {
    const auto f = [&](const auto& x) { return special_point_function(r.k, x[0], x[1]); };
    const std::vector<double> x = {r.a, r.b};
    const nabla::Hessian H = nabla::hessian(f, x);
    const std::vector<double> hv = nabla::hessian_vector_product(f, x, std::vector{1.0, -2.0});
    for (std::size_t i = 0; i < 4; ++i) {
      BOOST_TEST(same_number(H.data[i], r.h[i]),
                 fmt::format("case {} at ({}, {}): H[{}] = {}, was {}", r.k, r.a, r.b, i, H.data[i],
                             r.h[i]));
    }
    for (std::size_t i = 0; i < 2; ++i) {
      BOOST_TEST(same_number(hv[i], r.hv[i]),
                 fmt::format("case {} at ({}, {}): Hv[{}] = {}, was {}", r.k, r.a, r.b, i, hv[i],
                             r.hv[i]));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_direction_that_does_not_move_a_singular_operand_gives_no_nan) {
  // f = g(a)·b with g′(0) infinite (√a, log a, √a·√b) at (0, 1): f is linear in b, so
  // H·(0, 1) = (∂²f/∂a∂b, 0) = (g′(0), 0) and H·0 = 0 — the zero convention of the reverse sweep,
  // applied to the recorded tangent terms (their value 0·∞ was NaN). Both the lazy lines and the
  // eager Dual<Var> operations (a function of an expression records the expression first).
  const double inf = std::numeric_limits<double>::infinity();
  for (const int k : {15, 7, 29}) {
    const auto f = [&](const auto& x) { return special_point_function(k, x[0], x[1]); };
    const std::vector<double> x = {0.0, 1.0};
    const auto h0 = nabla::hessian_vector_product(f, x, std::vector{0.0, 0.0});
    BOOST_TEST(h0[0] == 0.0, fmt::format("case {}: (H·0)₀ = {}", k, h0[0]));
    BOOST_TEST(h0[1] == 0.0, fmt::format("case {}: (H·0)₁ = {}", k, h0[1]));
    const auto h2 = nabla::hessian_vector_product(f, x, std::vector{0.0, 1.0});
    BOOST_TEST(h2[0] == inf, fmt::format("case {}: H₁₂ = {}", k, h2[0]));
    BOOST_TEST(h2[1] == 0.0, fmt::format("case {}: H₂₂ = {}", k, h2[1]));
  }
  // The same through Var functions of a Dual<Var> (not an expression): √a·b with a named.
  const auto g = [](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;
    const T s = sqrt(x[0]);
    const T p = s * x[1];
    return p;
  };
  const auto hg = nabla::hessian(g, std::vector{0.0, 2.0});
  BOOST_TEST(hg(1, 1) == 0.0);
  BOOST_TEST(hg(0, 1) == inf);
  BOOST_TEST(hg(0, 0) == -inf);
  // Forward over forward: ∂²(√a·b)/∂b² at (0, 1), both levels along b.
  using DD = nabla::Dual<nabla::Dual<double>>;
  const DD a(nabla::Dual<double>(0.0, 0.0), nabla::Dual<double>(0.0, 0.0));
  const DD b(nabla::Dual<double>(1.0, 1.0), nabla::Dual<double>(1.0, 0.0));
  const DD y = sqrt(a) * b;
  BOOST_TEST(y.tangent().tangent() == 0.0);
  BOOST_TEST(y.tangent().value() == 0.0);
  // and along a then b: ∂²/∂a∂b = 1/(2√a) = ∞
  const DD a2(nabla::Dual<double>(0.0, 0.0), nabla::Dual<double>(1.0, 0.0));
  const DD b2(nabla::Dual<double>(1.0, 1.0), nabla::Dual<double>(0.0, 0.0));
  BOOST_TEST((sqrt(a2) * b2).tangent().tangent() == inf);
}

namespace {
// A Horner step for a fold: e % HornerStep{x, c} is e·x + c, one line however long the fold.
template <class T>
struct HornerStep {
  const T& x;
  double c;
};
template <class E, class T>
auto operator%(const E& e, const HornerStep<T>& s) {
  return e * s.x + s.c;
}
template <class T, std::size_t... I>
T long_line(std::span<const T> x, std::index_sequence<I...>) {
  // 400 products summed and a Horner polynomial of degree 150, each one expression: the
  // tangent of a product copies the values, so unbounded DualExpressions grew quadratically
  // and their temporaries overflowed an 8 MiB stack (SIGSEGV at about 300 terms, or degree 90).
  const T sum = (... + (x[I % 3] * x[(I + 1) % 3]));
  const T horner = [&]<std::size_t... J>(std::index_sequence<J...>) {
    return T((x[0] % ... % HornerStep<T>{x[1], 1.0 / (J + 1)}));
  }
  (std::make_index_sequence<150>{});
  return sum / 100.0 + horner;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_very_long_dual_var_line_neither_overflows_the_stack_nor_drifts) {
  const auto f = [](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;
    return long_line(std::span<const T>(x), std::make_index_sequence<400>{});
  };
  const std::vector<double> x = {0.3, 0.9, -0.4}, v = {1.0, -0.5, 2.0};
  const std::vector<double> hv = nabla::hessian_vector_product(f, x, v);
  const std::vector<double> ref = forward_over_forward_hvp(f, x, v);
  for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(hv[i] == ref[i], tt::tolerance(1e-12));
  // Still fused: far fewer than the two statements per operation of the eager recording.
  nabla::Tape tape;
  const nabla::Tape::Scope scope(tape);
  std::vector<Dual<Var>> p;
  for (std::size_t i = 0; i < 3; ++i) p.emplace_back(tape.variable(x[i]), Var(v[i]));
  const auto before = tape.position();
  const Dual<Var> y = f(p);
  BOOST_TEST(tape.position().statement - before.statement < 2u * 400u);
  BOOST_TEST(y.value().value() == f(std::vector<double>(x)), tt::tolerance(1e-13));
}

BOOST_AUTO_TEST_CASE(generic_code_that_took_a_dual_var_takes_its_expression) {
  // Code that compiled on the eager Dual<Var> of 7c4bda5: an index on tangent(), directions,
  // derivative() at an expression, an unscoped enumerator as a number, a Dual<Dual<Var>>
  // compound assignment with an expression, log_sum_exp of a mixed braced list.
  enum Scale { two = 2 };
  const auto f = [](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;
    T s = x[0] * two + two * x[1] - x[0] / two;
    s += two;
    if constexpr (std::is_same_v<T, Dual<Var>>) {
      const auto e = x[0] * x[1];
      static_assert(std::decay_t<decltype(e)>::directions == 1);
      const T copy(Var(e.value()), Var(e.tangent(0)));
      s += copy - T(e);  // 0, with value and tangent
      s += nabla::log_sum_exp({x[0] * x[1], x[1], x[0] + x[1]});
    } else {
      s += nabla::log_sum_exp({T(x[0] * x[1]), x[1], T(x[0] + x[1])});
    }
    // d/dt (t³) at t = x₀x₁: 3(x₀x₁)²; nested forward mode over the expression.
    s += nabla::derivative([](const auto& t) { return t * t * t; }, x[0] * x[1]);
    // One more level: Dual<Dual<Var>> (or Dual<Dual<Dual<double>>>) with expressions of x.
    s += nabla::derivative(
        [&](const auto& t) {
          auto u = t * t;
          u += x[0] * x[1];
          u -= x[1] / 3;
          u *= x[0] - x[1];
          return u;
        },
        x[1]);
    return s;
  };
  for (unsigned seed = 11; seed <= 14; ++seed) {
    const std::vector<double> x = random_point(2, seed), v = random_point(2, seed + 50);
    const std::vector<double> hv = nabla::hessian_vector_product(f, x, v);
    const std::vector<double> ref = forward_over_forward_hvp(f, x, v);
    for (std::size_t i = 0; i < 2; ++i) BOOST_TEST(hv[i] == ref[i], tt::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(f_throwing_in_the_middle_of_a_dual_var_line_rewinds_the_tape) {
  // f records part of a line (a DualExpression converted by a function call) and throws from
  // the middle of the expression: every helper rewinds, and the next call is unaffected.
  const auto thrower = [](const auto& t) -> std::decay_t<decltype(t)> {
    if (nabla::value(t) > 0.5) throw std::runtime_error("user");
    return t;
  };
  const auto bad = [&](const auto& x) {
    using T = std::decay_t<decltype(x[0])>;
    return T(sin(x[0] * x[1]) * x[1] + thrower(T(x[0] * x[1])) * x[0]);
  };
  const auto good = [](const auto& x) { return sin(x[0] * x[1]) * x[1] + x[0] * x[1] * x[0]; };
  const std::vector<double> x = {1.0, 2.0}, v = {0.5, -1.0};
  const std::vector<double> reference = nabla::hessian_vector_product(good, x, v);
  const nabla::Hessian h_reference = nabla::hessian(good, x);
  nabla::Tape& tape = nabla::Tape::active();
  const nabla::Position before = tape.position();
  const auto stats = tape.statistics();
  for (int k = 0; k < 3; ++k) {
    BOOST_CHECK_THROW((void)nabla::hessian_vector_product(bad, x, v), std::runtime_error);
    BOOST_TEST((tape.position() == before));
    BOOST_CHECK_THROW((void)nabla::hessian(bad, x), std::runtime_error);
    BOOST_TEST((tape.position() == before));
    BOOST_CHECK_THROW((void)nabla::value_gradient_hessian(bad, x), std::runtime_error);
    BOOST_TEST((tape.position() == before));
    BOOST_CHECK_THROW((void)nabla::check_hessian(bad, x), std::runtime_error);
    BOOST_TEST((tape.position() == before));
  }
  BOOST_TEST(tape.statistics().statements == stats.statements);
  BOOST_TEST(nabla::hessian_vector_product(good, x, v) == reference, tt::per_element());
  BOOST_TEST(nabla::hessian(good, x).data == h_reference.data, tt::per_element());
}

BOOST_AUTO_TEST_CASE(a_long_loop_of_hessian_vector_products_does_not_grow_the_tape) {
  const std::vector<double> x = random_point(4, 21), v = random_point(4, 22);
  nabla::Tape& tape = nabla::Tape::active();
  const std::vector<double> first = nabla::hessian_vector_product(rosenbrock, x, v);
  const auto after_first = tape.statistics();
  const nabla::Position before = tape.position();
  for (int i = 0; i < 100000; ++i) {
    const std::vector<double> hv = nabla::hessian_vector_product(rosenbrock, x, v);
    if (hv != first) BOOST_FAIL("iteration " << i << " differs");
  }
  const auto after = tape.statistics();
  BOOST_TEST((tape.position() == before));
  BOOST_TEST(after.statements == after_first.statements);
  BOOST_TEST(after.operands == after_first.operands);
  BOOST_TEST(after.bytes_reserved == after_first.bytes_reserved);
  BOOST_TEST(after.allocations == after_first.allocations);
}

BOOST_AUTO_TEST_SUITE_END()
