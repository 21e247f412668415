// Forward mode for tensors: the JVP rule of every TensorVar operation, written in TensorVar
// operations so that tangents are recorded and differentiable (Note [Tensor forward mode] in
// tensor_dual.hpp). One function per operation, in the order of tensor_var.hpp.
#include "nabla/autodiff/tensor_dual.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

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

// r with the entries flagged in `fix` replaced by the constants `with` (recorded only when
// something is replaced; the other entries keep their derivatives, the replaced ones have none).
TensorVar replace(const TensorVar& r, const std::vector<char>& fix,
                  const std::vector<double>& with) {
  std::vector<std::size_t> at(r.size());
  std::vector<double> extra;
  for (std::size_t i = 0; i < at.size(); ++i) {
    at[i] = fix[i] != 0 ? r.size() + extra.size() : i;
    if (fix[i] != 0) extra.push_back(with[i]);
  }
  if (extra.empty()) return r;
  const TensorVar parts[] = {reshape(r, Shape{r.size()}),
                             constant(TensorView(extra.data(), Shape{extra.size()}))};
  return reshape(index_select(concat(parts, 0), 0, at), r.shape());
}

// The values of x broadcast to `shape`, row-major.
std::vector<double> broadcast_values(const TensorVar& x, const Shape& shape) {
  const double* xv = x.value().data();
  std::vector<double> out(shape.size());
  detail::tensor::each_row(
      shape, detail::tensor::broadcast_strides(x.shape(), shape),
      detail::tensor::broadcast_strides(shape, shape),
      [&](std::size_t o, std::size_t ix, std::size_t, std::size_t n, std::size_t sx, std::size_t) {
        for (std::size_t i = 0; i < n; ++i) out[o + i] = xv[ix + i * sx];
      });
  return out;
}

// r = t ⊙ p or t / p (t a tangent, p a partial or its inverse, broadcast together) with the
// reverse sweep's convention 0·∞ = 0 (detail::chain: a zero adjoint is never pushed on): where
// t is 0 and r is NaN (p infinite or NaN, or a 0 divisor), r is 0. Elsewhere r as computed, so
// that a tangent that is 0 at this point keeps its derivative (Note [Tensor forward mode]).
TensorVar chained(const TensorVar& t, const TensorVar& r) {
  const std::vector<double> tv = broadcast_values(t, r.shape());
  const double* rv = r.value().data();
  std::vector<char> fix(r.size(), 0);
  bool any = false;
  for (std::size_t i = 0; i < fix.size(); ++i) {
    fix[i] = tv[i] == 0.0 && std::isnan(rv[i]) ? 1 : 0;
    any |= fix[i] != 0;
  }
  return any ? replace(r, fix, std::vector<double>(r.size(), 0.0)) : r;
}

