// nabla — TensorVar: a tensor recorded on the tape as one node per operation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "nabla/autodiff/no_grad.hpp"
#include "nabla/autodiff/tape.hpp"
#include "nabla/autodiff/tensor.hpp"
#include "nabla/autodiff/var.hpp"

namespace nabla {

namespace detail {
struct TensorAccess;

/// The common part of every tensor node: its value, its adjoint and how to accumulate into it.
class TensorNode : public Node {
 public:
  void reset_adjoint() noexcept override { written = external; }
  /// The adjoint to accumulate into, or null when this node needs no gradient. Sets `assign`
  /// when nothing was written in this sweep yet (the caller may then store instead of add).
  double* take_adjoint(bool& assign) noexcept {
    assign = !written;
    written = true;
    return adjoint;
  }
  /// The adjoint zero-filled on first use in this sweep (for accumulating scattered values).
  double* zeroed_adjoint() noexcept;

  Shape shape;
  double* value = nullptr;    // shape.size() values
  double* adjoint = nullptr;  // null for nodes that need no gradient (constants)
  bool written = false;       // the adjoint holds this sweep's values
  bool external = false;      // a parameter: the adjoint is its gradient buffer, accumulated into
  std::uint32_t statement = 0;
};
}  // namespace detail

/// A tensor whose computation is recorded on the active tape: one node per operation, swept in
/// exact reverse order together with scalar statements (Note [Tensor nodes] in tape.hpp).
///
/// A TensorVar is a small handle (like Var): the tape owns the node, its value and its
/// adjoint, and drops them on rewind()/clear(); using a handle after that throws. Values are
/// read with value(), gradients with nabla::adjoint(t) after a sweep.
///
/// Example:
///   nabla::TensorVar w = nabla::variable(nabla::Tensor({2, 2}, {1, 2, 3, 4}));
///   nabla::TensorVar y = nabla::sum(w * w);   // a 0-d tensor
///   nabla::backward(y);                       // nabla::adjoint(w) is 2w
class TensorVar {
 public:
  /// An empty handle (holds no tensor; most operations reject it).
  TensorVar() = default;

  /// The shape.
  /// @throws nabla::Error when the handle is empty, stale or of another tape.
  [[nodiscard]] const Shape& shape() const { return node()->shape; }
  /// Number of elements.
  [[nodiscard]] std::size_t size() const { return shape().size(); }
  /// Number of dimensions.
  [[nodiscard]] std::size_t rank() const { return shape().rank(); }
  /// The values computed in the forward run.
  [[nodiscard]] TensorView value() const {
    const detail::TensorNode* n = node();
    return {n->value, n->shape};
  }
  /// True when gradients flow to this tensor (it depends on a variable or parameter).
  [[nodiscard]] bool requires_grad() const { return node()->adjoint != nullptr; }
  /// The element at a multi-index as a recorded scalar (one node).
  /// @throws nabla::Error when the index does not fit the shape.
  template <class... I>
  [[nodiscard]] Var operator()(I... i) const {
    const std::size_t idx[] = {static_cast<std::size_t>(i)...};
    return element(std::span<const std::size_t>(idx, sizeof...(I)));
  }
  /// The element at a multi-index as a recorded scalar.
  /// @throws nabla::Error when the index does not fit the shape.
  [[nodiscard]] Var element(std::span<const std::size_t> index) const;
  /// The only element of a one-element tensor as a recorded scalar.
  /// @throws nabla::Error when the tensor has more than one element.
  [[nodiscard]] Var item() const;

  /// The node (for operations and diagnostics), checked against the active tape.
  /// @throws nabla::Error when the handle is empty, stale or of another tape.
  [[nodiscard]] detail::TensorNode* node() const;
  /// The node, checked against `tape` (for functions that take a tape, such as graph::capture).
  /// @throws nabla::Error when the handle is empty, stale or of another tape.
  [[nodiscard]] detail::TensorNode* node(const Tape& tape) const;
  /// The statement index of the node on the active tape (0 for an empty handle).
  /// @throws nabla::Error when the handle is stale or of another tape.
  [[nodiscard]] std::uint32_t index() const;

