// Forward mode for tensors (TensorDual, tensor_dual.hpp): every operation's JVP rule against
// finite differences of its value along v and against the reverse-mode gradient (wᵀJ·v), over
// broadcasting and empty shapes; Hessian-vector products of an MLP with softmax cross-entropy
// and of a mixed scalar + tensor loss against finite differences of the gradient, and against
// the scalar hessian_vector_product; misuse.
#include <fmt/format.h>
#include <nabla/autodiff.hpp>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <concepts>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ad_check.hpp"
#include "expect_error.hpp"

using nabla::Dual;
using nabla::Shape;
using nabla::Tensor;
using nabla::TensorDual;
using nabla::TensorVar;
using nabla::Var;
using nabla::test::expect_error;
using nabla::test::random_tensor;

namespace {

// Relative error of a against b, with a floor of 1 on the scale (so zeros compare absolutely).
double relative_error(double a, double b) {
  return std::abs(a - b) / std::max({std::abs(a), std::abs(b), 1.0});
}

// f(x) evaluated on constants (records nothing that outlives the call).
template <class F>
Tensor value_at(F& f, const Tensor& x) {
  const nabla::detail::RewindGuard recording;
  return Tensor(TensorVar(f(nabla::constant(x))).value());
}

Tensor along(const Tensor& x, const Tensor& v, double s) {
  Tensor p = x;
  for (std::size_t i = 0; i < p.size(); ++i) p[i] += s * v[i];
  return p;
}

// The JVP of f (a generic callable: TensorVar → TensorVar and TensorDual → TensorDual) at x
// along v: the value as the TensorVar operation computes it, the tangent against Richardson
// differences of each output along v, and against the reverse mode: w·(J v) = (Jᵀw)·v with a
// random weight w per output (one reverse sweep of sum(w ⊙ f)). `fd` false skips the finite
// differences (at a kink, where only the convention can be compared).
template <class F>
void check_jvp(const std::string& name, F f, const Tensor& x, const Tensor& v, bool fd = true) {
  BOOST_TEST_CONTEXT(name) {
    const nabla::TensorJacobianVectorProduct r = nabla::jvp(f, x, v);
    const Tensor y = value_at(f, x);
    BOOST_TEST_REQUIRE(r.value.shape() == y.shape());
    BOOST_TEST_REQUIRE(r.tangent.shape() == y.shape());
    for (std::size_t i = 0; i < y.size(); ++i) BOOST_TEST(r.value[i] == y[i]);
    if (fd) {
      for (std::size_t i = 0; i < y.size(); ++i) {
        const auto d = nabla::detail::richardson_difference(
            [&](double s) { return value_at(f, along(x, v, s))[i]; }, 1e-3);
        BOOST_TEST(relative_error(r.tangent[i], d.derivative) <= 1e-6,
                   "output " << i << ": JVP " << r.tangent[i] << ", differences " << d.derivative);
      }
    }
    const Tensor w = random_tensor(y.shape(), 7);
    const auto g = nabla::value_and_gradient(
        [&](const TensorVar& t) { return nabla::sum(f(t) * nabla::constant(w)); }, x);
    double reverse = 0, forward = 0;
    for (std::size_t j = 0; j < x.size(); ++j) reverse += g.gradient[j] * v[j];
    for (std::size_t i = 0; i < y.size(); ++i) forward += w[i] * r.tangent[i];
    BOOST_TEST(relative_error(forward, reverse) <= 1e-12,
               "w·Jv " << forward << ", (Jᵀw)·v " << reverse);
  }
}

// The same operation applied to TensorVar and TensorDual.
#define NABLA_OP(expr) [](const auto& x) { return expr; }

const Tensor x6 = random_tensor({2, 3}, 1);
const Tensor v6 = random_tensor({2, 3}, 2);
const Tensor positive6 = random_tensor({2, 3}, 3, 0.5, 3.0);

}  // namespace

BOOST_AUTO_TEST_SUITE(tensor_forward)

BOOST_AUTO_TEST_CASE(elementwise_unary) {
  check_jvp("neg", NABLA_OP(-x), x6, v6);
  check_jvp("neg()", NABLA_OP(neg(x)), x6, v6);
  check_jvp("exp", NABLA_OP(exp(x)), x6, v6);
  check_jvp("log", NABLA_OP(log(x)), positive6, v6);
  check_jvp("log1p", NABLA_OP(log1p(x)), positive6, v6);
  check_jvp("sqrt", NABLA_OP(sqrt(x)), positive6, v6);
  check_jvp("abs", NABLA_OP(abs(x)), x6, v6);
  check_jvp("tanh", NABLA_OP(tanh(x)), x6, v6);
  check_jvp("sigmoid", NABLA_OP(sigmoid(x)), x6, v6);
  check_jvp("relu", NABLA_OP(relu(x)), x6, v6);
  check_jvp("softplus", NABLA_OP(softplus(x)), x6, v6);
  check_jvp("clamp", NABLA_OP(clamp(x, -1.0, 1.0)), x6, v6);
  check_jvp("pow(x, 3)", NABLA_OP(pow(x, 3.0)), x6, v6);
  check_jvp("pow(x, 0.5)", NABLA_OP(pow(x, 0.5)), positive6, v6);
  check_jvp("pow(x, 0)", NABLA_OP(pow(x, 0.0)), x6, v6);
}

BOOST_AUTO_TEST_CASE(tails_are_exact) {
  // tanh′ and σ′ far in the tails, where 1 − y² rounds to 0: the rule is relative-exact.
  const Tensor x({3}, {-30.0, 25.0, 40.0});
  const Tensor v({3}, {1.0, 1.0, 1.0});
  const auto t = nabla::jvp(NABLA_OP(tanh(x)), x, v);
  const auto s = nabla::jvp(NABLA_OP(sigmoid(x)), x, v);
  for (std::size_t i = 0; i < 3; ++i) {
    const double c = std::cosh(x[i]);
    BOOST_TEST(relative_error(t.tangent[i] * c * c, 1.0) <= 1e-12);
    const double e = std::exp(-std::abs(x[i]));
    BOOST_TEST(std::abs(s.tangent[i] / (e / ((1 + e) * (1 + e))) - 1.0) <= 1e-12);
    BOOST_TEST(t.tangent[i] > 0.0);
  }
}

BOOST_AUTO_TEST_CASE(kinks_follow_the_reverse_rules) {
  // At 0 (abs, relu) and at the bounds (clamp) only the convention can be compared: the JVP
  // must agree with the reverse rule (check_jvp's wᵀJv against (Jᵀw)·v), not with differences.
  const Tensor x({5}, {0.0, -1.0, 1.0, 2.0, -2.0});
  const Tensor v = random_tensor({5}, 4);
  check_jvp("abs at 0", NABLA_OP(abs(x)), x, v, false);
  check_jvp("relu at 0", NABLA_OP(relu(x)), x, v, false);
  check_jvp("clamp at the bounds", NABLA_OP(clamp(x, -1.0, 1.0)), x, v, false);
  check_jvp("clamp lo = hi", NABLA_OP(clamp(x, 1.0, 1.0)), x, v, false);
  BOOST_TEST(nabla::jvp(NABLA_OP(abs(x)), x, v).tangent[0] == 0.0);
  BOOST_TEST(nabla::jvp(NABLA_OP(relu(x)), x, v).tangent[0] == 0.0);
}

BOOST_AUTO_TEST_CASE(elementwise_binary_and_broadcasting) {
  // x holds a [2, 3] and b [3]: both broadcast sides carry tangents.
  const Tensor x = random_tensor({9}, 5);
  const Tensor v = random_tensor({9}, 6);
  const Tensor xp = random_tensor({9}, 8, 0.5, 2.0);
  const auto a = [](const auto& t) { return reshape(slice(t, 0, 0, 6), Shape{2, 3}); };
  const auto b = [](const auto& t) { return slice(t, 0, 6, 9); };
  const auto col = [](const auto& t) { return reshape(slice(t, 0, 6, 8), Shape{2, 1}); };
  check_jvp(
      "a + b", [&](const auto& t) { return a(t) + b(t); }, x, v);
  check_jvp(
      "b - a", [&](const auto& t) { return b(t) - a(t); }, x, v);
  check_jvp(
      "a * b", [&](const auto& t) { return a(t) * b(t); }, x, v);
  check_jvp(
      "a / b", [&](const auto& t) { return a(t) / b(t); }, xp, v);
  check_jvp(
      "b / a", [&](const auto& t) { return b(t) / a(t); }, xp, v);
  check_jvp(
      "a * col", [&](const auto& t) { return a(t) * col(t); }, x, v);
  check_jvp(
      "col - b", [&](const auto& t) { return col(t) - b(t); }, x, v);
  check_jvp(
      "pow(a, b)", [&](const auto& t) { return pow(a(t), b(t)); }, xp, v);
  // One side constant: the other side's tangent alone, broadcast to the result.
  const Tensor c = random_tensor({2, 3}, 9, 0.5, 2.0);
  check_jvp(
      "b + constant", [&](const auto& t) { return b(t) + nabla::constant(c); }, x, v);
  check_jvp(
      "constant - b", [&](const auto& t) { return nabla::constant(c) - b(t); }, x, v);
  check_jvp(
      "constant / b", [&](const auto& t) { return nabla::constant(c) / b(t); }, xp, v);
  check_jvp(
      "b * constant", [&](const auto& t) { return b(t) * nabla::constant(c); }, x, v);
  check_jvp(
      "pow(constant, b)", [&](const auto& t) { return pow(nabla::constant(c), b(t)); }, x, v);
  check_jvp(
      "pow(b, constant)", [&](const auto& t) { return pow(b(t), nabla::constant(c)); }, xp, v);
}

