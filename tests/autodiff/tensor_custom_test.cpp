// Custom tensor operations (nabla::custom with tensors): gradients against finite differences
// and against the same operations written with built-ins, mixed with scalar and tensor code,
// inside the gradient helpers, the callback's lifetime and memory, throwing callbacks, errors.
#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>

#include <array>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>
#include "ad_check.hpp"
#include "expect_error.hpp"

using nabla::CustomBackward;
using nabla::Shape;
using nabla::Tensor;
using nabla::TensorVar;
using nabla::Var;

namespace {

using nabla::test::random_tensor;

using nabla::test::expect_error;

void expect_close(nabla::TensorView a, nabla::TensorView b, double tol = 1e-12) {
  BOOST_TEST_REQUIRE(a.shape() == b.shape());
  for (std::size_t i = 0; i < a.size(); ++i) {
    BOOST_TEST(std::abs(a[i] - b[i]) <= tol * (1 + std::abs(b[i])),
               "element " << i << ": " << a[i] << " vs " << b[i]);
  }
}

// softplus(x) = ln(1 + eˣ) with dy/dx = σ(x), written as a custom operation: one node.
TensorVar custom_softplus(const TensorVar& x) {
  const nabla::TensorView xv = x.value();
  Tensor y(xv.shape());
  for (std::size_t i = 0; i < y.size(); ++i)
    y[i] = std::max(xv[i], 0.0) + std::log1p(std::exp(-std::abs(xv[i])));
  return nabla::custom({x}, y, [](const CustomBackward& b) {
    const nabla::TensorView x = b.input_value(0), g = b.output_adjoint();
    nabla::MutableTensorView gx = b.input_adjoint(0);
    for (std::size_t i = 0; i < gx.size(); ++i) gx[i] += g[i] / (1 + std::exp(-x[i]));
  });
}

// C = A·B for A [m, k], B [k, n]: dA = dC·Bᵀ, dB = Aᵀ·dC (through add_to_input_adjoint).
TensorVar custom_matmul(const TensorVar& a, const TensorVar& b) {
  const std::size_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
  Tensor c({m, n});
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t l = 0; l < k; ++l) c(i, j) += a.value()(i, l) * b.value()(l, j);
  return nabla::custom({a, b}, c, [m, k, n](const CustomBackward& bw) {
    const nabla::TensorView A = bw.input_value(0), B = bw.input_value(1), G = bw.output_adjoint();
    if (bw.needs_gradient(0)) {
      Tensor ga({m, k});
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t l = 0; l < k; ++l)
          for (std::size_t j = 0; j < n; ++j) ga(i, l) += G(i, j) * B(l, j);
      bw.add_to_input_adjoint(0, ga);
    }
    if (bw.needs_gradient(1)) {
      Tensor gb({k, n});
      for (std::size_t l = 0; l < k; ++l)
        for (std::size_t j = 0; j < n; ++j)
          for (std::size_t i = 0; i < m; ++i) gb(l, j) += A(i, l) * G(i, j);
      bw.add_to_input_adjoint(1, gb);
    }
  });
}

// Splits one flat input into tensors of the given shapes.
std::vector<TensorVar> split(const TensorVar& x, std::initializer_list<Shape> shapes) {
  std::vector<TensorVar> parts;
  std::size_t at = 0;
  for (const Shape& s : shapes) {
    parts.push_back(nabla::reshape(nabla::slice(x, 0, at, at + s.size()), s));
    at += s.size();
  }
  return parts;
}

void expect_gradient(const std::function<TensorVar(const TensorVar&)>& f, const Tensor& x,
                     const std::string& what) {
  const nabla::GradientCheck c = nabla::check_gradient(f, x);
  BOOST_TEST(c.ok, what << "\n" << nabla::to_string(c));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tensor_custom)

