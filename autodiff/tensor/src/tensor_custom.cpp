// A user's own tensor operation (nabla::custom with tensors): one node holding the inputs, the
// value and a type-erased backward callable, all in the tape's arena.
#include "nabla/autodiff/tensor_custom.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "nabla/autodiff/error.hpp"
#include "tensor_nodes.hpp"

// Note [Custom tensor nodes]
// nabla::custom (tensor_custom.hpp) moves the user's callable into the arena right after the
// recording's mark, then the input array, the node, its value and its adjoint: rewinding below
// the node runs ~CustomNode, which destroys the callable (and what it captured), and gives all
// of it back. The header-only part (placement-new of the callable, whose type only the caller
// knows) runs between CustomRecording's validation and finish(), which pushes the node; if it
// throws, ~CustomRecording destroys what was built and resets the arena to the mark.
//
// The callback is user code inside a sweep, so two things are guarded:
// - Recording. A node pushed onto the tape being swept would invalidate the sweep's walk over
//   the node list. The callback therefore runs with a scratch tape active (one per nesting
//   depth, per thread, kept for reuse and cleared after each call): nabla works inside it, the
//   swept tape's handles throw ("not on the active tape").
// - Exceptions. A throw leaves the sweep half done. A plain sweep (backward) already leaves its
//   adjoints behind, so nothing more is needed; a helper's consuming sweep (Note [Clean
//   adjoints]) has told the tape that every adjoint from its floor up will be zero again, which
//   the statements not yet swept would now contradict — so the node zeroes [floor, end) before
//   the exception goes on. Node adjoints are reset at every sweep's start (the written flags),
//   so they need nothing.

namespace nabla {

using detail::TensorNode;
using namespace detail::tensor;

namespace {

// The scratch tapes of this thread, one per nesting depth of custom callbacks.
struct ScratchPool {
  std::vector<std::unique_ptr<Tape>> tapes;
  std::size_t depth = 0;
};
thread_local ScratchPool scratch_pool;

Tape& acquire_scratch() {
  ScratchPool& pool = scratch_pool;
  if (pool.depth == pool.tapes.size()) pool.tapes.push_back(std::make_unique<Tape>());
  return *pool.tapes[pool.depth++];
}

// Activates a scratch tape for the duration of a callback; clears it afterwards.
class ScratchTape {
 public:
  ScratchTape() : tape_(acquire_scratch()), scope_(tape_) {}
  ~ScratchTape() {
    try {
      tape_.clear();
    } catch (...) {  // cannot fail for the tape's start; nothing of the callback is kept anyway
    }
    --scratch_pool.depth;
  }
  ScratchTape(const ScratchTape&) = delete;
  ScratchTape& operator=(const ScratchTape&) = delete;

 private:
  Tape& tape_;
  Tape::Scope scope_;
};

}  // namespace

namespace detail {

class CustomNode final : public TensorNode {
 public:
  CustomNode(TensorNode** in, std::size_t count, CustomCallable callable, Tape* tape) noexcept
      : in(in), count(count), callable(callable), tape(tape) {}
  ~CustomNode() override {
    if (callable.destroy != nullptr) callable.destroy(callable.object);
  }
  CustomNode(const CustomNode&) = delete;
  CustomNode& operator=(const CustomNode&) = delete;
  std::string_view name() const noexcept override { return "custom"; }
  void inputs(std::vector<std::uint32_t>& out) const override {
    for (std::size_t i = 0; i < count; ++i) out.push_back(in[i]->statement);
  }
  void backward(const Sweep& sweep) override {
    if (!written || callable.invoke == nullptr) return;
    if (std::none_of(in, in + count, [&](const TensorNode* x) { return pushes(x, sweep); })) return;
    const CustomBackward b(*this, sweep);
    try {
      const ScratchTape scratch;
      callable.invoke(callable.object, b);
    } catch (...) {
      // Note [Custom tensor nodes]: keep the consuming sweep's promise of zero adjoints.
      if (sweep.consume)
        std::fill(sweep.adjoint + sweep.floor, sweep.adjoint + tape->position().statement, 0.0);
      throw;
    }
  }

