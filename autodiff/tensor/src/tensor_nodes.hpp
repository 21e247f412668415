// Internal: what every tensor operation's source file uses to build nodes.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <new>
#include <string>
#include <utility>

#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/math.hpp"
#include "nabla/autodiff/no_grad.hpp"
#include "nabla/autodiff/tensor_var.hpp"

namespace nabla::detail::tensor {

// ---- Building nodes ----

[[noreturn]] inline void out_of_memory(const std::string& function, std::size_t bytes,
                                       const Shape* shape = nullptr) {
  detail::fail(function,
               fmt::format("out of memory recording {} bytes of tensor data{} "
                           "(expected a result that fits in memory)",
                           bytes,
                           shape != nullptr ? fmt::format(" for shape {}", to_string(*shape))
                                            : std::string()));
}

// `bytes` from the tape's arena; running out is a nabla::Error, not std::bad_alloc (the arena
// is then left as it was).
inline void* allocate_bytes(Tape& tape, std::size_t bytes) {
  try {
    return detail::TapeAccess::arena(tape).allocate(bytes);
  } catch (const std::bad_alloc&) {
    out_of_memory("nabla::Tape", bytes);
  }
}

inline double* allocate(Tape& tape, std::size_t n) {
  return static_cast<double*>(allocate_bytes(tape, n * sizeof(double)));
}

template <class T>
T* allocate_array(Tape& tape, std::size_t n) {
  return static_cast<T*>(allocate_bytes(tape, n * sizeof(T)));
}

// Builds node N in the arena with its value (unless `value` is given: an alias) and, when
// `grad`, its adjoint; records it on the tape. Validate operands before calling: from here on
// nothing may throw until the node is pushed. An operation that allocates arrays for its node
// before calling make() passes the arena mark it took before them (`Made`), so that rewinding
// below the node gives all of it back.
// When memory or the tape runs out, the node is destroyed, the arena goes back to `mark` and a
// nabla::Error names the operation: a failed operation records nothing.
// Inside a NoGrad scope every node is a constant (Note [Inference mode] in no_grad.hpp).
template <class N, class... A>
std::pair<N*, TensorVar> make_from(detail::Arena::Mark mark, Tape& tape, const Shape& shape,
                                   bool grad, double* value, A&&... args) {
  grad = grad && grad_enabled();
  N* node = nullptr;
  try {
    node = new (detail::TapeAccess::arena(tape).allocate(sizeof(N))) N(std::forward<A>(args)...);
    node->shape = shape;
    node->value = value != nullptr ? value
                                   : static_cast<double*>(detail::TapeAccess::arena(tape).allocate(
                                         shape.size() * sizeof(double)));
    node->adjoint = grad ? static_cast<double*>(detail::TapeAccess::arena(tape).allocate(
                               shape.size() * sizeof(double)))
                         : nullptr;
  } catch (const std::bad_alloc&) {
    const std::string op = node != nullptr ? std::string(node->name()) : std::string("Tape");
    if (node != nullptr) node->~N();
    detail::TapeAccess::arena(tape).reset(mark);
    out_of_memory("nabla::" + op, shape.size() * sizeof(double), &shape);
  }
  Var handle;
  try {
    handle = detail::TapeAccess::push_node(tape, node, mark);
  } catch (...) {  // the tape is full or out of memory: the node is not the tape's
    node->~N();
    detail::TapeAccess::arena(tape).reset(mark);
    throw;
  }
  node->statement = tape.position().statement - 1;
  return {node, detail::TensorAccess::make(node, handle)};
}

template <class N, class... A>
std::pair<N*, TensorVar> make(Tape& tape, const Shape& shape, bool grad, double* value,
                              A&&... args) {
  return make_from<N>(detail::TapeAccess::arena(tape).mark(), tape, shape, grad, value,
                      std::forward<A>(args)...);
}

// True when the node needs a gradient (at recording).
inline bool needs(const TensorNode* n) { return n->adjoint != nullptr; }

// True when a sweep pushes into node n: it needs a gradient, it is not below the sweep's floor
// (a gradient helper's own recording), and it is not a parameter in a helper's sweep.
inline bool pushes(const TensorNode* n, const Sweep& sweep) {
  return n->adjoint != nullptr && n->statement >= sweep.floor && !(n->external && sweep.consume);
}

// The adjoint of `in` plus g · d (elementwise over equal shapes): stores on the first write.
template <class D>
void accumulate(TensorNode* in, std::size_t n, D d) {
  bool assign = false;
  double* ga = in->take_adjoint(assign);
  if (assign) {
    for (std::size_t i = 0; i < n; ++i) ga[i] = d(i);
  } else {
    for (std::size_t i = 0; i < n; ++i) ga[i] += d(i);
  }
}

inline std::size_t normalise_axis(std::ptrdiff_t axis, std::size_t rank, const char* function) {
  const auto r = static_cast<std::ptrdiff_t>(rank);
  if (axis < -r || axis >= r) {
    detail::fail(function, fmt::format("axis {} is out of range for a tensor of rank {} "
                                       "(expected -{} <= axis < {})",
                                       axis, rank, r, r));
  }
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

// ---- Broadcasting ----

using Strides = std::array<std::size_t, Shape::max_rank>;

inline Shape broadcast_shape(const Shape& a, const Shape& b, const char* function) {
  const std::size_t r = std::max(a.rank(), b.rank());
  std::array<std::size_t, Shape::max_rank> dims{};
  for (std::size_t k = 0; k < r; ++k) {
    const std::size_t da = k < r - a.rank() ? 1 : a[k - (r - a.rank())];
    const std::size_t db = k < r - b.rank() ? 1 : b[k - (r - b.rank())];
    if (da != db && da != 1 && db != 1) {
      detail::fail(function, fmt::format("shapes {} and {} do not broadcast (dimension {} of "
                                         "the result: {} vs {}; expected equal sizes or 1)",
                                         to_string(a), to_string(b), k, da, db));
    }
    dims[k] = da == 1 ? db : da;
  }
  return Shape(std::span<const std::size_t>(dims.data(), r));
}

// Strides of `in` (row-major) indexed by the dimensions of `out` it broadcasts to: 0 along
// dimensions where `in` has size 1 or does not exist.
inline Strides broadcast_strides(const Shape& in, const Shape& out) {
  Strides st{};
  std::size_t stride = 1;
  const std::size_t shift = out.rank() - in.rank();
  for (std::size_t k = in.rank(); k-- > 0;) {
    st[k + shift] = in[k] == 1 ? 0 : stride;
    stride *= in[k];
  }
  return st;
}

// Calls f(o, ia, ib, n, sa, sb) for each row of `out` (its last dimension): elements o … o+n−1
// of the output, a at ia + i·sa and b at ib + i·sb.
template <class F>
void each_row(const Shape& out, const Strides& sa, const Strides& sb, F&& f) {
  const std::size_t r = out.rank();
  const std::size_t total = out.size();
  if (total == 0) return;
  if (r == 0) {
    f(std::size_t{0}, std::size_t{0}, std::size_t{0}, std::size_t{1}, std::size_t{0},
      std::size_t{0});
    return;
  }
  const std::size_t n = out[r - 1];
  std::array<std::size_t, Shape::max_rank> idx{};
  std::size_t ia = 0, ib = 0;
  for (std::size_t o = 0; o < total; o += n) {
    f(o, ia, ib, n, sa[r - 1], sb[r - 1]);
    for (std::size_t k = r - 1; k-- > 0;) {
      ++idx[k];
      ia += sa[k];
      ib += sb[k];
      if (idx[k] < out[k]) break;
      ia -= sa[k] * out[k];
      ib -= sb[k] * out[k];
      idx[k] = 0;
    }
  }
}

// ---- Shared between operations ----

/// The flat index in x of the element each output of y = max(x, …) or min(x, …) took (the one
/// the reverse rule sends the gradient to; tensor_reduce.cpp): the forward-mode rule reads it.
/// @throws nabla::Error when y is not the result of max or min.
std::span<const std::size_t> selected_elements(const TensorVar& y);

}  // namespace nabla::detail::tensor
