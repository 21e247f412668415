// nabla — forward mode for tensors: TensorDual (a recorded value and a recorded tangent), the
// forward-mode (JVP) rule of every TensorVar operation, and the tensor jvp and
// hessian_vector_product helpers (reverse over forward, Note [Tensor forward mode]).
#pragma once

#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/autodiff/dual.hpp"
#include "nabla/autodiff/forward.hpp"
#include "nabla/autodiff/tensor_custom.hpp"
#include "nabla/autodiff/tensor_var.hpp"

namespace nabla {

// Note [Tensor forward mode]
// A TensorDual is a TensorVar value with a TensorVar tangent: the directional derivative of the
// value along a direction v of the inputs. Each operation computes its value with the TensorVar
// operation and its tangent with its JVP rule written in TensorVar operations (matmul:
// ȦB + AḂ, exp: y ⊙ ẋ, ...; each right after its operation's TensorVar function, beside its
// backward rule in tensor_var.cpp, tensor_linalg.cpp or tensor_reduce.cpp), so the
// tangent is itself recorded on the tape and can be differentiated. A Hessian-vector product is
// then one forward run on TensorDual{x, v} and one reverse sweep of the tangent of the loss
// (vᵀ∇f(x)) with respect to x: H·v exactly, for about three gradients' work (Pearlmutter).
// A missing tangent means a zero one (a constant in the direction): constants cost nothing and
// the rules skip their terms. A tangent that is 0 where a partial is infinite or NaN gives 0, as
// in the reverse sweep (0·∞ = 0, detail::chain): the rules multiply by a partial through
// chained() (tensor_dual_rules.hpp), which puts a constant 0 where the tangent is 0 and the product
// NaN, and reads the reverse rules' special points (pow, log_sum_exp at ±∞) from the values.
// A custom operation (nabla::custom) has a forward rule only when the caller gives one (a jvp
// callback in TensorVar operations); without it, an input with a tangent is an error. Scalars mix
// in as double, Var (constants in the direction) and Dual<Var> (a scalar value with its tangent),
// and item()/element() give a Dual<Var>, so a loss may mix tensor and scalar code. Why not
// Dual<TensorVar>: Dual's rules evaluate scalar rows of the rule table and build constants from
// doubles, while a tensor has a shape and operations (matmul, reductions, softmax) that have no
// scalar row.

/// A forward-mode tensor: a recorded value and its recorded tangent (zero when absent), the
/// derivative of the value along one direction of the inputs.
///
/// Example:
///   auto hv = nabla::hessian_vector_product(
///       [](const nabla::TensorDual& w) { return nabla::sum(nabla::tanh(w) * w); }, w0, v);
class TensorDual {
 public:
  /// An empty value (holds no tensor).
  TensorDual() = default;
  /// A constant in the direction: the tangent is zero.
  TensorDual(const TensorVar& value) : value_(value) {}  // NOLINT: implicit by design
  /// A value with its tangent.
  /// @throws nabla::Error when the shapes differ.
  TensorDual(const TensorVar& value, const TensorVar& tangent);

  /// The value.
  [[nodiscard]] const TensorVar& value() const noexcept { return value_; }
  /// The tangent (a recorded zero tensor of the value's shape when there is none).
  [[nodiscard]] TensorVar tangent() const;
  /// False when the tangent is zero by construction (a constant in the direction).
  [[nodiscard]] bool has_tangent() const noexcept { return has_tangent_; }
  /// The shape.
  [[nodiscard]] const Shape& shape() const { return value_.shape(); }
  /// Number of elements.
  [[nodiscard]] std::size_t size() const { return value_.size(); }
  /// Number of dimensions.
  [[nodiscard]] std::size_t rank() const { return value_.rank(); }

  /// The element at a multi-index as a scalar Dual<Var> (value and tangent recorded).
  /// @throws nabla::Error when the index does not fit the shape.
  template <class... I>
  [[nodiscard]] Dual<Var> operator()(I... i) const {
    const std::size_t idx[] = {static_cast<std::size_t>(i)...};
    return element(std::span<const std::size_t>(idx, sizeof...(I)));
  }
  /// The element at a multi-index as a scalar Dual<Var>.
  /// @throws nabla::Error when the index does not fit the shape.
  [[nodiscard]] Dual<Var> element(std::span<const std::size_t> index) const;
  /// The only element of a one-element tensor as a scalar Dual<Var>.
  /// @throws nabla::Error when the tensor has more than one element.
  [[nodiscard]] Dual<Var> item() const;

