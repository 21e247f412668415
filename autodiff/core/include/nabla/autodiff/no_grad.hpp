// nabla — inference mode: NoGrad, a scope in which operations compute values and keep nothing
// to differentiate (Note [Inference mode]).
#pragma once

#include "nabla/autodiff/tape.hpp"

namespace nabla {

// Note [Inference mode]
// A model runs without recording inside a NoGrad scope (PyTorch's torch.no_grad()). The state
// is per thread, like the active tape. Inside it:
// - every tensor operation makes a constant: no adjoint array, nothing a sweep would visit
//   (nabla::variable and nn parameters too), so a forward pass needs about half the memory;
// - scalar operations on constants record nothing (as always); scalar operations on variables
//   recorded before the scope are recorded as usual;
// - a sweep (backward, Tape::reverse, the gradient helpers, hessian_vector_product) throws a
//   nabla::Error: inside the scope nothing is recorded that it could differentiate;
// - when the scope ends, the tape that was active when it began is rewound to where it was:
//   what the scope recorded (the values of its tensors) is dropped, so a loop of forward
//   passes keeps the tape's memory flat. Copy results out before the scope ends
//   (Tensor(y.value()), v.value(), or nabla::inference(f), which does it).
// Scopes nest (each rewinds to its own start); an exception leaving a scope ends it as well.

namespace detail {
/// The number of NoGrad scopes open on this thread.
inline constinit thread_local int no_grad_depth = 0;
/// Throws the nabla::Error of a sweep (named `function`) inside a NoGrad scope.
[[noreturn]] void no_grad_error(const char* function);
/// Throws unless gradients are enabled on this thread (no NoGrad scope is open).
inline void require_grad(const char* function) {
  if (no_grad_depth > 0) [[unlikely]]
    no_grad_error(function);
}
}  // namespace detail

/// True unless a NoGrad scope is open on this thread.
[[nodiscard]] inline bool grad_enabled() noexcept { return detail::no_grad_depth == 0; }

/// Inference mode until this object is destroyed (Note [Inference mode]): operations compute
/// values and record nothing to differentiate, a sweep inside throws a nabla::Error, and at the
/// end the active tape is rewound to where it was when the scope began, dropping what the
/// scope recorded (copy results out first).
///
/// Example:
///   nabla::Tensor logits;
///   {
///     nabla::NoGrad no_grad;
///     logits = nabla::Tensor(model(nabla::constant(x)).value());
///   }  // the tape is back where it was
class NoGrad {
 public:
  /// Opens the scope on the active tape of this thread.
  NoGrad() noexcept;
  /// Ends the scope: rewinds the tape to where it was when the scope began.
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  Tape* tape_;
  Position start_;
};

}  // namespace nabla