// t ⊙ p by the convention of chained().
TensorVar times(const TensorVar& t, const TensorVar& p) { return chained(t, t * p); }
TensorVar times(const TensorVar& t, const Var& p) { return chained(t, t * p); }
TensorVar times(const TensorVar& t, double p) { return chained(t, t * p); }
// t / q by the convention of chained().
TensorVar over(const TensorVar& t, const TensorVar& q) { return chained(t, t / q); }
TensorVar over(const TensorVar& t, const Var& q) { return chained(t, t / q); }
TensorVar over(const TensorVar& t, double q) { return chained(t, t / q); }

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
  return make(y, add(map(tangent_of(a), [&](const TensorVar& t) { return times(t, b.value()); }),
                     map(tangent_of(b), [&](const TensorVar& t) { return times(t, a.value()); })));
}
TensorDual operator/(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = a.value() / b.value();
  // ȧ / b + ḃ ⊙ (−y / b): the reverse rule's partials, each term 0 where its tangent is
  return make(y,
              expand(add(map(tangent_of(a), [&](const TensorVar& t) { return over(t, b.value()); }),
                         map(tangent_of(b),
                             [&](const TensorVar& t) { return times(t, -(y / b.value())); })),
                     y.shape()));
}
TensorDual operator-(const TensorDual& a) {
  return make(-a.value(), map(tangent_of(a), [](const TensorVar& t) { return -t; }));
}
TensorDual operator+(const TensorDual& a, double c) { return make(a.value() + c, tangent_of(a)); }
TensorDual operator-(const TensorDual& a, double c) { return make(a.value() - c, tangent_of(a)); }
TensorDual operator*(const TensorDual& a, double c) {
  return make(a.value() * c, map(tangent_of(a), [c](const TensorVar& t) { return times(t, c); }));
}
TensorDual operator/(const TensorDual& a, double c) {
  return make(a.value() / c, map(tangent_of(a), [c](const TensorVar& t) { return over(t, c); }));
}
TensorDual operator+(double c, const TensorDual& b) { return make(c + b.value(), tangent_of(b)); }
TensorDual operator-(double c, const TensorDual& b) {
  return make(c - b.value(), map(tangent_of(b), [](const TensorVar& t) { return -t; }));
}
TensorDual operator*(double c, const TensorDual& b) {
  return make(c * b.value(), map(tangent_of(b), [c](const TensorVar& t) { return times(t, c); }));
}
TensorDual operator/(double c, const TensorDual& b) {
  const TensorVar y = c / b.value();  // ẏ = ḃ ⊙ (−y / b)
  return make(y,
              map(tangent_of(b), [&](const TensorVar& t) { return times(t, -(y / b.value())); }));
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
  return make(a.value() * s, map(tangent_of(a), [&](const TensorVar& t) { return times(t, s); }));
}
TensorDual operator/(const TensorDual& a, const Var& s) {
  return make(a.value() / s, map(tangent_of(a), [&](const TensorVar& t) { return over(t, s); }));
}
TensorDual operator+(const Var& s, const TensorDual& b) {
  return make(s + b.value(), tangent_of(b));
}
TensorDual operator-(const Var& s, const TensorDual& b) {
  return make(s - b.value(), map(tangent_of(b), [](const TensorVar& t) { return -t; }));
}
TensorDual operator*(const Var& s, const TensorDual& b) {
  return make(s * b.value(), map(tangent_of(b), [&](const TensorVar& t) { return times(t, s); }));
}
TensorDual operator/(const Var& s, const TensorDual& b) {
  const TensorVar y = s / b.value();
  return make(y,
              map(tangent_of(b), [&](const TensorVar& t) { return times(t, -(y / b.value())); }));
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
  const Tangent ta = tangent_of(a), tb = tangent_of(b);
  if (!ta && !tb) return TensorDual(y);
  // The reverse rule's partials (detail::PowFn): ∂a is 0 where b = 0; ∂b is 0 where a = 0 and
  // b > 0, NaN where a ≤ 0 otherwise.
  const std::vector<double> av = broadcast_values(a.value(), y.shape()),
                            bv = broadcast_values(b.value(), y.shape());
  std::vector<char> fix(y.size());
  std::vector<double> with(y.size(), 0.0);
  Tangent t;
  if (ta) {
    for (std::size_t i = 0; i < fix.size(); ++i) fix[i] = bv[i] == 0.0 ? 1 : 0;
    t = times(*ta, replace(b.value() * pow(a.value(), b.value() - 1.0), fix, with));
  }
  if (tb) {
    for (std::size_t i = 0; i < fix.size(); ++i) {
      fix[i] = av[i] > 0.0 ? 0 : 1;
      with[i] = av[i] == 0.0 && bv[i] > 0.0 ? 0.0 : std::numeric_limits<double>::quiet_NaN();
    }
    t = add(t, times(*tb, replace(y * log(a.value()), fix, with)));
  }
  return make(y, expand(t, y.shape()));
}
TensorDual pow(const TensorDual& a, double p) {
  const TensorVar y = pow(a.value(), p);
  if (p == 0) return TensorDual(y);  // the reverse rule's 0 at p = 0 (also where a = 0)
  return make(y, map(tangent_of(a),
                     [&](const TensorVar& t) { return times(t, p * pow(a.value(), p - 1.0)); }));
}
TensorDual neg(const TensorDual& x) { return -x; }
TensorDual exp(const TensorDual& x) {
  const TensorVar y = exp(x.value());
  return make(y, map(tangent_of(x), [&](const TensorVar& t) { return times(t, y); }));
}
TensorDual log(const TensorDual& x) {
  return make(log(x.value()),
              map(tangent_of(x), [&](const TensorVar& t) { return over(t, x.value()); }));
}
TensorDual log1p(const TensorDual& x) {
  return make(log1p(x.value()),
              map(tangent_of(x), [&](const TensorVar& t) { return over(t, 1.0 + x.value()); }));
}
TensorDual sqrt(const TensorDual& x) {
  const TensorVar y = sqrt(x.value());
  return make(y, map(tangent_of(x), [&](const TensorVar& t) { return over(t, 2.0 * y); }));
}
TensorDual abs(const TensorDual& x) {
  return make(abs(x.value()), map(tangent_of(x), [&](const TensorVar& t) {
                return times(t, derivative_mask(x.value(), [](double v) {
                               return detail::AbsFn::partial(v, v);
                             }));
              }));
}
TensorDual tanh(const TensorDual& x) {
  // 1 − tanh² x = 4σ(2x)σ(−2x): exact in the tails, where 1 − y² rounds to 0.
  return make(tanh(x.value()), map(tangent_of(x), [&](const TensorVar& t) {
                return times(t, 4.0 * sigmoid(2.0 * x.value()) * sigmoid(-2.0 * x.value()));
              }));
}
TensorDual sigmoid(const TensorDual& x) {
  const TensorVar y = sigmoid(x.value());
  return make(
      y, map(tangent_of(x), [&](const TensorVar& t) { return times(t, y * sigmoid(-x.value())); }));
}
TensorDual relu(const TensorDual& x) {
  return make(relu(x.value()), map(tangent_of(x), [&](const TensorVar& t) {
                return times(t, derivative_mask(x.value(), [](double v) {
                               return detail::ReluFn::partial(v, v);
                             }));
              }));
}
TensorDual softplus(const TensorDual& x) {
  return make(softplus(x.value()),
              map(tangent_of(x), [&](const TensorVar& t) { return times(t, sigmoid(x.value())); }));
}
TensorDual clamp(const TensorDual& x, double lo, double hi) {
  const TensorVar y = clamp(x.value(), lo, hi);  // checks lo <= hi
  return make(y, map(tangent_of(x), [&](const TensorVar& t) {
                // the reverse rule's derivative (Clamp::d in tensor_var.cpp): 1 on [lo, hi]
                return times(t, derivative_mask(x.value(), [lo, hi](double v) {
                               return v >= lo && v <= hi ? 1.0 : 0.0;
                             }));
              }));
}

