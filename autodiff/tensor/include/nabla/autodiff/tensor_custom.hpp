// nabla — a user's own tensor operation: its value and a backward callback, one node.
#pragma once

#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "nabla/autodiff/custom.hpp"
#include "nabla/autodiff/tensor.hpp"
#include "nabla/autodiff/tensor_var.hpp"

namespace nabla {

namespace detail {
class CustomNode;
}

/// What the backward callback of a custom tensor operation gets (nabla::custom with tensors):
/// the output's value and adjoint dL/dy, the inputs' values, and their adjoints dL/dxᵢ to add
/// the callback's contributions to. Valid only during the callback.
///
/// An input may need no gradient in a sweep: a constant, a parameter during a gradient helper's
/// sweep, or a tensor recorded before the helper's own inputs. needs_gradient(i) says so;
/// add_to_input_adjoint skips such inputs, input_adjoint throws for them.
class CustomBackward {
 public:
  CustomBackward(const CustomBackward&) = delete;
  CustomBackward& operator=(const CustomBackward&) = delete;

  /// The number of inputs (as given to nabla::custom).
  [[nodiscard]] std::size_t input_count() const noexcept;
  /// The output's value y (what nabla::custom was given).
  [[nodiscard]] TensorView output_value() const noexcept;
  /// dL/dy: the output's adjoint in this sweep (y's shape).
  [[nodiscard]] TensorView output_adjoint() const noexcept;
  /// The value of input i.
  /// @throws nabla::Error when i is not below input_count().
  [[nodiscard]] TensorView input_value(std::size_t i) const;
  /// True when this sweep wants dL/dxᵢ (a recorded input it is allowed to write).
  /// @throws nabla::Error when i is not below input_count().
  [[nodiscard]] bool needs_gradient(std::size_t i) const;
  /// dL/dxᵢ as accumulated so far in this sweep (zeros on first use): add into it, do not
  /// overwrite it — other operations that use xᵢ add theirs too. An input given twice hands
  /// out the same array both times.
  /// @throws nabla::Error when i is not below input_count() or input i needs no gradient.
  [[nodiscard]] MutableTensorView input_adjoint(std::size_t i) const;
  /// dL/dxᵢ += g (g has input i's shape); does nothing when input i needs no gradient. The
  /// first contribution an adjoint gets in a sweep is stored without a zeroing pass.
  /// @throws nabla::Error when i is not below input_count() or g's shape is not input i's.
  void add_to_input_adjoint(std::size_t i, TensorView g) const;

 private:
  friend class detail::CustomNode;
  CustomBackward(const detail::CustomNode& node, const detail::Sweep& sweep) noexcept
      : node_(node), sweep_(sweep) {}
  [[nodiscard]] detail::TensorNode* input(std::size_t i, const char* function) const;
  const detail::CustomNode& node_;
  const detail::Sweep& sweep_;
};

/// A backward callback of nabla::custom: called as `backward(b)` with a CustomBackward b.
template <class F>
concept CustomBackwardFunction = std::invocable < std::decay_t<F>
&, const CustomBackward& > &&std::constructible_from<std::decay_t<F>, F>;

namespace detail {
/// A type-erased callable built in the tape's arena (the node destroys it).
struct CustomCallable {
  void* object = nullptr;
  void (*invoke)(void*, const CustomBackward&) = nullptr;
  void (*destroy)(void*) noexcept = nullptr;
};

/// Records one custom node in steps, so that the header-only part (moving the user's callable
/// into the arena) sits between validation and the push: the constructor validates the inputs
/// and the value and takes the arena mark; finish() pushes the node. Destroyed unfinished (the
/// callable's constructor threw), it destroys what it built and gives the arena memory back.
class CustomRecording {
 public:
  /// Validates inputs and value (nothing is allocated yet).
  /// @throws nabla::Error for an empty, stale or foreign input, or a value without data.
  CustomRecording(std::span<const TensorVar> inputs, TensorView value);
  ~CustomRecording();
  CustomRecording(const CustomRecording&) = delete;
  CustomRecording& operator=(const CustomRecording&) = delete;
  /// True when some input needs a gradient (otherwise the result is a constant and no
  /// callback is kept).
  [[nodiscard]] bool needs_gradient() const noexcept { return grad_; }
  /// Arena memory (64-byte aligned) for the callable.
  void* allocate(std::size_t bytes);
  /// Takes ownership of the callable built in allocate()'s memory.
  void adopt(CustomCallable callable) noexcept { callable_ = callable; }
  /// Builds and records the node (the value is copied onto the tape).
  TensorVar finish();

