// nabla::nn — parameters, initialisers and mini-batches for training tensor models.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "nabla/autodiff/tensor.hpp"
#include "nabla/autodiff/tensor_var.hpp"

namespace nabla::detail {
/// Sweeps from a one-element loss (nabla::backward) and returns its value (nn::compute_gradients).
/// @throws nabla::Error when the loss has more than one element.
double backward_loss(const TensorVar& loss);
/// Sweeps from a scalar loss (nabla::backward) and returns its value (nn::compute_gradients).
double backward_loss(const Var& loss);

/// Where the gradients of an nn::Parameters set's uses recorded on this thread go instead of
/// the set's gradient buffer: `gradients` (as long, same layout) when `storage` is the set's
/// (nn::DataParallel gives each shard its own buffer; Note [Data-parallel gradients]).
struct GradientRedirect {
  const void* storage = nullptr;
  double* gradients = nullptr;
};
/// The redirect of this thread (null: none).
inline constinit thread_local const GradientRedirect* gradient_redirect = nullptr;
}  // namespace nabla::detail

namespace nabla::nn {

/// How a parameter starts. Fans: a [fan_in, fan_out] matrix (x · W convention); rank 1: both
/// fans are its size; higher ranks multiply dimensions 2… into both fans.
enum class Init {
  zeros,           ///< all 0 (biases)
  glorot_uniform,  ///< U(−a, a), a = gain·√(6 / (fan_in + fan_out))   (Glorot & Bengio 2010)
  glorot_normal,   ///< N(0, σ²), σ = gain·√(2 / (fan_in + fan_out))
  he_uniform,      ///< U(−a, a), a = gain·√(6 / fan_in)                (He et al. 2015)
  he_normal,       ///< N(0, σ²), σ = gain·√(2 / fan_in)
};

class Parameters;

// Arithmetic on parameters (`W * 2.0`, `b + x`) is found by argument-dependent lookup.
using nabla::operator+;
using nabla::operator-;
using nabla::operator*;
using nabla::operator/;

/// A handle to one parameter of a Parameters set. Converts to a TensorVar on the active tape
/// (a leaf whose gradient accumulates into the set's flat gradient buffer), so a parameter can
/// be passed to any tensor operation: `relu(matmul(x, W1) + b1)`.
/// Every member throws nabla::Error once the set is destroyed (a handle may outlive it).
class Parameter {
 public:
  /// Records this parameter on the active tape.
  operator TensorVar() const;  // NOLINT: implicit by design
  /// Records this parameter on the active tape (same as the conversion).
  [[nodiscard]] TensorVar var() const { return *this; }
  [[nodiscard]] MutableTensorView value() const;
  [[nodiscard]] MutableTensorView gradient() const;
  [[nodiscard]] const std::string& name() const;
  [[nodiscard]] const Shape& shape() const;

 private:
  friend class Parameters;
  Parameter(Parameters* set, std::size_t index);
  Parameters& set() const;  // the set, checked to be alive
  Parameters* set_;
  std::weak_ptr<const void> alive_;  // expires with the set
  std::size_t index_;
};

/// Named tensors stored in one flat value buffer and one flat gradient buffer, so that a
/// stateful optimizer updates all of them in one step without copying:
///   opt->step(params.values(), params.gradients());
/// Add every parameter before recording with them: adding moves the buffers, so add() throws
/// while a recorded use of a parameter is still on a tape. Recorded uses keep the buffers
/// alive, so destroying the set before rewinding its tape is safe (the sweep then writes
/// gradients nobody reads).
///
/// Example:
///   nabla::nn::Parameters params(/*seed=*/1);
///   auto W = params.add("W", {784, 10}, nabla::nn::Init::glorot_uniform);
///   auto b = params.add("b", {10}, nabla::nn::Init::zeros);
class Parameters {
 public:
  /// An empty set whose initialisers draw from a generator seeded with `seed`.
  explicit Parameters(std::uint64_t seed = 0);
  Parameters(const Parameters&) = delete;
  Parameters& operator=(const Parameters&) = delete;