// ---- Linear algebra and shape ----

namespace {
// matmul(t, p) (t_left) or matmul(p, t) by the convention of chained(): a 0 in the tangent
// times an infinite factor adds 0, not NaN. Computed as a matmul; only when that has a NaN, again
// as a sum of chained products over the inner dimension ([…, M, K, 1] ⊙ […, 1, K, N]).
TensorVar chained_matmul(const TensorVar& t, const TensorVar& p, bool t_left) {
  const TensorVar& l = t_left ? t : p;
  const TensorVar& r = t_left ? p : t;
  const TensorVar y = matmul(l, r);
  const TensorView yv = y.value();
  if (std::none_of(yv.data(), yv.data() + yv.size(), [](double v) { return std::isnan(v); }) ||
      l.rank() + 1 > Shape::max_rank) {
    return y;
  }
  std::array<std::size_t, Shape::max_rank> dims{};
  std::copy(l.shape().begin(), l.shape().end(), dims.begin());
  dims[l.rank()] = 1;
  const TensorVar lk = reshape(l, Shape(std::span<const std::size_t>(dims.data(), l.rank() + 1)));
  const std::size_t rr = r.rank();  // […, K, N] as […, 1, K, N]
  std::copy(r.shape().begin(), r.shape().end() - 2, dims.begin());
  dims[rr - 2] = 1;
  dims[rr - 1] = r.shape()[rr - 2];
  dims[rr] = r.shape()[rr - 1];
  const TensorVar rk = reshape(r, Shape(std::span<const std::size_t>(dims.data(), r.rank() + 1)));
  return sum(t_left ? times(lk, rk) : times(rk, lk), Axes(-2));
}
}  // namespace

