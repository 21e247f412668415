// Forward mode for tensors: the JVP rule of every TensorVar operation, written in TensorVar
// operations so that tangents are recorded and differentiable (Note [Tensor forward mode] in
// tensor_dual.hpp). One function per operation, in the order of tensor_var.hpp.
#include "nabla/autodiff/tensor_dual.hpp"

#include <fmt/format.h>

#include <array>
#include <optional>
#include <utility>

#include "nabla/autodiff/error.hpp"
#include "tensor_nodes.hpp"

namespace nabla {

using detail::TensorNode;

namespace {

// A tangent that may be absent (zero by construction: the rules skip its terms).
using Tangent = std::optional<TensorVar>;

Tangent tangent_of(const TensorDual& x) {
  return x.has_tangent() ? Tangent(x.tangent()) : std::nullopt;
}

TensorDual make(const TensorVar& value, const Tangent& tangent) {
  return tangent ? TensorDual(value, *tangent) : TensorDual(value);
}

// f applied to the tangent when there is one.
template <class F>
Tangent map(const Tangent& t, F&& f) {
  return t ? Tangent(f(*t)) : std::nullopt;
}

Tangent add(const Tangent& a, const Tangent& b) {
  if (!a) return b;
  if (!b) return a;
  return *a + *b;
}

TensorVar zeros(const Shape& shape) { return constant(Tensor(shape)); }

// t broadcast to `shape` (the tangent of a broadcast operand that alone has a tangent).
Tangent expand(const Tangent& t, const Shape& shape) {
  if (!t || t->shape() == shape) return t;
  return *t + zeros(shape);
}

// A constant tensor holding d(x[i]) for each element of x (a mask from the values: the
// piecewise-constant derivatives of abs, relu and clamp, taken from the reverse rules' own
// formulas, so the conventions at the kinks agree).
template <class D>
TensorVar derivative_mask(const TensorVar& x, D&& d) {
  Tensor m(x.shape());
  const TensorView xv = x.value();
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = d(xv.data()[i]);
  return constant(m);
}

TensorDual scalar_dual(const Dual<Var>& s) {
  const Var& t = s.tangent();
  if (t.is_constant() && t.value() == 0.0) return TensorDual(tensor(s.value()));
  return TensorDual(tensor(s.value()), tensor(t));
}

}  // namespace

// ---- TensorDual ----

TensorDual::TensorDual(const TensorVar& value, const TensorVar& tangent)
    : value_(value), tangent_(tangent), has_tangent_(true) {
  if (!(value.shape() == tangent.shape())) {
    detail::fail("nabla::TensorDual",
                 fmt::format("the tangent has shape {} and the value {} "
                             "(expected equal shapes)",
                             to_string(tangent.shape()), to_string(value.shape())));
  }
}

TensorVar TensorDual::tangent() const { return has_tangent_ ? tangent_ : zeros(value_.shape()); }

Dual<Var> TensorDual::element(std::span<const std::size_t> index) const {
  const Var v = value_.element(index);
  return Dual<Var>(v, has_tangent_ ? tangent_.element(index) : Var(0.0));
}

Dual<Var> TensorDual::item() const {
  const Var v = value_.item();
  return Dual<Var>(v, has_tangent_ ? tangent_.item() : Var(0.0));
}

TensorDual tensor(std::span<const Dual<Var>> values, const Shape& shape) {
  std::vector<Var> v, t;
  v.reserve(values.size());
  t.reserve(values.size());
  bool moves = false;
  for (const Dual<Var>& x : values) {
    v.push_back(x.value());
    t.push_back(x.tangent());
    moves |= !(x.tangent().is_constant() && x.tangent().value() == 0.0);
  }
  const TensorVar value = tensor(v, shape);  // checks the size first
  return moves ? TensorDual(value, tensor(t, shape)) : TensorDual(value);
}

TensorDual tensor(const Dual<Var>& x) { return scalar_dual(x); }

// ---- Elementwise arithmetic ----

TensorDual operator+(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = a.value() + b.value();
  return make(y, expand(add(tangent_of(a), tangent_of(b)), y.shape()));
}
TensorDual operator-(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = a.value() - b.value();
  const Tangent ta = tangent_of(a), tb = tangent_of(b);
  const Tangent t = ta && tb ? Tangent(*ta - *tb) : tb ? Tangent(-*tb) : ta;
  return make(y, expand(t, y.shape()));
}
TensorDual operator*(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = a.value() * b.value();
  return make(y, add(map(tangent_of(a), [&](const TensorVar& t) { return t * b.value(); }),
                     map(tangent_of(b), [&](const TensorVar& t) { return a.value() * t; })));
}
TensorDual operator/(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = a.value() / b.value();
  const Tangent tb = tangent_of(b);
  const Tangent ta = tangent_of(a);
  // (ȧ − y ⊙ ḃ) / b
  Tangent num = ta;
  if (tb) num = ta ? Tangent(*ta - y * *tb) : Tangent(-(y * *tb));
  return make(y, expand(map(num, [&](const TensorVar& t) { return t / b.value(); }), y.shape()));
}
TensorDual operator-(const TensorDual& a) {
  return make(-a.value(), map(tangent_of(a), [](const TensorVar& t) { return -t; }));
}
TensorDual operator+(const TensorDual& a, double c) { return make(a.value() + c, tangent_of(a)); }
TensorDual operator-(const TensorDual& a, double c) { return make(a.value() - c, tangent_of(a)); }
TensorDual operator*(const TensorDual& a, double c) {
  return make(a.value() * c, map(tangent_of(a), [c](const TensorVar& t) { return t * c; }));
}
TensorDual operator/(const TensorDual& a, double c) {
  return make(a.value() / c, map(tangent_of(a), [c](const TensorVar& t) { return t / c; }));
}
TensorDual operator+(double c, const TensorDual& b) { return make(c + b.value(), tangent_of(b)); }
TensorDual operator-(double c, const TensorDual& b) {
  return make(c - b.value(), map(tangent_of(b), [](const TensorVar& t) { return -t; }));
}
TensorDual operator*(double c, const TensorDual& b) {
  return make(c * b.value(), map(tangent_of(b), [c](const TensorVar& t) { return c * t; }));
}
TensorDual operator/(double c, const TensorDual& b) {
  const TensorVar y = c / b.value();  // ẏ = −(y ⊙ ḃ) / b
  return make(y, map(tangent_of(b), [&](const TensorVar& t) { return -(y * t) / b.value(); }));
}
// A scalar Var is a constant in the direction; its value is checked (and recorded) by the
// TensorVar operation's own mixed form, which also reports a bad tensor operand first.
TensorDual operator+(const TensorDual& a, const Var& s) {
  return make(a.value() + s, tangent_of(a));
}
TensorDual operator-(const TensorDual& a, const Var& s) {
  return make(a.value() - s, tangent_of(a));
}
TensorDual operator*(const TensorDual& a, const Var& s) {
  return make(a.value() * s, map(tangent_of(a), [&](const TensorVar& t) { return t * s; }));
}
TensorDual operator/(const TensorDual& a, const Var& s) {
  return make(a.value() / s, map(tangent_of(a), [&](const TensorVar& t) { return t / s; }));
}
TensorDual operator+(const Var& s, const TensorDual& b) {
  return make(s + b.value(), tangent_of(b));
}
TensorDual operator-(const Var& s, const TensorDual& b) {
  return make(s - b.value(), map(tangent_of(b), [](const TensorVar& t) { return -t; }));
}
TensorDual operator*(const Var& s, const TensorDual& b) {
  return make(s * b.value(), map(tangent_of(b), [&](const TensorVar& t) { return s * t; }));
}
TensorDual operator/(const Var& s, const TensorDual& b) {
  const TensorVar y = s / b.value();
  return make(y, map(tangent_of(b), [&](const TensorVar& t) { return -(y * t) / b.value(); }));
}
// A scalar Dual<Var> is a 0-d TensorDual: the broadcasting rules above apply.
TensorDual operator+(const TensorDual& a, const Dual<Var>& s) { return a + scalar_dual(s); }
TensorDual operator-(const TensorDual& a, const Dual<Var>& s) { return a - scalar_dual(s); }
TensorDual operator*(const TensorDual& a, const Dual<Var>& s) { return a * scalar_dual(s); }
TensorDual operator/(const TensorDual& a, const Dual<Var>& s) { return a / scalar_dual(s); }
TensorDual operator+(const Dual<Var>& s, const TensorDual& b) { return scalar_dual(s) + b; }
TensorDual operator-(const Dual<Var>& s, const TensorDual& b) { return scalar_dual(s) - b; }
TensorDual operator*(const Dual<Var>& s, const TensorDual& b) { return scalar_dual(s) * b; }
TensorDual operator/(const Dual<Var>& s, const TensorDual& b) { return scalar_dual(s) / b; }

TensorDual pow(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = pow(a.value(), b.value());  // ẏ = b a^(b−1) ȧ + y ln a ḃ
  return make(
      y, expand(add(map(tangent_of(a),
                        [&](const TensorVar& t) {
                          return b.value() * pow(a.value(), b.value() - 1.0) * t;
                        }),
                    map(tangent_of(b), [&](const TensorVar& t) { return y * log(a.value()) * t; })),
                y.shape()));
}
TensorDual pow(const TensorDual& a, double p) {
  const TensorVar y = pow(a.value(), p);
  if (p == 0) return TensorDual(y);  // the reverse rule's 0 at p = 0 (also where a = 0)
  return make(
      y, map(tangent_of(a), [&](const TensorVar& t) { return p * pow(a.value(), p - 1.0) * t; }));
}
TensorDual neg(const TensorDual& x) { return -x; }
TensorDual exp(const TensorDual& x) {
  const TensorVar y = exp(x.value());
  return make(y, map(tangent_of(x), [&](const TensorVar& t) { return y * t; }));
}
TensorDual log(const TensorDual& x) {
  return make(log(x.value()),
              map(tangent_of(x), [&](const TensorVar& t) { return t / x.value(); }));
}
TensorDual log1p(const TensorDual& x) {
  return make(log1p(x.value()),
              map(tangent_of(x), [&](const TensorVar& t) { return t / (1.0 + x.value()); }));
}
TensorDual sqrt(const TensorDual& x) {
  const TensorVar y = sqrt(x.value());
  return make(y, map(tangent_of(x), [&](const TensorVar& t) { return t / (2.0 * y); }));
}
TensorDual abs(const TensorDual& x) {
  return make(abs(x.value()), map(tangent_of(x), [&](const TensorVar& t) {
                return derivative_mask(x.value(),
                                       [](double v) { return detail::AbsFn::partial(v, v); }) *
                       t;
              }));
}
TensorDual tanh(const TensorDual& x) {
  // 1 − tanh² x = 4σ(2x)σ(−2x): exact in the tails, where 1 − y² rounds to 0.
  return make(tanh(x.value()), map(tangent_of(x), [&](const TensorVar& t) {
                return 4.0 * sigmoid(2.0 * x.value()) * sigmoid(-2.0 * x.value()) * t;
              }));
}
TensorDual sigmoid(const TensorDual& x) {
  const TensorVar y = sigmoid(x.value());
  return make(y,
              map(tangent_of(x), [&](const TensorVar& t) { return y * sigmoid(-x.value()) * t; }));
}
TensorDual relu(const TensorDual& x) {
  return make(relu(x.value()), map(tangent_of(x), [&](const TensorVar& t) {
                return derivative_mask(x.value(),
                                       [](double v) { return detail::ReluFn::partial(v, v); }) *
                       t;
              }));
}
TensorDual softplus(const TensorDual& x) {
  return make(softplus(x.value()),
              map(tangent_of(x), [&](const TensorVar& t) { return sigmoid(x.value()) * t; }));
}
TensorDual clamp(const TensorDual& x, double lo, double hi) {
  const TensorVar y = clamp(x.value(), lo, hi);  // checks lo <= hi
  return make(y, map(tangent_of(x), [&](const TensorVar& t) {
                // the reverse rule's derivative (Clamp::d in tensor_var.cpp): 1 on [lo, hi]
                return derivative_mask(
                           x.value(),
                           [lo, hi](double v) { return v >= lo && v <= hi ? 1.0 : 0.0; }) *
                       t;
              }));
}

// ---- Linear algebra and shape ----

TensorDual matmul(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = matmul(a.value(), b.value());
  return make(y, add(map(tangent_of(a), [&](const TensorVar& t) { return matmul(t, b.value()); }),
                     map(tangent_of(b), [&](const TensorVar& t) { return matmul(a.value(), t); })));
}
TensorDual transpose(const TensorDual& x) {
  return make(transpose(x.value()),
              map(tangent_of(x), [](const TensorVar& t) { return transpose(t); }));
}
TensorDual permute(const TensorDual& x, std::span<const std::size_t> axes) {
  return make(permute(x.value(), axes),
              map(tangent_of(x), [&](const TensorVar& t) { return permute(t, axes); }));
}
TensorDual reshape(const TensorDual& x, const Shape& shape) {
  return make(reshape(x.value(), shape),
              map(tangent_of(x), [&](const TensorVar& t) { return reshape(t, shape); }));
}
TensorDual slice(const TensorDual& x, std::ptrdiff_t axis, std::size_t begin, std::size_t end) {
  return make(slice(x.value(), axis, begin, end),
              map(tangent_of(x), [&](const TensorVar& t) { return slice(t, axis, begin, end); }));
}
TensorDual index_select(const TensorDual& x, std::ptrdiff_t axis,
                        std::span<const std::size_t> indices) {
  return make(index_select(x.value(), axis, indices), map(tangent_of(x), [&](const TensorVar& t) {
                return index_select(t, axis, indices);
              }));
}

namespace {
// xs joined by `join`, their tangents too when any has one (zeros for the missing ones).
template <class Join>
TensorDual join_duals(std::span<const TensorDual> xs, Join&& join) {
  std::vector<TensorVar> values, tangents;
  bool any = false;
  for (const TensorDual& x : xs) {
    values.push_back(x.value());
    any |= x.has_tangent();
  }
  const TensorVar y = join(values);  // checks the shapes first
  if (!any) return TensorDual(y);
  for (const TensorDual& x : xs) tangents.push_back(x.tangent());
  return TensorDual(y, join(tangents));
}
}  // namespace

TensorDual concat(std::span<const TensorDual> xs, std::ptrdiff_t axis) {
  return join_duals(xs, [axis](std::span<const TensorVar> v) { return concat(v, axis); });
}
TensorDual stack(std::span<const TensorDual> xs, std::ptrdiff_t axis) {
  return join_duals(xs, [axis](std::span<const TensorVar> v) { return stack(v, axis); });
}

// ---- Reductions, softmax, losses ----

TensorDual sum(const TensorDual& x, Axes axes, bool keepdims) {
  return make(sum(x.value(), axes, keepdims),
              map(tangent_of(x), [&](const TensorVar& t) { return sum(t, axes, keepdims); }));
}
TensorDual mean(const TensorDual& x, Axes axes, bool keepdims) {
  return make(mean(x.value(), axes, keepdims),
              map(tangent_of(x), [&](const TensorVar& t) { return mean(t, axes, keepdims); }));
}

namespace {
// The tangent of a max or min y of x: ẋ at each element the reverse rule selected.
TensorVar selected_tangent(const TensorVar& y, const TensorVar& t) {
  const std::span<const std::size_t> at = detail::tensor::selected_elements(y);
  const TensorVar flat = reshape(t, Shape{t.size()});
  return reshape(index_select(flat, 0, at), y.shape());
}
}  // namespace

TensorDual max(const TensorDual& x, Axes axes, bool keepdims) {
  const TensorVar y = max(x.value(), axes, keepdims);
  return make(y, map(tangent_of(x), [&](const TensorVar& t) { return selected_tangent(y, t); }));
}
TensorDual min(const TensorDual& x, Axes axes, bool keepdims) {
  const TensorVar y = min(x.value(), axes, keepdims);
  return make(y, map(tangent_of(x), [&](const TensorVar& t) { return selected_tangent(y, t); }));
}

TensorDual log_sum_exp(const TensorDual& x, Axes axes, bool keepdims) {
  const TensorVar y = log_sum_exp(x.value(), axes, keepdims);
  return make(y, map(tangent_of(x), [&](const TensorVar& t) {
                // Σ softmax(x) ⊙ ẋ with softmax(x) = e^(x − y), y with the reduced axes kept
                const Shape& s = x.shape();
                const unsigned mask = axes.mask(s.rank(), "nabla::log_sum_exp");
                std::array<std::size_t, Shape::max_rank> kept{};
                for (std::size_t k = 0; k < s.rank(); ++k) kept[k] = (mask >> k) & 1u ? 1 : s[k];
                const TensorVar yk =
                    reshape(y, Shape(std::span<const std::size_t>(kept.data(), s.rank())));
                return sum(exp(x.value() - yk) * t, axes, keepdims);
              }));
}
TensorDual softmax(const TensorDual& x, std::ptrdiff_t axis) {
  const TensorVar y = softmax(x.value(), axis);
  return make(
      y, map(tangent_of(x), [&](const TensorVar& t) { return y * (t - sum(y * t, axis, true)); }));
}
TensorDual log_softmax(const TensorDual& x, std::ptrdiff_t axis) {
  const TensorVar y = log_softmax(x.value(), axis);
  return make(
      y, map(tangent_of(x), [&](const TensorVar& t) { return t - sum(exp(y) * t, axis, true); }));
}
TensorDual mse(const TensorDual& prediction, const TensorDual& target) {
  const TensorVar y = mse(prediction.value(), target.value());  // checks the shapes
  const std::size_t n = prediction.size();
  const Tangent tp = tangent_of(prediction), tt = tangent_of(target);
  if (n == 0 || (!tp && !tt)) return TensorDual(y);
  const TensorVar d = tp && tt ? *tp - *tt : tp ? *tp : -*tt;
  return TensorDual(
      y, sum((prediction.value() - target.value()) * d) * (2.0 / static_cast<double>(n)));
}
TensorDual cross_entropy(const TensorDual& logits, std::span<const int> labels) {
  const TensorVar y = cross_entropy(logits.value(), labels);  // checks shape and labels
  return make(y, map(tangent_of(logits), [&](const TensorVar& t) {
                const std::size_t rows = logits.shape()[0], classes = logits.shape()[1];
                Tensor onehot(logits.shape());
                for (std::size_t r = 0; r < rows; ++r) {
                  onehot[r * classes + static_cast<std::size_t>(labels[r])] = 1.0;
                }
                return sum((softmax(logits.value(), 1) - constant(onehot)) * t) *
                       (1.0 / static_cast<double>(rows));
              }));
}
TensorDual binary_cross_entropy_with_logits(const TensorDual& logits, TensorView targets) {
  const TensorVar y = binary_cross_entropy_with_logits(logits.value(), targets);  // checks
  const std::size_t n = logits.size();
  if (n == 0) return TensorDual(y);
  return make(y, map(tangent_of(logits), [&](const TensorVar& t) {
                return sum((sigmoid(logits.value()) - constant(targets)) * t) *
                       (1.0 / static_cast<double>(n));
              }));
}

// ---- Helpers ----

namespace detail {

void check_tensor_direction(const char* function, const Shape& x, const Shape& v) {
  if (!(x == v)) {
    fail(function, fmt::format("the direction has shape {} and the point {} (expected equal "
                               "shapes)",
                               to_string(v), to_string(x)));
  }
}

TensorJacobianVectorProduct read_jvp(const TensorDual& y) {
  const Tensor value(y.value().value());
  Tensor tangent(value.shape());
  if (y.has_tangent()) tangent = Tensor(y.tangent().value());
  return {value, tangent};
}

std::vector<std::vector<double>> tangent_gradients(std::span<const TensorVar> xs,
                                                   const TensorDual& y, Position from) {
  if (y.size() != 1) {
    fail("nabla::hessian_vector_product",
         fmt::format("f returned a tensor of shape {} ({} elements; expected one element: "
                     "reduce it with sum or mean first)",
                     to_string(y.shape()), y.size()));
  }
  std::vector<std::vector<double>> out;
  TensorNode* n = y.has_tangent() ? y.tangent().node() : nullptr;
  if (n == nullptr || n->statement < from.statement) {  // f does not depend on the inputs
    for (const TensorVar& x : xs) out.emplace_back(x.size(), 0.0);
    return out;
  }
  TapeAccess::gradient_node(Tape::active(), n->statement, from, xs.size(), [n] {
    if (n->adjoint != nullptr) {
      n->adjoint[0] = 1.0;
      n->written = true;
    }
  });
  for (const TensorVar& x : xs) {
    const TensorView g = nabla::adjoint(x);
    out.emplace_back(g.data(), g.data() + g.size());
  }
  return out;
}

}  // namespace detail

}  // namespace nabla