BOOST_AUTO_TEST_CASE(softplus_against_builtin_and_finite_differences) {
  for (const Shape& shape : {Shape{}, Shape{7}, Shape{3, 4}, Shape{0, 2}}) {
    const Tensor x0 = random_tensor(shape, 1, -4, 4);
    const auto mine = [](const TensorVar& x) { return nabla::sum(custom_softplus(x) * x); };
    const auto builtin = [](const TensorVar& x) { return nabla::sum(nabla::softplus(x) * x); };
    const nabla::ValueAndGradient a = nabla::value_and_gradient(mine, x0);
    const nabla::ValueAndGradient b = nabla::value_and_gradient(builtin, x0);
    BOOST_TEST(std::abs(a.value - b.value) <= 1e-12 * (1 + std::abs(b.value)));
    expect_close(nabla::TensorView(a.gradient.data(), shape),
                 nabla::TensorView(b.gradient.data(), shape));
    expect_gradient(mine, x0, "custom softplus at " + nabla::to_string(shape));
  }
}

BOOST_AUTO_TEST_CASE(matmul_with_scalar_and_tensor_code_around_it) {
  // x holds A [3, 4], B [4, 2] and a scalar s; the loss mixes scalar statements before and
  // after the node with built-in tensor operations on both sides.
  const Tensor x0 = random_tensor({3 * 4 + 4 * 2 + 1}, 2);
  const auto loss = [](bool custom) {
    return [custom](const TensorVar& x) {
      const auto parts = split(x, {Shape{3, 4}, Shape{4, 2}, Shape{}});
      const Var s = parts[2].item() * parts[0](1, 2);  // scalar before
      const TensorVar a = nabla::tanh(parts[0]) * s;   // tensor before
      const TensorVar c = custom ? custom_matmul(a, parts[1]) : nabla::matmul(a, parts[1]);
      const Var t = c(2, 1) * c(0, 0) + nabla::sin(s);  // scalar after
      return nabla::sum(nabla::softplus(c)) + t;        // tensor after
    };
  };
  const nabla::ValueAndGradient a = nabla::value_and_gradient(loss(true), x0);
  const nabla::ValueAndGradient b = nabla::value_and_gradient(loss(false), x0);
  BOOST_TEST(std::abs(a.value - b.value) <= 1e-12 * (1 + std::abs(b.value)));
  expect_close(nabla::TensorView(a.gradient.data(), x0.shape()),
               nabla::TensorView(b.gradient.data(), x0.shape()));
  expect_gradient(loss(true), x0, "custom matmul in a mixed loss");

  // One node for the whole product, however large.
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const TensorVar big = nabla::variable(random_tensor({100, 64}, 3));
  const std::size_t before = tape.statistics().tensor_nodes;
  (void)custom_softplus(big);
  BOOST_TEST(tape.statistics().tensor_nodes == before + 1);
  BOOST_TEST(tape.position().statement == before + 2);  // slot 0, the variable, the custom node
}

BOOST_AUTO_TEST_CASE(used_twice_and_the_same_input_twice) {
  // y = softplus(softplus(x)) + softplus(x), and x ⊙ x as a custom operation of (x, x).
  const auto square = [](const TensorVar& x) {
    const nabla::TensorView xv = x.value();
    Tensor y(xv.shape());
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = xv[i] * xv[i];
    return nabla::custom({x, x}, y, [](const CustomBackward& b) {
      for (std::size_t k = 0; k < 2; ++k) {  // d(a·b)/da = b, d(a·b)/db = a
        Tensor g(b.output_adjoint());
        for (std::size_t i = 0; i < g.size(); ++i) g[i] *= b.input_value(1 - k)[i];
        b.add_to_input_adjoint(k, g);
      }
    });
  };
  const Tensor x0 = random_tensor({2, 3}, 4);
  const auto f = [&](const TensorVar& x) {
    const TensorVar s = custom_softplus(x);
    return nabla::sum(custom_softplus(s) + s * square(x));
  };
  const auto g = [](const TensorVar& x) {
    const TensorVar s = nabla::softplus(x);
    return nabla::sum(nabla::softplus(s) + s * x * x);
  };
  const nabla::ValueAndGradient a = nabla::value_and_gradient(f, x0);
  const nabla::ValueAndGradient b = nabla::value_and_gradient(g, x0);
  expect_close(nabla::TensorView(a.gradient.data(), x0.shape()),
               nabla::TensorView(b.gradient.data(), x0.shape()));
  expect_gradient(f, x0, "custom operations used twice");

  // The same through a plain sweep: adjoint(x) after nabla::backward.
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const TensorVar x = nabla::variable(x0);
  nabla::backward(f(x));
  expect_close(nabla::adjoint(x), nabla::TensorView(b.gradient.data(), x0.shape()));
}