BOOST_AUTO_TEST_CASE(mixes_with_scalars) {
  // double, Var (a constant in the direction, recorded outside) and Dual<Var> (item/element).
  const Var s(1.7);
  check_jvp("x + 2", NABLA_OP(x + 2.0), x6, v6);
  check_jvp("2 - x", NABLA_OP(2.0 - x), x6, v6);
  check_jvp("x - 2", NABLA_OP(x - 2.0), x6, v6);
  check_jvp("3 x", NABLA_OP(3.0 * x), x6, v6);
  check_jvp("x 3", NABLA_OP(x * 3.0), x6, v6);
  check_jvp("x / 3", NABLA_OP(x / 3.0), x6, v6);
  check_jvp("3 / x", NABLA_OP(3.0 / x), positive6, v6);
  check_jvp("2 + x", NABLA_OP(2.0 + x), x6, v6);
  check_jvp(
      "x + s", [&](const auto& x) { return x + s; }, x6, v6);
  check_jvp(
      "x - s", [&](const auto& x) { return x - s; }, x6, v6);
  check_jvp(
      "x * s", [&](const auto& x) { return x * s; }, x6, v6);
  check_jvp(
      "x / s", [&](const auto& x) { return x / s; }, x6, v6);
  check_jvp(
      "s + x", [&](const auto& x) { return s + x; }, x6, v6);
  check_jvp(
      "s - x", [&](const auto& x) { return s - x; }, x6, v6);
  check_jvp(
      "s * x", [&](const auto& x) { return s * x; }, x6, v6);
  check_jvp(
      "s / x", [&](const auto& x) { return s / x; }, positive6, v6);
  // A scalar taken from the tensor (a Dual<Var> for TensorDual, a Var for TensorVar).
  check_jvp("x * x(0, 1)", NABLA_OP(x * x(0, 1)), x6, v6);
  check_jvp("x / x(1, 2)", NABLA_OP(x / x(1, 2)), positive6, v6);
  check_jvp("x(0, 0) + x", NABLA_OP(x(0, 0) + x), x6, v6);
  check_jvp("x(0, 0) - x", NABLA_OP(x(0, 0) - x), x6, v6);
  check_jvp("x - sin(x(0, 0))", NABLA_OP(x - sin(x(0, 0))), x6, v6);
  check_jvp("exp(x(0, 0)) * x", NABLA_OP(exp(x(0, 0)) * x), x6, v6);
  check_jvp("x(1, 1) / x", NABLA_OP(x(1, 1) / x), positive6, v6);
  check_jvp(
      "tensor of scalars",
      [](const auto& x) {
        using S = std::decay_t<decltype(x(0, 0))>;
        const std::vector<S> e{x(0, 0) * x(1, 1), sin(x(0, 2)), S(2.0)};
        return nabla::tensor(std::span<const S>(e), Shape{3}) * x(0, 1);
      },
      x6, v6);
  check_jvp("sum item", NABLA_OP(nabla::tensor(sum(x * x).item() * x(0, 0))), x6, v6);
}

BOOST_AUTO_TEST_CASE(linear_algebra_and_shape) {
  const Tensor x = random_tensor({2, 3, 4}, 10);
  const Tensor v = random_tensor({2, 3, 4}, 11);
  const std::vector<std::size_t> axes{2, 0, 1};
  const std::vector<std::size_t> rows{2, 0, 2};
  check_jvp("transpose", NABLA_OP(transpose(x)), x, v);
  check_jvp(
      "permute", [&](const auto& x) { return permute(x, axes); }, x, v);
  check_jvp("reshape", NABLA_OP(reshape(x, Shape{4, 6})), x, v);
  check_jvp("slice", NABLA_OP(slice(x, 1, 1, 3)), x, v);
  check_jvp(
      "index_select", [&](const auto& x) { return index_select(x, 1, rows); }, x, v);
  // matmul: both factors move (batched, shared right factor, a constant factor).
  check_jvp("matmul batched", NABLA_OP(matmul(x, transpose(x))), x, v);
  check_jvp("matmul shared", NABLA_OP(matmul(x, reshape(slice(x, 0, 0, 1), Shape{4, 4}))),
            random_tensor({2, 4, 4}, 12), random_tensor({2, 4, 4}, 13));
  const Tensor c = random_tensor({4, 5}, 14);
  check_jvp(
      "matmul constant", [&](const auto& x) { return matmul(x, nabla::constant(c)); }, x, v);
  check_jvp(
      "concat",
      [](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const std::vector<T> parts{slice(x, 2, 0, 1), exp(x), slice(x, 2, 1, 3)};
        return concat(std::span<const T>(parts), 2);
      },
      x, v);
  const Tensor k = random_tensor({2, 3, 4}, 15);
  check_jvp(
      "stack with a constant",
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const std::vector<T> parts{T(nabla::constant(k)), x * x, T(nabla::constant(k))};
        return stack(std::span<const T>(parts), 1);
      },
      x, v);
}

BOOST_AUTO_TEST_CASE(reductions_softmax_losses) {
  const Tensor x = random_tensor({2, 3, 4}, 20);
  const Tensor v = random_tensor({2, 3, 4}, 21);
  check_jvp("sum", NABLA_OP(sum(x)), x, v);
  check_jvp("sum axis", NABLA_OP(sum(x, 1)), x, v);
  check_jvp("sum axes keepdims", NABLA_OP(sum(x, {0, 2}, true)), x, v);
  check_jvp("mean", NABLA_OP(mean(x, -1)), x, v);
  check_jvp("mean keepdims", NABLA_OP(mean(x, {0, 1}, true)), x, v);
  check_jvp("max", NABLA_OP(max(x)), x, v);
  check_jvp("max axis", NABLA_OP(max(x, 1)), x, v);
  check_jvp("min axes keepdims", NABLA_OP(min(x, {0, 2}, true)), x, v);
  check_jvp("log_sum_exp", NABLA_OP(log_sum_exp(x)), x, v);
  check_jvp("log_sum_exp axis", NABLA_OP(log_sum_exp(x, 1)), x, v);
  check_jvp("log_sum_exp axes keepdims", NABLA_OP(log_sum_exp(x, {0, 2}, true)), x, v);
  check_jvp("softmax", NABLA_OP(softmax(x)), x, v);
  check_jvp("softmax axis 1", NABLA_OP(softmax(x, 1)), x, v);
  check_jvp("log_softmax", NABLA_OP(log_softmax(x, 0)), x, v);
  // Ties: the tangent of the element the reverse rule selects (the first maximal one).
  const Tensor ties({2, 3}, {1.0, 3.0, 3.0, -1.0, -1.0, 0.5});
  check_jvp("max with ties", NABLA_OP(max(x, 1)), ties, v6, false);
  check_jvp("min with ties", NABLA_OP(min(x, 1)), ties, v6, false);
  BOOST_TEST(nabla::jvp(NABLA_OP(max(x, 1)), ties, v6).tangent[0] == v6[1]);
  // Losses, each a 0-d tensor.
  const Tensor logits = random_tensor({4, 3}, 22);
  const Tensor dl = random_tensor({4, 3}, 23);
  const std::vector<int> labels{0, 2, 1, 2};
  check_jvp(
      "cross_entropy", [&](const auto& x) { return cross_entropy(x, labels); }, logits, dl);
  const Tensor targets = random_tensor({4, 3}, 24, 0.0, 1.0);
  check_jvp(
      "binary_cross_entropy_with_logits",
      [&](const auto& x) { return binary_cross_entropy_with_logits(x, targets); }, logits, dl);
  const Tensor target = random_tensor({4, 3}, 25);
  check_jvp(
      "mse", [&](const auto& x) { return mse(x, nabla::constant(target)); }, logits, dl);
  check_jvp("mse of a moving target", NABLA_OP(mse(exp(x), x * x)), logits, dl);
  check_jvp(
      "mse, target only", [&](const auto& x) { return mse(nabla::constant(target), x); }, logits,
      dl);
}

BOOST_AUTO_TEST_CASE(empty_shapes) {
  const Tensor e(Shape{0, 3});
  check_jvp("exp of empty", NABLA_OP(exp(x) * 2.0), e, e);
  check_jvp("sum of empty", NABLA_OP(sum(x)), e, e);
  check_jvp("sum axis 0 of empty", NABLA_OP(sum(x, 0)), e, e);
  check_jvp("broadcast with empty", NABLA_OP(x + sum(x, 0)), e, e);
  check_jvp("mse of empty", NABLA_OP(mse(x, x * 2.0)), e, e);
  check_jvp("matmul of empty", NABLA_OP(matmul(x, transpose(x))), e, e);
}