TensorDual matmul(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = matmul(a.value(), b.value());
  return make(y, add(map(tangent_of(a),
                         [&](const TensorVar& t) { return chained_matmul(t, b.value(), true); }),
                     map(tangent_of(b),
                         [&](const TensorVar& t) { return chained_matmul(t, a.value(), false); })));
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
  return make(
      y, map(tangent_of(x), [&](const TensorVar& t) {
        // Σ softmax(x) ⊙ ẋ with softmax(x) = e^(x − y), y with the reduced axes kept
        const Shape& s = x.shape();
        const unsigned mask = axes.mask(s.rank(), "nabla::log_sum_exp");
        std::array<std::size_t, Shape::max_rank> kept{};
        for (std::size_t k = 0; k < s.rank(); ++k) kept[k] = (mask >> k) & 1u ? 1 : s[k];
        const TensorVar yk = reshape(y, Shape(std::span<const std::size_t>(kept.data(), s.rank())));
        const TensorVar w = exp(x.value() - yk);
        // Where y is ±∞ (x − y is NaN at x = y), the reverse rule's weights
        // (detail::LogSumExp::weight): shared equally by the +∞ entries, 1/n each when
        // every entry is −∞; constants (no derivative) there.
        const std::vector<double> xv = broadcast_values(x.value(), s), yv = broadcast_values(yk, s);
        std::vector<char> fix(s.size(), 0);
        std::vector<double> tie(s.size(), 0.0);
        bool any = false;
        for (std::size_t i = 0; i < s.size(); ++i) {
          fix[i] = !std::isnan(xv[i]) && std::isinf(yv[i]) && xv[i] == yv[i] ? 1 : 0;
          tie[i] = fix[i];
          any |= fix[i] != 0;
        }
        if (!any) return sum(times(t, w), axes, keepdims);
        const TensorVar ones = constant(TensorView(tie.data(), s));
        const std::vector<double> count =
            broadcast_values(sum(ones, axes, true), s);  // the entries at y per group
        for (std::size_t i = 0; i < s.size(); ++i) tie[i] = fix[i] ? 1.0 / count[i] : 0.0;
        return sum(times(t, replace(w, fix, tie)), axes, keepdims);
      }));
}
TensorDual softmax(const TensorDual& x, std::ptrdiff_t axis) {
  const TensorVar y = softmax(x.value(), axis);
  return make(y, map(tangent_of(x), [&](const TensorVar& t) {
                const TensorVar d = t - sum(times(t, y), axis, true);
                return times(d, y);
              }));
}
TensorDual log_softmax(const TensorDual& x, std::ptrdiff_t axis) {
  const TensorVar y = log_softmax(x.value(), axis);
  return make(y, map(tangent_of(x),
                     [&](const TensorVar& t) { return t - sum(times(t, exp(y)), axis, true); }));
}
TensorDual mse(const TensorDual& prediction, const TensorDual& target) {
  const TensorVar y = mse(prediction.value(), target.value());  // checks the shapes
  const std::size_t n = prediction.size();
  const Tangent tp = tangent_of(prediction), tt = tangent_of(target);
  if (n == 0 || (!tp && !tt)) return TensorDual(y);
  const TensorVar d = tp && tt ? *tp - *tt : tp ? *tp : -*tt;
  return TensorDual(
      y, sum(times(d, prediction.value() - target.value())) * (2.0 / static_cast<double>(n)));
}
TensorDual cross_entropy(const TensorDual& logits, std::span<const int> labels) {
  const TensorVar y = cross_entropy(logits.value(), labels);  // checks shape and labels
  return make(y, map(tangent_of(logits), [&](const TensorVar& t) {
                const std::size_t rows = logits.shape()[0], classes = logits.shape()[1];
                Tensor onehot(logits.shape());
                for (std::size_t r = 0; r < rows; ++r) {
                  onehot[r * classes + static_cast<std::size_t>(labels[r])] = 1.0;
                }
                return sum(times(t, softmax(logits.value(), 1) - constant(onehot))) *
                       (1.0 / static_cast<double>(rows));
              }));
}
TensorDual binary_cross_entropy_with_logits(const TensorDual& logits, TensorView targets) {
  const TensorVar y = binary_cross_entropy_with_logits(logits.value(), targets);  // checks
  const std::size_t n = logits.size();
  if (n == 0) return TensorDual(y);
  return make(y, map(tangent_of(logits), [&](const TensorVar& t) {
                return sum(times(t, sigmoid(logits.value()) - constant(targets))) *
                       (1.0 / static_cast<double>(n));
              }));
}

// ---- Custom operations ----

namespace detail {

void check_custom_without_jvp(std::span<const TensorDual> inputs) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].has_tangent()) {
      fail("nabla::custom",
           fmt::format("input {} (shape {}) has a tangent, but the custom operation has no "
                       "forward-mode rule (expected a jvp callback: nabla::custom(inputs, value, "
                       "backward, jvp) with jvp(values, tangents) returning the output's "
                       "tangent in TensorVar operations; or inputs without tangents)",
                       i, to_string(inputs[i].shape())));
    }
  }
}

std::vector<TensorVar> custom_values(std::span<const TensorDual> inputs) {
  std::vector<TensorVar> values;
  values.reserve(inputs.size());
  for (const TensorDual& x : inputs) values.push_back(x.value());
  return values;
}

TensorDual custom_output(const TensorVar& value, const TensorVar& tangent) {
  if (!(tangent.shape() == value.shape())) {
    fail("nabla::custom",
         fmt::format("the jvp callback returned a tangent of shape {} for an output of shape {} "
                     "(expected the output's shape)",
                     to_string(tangent.shape()), to_string(value.shape())));
  }
  return TensorDual(value, tangent);
}

}  // namespace detail

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