  /// Adds a parameter drawn from `init` (deterministic for the set's seed and the order of
  /// additions); its gradient starts at 0.
  /// @throws nabla::Error for a duplicate name, a non-positive gain, or while a parameter of
  /// this set is recorded on a tape (rewind or clear it first).
  Parameter add(std::string name, const Shape& shape, Init init = Init::glorot_uniform,
                double gain = 1.0);
  /// Adds a parameter with the given initial value (which may be a view of another
  /// parameter of this set).
  /// @throws nabla::Error for a duplicate name, or while a parameter of this set is recorded.
  Parameter add(std::string name, TensorView initial);
  /// The parameter with this name.
  /// @throws nabla::Error when there is none.
  [[nodiscard]] Parameter operator[](std::string_view name);
  /// The parameter added k-th.
  [[nodiscard]] Parameter at(std::size_t k);
  /// Number of parameters (tensors).
  [[nodiscard]] std::size_t count() const noexcept { return entries_.size(); }
  /// Number of scalars in all parameters.
  [[nodiscard]] std::size_t size() const noexcept { return storage_->values.size(); }
  /// All values, flat (in order of addition).
  [[nodiscard]] std::span<double> values() noexcept { return storage_->values; }
  /// All gradients, flat, in the same order.
  [[nodiscard]] std::span<double> gradients() noexcept { return storage_->gradients; }
  /// Sets every gradient to 0 (sweeps add into them).
  void zero_grad() noexcept;

 private:
  friend class Parameter;
  friend class DataParallel;
  struct Entry {
    std::string name;
    Shape shape;
    std::size_t offset;
  };
  // The buffers, shared with every recorded use (Note [Parameter lifetime] in nn.cpp).
  struct Storage {
    std::vector<double, detail::AlignedAllocator<double>> values, gradients;
  };
  Parameter push(std::string name, const Shape& shape);
  std::vector<Entry> entries_;
  std::shared_ptr<Storage> storage_;
  std::uint64_t state_;  // the initialisers' generator (splitmix64)
  std::shared_ptr<const void> alive_ = std::make_shared<int>(0);  // handles watch it expire
};

/// One training step's gradients: sets the gradients of `params` to 0, records f() — the loss:
/// a one-element TensorVar, a Var or a scalar expression — on the active tape, sweeps from it
/// into params.gradients(), and rewinds the tape to where it was (also when f throws), so that
/// a training loop keeps the tape's memory flat however many steps it runs. Returns the loss.
/// Then step the optimizer: `opt->step(params.values(), params.gradients())`. (Accumulating
/// over several batches: record them all in f.)
/// @throws nabla::Error when the loss has more than one element, and what f throws.
///
/// Example:
///   const double loss = nabla::nn::compute_gradients(params, [&] {
///     return nabla::cross_entropy(nabla::matmul(nabla::constant(x), W) + b, labels);
///   });
///   adam->step(params.values(), params.gradients());
template <class F>
requires std::invocable<F&>
double compute_gradients(Parameters& params, F&& f) {
  params.zero_grad();
  const nabla::detail::RewindGuard recording;  // rewinds also when f throws
  using R = std::remove_cvref_t<std::invoke_result_t<F&>>;
  if constexpr (std::same_as<R, TensorVar>) {
    return nabla::detail::backward_loss(f());
  } else {
    return nabla::detail::backward_loss(Var(f()));
  }
}

/// Shuffled mini-batches of the indices 0 … n−1, reshuffled by every call to shuffle():
/// deterministic for a seed.
///
/// Example:
///   nabla::nn::BatchSampler batches(60000, 128, /*seed=*/7);
///   for (int epoch = 0; epoch < 5; ++epoch) {
///     batches.shuffle();
///     for (std::size_t k = 0; k < batches.count(); ++k) train_on(batches[k]);
///   }
class BatchSampler {
 public:
  /// Batches of `batch_size` indices out of n; the last one is smaller unless drop_last.
  /// @throws nabla::Error when batch_size is 0.
  BatchSampler(std::size_t n, std::size_t batch_size, std::uint64_t seed, bool drop_last = false);
  /// Starts an epoch: a new random order of all indices.
  void shuffle();
  /// Number of batches per epoch.
  [[nodiscard]] std::size_t count() const noexcept;
  /// Batch k of the current order.
  [[nodiscard]] std::span<const std::size_t> operator[](std::size_t k) const;
  /// Epochs started with shuffle().
  [[nodiscard]] std::size_t epoch() const noexcept { return epoch_; }

 private:
  std::vector<std::size_t> order_;
  std::size_t batch_size_;
  bool drop_last_;
  std::uint64_t state_;
  std::size_t epoch_ = 0;
};

}  // namespace nabla::nn