  TensorNode** in;
  std::size_t count;
  CustomCallable callable;
  Tape* tape;  // the tape the node is on (its sweep's adjoint array)
};

CustomRecording::CustomRecording(std::span<const TensorVar> inputs, TensorView value)
    : tape_(Tape::active()), inputs_(inputs), value_(value) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const TensorNode* x = nullptr;
    try {
      x = inputs[i].node(tape_);
    } catch (const Error& e) {
      fail("nabla::custom",
           fmt::format("input {} (of {}) is unusable: {}", i, inputs.size(), e.what()));
    }
    grad_ = grad_ || needs(x);
  }
  if (value.data() == nullptr && value.size() > 0) {
    fail("nabla::custom", fmt::format("the value of shape {} has no data (got an empty view, "
                                      "expected a view of the output's values)",
                                      to_string(value.shape())));
  }
  mark_ = detail::TapeAccess::arena(tape_).mark();
}

CustomRecording::~CustomRecording() {
  if (finished_) return;
  if (callable_.destroy != nullptr) callable_.destroy(callable_.object);
  detail::TapeAccess::arena(tape_).reset(mark_);
}

void* CustomRecording::allocate(std::size_t bytes) {
  return detail::TapeAccess::arena(tape_).allocate(bytes);
}

TensorVar CustomRecording::finish() {
  const std::size_t n = inputs_.size();
  auto** in = allocate_array<TensorNode*>(tape_, n);
  for (std::size_t i = 0; i < n; ++i) in[i] = inputs_[i].node(tape_);  // validated: no throw
  auto [node, out] =
      make_from<CustomNode>(mark_, tape_, value_.shape(), grad_, nullptr, in, n, callable_, &tape_);
  finished_ = true;  // the tape owns the node, and the node the callable
  std::copy_n(value_.data(), value_.size(), node->value);
  return out;
}

}  // namespace detail

// ---- CustomBackward ----

std::size_t CustomBackward::input_count() const noexcept { return node_.count; }

TensorView CustomBackward::output_value() const noexcept { return {node_.value, node_.shape}; }

TensorView CustomBackward::output_adjoint() const noexcept { return {node_.adjoint, node_.shape}; }

TensorNode* CustomBackward::input(std::size_t i, const char* function) const {
  if (i >= node_.count) {
    detail::fail(function, fmt::format("input {} is out of range (the operation has {} inputs; "
                                       "expected an index below {})",
                                       i, node_.count, node_.count));
  }
  return node_.in[i];
}

TensorView CustomBackward::input_value(std::size_t i) const {
  const TensorNode* x = input(i, "nabla::CustomBackward::input_value");
  return {x->value, x->shape};
}

bool CustomBackward::needs_gradient(std::size_t i) const {
  return pushes(input(i, "nabla::CustomBackward::needs_gradient"), sweep_);
}

MutableTensorView CustomBackward::input_adjoint(std::size_t i) const {
  TensorNode* x = input(i, "nabla::CustomBackward::input_adjoint");
  if (!pushes(x, sweep_)) {
    detail::fail("nabla::CustomBackward::input_adjoint",
                 fmt::format("input {} ({} of shape {}) needs no gradient in this sweep (a "
                             "constant, a parameter in a gradient helper's sweep, or a tensor "
                             "recorded before the helper's inputs); check needs_gradient({}) "
                             "first, or use add_to_input_adjoint, which skips such inputs",
                             i, x->name(), to_string(x->shape), i));
  }
  return {x->zeroed_adjoint(), x->shape};
}

void CustomBackward::add_to_input_adjoint(std::size_t i, TensorView g) const {
  TensorNode* x = input(i, "nabla::CustomBackward::add_to_input_adjoint");
  if (!(g.shape() == x->shape) || (g.data() == nullptr && g.size() > 0)) {
    detail::fail("nabla::CustomBackward::add_to_input_adjoint",
                 fmt::format("the gradient for input {} has shape {}{} (expected input {}'s "
                             "shape {} with data)",
                             i, to_string(g.shape()), g.data() == nullptr ? " and no data" : "", i,
                             to_string(x->shape)));
  }
  if (!pushes(x, sweep_)) return;
  const double* gv = g.data();
  accumulate(x, x->shape.size(), [gv](std::size_t k) { return gv[k]; });
}

}  // namespace nabla
