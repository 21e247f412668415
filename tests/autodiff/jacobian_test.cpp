// The vector sweep behind nabla::jacobian (Note [Vector sweeps] in tape.cpp): every block width,
// against one scalar gradient per output and against forward mode, at awkward points.
#include <fmt/format.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/tensor.hpp>
#include <vector>

using nabla::Var;

namespace {

// m outputs of n inputs mixing every statement shape: unary, binary, fused lines, a reduction,
// outputs that are an input itself or a constant, and repeated operands.
template <class T>
std::vector<T> outputs(std::span<const T> x, std::size_t m) {
  using std::exp;
  using std::sin;
  using std::sqrt;
  std::vector<T> y;
  y.reserve(m);
  const std::size_t n = x.size();
  for (std::size_t r = 0; r < m; ++r) {
    const T& a = x[r % n];
    const T& b = x[(3 * r + 1) % n];
    switch (r % 6) {
      case 0:
        y.push_back(T(a * b + sin(a)));
        break;
      case 1:
        y.push_back(T(exp(0.1 * a) * b * b - a / (2.0 + b * b)));
        break;
      case 2:
        y.push_back(a);  // an input itself
        break;
      case 3:
        y.push_back(T(static_cast<double>(r)));  // a constant
        break;
      case 4: {
        T s = 0.0;
        for (std::size_t i = 0; i < n; ++i) s = s + x[i] * static_cast<double>(i + r);
        y.push_back(s);
        break;
      }
      default:
        y.push_back(T(sqrt(a * a + 1.0) * (a - b)));
    }
  }
  return y;
}

void check_against_rows(std::size_t n, std::size_t m) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = 0.3 * static_cast<double>(i) - 0.7;
  const auto f = [m](const auto& v) {
    using T = std::decay_t<decltype(v[0])>;
    return outputs<T>(std::span<const T>(v.data(), v.size()), m);
  };
  const nabla::Jacobian J = nabla::jacobian(f, x);
  const nabla::Jacobian F = nabla::jacobian_forward(f, x);
  BOOST_TEST_REQUIRE(J.rows == m);
  BOOST_TEST_REQUIRE(J.cols == n);
  std::size_t wrong = 0;
  for (std::size_t r = 0; r < m; ++r) {
    // The row by one scalar sweep.
    const auto row = nabla::gradient(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v[0])>;
          return outputs<T>(std::span<const T>(v.data(), v.size()), m)[r];
        },
        x);
    for (std::size_t i = 0; i < n; ++i) {
      const double scale = 1e-13 * (1.0 + std::abs(row[i]));
      if (J(r, i) != row[i] || std::abs(F(r, i) - row[i]) > scale) {
        ++wrong;
        BOOST_TEST_MESSAGE(fmt::format("m = {}, J({}, {}) = {}, row {}, forward {}", m, r, i,
                                       J(r, i), row[i], F(r, i)));
      }
    }
    BOOST_TEST(J.values[r] == F.values[r]);
  }
  BOOST_TEST(wrong == 0u, fmt::format("n = {}, m = {}: {} entries differ", n, m, wrong));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(vector_sweep)

BOOST_AUTO_TEST_CASE(every_block_width_matches_one_sweep_per_output) {
  // 2, 3–4 and 5–8 outputs take widths 2, 4 and 8; 9, 17 and 20 several blocks, the last
  // narrower. Rows are compared exactly with the scalar sweep (the same products in the same
  // order) and with forward mode to rounding.
  for (const std::size_t m : {1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 16u, 17u, 20u}) {
    check_against_rows(6, m);
  }
  check_against_rows(1, 3);
  check_against_rows(40, 12);
}