namespace {

// The gradient of f at x by reverse mode, and H·v by Richardson differences of it along v.
template <class F>
std::vector<double> gradient_differences(F& f, const Tensor& x, const Tensor& v) {
  std::vector<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    out[i] = nabla::detail::richardson_difference(
                 [&](double s) {
                   // (a generic f is wrapped: the scalar overload's constraint would call it
                   // with a span of Vars)
                   return nabla::value_and_gradient([&](const TensorVar& t) { return f(t); },
                                                    along(x, v, s))
                       .gradient[i];
                 },
                 1e-3)
                 .derivative;
  }
  return out;
}

// max |a − b| / max |b|: the relative error of a whole vector.
double vector_error(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0, s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, std::abs(a[i] - b[i]));
    s = std::max(s, std::abs(b[i]));
  }
  return d / s;
}

// A two-layer MLP with softmax cross-entropy, its parameters packed in one tensor θ:
// W1 [4, 5], b1 [5], W2 [5, 3], b2 [3] (43 entries).
struct Mlp {
  Tensor X = random_tensor({6, 4}, 30);
  std::vector<int> labels{0, 1, 2, 2, 1, 0};
  template <class T>
  auto operator()(const T& th) const {
    const T W1 = reshape(slice(th, 0, 0, 20), Shape{4, 5});
    const T b1 = slice(th, 0, 20, 25);
    const T W2 = reshape(slice(th, 0, 25, 40), Shape{5, 3});
    const T b2 = slice(th, 0, 40, 43);
    const T h = tanh(matmul(T(nabla::constant(X)), W1) + b1);
    return cross_entropy(matmul(h, W2) + b2, labels) + 1e-2 * sum(th * th);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(hvp_of_an_mlp_with_softmax_cross_entropy) {
  const Mlp mlp;
  const auto f = [&](const auto& th) { return mlp(th); };
  const Tensor th = random_tensor({43}, 31, -1.0, 1.0);
  const Tensor v = random_tensor({43}, 32);
  nabla::Tape& tape = nabla::Tape::active();
  const nabla::Position before = tape.position();
  const std::vector<double> hv = nabla::hessian_vector_product(f, th, v);
  BOOST_TEST((tape.position() == before));  // the helper rewinds
  const std::vector<double> fd = gradient_differences(f, th, v);
  BOOST_TEST(vector_error(hv, fd) <= 1e-6);
  for (std::size_t i = 0; i < hv.size(); ++i) {
    BOOST_TEST(relative_error(hv[i], fd[i]) <= 1e-6, "entry " << i);
  }
  // Linear in v, and symmetric: uᵀ(H v) = vᵀ(H u).
  const Tensor u = random_tensor({43}, 33);
  const std::vector<double> hu = nabla::hessian_vector_product(f, th, u);
  double uhv = 0, vhu = 0;
  for (std::size_t i = 0; i < hv.size(); ++i) {
    uhv += u[i] * hv[i];
    vhu += v[i] * hu[i];
  }
  BOOST_TEST(relative_error(uhv, vhu) <= 1e-12);
  // The JVP of the loss is vᵀ∇f.
  const auto g = nabla::value_and_gradient([&](const TensorVar& t) { return f(t); }, th);
  const auto j = nabla::jvp(f, th, v);
  double vg = 0;
  for (std::size_t i = 0; i < g.gradient.size(); ++i) vg += v[i] * g.gradient[i];
  BOOST_TEST(j.value[0] == g.value);
  BOOST_TEST(relative_error(j.tangent[0], vg) <= 1e-12);
}

BOOST_AUTO_TEST_CASE(hvp_of_several_parameters) {
  // The MLP with its four parameters apart: H·v split by parameter is the packed H·v.
  const Mlp mlp;
  const Tensor th = random_tensor({43}, 31, -1.0, 1.0);
  const Tensor v = random_tensor({43}, 32);
  const auto part = [](const Tensor& t, std::size_t from, std::size_t to, const Shape& shape) {
    return Tensor(shape, t.span().subspan(from, to - from));
  };
  const std::vector<Tensor> params{part(th, 0, 20, {4, 5}), part(th, 20, 25, {5}),
                                   part(th, 25, 40, {5, 3}), part(th, 40, 43, {3})};
  const std::vector<Tensor> dirs{part(v, 0, 20, {4, 5}), part(v, 20, 25, {5}),
                                 part(v, 25, 40, {5, 3}), part(v, 40, 43, {3})};
  const auto split = [&](std::span<const TensorDual> p) {
    const TensorDual h = tanh(matmul(nabla::constant(mlp.X), p[0]) + p[1]);
    TensorDual l2 = sum(p[0] * p[0]);
    for (std::size_t i = 1; i < p.size(); ++i) l2 = l2 + sum(p[i] * p[i]);
    return cross_entropy(matmul(h, p[2]) + p[3], mlp.labels) + 1e-2 * l2;
  };
  const auto parts = nabla::hessian_vector_product(split, params, dirs);
  const std::vector<double> packed =
      nabla::hessian_vector_product([&](const auto& t) { return mlp(t); }, th, v);
  BOOST_TEST_REQUIRE(parts.size() == 4u);
  std::vector<double> joined;
  for (const auto& p : parts) joined.insert(joined.end(), p.begin(), p.end());
  BOOST_TEST_REQUIRE(joined.size() == packed.size());
  for (std::size_t i = 0; i < packed.size(); ++i) {
    BOOST_TEST(relative_error(joined[i], packed[i]) <= 1e-12, "entry " << i);
  }
  // A parameter the loss does not use gets zeros; misuse names what is wrong.
  const auto first_only = [](std::span<const TensorDual> p) { return sum(exp(p[0])); };
  const auto unused = nabla::hessian_vector_product(first_only, params, dirs);
  BOOST_TEST(unused[1] == std::vector<double>(5, 0.0), boost::test_tools::per_element());
  const std::vector<Tensor> three(dirs.begin(), dirs.begin() + 3);
  expect_error([&] { (void)nabla::hessian_vector_product(first_only, params, three); },
               {"nabla::hessian_vector_product", "one direction per parameter", "got 3"});
  std::vector<Tensor> swapped = dirs;
  std::swap(swapped[0], swapped[2]);
  expect_error([&] { (void)nabla::hessian_vector_product(first_only, params, swapped); },
               {"nabla::hessian_vector_product", "direction has shape [5, 3]", "point [4, 5]"});
}

BOOST_AUTO_TEST_CASE(hvp_of_a_mixed_scalar_and_tensor_loss) {
  // Scalar code (Var for the gradient, Dual<Var> for the HVP) on elements and reductions of
  // the tensor, combined with tensor code scaled by scalars; an outer Var as a constant.
  const Var lambda(0.3);
  const Tensor target = random_tensor({3, 4}, 40);
  const auto f = [&](const auto& x) {
    const auto s = x(0, 0);
    const auto r = sum(softplus(x) * x).item();
    const auto a = log_softmax(x * s, 1);
    return r * sin(s) + exp(0.1 * x(2, 3)) * mean(a * x).item() +
           lambda * mse(x / (1.0 + s * s), nabla::constant(target)).item() +
           log_sum_exp(x).item() * max(x).item();
  };
  const Tensor x = random_tensor({3, 4}, 41);
  const Tensor v = random_tensor({3, 4}, 42);
  const std::vector<double> hv = nabla::hessian_vector_product(f, x, v);
  const std::vector<double> fd = gradient_differences(f, x, v);
  BOOST_TEST(vector_error(hv, fd) <= 1e-6);
  for (std::size_t i = 0; i < hv.size(); ++i) {
    BOOST_TEST(relative_error(hv[i], fd[i]) <= 1e-6, "entry " << i);
  }
}

BOOST_AUTO_TEST_CASE(hvp_matches_the_scalar_hvp) {
  // The same loss written with tensors and with scalars: Σ tanh(xᵢ)·xᵢ₊₁ + log Σ eˣ + Σ xᵢ⁴/4.
  const auto tensor_loss = [](const auto& x) {
    const auto n = x.size();
    return sum(tanh(slice(x, 0, 0, n - 1)) * slice(x, 0, 1, n)) + log_sum_exp(x) +
           0.25 * sum(pow(x, 4.0));
  };
  const auto scalar_loss = [](std::span<const Dual<Var>> x) {
    Dual<Var> f = log_sum_exp(x);
    for (std::size_t i = 0; i + 1 < x.size(); ++i) f += tanh(x[i]) * x[i + 1];
    for (const auto& xi : x) f += 0.25 * pow(xi, 4);
    return f;
  };
  const Tensor x = random_tensor({7}, 50);
  const Tensor v = random_tensor({7}, 51);
  const std::vector<double> tensor_hv = nabla::hessian_vector_product(tensor_loss, x, v);
  const std::vector<double> scalar_hv =
      nabla::hessian_vector_product(scalar_loss, x.span(), v.span());
  for (std::size_t i = 0; i < x.size(); ++i) {
    BOOST_TEST(relative_error(tensor_hv[i], scalar_hv[i]) <= 1e-12, "entry " << i);
  }
}

BOOST_AUTO_TEST_CASE(hvp_of_a_function_not_depending_on_x) {
  const Tensor x = random_tensor({3}, 60);
  const Tensor c = random_tensor({3}, 61);
  const auto hv = nabla::hessian_vector_product(
      [&](const TensorDual&) { return TensorDual(nabla::sum(nabla::constant(c))); }, x, x);
  BOOST_TEST(hv == std::vector<double>(3, 0.0), boost::test_tools::per_element());
  const auto linear = nabla::hessian_vector_product(
      [&](const TensorDual& t) { return nabla::sum(t * nabla::constant(c)); }, x, x);
  BOOST_TEST(linear == std::vector<double>(3, 0.0), boost::test_tools::per_element());
}

namespace {

// y = softplus(x) as a custom operation: value and backward (dy/dx = σ(x)) by hand; in forward
// mode with the JVP σ(x) ⊙ ẋ in TensorVar operations (so the HVP differentiates it), or with
// none (`with_jvp` false).
template <class T>
T custom_softplus(const T& x, bool with_jvp = true) {
  Tensor y(x.shape());
  const auto backward = [](const nabla::CustomBackward& c) {
    if (!c.needs_gradient(0)) return;
    const nabla::MutableTensorView g = c.input_adjoint(0);
    for (std::size_t i = 0; i < g.size(); ++i)
      g[i] += c.output_adjoint()[i] / (1.0 + std::exp(-c.input_value(0)[i]));
  };
  if constexpr (std::same_as<T, TensorDual>) {
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::log1p(std::exp(x.value().value()[i]));
    if (!with_jvp) return nabla::custom({x}, y, backward);
    return nabla::custom({x}, y, backward,
                         [](std::span<const TensorVar> v, std::span<const TensorVar> dv) {
                           return nabla::sigmoid(v[0]) * dv[0];
                         });
  } else {
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::log1p(std::exp(x.value()[i]));
    return nabla::custom({x}, y, backward);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(custom_ops_in_forward_mode) {
  const Tensor x = random_tensor({2, 3}, 80);
  const Tensor v = random_tensor({2, 3}, 81);
  nabla::Tape& tape = nabla::Tape::active();
  const nabla::Position before = tape.position();
  // Without a JVP, an input with a tangent is an error naming the input and the remedy.
  const auto no_jvp = [](const TensorDual& t) { return sum(custom_softplus(t, false)); };
  expect_error([&] { (void)nabla::jvp(no_jvp, x, v); },
               {"nabla::custom", "input 0 (shape [2, 3])", "has a tangent", "no forward-mode rule",
                "jvp callback"});
  expect_error([&] { (void)nabla::hessian_vector_product(no_jvp, x, v); },
               {"nabla::custom", "input 0 (shape [2, 3])", "has a tangent", "no forward-mode rule",
                "jvp callback"});
  BOOST_TEST((tape.position() == before));  // nothing left behind
  {
    // Inputs without tangents (constants in the direction) need no JVP: the value is recorded.
    const nabla::detail::RewindGuard recording;
    const TensorDual c = custom_softplus(TensorDual(nabla::constant(x)), false);
    BOOST_TEST(!c.has_tangent());
    BOOST_TEST(c.value().value()[0] == std::log1p(std::exp(x[0])));
    // A JVP returning another shape than the output's is an error.
    const auto bad = [](std::span<const TensorVar> in, std::span<const TensorVar>) {
      return nabla::sum(in[0], 0);
    };
    const TensorDual p(nabla::constant(x), nabla::constant(v));
    expect_error(
        [&] {
          (void)nabla::custom(
              {p}, x, [](const nabla::CustomBackward&) {}, bad);
        },
        {"nabla::custom", "tangent of shape [3]", "output of shape [2, 3]",
         "expected the output's shape"});
  }
  // With a JVP: the tangent is σ(x) ⊙ v, and H·v through the custom node and the JVP's
  // recorded operations matches differences of the gradient (recorded with nabla::custom).
  const auto f = [](const auto& t) {
    const auto y = custom_softplus(t);
    return sum(y * y) + sum(y * t * t);
  };
  const auto j = nabla::jvp([](const TensorDual& t) { return custom_softplus(t); }, x, v);
  for (std::size_t i = 0; i < x.size(); ++i) {
    BOOST_TEST(relative_error(j.tangent[i], v[i] / (1.0 + std::exp(-x[i]))) <= 1e-15);
  }
  const std::vector<double> hv = nabla::hessian_vector_product(f, x, v);
  const std::vector<double> fd = gradient_differences(f, x, v);
  BOOST_TEST(vector_error(hv, fd) <= 1e-6);
  for (std::size_t i = 0; i < hv.size(); ++i) {
    BOOST_TEST(relative_error(hv[i], fd[i]) <= 1e-6, "entry " << i);
  }
  // The same loss with the built-in softplus: the same H·v.
  const std::vector<double> builtin = nabla::hessian_vector_product(
      [](const TensorDual& t) {
        const TensorDual y = softplus(t);
        return sum(y * y) + sum(y * t * t);
      },
      x, v);
  for (std::size_t i = 0; i < hv.size(); ++i) {
    BOOST_TEST(relative_error(hv[i], builtin[i]) <= 1e-12, "entry " << i);
  }
  BOOST_TEST((tape.position() == before));
}

// H·v of Σ w ⊙ f(x) is w ⊙ f″(x) ⊙ v for an elementwise f: the JVP of a rule-table row records
// the row's partial as a node whose backward rule is the row's second derivative. Checked against
// the scalar second derivative (forward over forward) and differences of the gradient.
template <class F>
void check_elementwise_hvp(const std::string& name, F f, double lo, double hi) {
  BOOST_TEST_CONTEXT(name) {
    const Tensor x = random_tensor({2, 3}, 11, lo, hi), v = random_tensor({2, 3}, 12);
    const Tensor w = random_tensor({2, 3}, 13);
    const auto loss = [&](const auto& t) { return sum(f(t) * nabla::constant(w)); };
    const std::vector<double> hv = nabla::hessian_vector_product(loss, x, v);
    BOOST_TEST_REQUIRE(hv.size() == x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double f2 = nabla::derivative([&](auto t) { return nabla::derivative(f, t); }, x[i]);
      BOOST_TEST(relative_error(hv[i], w[i] * f2 * v[i]) <= 1e-12,
                 "element " << i << " at " << x[i] << ": H·v " << hv[i] << ", w f″ v "
                            << w[i] * f2 * v[i]);
      const auto d = nabla::detail::richardson_difference(
          [&](double s) {
            return nabla::value_and_gradient([&](const TensorVar& t) { return loss(t); },
                                             along(x, v, s))
                .gradient[i];
          },
          1e-3);
      BOOST_TEST(relative_error(hv[i], d.derivative) <= 1e-6,
                 "element " << i << ": H·v " << hv[i] << ", differences " << d.derivative);
    }
  }
}

BOOST_AUTO_TEST_CASE(hvp_of_the_rule_table_rows) {
  check_elementwise_hvp("exp2", NABLA_OP(exp2(x)), -2, 2);
  check_elementwise_hvp("expm1", NABLA_OP(expm1(x)), -2, 2);
  check_elementwise_hvp("log2", NABLA_OP(log2(x)), 0.5, 3);
  check_elementwise_hvp("log10", NABLA_OP(log10(x)), 0.5, 3);
  check_elementwise_hvp("cbrt", NABLA_OP(cbrt(x)), 0.5, 3);
  check_elementwise_hvp("sin", NABLA_OP(sin(x)), -2, 2);
  check_elementwise_hvp("cos", NABLA_OP(cos(x)), -2, 2);
  check_elementwise_hvp("tan", NABLA_OP(tan(x)), -1.2, 1.2);
  check_elementwise_hvp("asin", NABLA_OP(asin(x)), -0.9, 0.9);
  check_elementwise_hvp("acos", NABLA_OP(acos(x)), -0.9, 0.9);
  check_elementwise_hvp("atan", NABLA_OP(atan(x)), -2, 2);
  check_elementwise_hvp("sinh", NABLA_OP(sinh(x)), -2, 2);
  check_elementwise_hvp("cosh", NABLA_OP(cosh(x)), -2, 2);
  check_elementwise_hvp("asinh", NABLA_OP(asinh(x)), -2, 2);
  check_elementwise_hvp("acosh", NABLA_OP(acosh(x)), 1.2, 3);
  check_elementwise_hvp("atanh", NABLA_OP(atanh(x)), -0.9, 0.9);
  check_elementwise_hvp("erf", NABLA_OP(erf(x)), -2, 2);
  check_elementwise_hvp("erfc", NABLA_OP(erfc(x)), -2, 2);
  check_elementwise_hvp("gelu", NABLA_OP(gelu(x)), -3, 3);
  check_elementwise_hvp("silu", NABLA_OP(silu(x)), -3, 3);
  // Away from the kink at 0: leaky_relu″ = 0, elu″ = α eˣ on the left.
  check_elementwise_hvp("leaky_relu", NABLA_OP(leaky_relu(x, 0.3)), 0.1, 2);
  check_elementwise_hvp("leaky_relu left", NABLA_OP(leaky_relu(x, 0.3)), -2, -0.1);
  check_elementwise_hvp("elu", NABLA_OP(elu(x, 0.5)), -2, -0.1);
  check_elementwise_hvp("elu right", NABLA_OP(elu(x, 0.5)), 0.1, 2);
}

BOOST_AUTO_TEST_CASE(hvp_through_an_infinite_partial) {
  // f = Σ x^1.5 written as Σ √x ⊙ x: H = diag(0.75/√x), infinite at x = 0. A direction that is
  // 0 there gets 0 there (0·∞ = 0, as the reverse sweep) and the exact entries elsewhere.
  const Tensor x({3}, {0.0, 1.0, 4.0});
  const Tensor v({3}, {0.0, 1.0, 1.0});
  const std::vector<double> hv =
      nabla::hessian_vector_product([](const TensorDual& t) { return sum(sqrt(t) * t); }, x, v);
  BOOST_TEST(hv[0] == 0.0);
  BOOST_TEST(relative_error(hv[1], 0.75) <= 1e-15);
  BOOST_TEST(relative_error(hv[2], 0.375) <= 1e-15);
}

BOOST_AUTO_TEST_CASE(docs_example) {
  // docs/tensors.md, "Forward mode and Hessian-vector products".
  const nabla::Tensor X({3, 2}, {1.0, 2.0, -1.0, 0.5, 0.0, -2.0});  // 3 rows, 2 features
  const std::vector<int> labels{0, 1, 1};
  const nabla::Tensor w0({2, 2}, {0.1, -0.2, 0.3, 0.0});
  const nabla::Tensor v({2, 2}, {1.0, 0.0, 0.0, -1.0});
  auto loss = [&](const auto& w) {
    return nabla::cross_entropy(nabla::matmul(nabla::constant(X), w), labels) +
           1e-3 * nabla::sum(w * w);
  };
  std::vector<double> hv = nabla::hessian_vector_product(loss, w0, v);
  auto [value, tangent] = nabla::jvp(loss, w0, v);
  auto [f, g] = nabla::value_and_gradient([&](const nabla::TensorVar& w) { return loss(w); }, w0);
  BOOST_TEST(value[0] == f);
  BOOST_TEST(relative_error(tangent[0], g[0] - g[3]) <= 1e-12);
  BOOST_TEST(vector_error(hv, gradient_differences(loss, w0, v)) <= 1e-6);
}

BOOST_AUTO_TEST_CASE(misuse) {
  const Tensor x = random_tensor({2, 3}, 70);
  const Tensor v = random_tensor({3, 2}, 71);
  const auto f = [](const TensorDual& t) { return nabla::sum(t * t); };
  nabla::Tape& tape = nabla::Tape::active();
  const nabla::Position before = tape.position();
  expect_error([&] { (void)nabla::hessian_vector_product(f, x, v); },
               {"nabla::hessian_vector_product", "direction has shape [3, 2]", "point [2, 3]",
                "expected equal shapes"});
  expect_error([&] { (void)nabla::jvp(f, x, v); },
               {"nabla::jvp", "direction has shape [3, 2]", "expected equal shapes"});
  expect_error(
      [&] { (void)nabla::hessian_vector_product([](const TensorDual& t) { return t * t; }, x, x); },
      {"nabla::hessian_vector_product", "shape [2, 3]", "expected one element"});
  expect_error(
      [&] {
        (void)nabla::hessian_vector_product(
            [](const TensorDual& t) { return nabla::sum(matmul(t, t)); }, x, x);
      },
      {"nabla::matmul"});
  BOOST_TEST((tape.position() == before));  // nothing left behind, also when f throws
  const nabla::detail::RewindGuard recording;
  expect_error(
      [&] { (void)TensorDual(nabla::constant(x), nabla::constant(v)); },
      {"nabla::TensorDual", "tangent has shape [3, 2]", "value [2, 3]", "expected equal shapes"});
}

// ---- Every operation's JVP against its backward rule, at the special points ----
//
// The reverse sweep's convention is 0·∞ = 0 (a zero adjoint is never pushed on, detail::chain),
// and scalar forward mode follows it. Each row below is an operation of tensor_dual.hpp applied
// to one flat input x (operands are slices of it), at points full of 0, ±∞, NaN, huge and tiny
// values, kinks, ties and broadcast or empty shapes, along directions that are 0 exactly where
// the partials are infinite. The JVP must agree with J·v from the backward rule (row i of J by
// one sweep of output i, then Σⱼ chain(vⱼ, Jᵢⱼ)): close where that is finite, and not finite
// where it is not. A last test reads tensor_dual.hpp and fails for an operation without a row.

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

struct JvpRow {
  std::string group;  // the test case that runs it
  std::string name;
  std::vector<std::string> covers;  // tensor_dual.hpp declarations (as declared_functions)
  std::function<TensorVar(const TensorVar&)> reverse;
  std::function<TensorDual(const TensorDual&)> forward;
  std::vector<Tensor> points;  // flat inputs
};

// A row from one generic f (TensorVar → TensorVar and TensorDual → TensorDual).
template <class F>
JvpRow row(std::string name, std::vector<std::string> covers, F f, std::vector<Tensor> points) {
  return {"",
          std::move(name),
          std::move(covers),
          [f](const TensorVar& x) { return TensorVar(f(x)); },
          [f](const TensorDual& x) { return TensorDual(f(x)); },
          std::move(points)};
}

// The operands one after another in one flat tensor.
Tensor pack(const std::vector<Tensor>& parts) {
  std::vector<double> all;
  for (const Tensor& p : parts) all.insert(all.end(), p.span().begin(), p.span().end());
  return Tensor(Shape{all.size()}, all);
}

// The operand of shape s at offset `from` of a packed x.
template <class T>
T operand(const T& x, std::size_t from, const Shape& s) {
  return reshape(slice(x, 0, from, from + s.size()), s);
}

// A tensor of the given shape cycling through `values` from `offset`.
Tensor cycled(const Shape& shape, const std::vector<double>& values, std::size_t offset = 0) {
  Tensor t(shape);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = values[(i + offset) % values.size()];
  return t;
}

const std::vector<double> specials = {0.0,  -0.0,  inf,     -inf, nan, 1.5,
                                      -2.0, 1e300, -1e-300, -1.0, 1.0};

// Every pair of specials (a[i], b[i]) for equal shapes of k² elements.
std::vector<Tensor> grid(const std::vector<double>& values) {
  const std::size_t k = values.size();
  Tensor a(Shape{k * k}), b(Shape{k * k});
  for (std::size_t i = 0; i < k * k; ++i) {
    a[i] = values[i / k];
    b[i] = values[i % k];
  }
  return {a, b};
}

// The operand shapes of a binary operation: equal (every pair of specials), broadcast on the
// right, on the left, on both sides, with a 0-d operand, and empty.
const std::vector<std::pair<Shape, Shape>> binary_shapes = {
    {{121}, {121}}, {{2, 3}, {3}}, {{3}, {2, 3}}, {{2, 1}, {1, 3}}, {{}, {2, 3}},
    {{2, 3}, {}},   {{0, 3}, {3}}, {{1}, {0, 3}}, {{1, 5}, {5, 1}}};
std::vector<Tensor> binary_points(const Shape& sa, const Shape& sb) {
  if (sa.size() == 121) return {pack(grid(specials))};
  std::vector<Tensor> points;
  for (std::size_t off : {0u, 3u, 7u})
    points.push_back(pack({cycled(sa, specials, off), cycled(sb, specials, off + 5)}));
  return points;
}

// Directions at x: random, 0 where x is 0 or not finite, 0 at every other entry, 0 everywhere.
std::vector<std::pair<std::string, Tensor>> directions(const Tensor& x) {
  const Tensor r = random_tensor(x.shape(), 90, 0.5, 2.0);
  Tensor special = r, alternate = r;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i] == 0.0 || !std::isfinite(x[i])) special[i] = 0.0;
    if (i % 2 == 0) alternate[i] = 0.0;
  }
  return {{"random", r},
          {"0 where x is 0 or not finite", special},
          {"0 at even entries", alternate},
          {"0", Tensor(x.shape())}};
}

// J·v from the backward rule with 0·∞ = 0, and Σⱼ |chain(vⱼ, Jᵢⱼ)| (the scale of rounding).
std::pair<std::vector<double>, std::vector<double>> reverse_jvp(const JvpRow& r, const Tensor& x,
                                                                const Tensor& v) {
  const std::size_t m = value_at(r.reverse, x).size();
  std::vector<double> jv(m), scale(m);
  for (std::size_t i = 0; i < m; ++i) {
    const auto g = nabla::value_and_gradient(
        [&](const TensorVar& t) {
          const TensorVar y = r.reverse(t);
          return nabla::sum(nabla::slice(nabla::reshape(y, Shape{y.size()}), 0, i, i + 1));
        },
        x);
    for (std::size_t j = 0; j < x.size(); ++j) {
      const double term = nabla::detail::chain(v[j], g.gradient[j]);
      jv[i] += term;
      scale[i] += std::abs(term);
    }
  }
  return {jv, scale};
}

bool same_value(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

void expect_row(const JvpRow& r) {
  for (const Tensor& x : r.points) {
    for (const auto& [direction, v] : directions(x)) {
      BOOST_TEST_CONTEXT(r.name << " at " << nabla::to_string(x) << ", direction " << direction) {
        const nabla::TensorJacobianVectorProduct f = nabla::jvp(r.forward, x, v);
        const Tensor y = value_at(r.reverse, x);
        BOOST_TEST_REQUIRE(f.tangent.shape() == y.shape());
        const auto [jv, scale] = reverse_jvp(r, x, v);
        for (std::size_t i = 0; i < y.size(); ++i) {
          BOOST_TEST(same_value(f.value[i], y[i]),
                     "output " << i << ": value " << f.value[i] << ", the operation's " << y[i]);
          if (std::isfinite(jv[i])) {
            BOOST_TEST(std::abs(f.tangent[i] - jv[i]) <=
                           1e-12 * std::max({1.0, scale[i], std::abs(jv[i])}),
                       "output " << i << ": JVP " << f.tangent[i] << ", reverse " << jv[i]);
          } else if (std::isinf(jv[i])) {
            BOOST_TEST(!std::isfinite(f.tangent[i]),
                       "output " << i << ": JVP " << f.tangent[i] << ", reverse " << jv[i]);
          } else {
            // The backward rules push nothing from a zero adjoint (detail::chain), so a NaN
            // here is a NaN partial met by a nonzero vⱼ: the JVP meets it too.
            BOOST_TEST(std::isnan(f.tangent[i]),
                       "output " << i << ": JVP " << f.tangent[i] << ", reverse " << jv[i]);
          }
        }
      }
    }
  }
}

std::vector<JvpRow> elementwise_jvp_rows() {
  std::vector<Tensor> points = {Tensor(Shape{specials.size()}, specials), Tensor(Shape{0, 3}),
                                Tensor(Shape{}, {0.0}), cycled({2, 3}, specials, 4)};
  std::vector<JvpRow> rows = {
      row("neg", {"neg(TensorDual)"}, NABLA_OP(neg(x)), points),
      row("unary minus", {"operator-(TensorDual)"}, NABLA_OP(-x), points),
      row("exp", {"exp(TensorDual)"}, NABLA_OP(exp(x)), points),
      row("log", {"log(TensorDual)"}, NABLA_OP(log(x)), points),
      row("log1p", {"log1p(TensorDual)"}, NABLA_OP(log1p(x)), points),
      row("sqrt", {"sqrt(TensorDual)"}, NABLA_OP(sqrt(x)), points),
      row("abs", {"abs(TensorDual)"}, NABLA_OP(abs(x)), points),
      row("tanh", {"tanh(TensorDual)"}, NABLA_OP(tanh(x)), points),
      row("sigmoid", {"sigmoid(TensorDual)"}, NABLA_OP(sigmoid(x)), points),
      row("relu", {"relu(TensorDual)"}, NABLA_OP(relu(x)), points),
      row("softplus", {"softplus(TensorDual)"}, NABLA_OP(softplus(x)), points),
      row("exp2", {"exp2(TensorDual)"}, NABLA_OP(exp2(x)), points),
      row("expm1", {"expm1(TensorDual)"}, NABLA_OP(expm1(x)), points),
      row("log2", {"log2(TensorDual)"}, NABLA_OP(log2(x)), points),
      row("log10", {"log10(TensorDual)"}, NABLA_OP(log10(x)), points),
      row("cbrt", {"cbrt(TensorDual)"}, NABLA_OP(cbrt(x)), points),
      row("sin", {"sin(TensorDual)"}, NABLA_OP(sin(x)), points),
      row("cos", {"cos(TensorDual)"}, NABLA_OP(cos(x)), points),
      row("tan", {"tan(TensorDual)"}, NABLA_OP(tan(x)), points),
      row("asin", {"asin(TensorDual)"}, NABLA_OP(asin(x)), points),
      row("acos", {"acos(TensorDual)"}, NABLA_OP(acos(x)), points),
      row("atan", {"atan(TensorDual)"}, NABLA_OP(atan(x)), points),
      row("sinh", {"sinh(TensorDual)"}, NABLA_OP(sinh(x)), points),
      row("cosh", {"cosh(TensorDual)"}, NABLA_OP(cosh(x)), points),
      row("asinh", {"asinh(TensorDual)"}, NABLA_OP(asinh(x)), points),
      row("acosh", {"acosh(TensorDual)"}, NABLA_OP(acosh(x)), points),
      row("atanh", {"atanh(TensorDual)"}, NABLA_OP(atanh(x)), points),
      row("erf", {"erf(TensorDual)"}, NABLA_OP(erf(x)), points),
      row("erfc", {"erfc(TensorDual)"}, NABLA_OP(erfc(x)), points),
      row("gelu", {"gelu(TensorDual)"}, NABLA_OP(gelu(x)), points),
      row("silu", {"silu(TensorDual)"}, NABLA_OP(silu(x)), points),
      row("leaky_relu", {"leaky_relu(TensorDual,double)"}, NABLA_OP(leaky_relu(x)), points),
      row("leaky_relu 0.3", {"leaky_relu(TensorDual,double)"}, NABLA_OP(leaky_relu(x, 0.3)),
          points),
      row("elu", {"elu(TensorDual,double)"}, NABLA_OP(elu(x)), points),
      row("elu 0.5", {"elu(TensorDual,double)"}, NABLA_OP(elu(x, 0.5)), points),
      row("clamp", {"clamp(TensorDual,double,double)"}, NABLA_OP(clamp(x, -1.0, 1.0)), points),
      row("clamp to a point", {"clamp(TensorDual,double,double)"}, NABLA_OP(clamp(x, 0.0, 0.0)),
          points),
  };
  for (double p : {3.0, 0.5, -1.5, 0.0, -2.0}) {
    rows.push_back(row(
        fmt::format("pow(x, {})", p), {"pow(TensorDual,double)"},
        [p](const auto& x) { return pow(x, p); }, points));
  }
  return rows;
}

std::vector<JvpRow> broadcasting_jvp_rows() {
  std::vector<JvpRow> rows;
  const auto binary = [&](const std::string& name, const std::string& op, auto f) {
    for (const auto& [sa, sb] : binary_shapes) {
      rows.push_back(row(
          fmt::format("{} with a {} and b {}", name, nabla::to_string(sa), nabla::to_string(sb)),
          {op + "(TensorDual,TensorDual)"},
          [f, sa = sa, sb = sb](const auto& x) {
            return f(operand(x, 0, sa), operand(x, sa.size(), sb));
          },
          binary_points(sa, sb)));
    }
  };
  binary("a + b", "operator+", [](const auto& a, const auto& b) { return a + b; });
  binary("a - b", "operator-", [](const auto& a, const auto& b) { return a - b; });
  binary("a * b", "operator*", [](const auto& a, const auto& b) { return a * b; });
  binary("a / b", "operator/", [](const auto& a, const auto& b) { return a / b; });
  binary("pow(a, b)", "pow", [](const auto& a, const auto& b) { return pow(a, b); });
  // With a number, a Var (constant in the direction) or a Dual<Var> (the last entry of x).
  const std::vector<Tensor> unary = {Tensor(Shape{specials.size()}, specials),
                                     cycled({2, 3}, specials, 2), Tensor(Shape{0, 3})};
  std::vector<Tensor> with_last;
  for (double c : specials) {
    Tensor t(Shape{specials.size() + 1});
    std::copy(specials.begin(), specials.end(), t.data());
    t[specials.size()] = c;
    with_last.push_back(t);
  }
  for (double c : {0.0, inf, nan, -2.0}) {
    const std::string n = fmt::format("{}", c);
    // clang-format off
    rows.insert(rows.end(), {
      row("x + " + n, {"operator+(TensorDual,double)"}, [c](const auto& x) { return x + c; }, unary),
      row("x - " + n, {"operator-(TensorDual,double)"}, [c](const auto& x) { return x - c; }, unary),
      row("x * " + n, {"operator*(TensorDual,double)"}, [c](const auto& x) { return x * c; }, unary),
      row("x / " + n, {"operator/(TensorDual,double)"}, [c](const auto& x) { return x / c; }, unary),
      row(n + " + x", {"operator+(double,TensorDual)"}, [c](const auto& x) { return c + x; }, unary),
      row(n + " - x", {"operator-(double,TensorDual)"}, [c](const auto& x) { return c - x; }, unary),
      row(n + " * x", {"operator*(double,TensorDual)"}, [c](const auto& x) { return c * x; }, unary),
      row(n + " / x", {"operator/(double,TensorDual)"}, [c](const auto& x) { return c / x; }, unary),
      row("x + Var " + n, {"operator+(TensorDual,Var)"}, [c](const auto& x) { return x + Var(c); }, unary),
      row("x - Var " + n, {"operator-(TensorDual,Var)"}, [c](const auto& x) { return x - Var(c); }, unary),
      row("x * Var " + n, {"operator*(TensorDual,Var)"}, [c](const auto& x) { return x * Var(c); }, unary),
      row("x / Var " + n, {"operator/(TensorDual,Var)"}, [c](const auto& x) { return x / Var(c); }, unary),
      row("Var " + n + " + x", {"operator+(Var,TensorDual)"}, [c](const auto& x) { return Var(c) + x; }, unary),
      row("Var " + n + " - x", {"operator-(Var,TensorDual)"}, [c](const auto& x) { return Var(c) - x; }, unary),
      row("Var " + n + " * x", {"operator*(Var,TensorDual)"}, [c](const auto& x) { return Var(c) * x; }, unary),
      row("Var " + n + " / x", {"operator/(Var,TensorDual)"}, [c](const auto& x) { return Var(c) / x; }, unary),
    });
    // clang-format on
  }
  const std::size_t k = specials.size();
  const auto head = [k](const auto& x) { return slice(x, 0, 0, k); };
  // clang-format off
  rows.insert(rows.end(), {
    row("x + s", {"operator+(TensorDual,Dual<Var>)"}, [=](const auto& x) { return head(x) + x(k); }, with_last),
    row("x - s", {"operator-(TensorDual,Dual<Var>)"}, [=](const auto& x) { return head(x) - x(k); }, with_last),
    row("x * s", {"operator*(TensorDual,Dual<Var>)"}, [=](const auto& x) { return head(x) * x(k); }, with_last),
    row("x / s", {"operator/(TensorDual,Dual<Var>)"}, [=](const auto& x) { return head(x) / x(k); }, with_last),
    row("s + x", {"operator+(Dual<Var>,TensorDual)"}, [=](const auto& x) { return x(k) + head(x); }, with_last),
    row("s - x", {"operator-(Dual<Var>,TensorDual)"}, [=](const auto& x) { return x(k) - head(x); }, with_last),
    row("s * x", {"operator*(Dual<Var>,TensorDual)"}, [=](const auto& x) { return x(k) * head(x); }, with_last),
    row("s / x", {"operator/(Dual<Var>,TensorDual)"}, [=](const auto& x) { return x(k) / head(x); }, with_last),
  });
  // clang-format on
  return rows;
}

std::vector<JvpRow> linalg_jvp_rows() {
  // matmul: [2, 3] × [3, 2], batched [2, 2, 3] × [2, 3, 2] and shared [2, 2, 3] × [3, 2], with
  // ±∞ and NaN in either factor (the directions are 0 there), and empty inner dimensions.
  const auto mm = [](Shape sa, Shape sb) {
    return [sa, sb](const auto& x) { return matmul(operand(x, 0, sa), operand(x, sa.size(), sb)); };
  };
  const std::vector<double> finite = {1.0, -2.0, 0.5, 0.0, 3.0, -1.0, 2.0};
  const std::vector<double> infinite = {1.0, inf, 0.5, 0.0, -inf, -1.0, 2.0, nan};
  const auto points = [&](const Shape& sa, const Shape& sb) {
    return std::vector<Tensor>{pack({cycled(sa, finite), cycled(sb, infinite)}),
                               pack({cycled(sa, infinite, 2), cycled(sb, finite)}),
                               pack({cycled(sa, infinite, 3), cycled(sb, infinite, 1)}),
                               pack({cycled(sa, specials), cycled(sb, specials, 4)})};
  };
  const Tensor x = cycled({2, 3, 2}, specials);
  const std::vector<std::size_t> axes{2, 0, 1}, rows_at{1, 0, 1};
  std::vector<JvpRow> rows = {
      row("matmul", {"matmul(TensorDual,TensorDual)"}, mm({2, 3}, {3, 2}), points({2, 3}, {3, 2})),
      row("matmul batched", {"matmul(TensorDual,TensorDual)"}, mm({2, 2, 3}, {2, 3, 2}),
          points({2, 2, 3}, {2, 3, 2})),
      row("matmul shared", {"matmul(TensorDual,TensorDual)"}, mm({2, 2, 3}, {3, 2}),
          points({2, 2, 3}, {3, 2})),
      row("matmul empty", {"matmul(TensorDual,TensorDual)"}, mm({2, 0}, {0, 3}),
          {Tensor(Shape{0})}),
      row("transpose", {"transpose(TensorDual)"}, NABLA_OP(transpose(x)), {x}),
      row("permute", {"permute(TensorDual,span<size_t>)"},
          [=](const auto& x) { return permute(x, axes); }, {x}),
      row("reshape", {"reshape(TensorDual,Shape)"}, NABLA_OP(reshape(x, Shape{3, 4})), {x}),
      row("slice", {"slice(TensorDual,ptrdiff_t,size_t,size_t)"}, NABLA_OP(slice(x, 1, 1, 2)), {x}),
      row("index_select", {"index_select(TensorDual,ptrdiff_t,span<size_t>)"},
          [=](const auto& x) { return index_select(x, 2, rows_at); }, {x}),
      row("concat", {"concat(span<TensorDual>,ptrdiff_t)"},
          [](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            const std::vector<T> parts{slice(x, 2, 0, 1), exp(x)};
            return concat(std::span<const T>(parts), 2);
          },
          {x}),
      row("stack", {"stack(span<TensorDual>,ptrdiff_t)"},
          [](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            const std::vector<T> parts{x, sqrt(x)};
            return stack(std::span<const T>(parts), 1);
          },
          {x}),
  };
  return rows;
}

std::vector<JvpRow> reduction_jvp_rows() {
  // Rows of [3, 4]: +∞ twice, all −∞, a NaN, huge values of both signs.
  const std::vector<Tensor> points = {
      Tensor({3, 4}, {inf, 1.0, inf, 0.0, -inf, -inf, -inf, -inf, nan, 1.0, 2.0, 3.0}),
      Tensor({3, 4}, {1e300, -1e300, 0.0, 1.0, inf, -inf, 2.0, 2.0, -inf, 0.0, 0.0, 1.0}),
      Tensor({3, 4}, {-inf, 1.0, 1.0, -2.0, 0.0, 0.0, 0.0, 0.0, 3.0, nan, inf, -inf}),
      random_tensor({3, 4}, 91)};
  std::vector<JvpRow> rows;
  using Reduce = std::pair<std::string, nabla::Axes>;
  for (const auto& [axes_name, axes] :
       {Reduce{"all", nabla::Axes()}, Reduce{"axis 0", nabla::Axes(0)},
        Reduce{"axis -1", nabla::Axes(-1)}}) {
    for (bool keep : {false, true}) {
      const nabla::Axes ax = axes;
      const std::string n = fmt::format(" over {}{}", axes_name, keep ? " keepdims" : "");
      // clang-format off
      rows.insert(rows.end(), {
        row("sum" + n, {"sum(TensorDual,Axes,bool)"}, [=](const auto& x) { return sum(x, ax, keep); }, points),
        row("mean" + n, {"mean(TensorDual,Axes,bool)"}, [=](const auto& x) { return mean(x, ax, keep); }, points),
        row("max" + n, {"max(TensorDual,Axes,bool)"}, [=](const auto& x) { return max(x, ax, keep); }, points),
        row("min" + n, {"min(TensorDual,Axes,bool)"}, [=](const auto& x) { return min(x, ax, keep); }, points),
        row("log_sum_exp" + n, {"log_sum_exp(TensorDual,Axes,bool)"}, [=](const auto& x) { return log_sum_exp(x, ax, keep); }, points),
      });
      // clang-format on
    }
  }
  rows.push_back(row("sum of empty", {"sum(TensorDual,Axes,bool)"}, NABLA_OP(sum(x, 0)),
                     {Tensor(Shape{0, 3})}));
  rows.push_back(row("log_sum_exp of empty", {"log_sum_exp(TensorDual,Axes,bool)"},
                     NABLA_OP(log_sum_exp(x, 0)), {Tensor(Shape{0, 3})}));
  for (std::ptrdiff_t axis : {-1, 0}) {
    rows.push_back(row(
        fmt::format("softmax axis {}", axis), {"softmax(TensorDual,ptrdiff_t)"},
        [axis](const auto& x) { return softmax(x, axis); }, points));
    rows.push_back(row(
        fmt::format("log_softmax axis {}", axis), {"log_softmax(TensorDual,ptrdiff_t)"},
        [axis](const auto& x) { return log_softmax(x, axis); }, points));
  }
  // Losses: labels r mod 4; targets with exact 0 and 1; mse of the two halves of x.
  const std::vector<int> labels{0, 1, 2};
  const Tensor targets({3, 4}, {0.0, 1.0, 0.5, 0.25, 1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 1.0, 0.0});
  rows.push_back(row(
      "cross_entropy", {"cross_entropy(TensorDual,span<int>)"},
      [=](const auto& x) { return cross_entropy(x, labels); }, points));
  rows.push_back(row(
      "binary_cross_entropy_with_logits",
      {"binary_cross_entropy_with_logits(TensorDual,TensorView)"},
      [=](const auto& x) { return binary_cross_entropy_with_logits(x, targets); }, points));
  rows.push_back(row(
      "mse", {"mse(TensorDual,TensorDual)"},
      [](const auto& x) { return mse(slice(x, 0, 0, 2), slice(x, 0, 1, 3)); }, points));
  rows.push_back(row("mse of empty", {"mse(TensorDual,TensorDual)"}, NABLA_OP(mse(x, x * 2.0)),
                     {Tensor(Shape{0, 3})}));
  return rows;
}

std::vector<JvpRow> element_jvp_rows() {
  // Finite points: Dual<Var> arithmetic keeps 0·∞ as NaN (its tangents are Vars, dual.hpp).
  const std::vector<Tensor> points = {Tensor({4}, {0.0, -0.0, 1.5, -2.0}), random_tensor({4}, 92)};
  return {
      row(
          "elements",
          {"operator()(I...)", "element(span<size_t>)", "tensor(span<Dual<Var>>,Shape)"},
          [](const auto& x) {
            using S = std::decay_t<decltype(x(0))>;
            const std::size_t last[] = {x.size() - 1};
            const std::vector<S> e{x(0) * x(1), exp(x(2)), x.element(last), S(2.0)};
            return nabla::tensor(std::span<const S>(e), Shape{2, 2});
          },
          points),
      row(
          "item", {"item()", "tensor(Dual<Var>)"},
          [](const auto& x) { return nabla::tensor(slice(x, 0, 1, 2).item() * x(3)); }, points),
  };
}

// y = a ⊙ b as a custom operation (value and backward by hand), in forward mode with its JVP
// ȧ ⊙ b + a ⊙ ḃ; on TensorVars the plain nabla::custom (the backward rule to compare with).
template <class T>
T custom_product(const T& a, const T& b, bool braced) {
  const auto values = [](const T& t) {
    if constexpr (std::same_as<T, TensorDual>) {
      return t.value().value();
    } else {
      return t.value();
    }
  };
  Tensor y(a.shape());
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = values(a)[i] * values(b)[i];
  const auto backward = [](const nabla::CustomBackward& c) {
    for (std::size_t k = 0; k < 2; ++k) {
      if (!c.needs_gradient(k)) continue;
      const nabla::MutableTensorView g = c.input_adjoint(k);
      for (std::size_t i = 0; i < g.size(); ++i)
        g[i] += c.output_adjoint()[i] * c.input_value(1 - k)[i];
    }
  };
  if constexpr (std::same_as<T, TensorDual>) {
    const auto jvp = [](std::span<const TensorVar> x, std::span<const TensorVar> dx) {
      return dx[0] * x[1] + x[0] * dx[1];
    };
    if (braced) return nabla::custom({a, b}, y, backward, jvp);
    const std::vector<TensorDual> in{a, b};
    return nabla::custom(std::span<const TensorDual>(in), y, backward, jvp);
  } else {
    return nabla::custom({a, b}, y, backward);
  }
}

std::vector<JvpRow> custom_jvp_rows() {
  // Finite points: the JVP is the user's (plain TensorVar products).
  const std::vector<Tensor> points = {random_tensor({12}, 93), Tensor(Shape{12}),
                                      pack({Tensor({2, 3}, {0.0, 1.0, -2.0, 0.0, 3.0, 1e100}),
                                            Tensor({2, 3}, {5.0, 0.0, 0.0, -1e-100, 2.0, 0.5})})};
  const auto rowed = [&](std::string name, std::string covers, bool braced) {
    return row(
        std::move(name), {std::move(covers)},
        [braced](const auto& x) {
          return custom_product(operand(x, 0, {2, 3}), operand(x, 6, {2, 3}), braced);
        },
        points);
  };
  return {rowed("custom with a jvp (braced list)",
                "custom(initializer_list<TensorDual>,TensorView,F,J)", true),
          rowed("custom with a jvp (span)", "custom(span<TensorDual>,TensorView,F,J)", false)};
}

const std::vector<JvpRow>& jvp_table() {
  static const std::vector<JvpRow> rows = [] {
    std::vector<JvpRow> all;
    for (auto [group, part] :
         {std::pair{"elementwise", elementwise_jvp_rows()},
          std::pair{"broadcasting", broadcasting_jvp_rows()},
          std::pair{"linear algebra and shapes", linalg_jvp_rows()},
          std::pair{"reductions and losses", reduction_jvp_rows()},
          std::pair{"elements", element_jvp_rows()}, std::pair{"custom", custom_jvp_rows()}}) {
      for (JvpRow& r : part) r.group = group;
      all.insert(all.end(), part.begin(), part.end());
    }
    return all;
  }();
  return rows;
}

void run_jvp_rows(const std::string& group) {
  std::size_t count = 0;
  for (const JvpRow& r : jvp_table()) {
    if (r.group != group) continue;
    expect_row(r);
    count += r.points.size();
  }
  BOOST_TEST(count > 0u, "no rows in group " << group);
  BOOST_TEST_MESSAGE(group << ": " << count << " points");
}

}  // namespace

BOOST_AUTO_TEST_CASE(jvp_table_elementwise) { run_jvp_rows("elementwise"); }
BOOST_AUTO_TEST_CASE(jvp_table_broadcasting) { run_jvp_rows("broadcasting"); }
BOOST_AUTO_TEST_CASE(jvp_table_linear_algebra_and_shapes) {
  run_jvp_rows("linear algebra and shapes");
}
BOOST_AUTO_TEST_CASE(jvp_table_reductions_and_losses) { run_jvp_rows("reductions and losses"); }
BOOST_AUTO_TEST_CASE(jvp_table_elements) { run_jvp_rows("elements"); }
BOOST_AUTO_TEST_CASE(jvp_table_custom) { run_jvp_rows("custom"); }

BOOST_AUTO_TEST_CASE(every_declared_operation_has_a_jvp_row) {
  // What returns a TensorDual but is not an operation to check, and why.
  const std::map<std::string, std::string> not_operations = {
      {"tensor_dual_output(R)", "internal: wraps what a TensorDualFunction returned"},
      {"custom_output(TensorVar,TensorVar)", "internal: checks the shape a custom JVP returned"},
      {"custom(span<TensorDual>,TensorView,F)",
       "no forward-mode rule: an input with a tangent is an error (custom_ops_in_forward_mode)"},
      {"custom(initializer_list<D>,TensorView,F)",
       "no forward-mode rule: an input with a tangent is an error (custom_ops_in_forward_mode)"},
  };
  const std::set<std::string> declared = nabla::test::declared_functions(
      std::string(NABLA_SOURCE_ROOT) + "/autodiff/tensor/include/nabla/autodiff/tensor_dual.hpp",
      {"TensorDual", "Dual<Var>"});
  BOOST_TEST_MESSAGE(declared.size()
                     << " declarations: " << fmt::format("{}", fmt::join(declared, " ")));
  BOOST_TEST(declared.size() >= 60u);  // the reading works
  std::set<std::string> covered;
  for (const JvpRow& r : jvp_table()) covered.insert(r.covers.begin(), r.covers.end());
  for (const std::string& d : declared) {
    BOOST_TEST((covered.count(d) + not_operations.count(d) == 1u),
               d << " is declared but has no row in the JVP table of tensor_forward_test.cpp");
  }
  for (const std::string& c : covered) {
    BOOST_TEST(declared.count(c) == 1u, "the JVP row for " << c << " names no declaration");
  }
  for (const auto& [d, why] : not_operations) {
    BOOST_TEST(declared.count(d) == 1u, d << " (" << why << ") is no longer declared");
  }
}

BOOST_AUTO_TEST_CASE(a_function_that_throws_mid_hvp_leaves_the_tape_as_it_was) {
  // The loss records tensor and scalar work, then throws: the helpers rewind (RewindGuard), and
  // the next call is unaffected — no stale node, no half-recorded tangent.
  const Tensor th = random_tensor({6}, 41, -1.0, 1.0), v = random_tensor({6}, 42);
  const auto loss = [](const auto& t) { return sum(tanh(t) * t) + 0.5 * sum(t * t); };
  const std::vector<double> reference = nabla::hessian_vector_product(loss, th, v);
  nabla::Tape& tape = nabla::Tape::active();
  const nabla::Position before = tape.position();
  for (int k = 0; k < 3; ++k) {
    BOOST_CHECK_THROW((void)nabla::hessian_vector_product(
                          [&](const auto& t) {
                            const auto y = loss(t) * loss(t);
                            if (y.item().value().value() >= 0.0) throw std::runtime_error("user");
                            return y;
                          },
                          th, v),
                      std::runtime_error);
    BOOST_CHECK_THROW((void)nabla::jvp(
                          [&](const auto& t) -> nabla::TensorDual {
                            (void)exp(t);
                            throw std::runtime_error("user");
                          },
                          th, v),
                      std::runtime_error);
    BOOST_TEST((tape.position() == before));
  }
  const std::vector<double> again = nabla::hessian_vector_product(loss, th, v);
  BOOST_TEST(again == reference, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
