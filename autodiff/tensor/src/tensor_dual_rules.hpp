// Internal: what the forward-mode (JVP) rules use. Each operation's rule sits right after its
// TensorVar function, beside its backward rule (tensor_var.cpp, tensor_linalg.cpp,
// tensor_reduce.cpp); the TensorDual class, custom operations in forward mode and the jvp and
// hessian_vector_product helpers are in tensor_dual.cpp (Note [Tensor forward mode] in
// tensor_dual.hpp). Internal: not installed, not part of the public headers.
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <vector>

#include "nabla/autodiff/tensor_dual.hpp"
#include "tensor_nodes.hpp"

namespace nabla::detail::forward {

// A tangent that may be absent (zero by construction: the rules skip its terms).
using Tangent = std::optional<TensorVar>;

inline Tangent tangent_of(const TensorDual& x) {
  return x.has_tangent() ? Tangent(x.tangent()) : std::nullopt;
}

// value with its tangent (none: a constant in the direction).
inline TensorDual with_tangent(const TensorVar& value, const Tangent& tangent) {
  return tangent ? TensorDual(value, *tangent) : TensorDual(value);
}

// f applied to the tangent when there is one.
template <class F>
Tangent map(const Tangent& t, F&& f) {
  return t ? Tangent(f(*t)) : std::nullopt;
}

// ȧ + ḃ, skipping absent tangents.
inline Tangent add(const Tangent& a, const Tangent& b) {
  if (!a) return b;
  if (!b) return a;
  return *a + *b;
}

// A recorded constant zero tensor.
inline TensorVar zeros(const Shape& shape) { return constant(Tensor(shape)); }

// t broadcast to `shape` (the tangent of a broadcast operand that alone has a tangent).
inline Tangent expand(const Tangent& t, const Shape& shape) {
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
inline TensorVar replace(const TensorVar& r, const std::vector<char>& fix,
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
inline std::vector<double> broadcast_values(const TensorVar& x, const Shape& shape) {
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
inline TensorVar chained(const TensorVar& t, const TensorVar& r) {
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
inline TensorVar times(const TensorVar& t, const TensorVar& p) { return chained(t, t * p); }
inline TensorVar times(const TensorVar& t, const Var& p) { return chained(t, t * p); }
inline TensorVar times(const TensorVar& t, double p) { return chained(t, t * p); }
// t / q by the convention of chained().
inline TensorVar over(const TensorVar& t, const TensorVar& q) { return chained(t, t / q); }
inline TensorVar over(const TensorVar& t, const Var& q) { return chained(t, t / q); }
inline TensorVar over(const TensorVar& t, double q) { return chained(t, t / q); }

// A scalar Dual<Var> as a 0-d TensorDual (without tangent when it is a constant 0).
inline TensorDual scalar_dual(const Dual<Var>& s) {
  const Var& t = s.tangent();
  if (t.is_constant() && t.value() == 0.0) return TensorDual(nabla::tensor(s.value()));
  return TensorDual(nabla::tensor(s.value()), nabla::tensor(t));
}

}  // namespace nabla::detail::forward