BOOST_AUTO_TEST_CASE(inside_the_helpers_outer_tensors_and_parameters_get_nothing) {
  Tensor pv = random_tensor({3}, 5), pg({3}, 0.5);
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const TensorVar w = nabla::variable(random_tensor({3}, 6));  // outer: before the helper
  const TensorVar p = nabla::parameter(pv, pg);
  std::vector<bool> seen;
  // y = x ⊙ w ⊙ p elementwise, through one custom node of (x, w, p).
  const auto product = [&](const TensorVar& x) {
    Tensor y(x.shape());
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = x.value()[i] * w.value()[i] * pv[i];
    return nabla::custom({x, w, p}, y, [&seen](const CustomBackward& b) {
      BOOST_TEST(b.input_count() == 3u);
      for (std::size_t k = 0; k < 3; ++k) {
        seen.push_back(b.needs_gradient(k));
        Tensor g(b.output_adjoint());
        for (std::size_t i = 0; i < g.size(); ++i)
          g[i] *= b.input_value((k + 1) % 3)[i] * b.input_value((k + 2) % 3)[i];
        b.add_to_input_adjoint(k, g);
      }
    });
  };
  const Tensor x0 = random_tensor({3}, 7);
  const nabla::ValueAndGradient r =
      nabla::value_and_gradient([&](const TensorVar& x) { return nabla::sum(product(x)); }, x0);
  BOOST_TEST((seen == std::vector<bool>{true, false, false}));
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(std::abs(r.gradient[i] - w.value()[i] * pv[i]) <= 1e-14);
    BOOST_TEST(pg[i] == 0.5);  // the parameter's gradient buffer is not written
  }
  // A plain sweep pushes into all three; the parameter's buffer accumulates.
  seen.clear();
  const TensorVar x = nabla::variable(x0);
  nabla::backward(nabla::sum(product(x)));
  BOOST_TEST((seen == std::vector<bool>{true, true, true}));
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(nabla::adjoint(w)[i] == x0[i] * pv[i]);
    BOOST_TEST(pg[i] == 0.5 + x0[i] * w.value()[i]);
  }
}

BOOST_AUTO_TEST_CASE(callback_lifetime_and_flat_memory) {
  auto token = std::make_shared<int>(42);
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Tensor x0 = random_tensor({64, 32}, 8);
  std::vector<nabla::TapeStatistics> stats;
  for (int step = 0; step < 6; ++step) {
    const nabla::Position start = tape.position();
    const TensorVar x = nabla::variable(x0);
    int calls = 0;
    // A capture bigger than std::function's small buffer: it lives in the arena.
    const TensorVar y = nabla::custom(
        {x}, x.value(), [token, &calls, pad = std::array<double, 8>{}](const CustomBackward& b) {
          calls += 1 + static_cast<int>(pad[0]);
          b.add_to_input_adjoint(0, b.output_adjoint());
        });
    BOOST_TEST(token.use_count() == 2);
    nabla::backward(nabla::sum(y * y));
    BOOST_TEST(calls == 1);
    for (std::size_t i = 0; i < x0.size(); ++i) BOOST_TEST(nabla::adjoint(x)[i] == 2 * x0[i]);
    tape.rewind(start);
    BOOST_TEST(token.use_count() == 1);  // destroyed with the node
    stats.push_back(tape.statistics());
  }
  for (std::size_t s = 1; s < stats.size(); ++s) {
    BOOST_TEST(stats[s].allocations == stats[0].allocations);
    BOOST_TEST(stats[s].bytes_reserved == stats[0].bytes_reserved);
    BOOST_TEST(stats[s].tensor_nodes == 0u);
    BOOST_TEST(stats[s].tensor_bytes == 0u);
  }
  // clear() and the tape's destructor drop it too.
  {
    nabla::Tape other;
    nabla::Tape::Scope inner(other);
    const TensorVar x = nabla::variable(x0);
    (void)nabla::custom({x}, x.value(), [token](const CustomBackward&) {});
    BOOST_TEST(token.use_count() == 2);
    other.clear();
    BOOST_TEST(token.use_count() == 1);
    const TensorVar x2 = nabla::variable(x0);
    (void)nabla::custom({x2}, x0, [token](const CustomBackward&) {});
    BOOST_TEST(token.use_count() == 2);
  }
  BOOST_TEST(token.use_count() == 1);
}