 private:
  friend struct detail::TensorAccess;
  TensorVar(detail::TensorNode* node, Var handle) noexcept : node_(node), handle_(handle) {}
  detail::TensorNode* node_ = nullptr;
  Var handle_;  // the node's statement (its id, Note [Tape epochs])
};

namespace detail {
struct TensorAccess {
  static TensorVar make(TensorNode* node, Var handle) noexcept { return {node, handle}; }
};
}  // namespace detail

/// Axes of a reduction: one axis, a list, or all (negative axes count from the end).
class Axes {
 public:
  /// All axes.
  Axes() noexcept = default;
  /// One axis.
  Axes(std::ptrdiff_t axis) noexcept : n_(1) { axes_[0] = axis; }  // NOLINT: implicit by design
  /// Several axes.
  Axes(std::initializer_list<std::ptrdiff_t> axes);
  /// All axes (same as Axes{}).
  static Axes all() noexcept { return {}; }
  /// The reduced-axes mask for a tensor of rank r (bit k set: axis k is reduced).
  /// @throws nabla::Error naming `function` for an axis out of range or repeated.
  [[nodiscard]] unsigned mask(std::size_t rank, const char* function) const;

 private:
  std::ptrdiff_t axes_[Shape::max_rank] = {};
  std::size_t n_ = 0;  // 0: all axes
};

// ---- Making tensors on the tape ----

/// A recorded independent tensor (a copy of `values`), whose adjoint is read after a sweep.
TensorVar variable(TensorView values);
/// A recorded constant tensor (a copy of `values`): no gradient flows to it.
TensorVar constant(TensorView values);
/// A tensor of the given shape built from scalars (one node; gradients flow back to them).
/// @throws nabla::Error when the number of values is not shape.size().
TensorVar tensor(std::span<const Var> values, const Shape& shape);
/// A 0-d tensor holding a scalar Var.
TensorVar tensor(const Var& x);

/// Names t in graphs and reports (graph::capture, gradient-flow reports); returns t.
/// @throws nabla::Error when t is empty or stale.
TensorVar label(const TensorVar& t, std::string name);

/// The adjoint of t after a sweep (zeros where none reached it).
/// @throws nabla::Error when t needs no gradient (a constant) or is stale.
TensorView adjoint(const TensorVar& t);
/// Seeds d y / d y = 1 for a one-element tensor y and sweeps the active tape.
/// @throws nabla::Error when y has more than one element or is stale.
void backward(const TensorVar& y);

// ---- Elementwise arithmetic with NumPy broadcasting ----
// Shapes broadcast from the last dimension: each pair of dimensions is equal or one is 1.

/// a + b elementwise, broadcast (nabla::Error naming both shapes if they cannot).
TensorVar operator+(const TensorVar& a, const TensorVar& b);
/// a - b elementwise, broadcast (nabla::Error naming both shapes if they cannot).
TensorVar operator-(const TensorVar& a, const TensorVar& b);
/// a * b elementwise, broadcast (nabla::Error naming both shapes if they cannot).
TensorVar operator*(const TensorVar& a, const TensorVar& b);
/// a / b elementwise, broadcast (nabla::Error naming both shapes if they cannot).
TensorVar operator/(const TensorVar& a, const TensorVar& b);
/// −a elementwise.
TensorVar operator-(const TensorVar& a);
/// a + b elementwise with a number.
TensorVar operator+(const TensorVar& a, double b);
/// a - b elementwise with a number.
TensorVar operator-(const TensorVar& a, double b);
/// a * b elementwise with a number.
TensorVar operator*(const TensorVar& a, double b);
/// a / b elementwise with a number.
TensorVar operator/(const TensorVar& a, double b);
/// a + b elementwise with a number.
TensorVar operator+(double a, const TensorVar& b);
/// a - b elementwise with a number.
TensorVar operator-(double a, const TensorVar& b);
/// a * b elementwise with a number.
TensorVar operator*(double a, const TensorVar& b);
/// a / b elementwise with a number.
TensorVar operator/(double a, const TensorVar& b);
// A scalar Var (or scalar expression) in tensor arithmetic: gradients flow to it too.
/// a + b elementwise with a scalar Var (broadcast; its gradient is summed).
TensorVar operator+(const TensorVar& a, const Var& b);
/// a - b elementwise with a scalar Var (broadcast; its gradient is summed).
TensorVar operator-(const TensorVar& a, const Var& b);
/// a * b elementwise with a scalar Var (broadcast; its gradient is summed).
TensorVar operator*(const TensorVar& a, const Var& b);
/// a / b elementwise with a scalar Var (broadcast; its gradient is summed).
TensorVar operator/(const TensorVar& a, const Var& b);
/// a + b elementwise with a scalar Var (broadcast; its gradient is summed).
TensorVar operator+(const Var& a, const TensorVar& b);
/// a - b elementwise with a scalar Var (broadcast; its gradient is summed).
TensorVar operator-(const Var& a, const TensorVar& b);
/// a * b elementwise with a scalar Var (broadcast; its gradient is summed).
TensorVar operator*(const Var& a, const TensorVar& b);
/// a / b elementwise with a scalar Var (broadcast; its gradient is summed).
TensorVar operator/(const Var& a, const TensorVar& b);

/// aᵇ elementwise with broadcasting (a > 0 where b is not an integer).
TensorVar pow(const TensorVar& a, const TensorVar& b);
/// aᵖ elementwise.
TensorVar pow(const TensorVar& a, double p);
/// −x.
TensorVar neg(const TensorVar& x);
/// eˣ.
TensorVar exp(const TensorVar& x);
/// ln x.
TensorVar log(const TensorVar& x);
/// ln(1 + x).
TensorVar log1p(const TensorVar& x);
/// √x (the derivative is +∞ at 0).
TensorVar sqrt(const TensorVar& x);
/// |x| (derivative 0 at 0, like the scalar abs).
TensorVar abs(const TensorVar& x);
/// tanh x.
TensorVar tanh(const TensorVar& x);
/// 1 / (1 + e⁻ˣ).
TensorVar sigmoid(const TensorVar& x);
/// max(x, 0) (derivative 0 at 0).
TensorVar relu(const TensorVar& x);
/// ln(1 + eˣ), computed without overflow.
TensorVar softplus(const TensorVar& x);
/// x limited to [lo, hi] (derivative 1 inside and at the bounds, 0 outside).
/// @throws nabla::Error when lo > hi.
TensorVar clamp(const TensorVar& x, double lo, double hi);
// The elementwise functions below take value and derivative from the scalar rule table
// (math.hpp; docs/functions.md gives each derivative and its special points).
/// 2ˣ.
TensorVar exp2(const TensorVar& x);
/// eˣ − 1 (accurate near 0).
TensorVar expm1(const TensorVar& x);
/// log₂ x.
TensorVar log2(const TensorVar& x);
/// log₁₀ x.
TensorVar log10(const TensorVar& x);
/// ∛x (the derivative is +∞ at 0).
TensorVar cbrt(const TensorVar& x);
/// sin x.
TensorVar sin(const TensorVar& x);
/// cos x.
TensorVar cos(const TensorVar& x);
/// tan x.
TensorVar tan(const TensorVar& x);
/// asin x (the derivative is +∞ at ±1).
TensorVar asin(const TensorVar& x);
/// acos x (the derivative is −∞ at ±1).
TensorVar acos(const TensorVar& x);
/// atan x.
TensorVar atan(const TensorVar& x);
/// sinh x.
TensorVar sinh(const TensorVar& x);
/// cosh x.
TensorVar cosh(const TensorVar& x);
/// asinh x.
TensorVar asinh(const TensorVar& x);
/// acosh x (the derivative is +∞ at 1).
TensorVar acosh(const TensorVar& x);
/// atanh x (the derivative is +∞ at ±1).
TensorVar atanh(const TensorVar& x);
/// erf x.
TensorVar erf(const TensorVar& x);
/// erfc x = 1 − erf x (accurate where erf x is near 1).
TensorVar erfc(const TensorVar& x);
/// x·Φ(x), Φ the standard normal CDF (the exact GELU, PyTorch's default).
TensorVar gelu(const TensorVar& x);
/// x·σ(x) (SiLU, swish).
TensorVar silu(const TensorVar& x);
/// x for x > 0, else negative_slope·x (derivative negative_slope at 0, as PyTorch).
/// @throws nabla::Error when negative_slope is not finite.
TensorVar leaky_relu(const TensorVar& x, double negative_slope = 0.01);
/// x for x > 0, else α·(eˣ − 1) (derivative α at 0, as PyTorch).
/// @throws nabla::Error when alpha is not finite.
TensorVar elu(const TensorVar& x, double alpha = 1.0);

// ---- Linear algebra and shape ----

/// Matrix product: [M, K] × [K, N] → [M, N]; batched: [..., M, K] × [..., K, N] with equal
/// batch dimensions, or [..., M, K] × [K, N]. Runs on Eigen's GEMM.
/// @throws nabla::Error naming both shapes when they do not fit.
TensorVar matmul(const TensorVar& a, const TensorVar& b);
/// Swaps the last two dimensions (a copy).
/// @throws nabla::Error for rank < 2.
TensorVar transpose(const TensorVar& x);
/// Reorders the dimensions: result dimension k is x's dimension axes[k] (a copy).
/// @throws nabla::Error when axes is not a permutation of 0 … rank − 1.
TensorVar permute(const TensorVar& x, std::span<const std::size_t> axes);
/// The same values with another shape of the same size (no copy of the values).
/// @throws nabla::Error when the sizes differ.
TensorVar reshape(const TensorVar& x, const Shape& shape);
/// Elements begin … end − 1 along one axis.
/// @throws nabla::Error when the range does not fit that dimension.
TensorVar slice(const TensorVar& x, std::ptrdiff_t axis, std::size_t begin, std::size_t end);
/// The entries at `indices` along one axis (row gather for axis 0); indices may repeat.
/// @throws nabla::Error when an index is out of range.
TensorVar index_select(const TensorVar& x, std::ptrdiff_t axis,
                       std::span<const std::size_t> indices);
/// Joins tensors along an existing axis (other dimensions equal).
/// @throws nabla::Error for an empty list or shapes that do not fit.
TensorVar concat(std::span<const TensorVar> xs, std::ptrdiff_t axis = 0);
/// Joins equally shaped tensors along a new axis.
/// @throws nabla::Error for an empty list or different shapes.
TensorVar stack(std::span<const TensorVar> xs, std::ptrdiff_t axis = 0);

// ---- Reductions (keepdims keeps reduced axes as size 1) ----

/// Sum over the given axes (default: all, giving a 0-d tensor).
TensorVar sum(const TensorVar& x, Axes axes = {}, bool keepdims = false);
/// Mean over the given axes.
/// @throws nabla::Error when a reduced axis is empty.
TensorVar mean(const TensorVar& x, Axes axes = {}, bool keepdims = false);
/// Maximum over the given axes; the gradient goes to the first maximal element.
/// @throws nabla::Error when a reduced axis is empty.
TensorVar max(const TensorVar& x, Axes axes = {}, bool keepdims = false);
/// Minimum over the given axes; the gradient goes to the first minimal element.
/// @throws nabla::Error when a reduced axis is empty.
TensorVar min(const TensorVar& x, Axes axes = {}, bool keepdims = false);
/// ln Σ eˣ over the given axes, computed without overflow (−∞ over an empty axis).
TensorVar log_sum_exp(const TensorVar& x, Axes axes = {}, bool keepdims = false);
/// e^(x − log_sum_exp(x)) along one axis; at NaN/±∞ the weights of log_sum_exp's gradient
/// (NaN with a NaN, shared by the +∞ entries, 1/n each when all are −∞).
TensorVar softmax(const TensorVar& x, std::ptrdiff_t axis = -1);
/// x − log_sum_exp(x) along one axis (stable); the log of softmax's weights at NaN/±∞.
TensorVar log_softmax(const TensorVar& x, std::ptrdiff_t axis = -1);

// ---- Losses (each returns a 0-d tensor: the mean over elements or rows) ----

/// Mean of (prediction − target)² over all elements; target may be constant or recorded.
/// @throws nabla::Error when the shapes differ.
TensorVar mse(const TensorVar& prediction, const TensorVar& target);
/// Mean over rows of −log softmax(logits)[label]: logits [N, C], one label in [0, C) per row.
/// Stable for any logits (log-sum-exp with the row maximum).
/// @throws nabla::Error for a shape that is not [N, C], a label count other than N, or a label
/// out of range.
TensorVar cross_entropy(const TensorVar& logits, std::span<const int> labels);
/// Mean of max(x, 0) − x·t + ln(1 + e^−|x|): the stable binary cross-entropy of logits x
/// against targets t in [0, 1] (constants, same shape).
/// @throws nabla::Error when the shapes differ or a target is outside [0, 1].
TensorVar binary_cross_entropy_with_logits(const TensorVar& logits, TensorView targets);

}  // namespace nabla

