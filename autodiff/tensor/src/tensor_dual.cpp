// Forward mode for tensors: the TensorDual class, custom operations in forward mode and the jvp
// and hessian_vector_product helpers (Note [Tensor forward mode] in tensor_dual.hpp). Each
// operation's JVP rule sits beside its backward rule (tensor_var.cpp, tensor_linalg.cpp,
// tensor_reduce.cpp), with the helpers of tensor_dual_rules.hpp.
#include "nabla/autodiff/tensor_dual.hpp"

#include <fmt/format.h>

#include <vector>

#include "nabla/autodiff/error.hpp"
#include "tensor_dual_rules.hpp"
#include "tensor_nodes.hpp"

namespace nabla {

using detail::TensorNode;
using detail::forward::scalar_dual;
using detail::forward::zeros;

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