BOOST_AUTO_TEST_CASE(constants_give_a_constant) {
  auto token = std::make_shared<int>(1);
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const TensorVar k = nabla::constant(Tensor({2}, {1, 2}));
  const TensorVar y = nabla::custom({k}, Tensor({2}, {3, 4}), [token](const CustomBackward&) {});
  BOOST_TEST(!y.requires_grad());
  BOOST_TEST(token.use_count() == 1);  // not kept
  BOOST_TEST(Tensor(y.value()) == Tensor({2}, {3, 4}));
  const TensorVar e = nabla::custom({}, Tensor({}, {5}), [](const CustomBackward&) {});
  BOOST_TEST(!e.requires_grad());
  BOOST_TEST(e.item().value() == 5.0);
  // A variable whose adjoint never reaches the node: the callback is not called.
  const TensorVar v = nabla::variable(Tensor({2}, {1, 2}));
  bool called = false;
  const TensorVar unused =
      nabla::custom({v}, v.value(), [&called](const CustomBackward&) { called = true; });
  nabla::backward(nabla::sum(v * 2.0));
  BOOST_TEST(!called);
  BOOST_TEST(unused.requires_grad());
}

BOOST_AUTO_TEST_CASE(callbacks_may_use_nabla_on_a_scratch_tape) {
  // The backward of y = Σ tanh(x) (a 0-d output) computed by nabla itself, with a nested
  // custom operation inside, on the scratch tapes; the swept tape's handles are refused.
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Tensor x0 = random_tensor({5}, 9);
  const TensorVar x = nabla::variable(x0);
  double total = 0;
  for (double v : x0.span()) total += std::tanh(v);
  const TensorVar y = nabla::custom({x}, Tensor({}, {total}), [x, &tape](const CustomBackward& b) {
    BOOST_TEST(&nabla::Tape::active() != &tape);
    expect_error([&] { (void)x.value(); }, {"TensorVar", "not on the active tape"});
    const nabla::ValueAndGradient inner = nabla::value_and_gradient(
        [](const TensorVar& t) {
          return nabla::sum(custom_softplus(nabla::tanh(t)) - custom_softplus(-nabla::tanh(t)));
        },
        Tensor(b.input_value(0)));  // softplus(u) − softplus(−u) = u
    Tensor g(b.input_value(0).shape(), inner.gradient);
    for (double& v : g.span()) v *= b.output_adjoint()[0];
    b.add_to_input_adjoint(0, g);
  });
  const std::uint32_t size = tape.position().statement;
  nabla::backward(y * 3.0);
  // The constant 3 and the product; nothing from backward.
  BOOST_TEST(tape.position().statement == size + 2);
  for (std::size_t i = 0; i < x0.size(); ++i) {
    const double t = std::tanh(x0[i]);
    BOOST_TEST(std::abs(nabla::adjoint(x)[i] - 3 * (1 - t * t)) <= 1e-12);
  }
}

