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
#include <functional>
#include <string>
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

BOOST_AUTO_TEST_SUITE_END()