 private:
  Tape& tape_;
  detail::Arena::Mark mark_;
  std::span<const TensorVar> inputs_;
  TensorView value_;
  CustomCallable callable_;
  bool grad_ = false;
  bool finished_ = false;
};
}  // namespace detail

/// Records a user-defined tensor operation y = f(x₁, …, xₖ) as *one* node, whatever its size:
/// the caller computes the value y, and `backward` — called in the reverse sweep — adds
/// dL/dxᵢ for the inputs from dL/dy (a vector-Jacobian product, like PyTorch's
/// autograd.Function.backward or JAX's custom_vjp). The peer of the scalar nabla::custom.
///
/// - `value` is copied onto the tape (it may view a buffer the caller reuses); its shape is
///   y's shape. A scalar input goes in as nabla::tensor(v), a 0-d tensor.
/// - `backward` (any callable taking `const CustomBackward&`) is moved into the tape's arena
///   and destroyed when the tape is rewound below the node (or cleared, or destroyed): state
///   it captures lives exactly as long as the recording. It is called at most once per sweep,
///   only when dL/dy reached the node and some input needs a gradient.
/// - With no input that needs a gradient (constants only, or an empty list) the result is a
///   constant and `backward` is not kept.
/// - While `backward` runs, the active tape is a scratch tape: it may use nabla (even record and
///   sweep; that recording is discarded afterwards), but not the handles of the tape being swept
///   — read values through the CustomBackward.
/// - When `backward` throws, the exception leaves the sweep (backward(), value_and_gradient(),
///   ...): the recording stays intact and usable, the gradients of that sweep are incomplete
///   (do not read them; parameters' gradient buffers may hold part of them: zero them before
///   retrying), and the gradient helpers' later calls are unaffected.
///
/// @throws nabla::Error for an empty, stale or foreign input handle, or a value without data.
///
/// Example (y = softplus(x) = ln(1 + eˣ), dy/dx = σ(x)):
///   nabla::Tensor y(x.shape());
///   for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::log1p(std::exp(x.value()[i]));
///   nabla::TensorVar s = nabla::custom({x}, y, [](const nabla::CustomBackward& b) {
///     nabla::MutableTensorView gx = b.input_adjoint(0);
///     for (std::size_t i = 0; i < gx.size(); ++i)
///       gx[i] += b.output_adjoint()[i] / (1 + std::exp(-b.input_value(0)[i]));
///   });
template <class F>
requires CustomBackwardFunction<F> TensorVar custom(std::span<const TensorVar> inputs,
                                                    TensorView value, F&& backward) {
  using Fn = std::decay_t<F>;
  static_assert(alignof(Fn) <= 64,
                "nabla::custom: the backward callable needs an alignment "
                "of at most 64 bytes (the tape's arena alignment)");
  detail::CustomRecording recording(inputs, value);
  if (recording.needs_gradient()) {
    Fn* f = ::new (recording.allocate(sizeof(Fn))) Fn(std::forward<F>(backward));
    recording.adopt({f, [](void* p, const CustomBackward& b) { (*static_cast<Fn*>(p))(b); },
                     [](void* p) noexcept { static_cast<Fn*>(p)->~Fn(); }});
  }
  return recording.finish();
}

/// nabla::custom with a braced list of inputs: `custom({x, w}, value, backward)`.
template <class F>
requires CustomBackwardFunction<F> TensorVar custom(std::initializer_list<TensorVar> inputs,
                                                    TensorView value, F&& backward) {
  return custom(std::span<const TensorVar>(inputs.begin(), inputs.size()), value,
                std::forward<F>(backward));
}

}  // namespace nabla