BOOST_AUTO_TEST_CASE(a_throwing_backward_leaves_the_tape_usable) {
  // The loss has a scalar statement recorded before the node and used after it, so when the
  // node throws, a consuming sweep has already written an adjoint it has not consumed.
  bool fail = true;
  const auto f = [&fail](const TensorVar& x) {
    const Var s = x(0) * x(1);
    const TensorVar y =
        nabla::custom({x, nabla::tensor(s)}, x.value(), [&fail](const CustomBackward& b) {
          if (fail) throw std::runtime_error("backward failed");
          b.add_to_input_adjoint(0, b.output_adjoint());
        });
    return Var(nabla::sum(y).item() * s + s * s);
  };
  const Tensor x0({2}, {0.5, -1.5});
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const nabla::Position start = tape.position();
  BOOST_CHECK_THROW(nabla::value_and_gradient(f, x0), std::runtime_error);
  BOOST_TEST(tape.position().statement == start.statement);  // the helper rewound
  fail = false;
  // s = x0·x1; L = (x0 + x1)·s + s²  →  ∂L/∂x0 = s + (x0 + x1 + 2s)·x1 (s held fixed in the
  // node's backward, which pushes only into x: the custom node's (x, s) — s gets nothing).
  const double s = x0[0] * x0[1], sum = x0[0] + x0[1];
  const nabla::ValueAndGradient r = nabla::value_and_gradient(f, x0);
  BOOST_TEST(std::abs(r.gradient[0] - (s + (sum + 2 * s) * x0[1])) <= 1e-14);
  BOOST_TEST(std::abs(r.gradient[1] - (s + (sum + 2 * s) * x0[0])) <= 1e-14);
  // The scalar helper (whose sweep asserts that it leaves clean adjoints) as well.
  const auto g = [&](std::span<const Var> v) {
    return f(nabla::tensor(std::vector<Var>(v.begin(), v.end()), Shape{2}));
  };
  fail = true;
  BOOST_CHECK_THROW(nabla::value_and_gradient(g, {0.5, -1.5}), std::runtime_error);
  fail = false;
  const nabla::ValueAndGradient q = nabla::value_and_gradient(g, {0.5, -1.5});
  BOOST_TEST(q.gradient == r.gradient);
  // A plain sweep that throws, then one that does not.
  fail = true;
  const TensorVar x = nabla::variable(x0);
  const Var loss = f(x);
  BOOST_CHECK_THROW(nabla::backward(loss), std::runtime_error);
  fail = false;
  nabla::backward(loss);
  BOOST_TEST(nabla::adjoint(x)[0] == r.gradient[0]);
}

BOOST_AUTO_TEST_CASE(bad_inputs) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const auto nothing = [](const CustomBackward&) {};
  const TensorVar x = nabla::variable(Tensor({2}, {1, 2}));
  expect_error(
      [&] {
        (void)nabla::custom({x, TensorVar()}, x.value(), nothing);
      },
      {"nabla::custom", "input 1 (of 2)", "empty"});
  const nabla::Position start = tape.position();
  const TensorVar stale = nabla::variable(Tensor({2}, {1, 2}));
  tape.rewind(start);
  expect_error([&] { (void)nabla::custom({stale}, x.value(), nothing); },
               {"nabla::custom", "input 0", "rewound away"});
  {
    nabla::Tape other;
    nabla::Tape::Scope inner(other);
    expect_error([&] { (void)nabla::custom({x}, Tensor({2}), nothing); },
                 {"nabla::custom", "input 0", "not on the active tape"});
  }
  expect_error([&] { (void)nabla::custom({x}, nabla::TensorView(), nothing); },
               {"nabla::custom", "no data"});
  BOOST_TEST(tape.statistics().tensor_nodes == 1u);  // nothing recorded by the failures

  // Mistakes inside the callback surface from the sweep.
  const TensorVar k = nabla::constant(Tensor({3}, {1, 2, 3}));
  const auto sweep_with = [&](std::function<void(const CustomBackward&)> backward) {
    nabla::backward(nabla::sum(nabla::custom({x, k}, Tensor({2}), std::move(backward))));
  };
  expect_error(
      [&] { sweep_with([](const CustomBackward& b) { b.add_to_input_adjoint(0, Tensor({3})); }); },
      {"add_to_input_adjoint", "input 0", "[3]", "[2]"});
  expect_error([&] { sweep_with([](const CustomBackward& b) { (void)b.input_value(2); }); },
               {"input_value", "input 2", "2 inputs"});
  expect_error([&] { sweep_with([](const CustomBackward& b) { (void)b.input_adjoint(1); }); },
               {"input_adjoint", "input 1", "constant", "needs_gradient(1)"});
  // A constant's gradient is skipped without a word by add_to_input_adjoint.
  sweep_with([](const CustomBackward& b) {
    BOOST_TEST(!b.needs_gradient(1));
    b.add_to_input_adjoint(1, Tensor({3}, 7.0));
    b.add_to_input_adjoint(0, Tensor({2}, 1.0));
  });
  BOOST_TEST(nabla::adjoint(x)[1] == 1.0);
}

BOOST_AUTO_TEST_SUITE_END()