BOOST_AUTO_TEST_CASE(rows_equal_the_scalar_sweeps_bit_for_bit_with_repeated_operands) {
  // t·t·t pushes into t twice from one statement, and t has other uses: the vector sweep sums
  // those pushes before adding them, in the scalar sweep's order (its carry), so the rows are
  // gradient()'s exactly (they differed in the last bit when added one by one).
  for (const double x0 : {0.11, -0.7, 1.3, 2.9}) {
    const auto f = [](const auto& x) {
      const Var t = sin(x[0]);
      const Var u = t * t * t;
      const Var v = u + t * 0.37;
      return std::vector<Var>{v, u, v * x[1], t * t + x[1]};
    };
    const std::vector<double> x = {x0, 0.5};
    const nabla::Jacobian J = nabla::jacobian(f, x);
    for (std::size_t r = 0; r < 4; ++r) {
      const auto row = nabla::gradient([&](const auto& v) { return f(v)[r]; }, x);
      BOOST_TEST(J(r, 0) == row[0],
                 fmt::format("x = {}, row {}: {} vs {}", x0, r, J(r, 0), row[0]));
      BOOST_TEST(J(r, 1) == row[1]);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_zero_adjoint_pushes_nothing_through_an_infinite_partial) {
  // y₀ = √x₀ · 0 + x₁ (the adjoint reaching √x₀ is 0 in lane 0), y₁ = √x₀ (lane 1: +∞ at
  // x₀ = 0), y₂ = x₁: the lanes share the statement √x₀ with the partial +∞. Lane 0 and 2 must
  // see ∂/∂x₀ = 0, as one scalar sweep gives, not 0·∞ = NaN.
  const double inf = std::numeric_limits<double>::infinity();
  const auto f = [](const auto& x) {
    const Var s = sqrt(x[0]);
    return std::vector<Var>{s * 0.0 + x[1], s, x[1]};
  };
  const nabla::Jacobian J = nabla::jacobian(f, {0.0, 2.0});
  BOOST_TEST(J(0, 0) == 0.0);
  BOOST_TEST(J(0, 1) == 1.0);
  BOOST_TEST(J(1, 0) == inf);
  BOOST_TEST(J(1, 1) == 0.0);
  BOOST_TEST(J(2, 0) == 0.0);
  BOOST_TEST(J(2, 1) == 1.0);
  // A NaN partial stays in the lanes whose adjoint reaches it.
  const nabla::Jacobian K = nabla::jacobian(
      [](const auto& x) {
        const Var s = x[0] * std::numeric_limits<double>::quiet_NaN();
        return std::vector<Var>{s, s * 0.0 + x[1] * 3.0};
      },
      {-1.0, 2.0});
  BOOST_TEST(std::isnan(K(0, 0)));
  BOOST_TEST(K(0, 1) == 0.0);
  BOOST_TEST(K(1, 0) == 0.0);
  BOOST_TEST(K(1, 1) == 3.0);
}

BOOST_AUTO_TEST_CASE(outer_variables_and_nesting) {
  // A Jacobian inside a loss differentiated by gradient(): the inner helper's block starts at
  // its own inputs; the outer variable it captures gets nothing from the inner sweep, and the
  // inner Jacobian's entries are numbers (constants) to the outer recording.
  const std::vector<double> g = nabla::gradient(
      [](const auto& p) {
        const Var c = p[0];
        const nabla::Jacobian J = nabla::jacobian(
            [&](const auto& x) {
              return std::vector<Var>{x[0] * c, x[0] * x[1], x[1] + c};
            },
            {2.0, 3.0});
        // J = [[c, 0], [3, 2], [0, 1]] at c = p₀'s value: numbers here.
        return Var(p[0] * J(0, 0) + p[1] * J(1, 0) + J(1, 1) + J(2, 1));
      },
      std::vector{4.0, 5.0});
  BOOST_TEST(g[0] == 4.0);
  BOOST_TEST(g[1] == 3.0);
}

BOOST_AUTO_TEST_CASE(tensor_nodes_take_one_scalar_sweep_per_output) {
  const auto f = [](const auto& x) {
    const nabla::TensorVar t = nabla::tensor(std::span<const Var>(x.data(), x.size()), {2});
    const Var s = nabla::sum(t * t).item();
    return std::vector<Var>{s, x[0] * s, x[1], Var(2.0), s * 3.0};
  };
  const nabla::Jacobian J = nabla::jacobian(f, {1.0, 2.0});
  BOOST_TEST(J(0, 0) == 2.0);
  BOOST_TEST(J(0, 1) == 4.0);
  BOOST_TEST(J(1, 0) == 5.0 + 2.0);  // ∂(x₀ s)/∂x₀ = s + x₀·2x₀
  BOOST_TEST(J(1, 1) == 4.0);
  BOOST_TEST(J(2, 1) == 1.0);
  BOOST_TEST(J(3, 0) == 0.0);
  BOOST_TEST(J(4, 1) == 12.0);
}

BOOST_AUTO_TEST_CASE(bad_buffers_and_stale_outputs_throw) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const nabla::Position start = tape.position();
  std::vector<Var> x(2);
  tape.variables(std::vector{1.0, 2.0}, x);
  const std::vector<Var> ys{x[0] * x[1], x[0] + x[1]};
  std::vector<double> J(5);
  BOOST_CHECK_THROW(tape.jacobian(ys, start, J), nabla::Error);  // 5 is not a multiple of 2
  std::vector<double> ok(4);
  tape.jacobian(ys, start, ok);
  BOOST_TEST(ok[0] == 2.0);
  BOOST_TEST(ok[1] == 1.0);
  BOOST_TEST(ok[2] == 1.0);
  BOOST_TEST(ok[3] == 1.0);
  tape.rewind(start);
  tape.variables(std::vector{1.0, 2.0}, x);
  BOOST_CHECK_THROW(tape.jacobian(ys, start, ok), nabla::Error);  // ys were rewound away
  // Repeated calls leave the tape's scalar adjoints clean and allocate nothing once warm.
  const std::vector<Var> zs{x[0] * x[1], x[0] - x[1], x[1] * x[1]};
  std::vector<double> three(6);
  tape.jacobian(zs, start, three);
  const auto allocations = tape.statistics().allocations;
  for (int i = 0; i < 100; ++i) tape.jacobian(zs, start, three);
  BOOST_TEST(tape.statistics().allocations == allocations);
  BOOST_TEST(three[4] == 0.0);
  BOOST_TEST(three[5] == 4.0);
  tape.backward(zs[0]);
  BOOST_TEST(tape.adjoint(x[0]) == 2.0);
}

BOOST_AUTO_TEST_SUITE_END()