 private:
  TensorVar value_;
  TensorVar tangent_;
  bool has_tangent_ = false;
};

/// A tensor of the given shape built from scalar Duals (gradients flow back to them).
/// @throws nabla::Error when the number of values is not shape.size().
TensorDual tensor(std::span<const Dual<Var>> values, const Shape& shape);
/// A 0-d tensor holding a scalar Dual<Var>.
TensorDual tensor(const Dual<Var>& x);

// ---- Elementwise arithmetic with NumPy broadcasting (the TensorVar operations' rules) ----
// A TensorVar converts to a TensorDual with a zero tangent, so mixed calls work.

/// a + b (tangent ȧ + ḃ, broadcast).
TensorDual operator+(const TensorDual& a, const TensorDual& b);
/// a − b (tangent ȧ − ḃ, broadcast).
TensorDual operator-(const TensorDual& a, const TensorDual& b);
/// a ⊙ b (tangent ȧ ⊙ b + a ⊙ ḃ, broadcast).
TensorDual operator*(const TensorDual& a, const TensorDual& b);
/// a / b (tangent (ȧ − y ⊙ ḃ) / b, broadcast).
TensorDual operator/(const TensorDual& a, const TensorDual& b);
/// −a.
TensorDual operator-(const TensorDual& a);
/// a + c.
TensorDual operator+(const TensorDual& a, double c);
/// a − c.
TensorDual operator-(const TensorDual& a, double c);
/// a · c.
TensorDual operator*(const TensorDual& a, double c);
/// a / c.
TensorDual operator/(const TensorDual& a, double c);
/// c + b.
TensorDual operator+(double c, const TensorDual& b);
/// c − b.
TensorDual operator-(double c, const TensorDual& b);
/// c · b.
TensorDual operator*(double c, const TensorDual& b);
/// c / b (tangent −y ⊙ ḃ / b).
TensorDual operator/(double c, const TensorDual& b);
/// a + s with a scalar Var (constant in the direction; its gradient flows).
TensorDual operator+(const TensorDual& a, const Var& s);
/// a − s with a scalar Var.
TensorDual operator-(const TensorDual& a, const Var& s);
/// a · s with a scalar Var.
TensorDual operator*(const TensorDual& a, const Var& s);
/// a / s with a scalar Var.
TensorDual operator/(const TensorDual& a, const Var& s);
/// s + b with a scalar Var.
TensorDual operator+(const Var& s, const TensorDual& b);
/// s − b with a scalar Var.
TensorDual operator-(const Var& s, const TensorDual& b);
/// s · b with a scalar Var.
TensorDual operator*(const Var& s, const TensorDual& b);
/// s / b with a scalar Var.
TensorDual operator/(const Var& s, const TensorDual& b);
/// a + s with a scalar Dual<Var> (value and tangent broadcast).
TensorDual operator+(const TensorDual& a, const Dual<Var>& s);
/// a − s with a scalar Dual<Var>.
TensorDual operator-(const TensorDual& a, const Dual<Var>& s);
/// a · s with a scalar Dual<Var>.
TensorDual operator*(const TensorDual& a, const Dual<Var>& s);
/// a / s with a scalar Dual<Var>.
TensorDual operator/(const TensorDual& a, const Dual<Var>& s);
/// s + b with a scalar Dual<Var>.
TensorDual operator+(const Dual<Var>& s, const TensorDual& b);
/// s − b with a scalar Dual<Var>.
TensorDual operator-(const Dual<Var>& s, const TensorDual& b);
/// s · b with a scalar Dual<Var>.
TensorDual operator*(const Dual<Var>& s, const TensorDual& b);
/// s / b with a scalar Dual<Var>.
TensorDual operator/(const Dual<Var>& s, const TensorDual& b);

/// aᵇ elementwise, broadcast (tangent b·a^(b−1)·ȧ + y·ln a·ḃ).
TensorDual pow(const TensorDual& a, const TensorDual& b);
/// aᵖ (tangent p·a^(p−1)·ȧ; zero for p = 0).
TensorDual pow(const TensorDual& a, double p);
/// −x.
TensorDual neg(const TensorDual& x);
/// eˣ (tangent y ⊙ ẋ).
TensorDual exp(const TensorDual& x);
/// ln x (tangent ẋ / x).
TensorDual log(const TensorDual& x);
/// ln(1 + x) (tangent ẋ / (1 + x)).
TensorDual log1p(const TensorDual& x);
/// √x (tangent ẋ / 2y).
TensorDual sqrt(const TensorDual& x);
/// |x| (tangent sign(x) ⊙ ẋ, 0 at 0 as the reverse rule).
TensorDual abs(const TensorDual& x);
/// tanh x (tangent 4σ(2x)σ(−2x) ⊙ ẋ: exact in the tails).
TensorDual tanh(const TensorDual& x);
/// σ(x) (tangent σ(x)σ(−x) ⊙ ẋ).
TensorDual sigmoid(const TensorDual& x);
/// max(x, 0) (tangent [x > 0] ⊙ ẋ, 0 at 0 as the reverse rule).
TensorDual relu(const TensorDual& x);
/// ln(1 + eˣ) (tangent σ(x) ⊙ ẋ).
TensorDual softplus(const TensorDual& x);
/// x limited to [lo, hi] (tangent [lo ≤ x ≤ hi] ⊙ ẋ, as the reverse rule).
/// @throws nabla::Error when lo > hi.
TensorDual clamp(const TensorDual& x, double lo, double hi);
// The elementwise functions of the scalar rule table: tangent f′(x) ⊙ ẋ, with f′ the row's
// partial (the reverse rule's), itself recorded so that an HVP differentiates it.
/// 2ˣ.
TensorDual exp2(const TensorDual& x);
/// eˣ − 1.
TensorDual expm1(const TensorDual& x);
/// log₂ x.
TensorDual log2(const TensorDual& x);
/// log₁₀ x.
TensorDual log10(const TensorDual& x);
/// ∛x.
TensorDual cbrt(const TensorDual& x);
/// sin x.
TensorDual sin(const TensorDual& x);
/// cos x.
TensorDual cos(const TensorDual& x);
/// tan x.
TensorDual tan(const TensorDual& x);
/// asin x.
TensorDual asin(const TensorDual& x);
/// acos x.
TensorDual acos(const TensorDual& x);
/// atan x.
TensorDual atan(const TensorDual& x);
/// sinh x.
TensorDual sinh(const TensorDual& x);
/// cosh x.
TensorDual cosh(const TensorDual& x);
/// asinh x.
TensorDual asinh(const TensorDual& x);
/// acosh x.
TensorDual acosh(const TensorDual& x);
/// atanh x.
TensorDual atanh(const TensorDual& x);
/// erf x.
TensorDual erf(const TensorDual& x);
/// erfc x.
TensorDual erfc(const TensorDual& x);
/// x·Φ(x) (the exact GELU).
TensorDual gelu(const TensorDual& x);
/// x·σ(x) (SiLU).
TensorDual silu(const TensorDual& x);
/// x for x > 0, else negative_slope·x (tangent: the reverse rule's derivative ⊙ ẋ).
/// @throws nabla::Error when negative_slope is not finite.
TensorDual leaky_relu(const TensorDual& x, double negative_slope = 0.01);
/// x for x > 0, else α·(eˣ − 1).
/// @throws nabla::Error when alpha is not finite.
TensorDual elu(const TensorDual& x, double alpha = 1.0);

// ---- Linear algebra and shape (the tangent takes the same operation, or its product rule) ----

/// Matrix product (tangent ȦB + AḂ).
TensorDual matmul(const TensorDual& a, const TensorDual& b);
/// Swaps the last two dimensions.
TensorDual transpose(const TensorDual& x);
/// Reorders the dimensions.
TensorDual permute(const TensorDual& x, std::span<const std::size_t> axes);
/// Another shape of the same size.
TensorDual reshape(const TensorDual& x, const Shape& shape);
/// Elements begin … end − 1 along one axis.
TensorDual slice(const TensorDual& x, std::ptrdiff_t axis, std::size_t begin, std::size_t end);
/// The entries at `indices` along one axis.
TensorDual index_select(const TensorDual& x, std::ptrdiff_t axis,
                        std::span<const std::size_t> indices);
/// Joins tensors along an existing axis.
TensorDual concat(std::span<const TensorDual> xs, std::ptrdiff_t axis = 0);
/// Joins equally shaped tensors along a new axis.
TensorDual stack(std::span<const TensorDual> xs, std::ptrdiff_t axis = 0);

// ---- Reductions, softmax, losses ----

/// Sum over the given axes (tangent: the sum of ẋ).
TensorDual sum(const TensorDual& x, Axes axes = {}, bool keepdims = false);
/// Mean over the given axes (tangent: the mean of ẋ).
TensorDual mean(const TensorDual& x, Axes axes = {}, bool keepdims = false);
/// Maximum over the given axes (tangent: ẋ at the element the reverse rule selects, the first
/// maximal one).
TensorDual max(const TensorDual& x, Axes axes = {}, bool keepdims = false);
/// Minimum over the given axes (tangent: ẋ at the first minimal element).
TensorDual min(const TensorDual& x, Axes axes = {}, bool keepdims = false);
/// ln Σ eˣ over the given axes (tangent Σ softmax(x) ⊙ ẋ).
TensorDual log_sum_exp(const TensorDual& x, Axes axes = {}, bool keepdims = false);
/// softmax along one axis (tangent y ⊙ (ẋ − Σ y ⊙ ẋ)).
TensorDual softmax(const TensorDual& x, std::ptrdiff_t axis = -1);
/// log_softmax along one axis (tangent ẋ − Σ eʸ ⊙ ẋ).
TensorDual log_softmax(const TensorDual& x, std::ptrdiff_t axis = -1);
/// Mean squared error (tangent 2/n · Σ (p − t) ⊙ (ṗ − ṫ)).
TensorDual mse(const TensorDual& prediction, const TensorDual& target);
/// Softmax cross-entropy over rows (tangent 1/N · Σ (softmax(x) − onehot) ⊙ ẋ).
TensorDual cross_entropy(const TensorDual& logits, std::span<const int> labels);
/// Binary cross-entropy with logits (tangent 1/n · Σ (σ(x) − t) ⊙ ẋ).
TensorDual binary_cross_entropy_with_logits(const TensorDual& logits, TensorView targets);

// ---- Custom operations (nabla::custom, tensor_custom.hpp) in forward mode ----

/// The forward-mode rule of a custom tensor operation: called as `jvp(values, tangents)` with
/// the inputs' values and tangents (one TensorVar each, in the order of the inputs; a recorded
/// zero tensor for an input without tangent), it returns the output's tangent J·ẋ, of the
/// output's shape, written in TensorVar operations (so that it is recorded and can be
/// differentiated: Hessian-vector products).
template <class J>
concept CustomJvpFunction =
    std::invocable<J&, std::span<const TensorVar>, std::span<const TensorVar>> &&
    std::convertible_to<
        std::invoke_result_t<J&, std::span<const TensorVar>, std::span<const TensorVar>>,
        TensorVar>;

namespace detail {
/// Throws a nabla::Error unless no input has a tangent (nabla::custom without a JVP).
void check_custom_without_jvp(std::span<const TensorDual> inputs);
/// The inputs' values.
std::vector<TensorVar> custom_values(std::span<const TensorDual> inputs);
/// The output of a custom operation with the tangent its JVP returned.
/// @throws nabla::Error when the tangent's shape is not the value's.
TensorDual custom_output(const TensorVar& value, const TensorVar& tangent);
}  // namespace detail

/// nabla::custom on TensorDual inputs without a forward-mode rule: the operation is recorded on
/// the inputs' values (as with TensorVars) and its result is a constant in the direction, so
/// it is only allowed when no input has a tangent.
/// @throws nabla::Error when an input has a tangent (give the operation a JVP: the overload
/// with `jvp`), and as nabla::custom.
template <class F>
requires CustomBackwardFunction<F> TensorDual custom(std::span<const TensorDual> inputs,
                                                     TensorView value, F&& backward) {
  detail::check_custom_without_jvp(inputs);
  const std::vector<TensorVar> values = detail::custom_values(inputs);
  return TensorDual(custom(std::span<const TensorVar>(values), value, std::forward<F>(backward)));
}

/// nabla::custom on TensorDual inputs with a braced list and no forward-mode rule. (The element
/// type is deduced, so that `custom({}, value, backward)` stays the TensorVar form.)
/// @throws nabla::Error when an input has a tangent, and as nabla::custom.
template <class F, class D>
requires CustomBackwardFunction<F> && std::same_as<D, TensorDual> TensorDual
custom(std::initializer_list<D> inputs, TensorView value, F&& backward) {
  return custom(std::span<const TensorDual>(inputs.begin(), inputs.size()), value,
                std::forward<F>(backward));
}

/// nabla::custom on TensorDual inputs with a forward-mode rule: the value is recorded with
/// `backward` (as with TensorVars), and when some input has a tangent, `jvp(values, tangents)`
/// gives the output's tangent (CustomJvpFunction). With a JVP in TensorVar operations, the
/// operation works in jvp() and in hessian_vector_product() (whose reverse sweep runs both
/// `backward` and the JVP's recorded operations).
/// @throws nabla::Error when the JVP returns a tangent of another shape than the value, and as
/// nabla::custom.
///
/// Example (y = a ⊙ b, ẏ = ȧ ⊙ b + a ⊙ ḃ):
///   nabla::TensorDual y = nabla::custom({a, b}, value, backward,
///       [](std::span<const nabla::TensorVar> x, std::span<const nabla::TensorVar> dx) {
///         return dx[0] * x[1] + x[0] * dx[1];
///       });
template <class F, class J>
requires CustomBackwardFunction<F> && CustomJvpFunction<J> TensorDual
custom(std::span<const TensorDual> inputs, TensorView value, F&& backward, J&& jvp) {
  const std::vector<TensorVar> values = detail::custom_values(inputs);
  const TensorVar y = custom(std::span<const TensorVar>(values), value, std::forward<F>(backward));
  bool moves = false;
  for (const TensorDual& x : inputs) moves |= x.has_tangent();
  if (!moves) return TensorDual(y);
  std::vector<TensorVar> tangents;
  for (const TensorDual& x : inputs) tangents.push_back(x.tangent());
  return detail::custom_output(
      y, TensorVar(jvp(std::span<const TensorVar>(values), std::span<const TensorVar>(tangents))));
}

/// nabla::custom on TensorDual inputs with a braced list and a forward-mode rule.
/// @throws nabla::Error as the overload with a span.
template <class F, class J>
requires CustomBackwardFunction<F> && CustomJvpFunction<J> TensorDual
custom(std::initializer_list<TensorDual> inputs, TensorView value, F&& backward, J&& jvp) {
  return custom(std::span<const TensorDual>(inputs.begin(), inputs.size()), value,
                std::forward<F>(backward), std::forward<J>(jvp));
}

// ---- Helpers: JVP and Hessian-vector product of functions of one tensor ----

/// A function of one tensor in forward mode: takes a TensorDual and returns a TensorDual, or a
/// scalar (Dual<Var>, or anything that converts to it).
template <class F>
concept TensorDualFunction = std::invocable<F&, const TensorDual&>;

/// f(x) and its directional derivative J(x)·v, both with x's output shape (tensor jvp()).
struct TensorJacobianVectorProduct {
  Tensor value;    ///< f(x)
  Tensor tangent;  ///< J(x)·v, the shape of f(x)
};

namespace detail {
/// Throws a nabla::Error naming `function` unless the direction has x's shape.
void check_tensor_direction(const char* function, const Shape& x, const Shape& v);
/// What a TensorDualFunction returned, as a TensorDual.
template <class R>
TensorDual tensor_dual_output(R&& r) {
  if constexpr (std::same_as<std::remove_cvref_t<R>, TensorDual> ||
                std::same_as<std::remove_cvref_t<R>, TensorVar>) {
    return TensorDual(std::forward<R>(r));
  } else {
    return tensor(Dual<Var>(std::forward<R>(r)));
  }
}
TensorJacobianVectorProduct read_jvp(const TensorDual& y);
/// The gradients, with respect to xs (recorded one after another from `from`), of the tangent
/// of y (one element), each flat.
std::vector<std::vector<double>> tangent_gradients(std::span<const TensorVar> xs,
                                                   const TensorDual& y, Position from);
}  // namespace detail

/// f(x) and J(x)·v of a function of one tensor by one forward run on TensorDual{x, v} (x and
/// v recorded as constants, the tape rewound afterwards).
/// @throws nabla::Error when v and x differ in shape.
///
/// Example:
///   auto r = nabla::jvp([](const nabla::TensorDual& w) { return nabla::softmax(w); }, x, v);
template <class F, class X>
requires std::same_as<std::remove_cvref_t<X>, Tensor> && TensorDualFunction<F>
    TensorJacobianVectorProduct jvp(F&& f, const X& x, const Tensor& v) {
  detail::check_tensor_direction("nabla::jvp", x.shape(), v.shape());
  const detail::RewindGuard recording;  // rewinds also when f throws
  const TensorDual point(constant(x), constant(v));
  return detail::read_jvp(detail::tensor_dual_output(f(point)));
}

/// ∇²f(x)·v of a scalar function of one tensor, exactly, by reverse over forward: f runs once
/// on TensorDual{x, v} (x a variable, v a constant), then one reverse sweep of the tangent of
/// f (vᵀ∇f(x)) gives H·v. f returns a one-element TensorDual or a Dual<Var>. The result is
/// flat, in x's row-major order (as value_and_gradient's gradient).
/// @throws nabla::Error when v and x differ in shape, or f returns more than one element.
///
/// Example:
///   std::vector<double> hv = nabla::hessian_vector_product(
///       [&](const nabla::TensorDual& w) { return nabla::cross_entropy(nabla::matmul(X, w), y); },
///       w0, v);
template <class F, class X>
requires std::same_as<std::remove_cvref_t<X>, Tensor> && TensorDualFunction<F> std::vector<double>
hessian_vector_product(F&& f, const X& x, const Tensor& v) {
  detail::check_tensor_direction("nabla::hessian_vector_product", x.shape(), v.shape());
  const detail::RewindGuard recording;  // rewinds also when f throws
  const TensorVar xv = variable(x);
  const TensorDual point(xv, constant(v));
  const TensorDual y = detail::tensor_dual_output(f(point));
  return std::move(detail::tangent_gradients({&xv, 1}, y, recording.start())[0]);
}

/// hessian_vector_product() of a function of several tensors (the parameters of a model): f
/// takes `std::span<const TensorDual>`, one per parameter in the order of x, and v holds one
/// direction per parameter. Returns H·v split by parameter, each part flat.
/// @throws nabla::Error when v does not have x's count and shapes, or f returns more than one
/// element.
///
/// Example:
///   std::vector<nabla::Tensor> params{W, b}, dirs{dW, db};
///   auto hv = nabla::hessian_vector_product(
///       [&](std::span<const nabla::TensorDual> p) { return nabla::mse(X * p[0] + p[1], y); },
///       params, dirs);                              // hv[0]: the W part, hv[1]: the b part
template <class F, class R>
requires std::ranges::contiguous_range<const R&> &&
    std::same_as<std::ranges::range_value_t<R>, Tensor> &&
    std::invocable<F&, std::span<const TensorDual>>
        std::vector<std::vector<double>> hessian_vector_product(F&& f, const R& x, const R& v) {
  const std::span<const Tensor> xs(x), vs(v);
  detail::check_direction("nabla::hessian_vector_product (one direction per parameter)", xs.size(),
                          vs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    detail::check_tensor_direction("nabla::hessian_vector_product", xs[i].shape(), vs[i].shape());
  }
  const detail::RewindGuard recording;  // rewinds also when f throws
  std::vector<TensorVar> vars;          // one after another: the sweep's inputs
  for (const Tensor& t : xs) vars.push_back(variable(t));
  std::vector<TensorDual> points;
  for (std::size_t i = 0; i < xs.size(); ++i) points.emplace_back(vars[i], constant(vs[i]));
  const TensorDual y = detail::tensor_dual_output(f(std::span<const TensorDual>(points)));
  return detail::tangent_gradients(vars, y, recording.start());
}

}  // namespace nabla