namespace nabla {

/// A recorded tensor whose value and gradient live in the caller's buffers (no copy): sweeps
/// *add* into `gradient` (zero it between steps). What nn::Parameters hands to operations.
/// @throws nabla::Error when the two views differ in shape.
TensorVar parameter(MutableTensorView value, MutableTensorView gradient);

namespace detail {
/// parameter() whose node holds a share of `owner` (the buffers' owner) until it is dropped.
TensorVar shared_parameter(MutableTensorView value, MutableTensorView gradient,
                           std::shared_ptr<const void> owner);
}  // namespace detail

/// A recorded constant made of the given rows of `data` (rows along its first axis), copied
/// straight into the tape: a mini-batch without an allocation.
/// @throws nabla::Error for rank-0 data or a row out of range.
TensorVar constant_rows(TensorView data, std::span<const std::size_t> rows);

}  // namespace nabla

#include "nabla/autodiff/check.hpp"

namespace nabla {

/// A function of one tensor that returns a scalar: a one-element TensorVar, a Var or a scalar
/// expression.
template <class F>
concept TensorFunction = std::invocable<F&, const TensorVar&>;

namespace detail {
// The gradient of y (a one-element TensorVar, or a Var) with respect to x, the tensor recorded
// at `from`, and y's value: a helper's sweep (Tape::gradient_node), bounded by `from`.
ValueAndGradient tensor_gradient(const TensorVar& x, const TensorVar& y, Position from);
ValueAndGradient tensor_gradient(const TensorVar& x, const Var& y, Position from);
}  // namespace detail

/// The value and gradient of a scalar function of one tensor at x (recorded on the active tape,
/// which is rewound afterwards). The gradient is flat, in x's row-major order.
// X is deduced (and must be Tensor) so that calls with a braced list or a span never look at F.
template <class F, class X>
requires std::same_as<std::remove_cvref_t<X>, Tensor> && TensorFunction<F> ValueAndGradient
value_and_gradient(F&& f, const X& x) {
  const detail::RewindGuard recording;  // rewinds also when f throws
  const TensorVar xv = variable(x);
  using R = std::invoke_result_t<F&, const TensorVar&>;
  if constexpr (std::is_same_v<std::remove_cvref_t<R>, TensorVar>) {
    return detail::tensor_gradient(xv, f(xv), recording.start());
  } else {
    return detail::tensor_gradient(xv, Var(f(xv)), recording.start());
  }
}

/// check_gradient() for a scalar function of one tensor: full finite differences for small x,
/// seeded random directions for large x (CheckOptions::mode and full_limit).
///
/// Example:
///   auto report = nabla::check_gradient(
///       [](const nabla::TensorVar& w) { return nabla::sum(nabla::tanh(w)); }, w0);
template <class F, class X>
requires std::same_as<std::remove_cvref_t<X>, Tensor> && TensorFunction<F> GradientCheck
check_gradient(F&& f, const X& x, CheckOptions options = {}) {
  const ValueAndGradient analytic = value_and_gradient(f, x);
  const Shape shape = x.shape();
  const std::function<double(std::span<const double>)> evaluate =
      [&f, &shape](std::span<const double> p) {
        const detail::RewindGuard recording;  // rewinds also when f throws
        const TensorVar xc = constant(TensorView(p.data(), shape));
        using R = std::invoke_result_t<F&, const TensorVar&>;
        if constexpr (std::is_same_v<std::remove_cvref_t<R>, TensorVar>) {
          return f(xc).item().value();
        } else {
          return Var(f(xc)).value();
        }
      };
  return detail::compare_gradient(x.span(), analytic, evaluate, options);
}

}  // namespace nabla

namespace nabla {
/// Runs f() in inference mode (a NoGrad scope, Note [Inference mode] in no_grad.hpp) and
/// returns its result as plain values, copied before the scope rewinds the tape: a TensorVar as
/// a Tensor, a Var or scalar expression as a double, anything else as f returned it. The tape
/// is left as it was.
///
/// Example:
///   nabla::Tensor logits = nabla::inference([&] { return model(nabla::constant(x)); });
template <class F>
requires std::invocable<F&>
auto inference(F&& f) {
  const NoGrad no_grad;
  using R = std::remove_cvref_t<std::invoke_result_t<F&>>;
  if constexpr (std::same_as<R, TensorVar>) {
    return Tensor(f().value());
  } else if constexpr (Expression<R>) {
    return f().value();
  } else {
    return f();
  }
}

/// A recorded constant that *refers to* the caller's data instead of copying it (for large
/// fixed data such as a design matrix): the data must stay alive and unchanged until the tape
/// is rewound below this node.
TensorVar constant_view(TensorView values);
}  // namespace nabla
