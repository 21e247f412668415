// nabla::nn layers — modules with PyTorch's semantics (Linear, Sequential, activations, Dropout,
// LayerNorm, BatchNorm1d, Embedding), built from TensorVar operations, with their parameters in
// an nn::Parameters set (so the optimizers of nabla::optim train them unchanged).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/autodiff/nn.hpp"
#include "nabla/autodiff/tensor.hpp"
#include "nabla/autodiff/tensor_var.hpp"

namespace nabla::nn {

// ---- Functional forms: what the modules compute, on TensorVars (differentiable in every input)
// ----

/// y = x·Wᵀ for x of shape [..., in] and a weight of shape [out, in] (PyTorch's layout); rank-1 x
/// gives [out].
/// @throws nabla::Error when the weight is not a matrix or x's last dimension is not `in`.
TensorVar linear(const TensorVar& x, const TensorVar& weight);
/// y = x·Wᵀ + b, with b of shape [out].
/// @throws nabla::Error for shapes that do not fit (as above, and b not [out]).
TensorVar linear(const TensorVar& x, const TensorVar& weight, const TensorVar& bias);

/// (x − mean) / √(var + eps) over the last `normalized_rank` dimensions of x (biased variance,
/// as PyTorch's layer_norm).
/// @throws nabla::Error when normalized_rank is 0 or above x's rank, the normalised part is
/// empty, or eps is negative or not finite.
TensorVar layer_norm(const TensorVar& x, std::size_t normalized_rank, double eps = 1e-5);
/// layer_norm(x, weight.rank(), eps) · weight + bias: x's trailing dimensions must equal
/// weight's shape, and bias has weight's shape.
/// @throws nabla::Error for shapes that do not fit (naming both), or a bad eps.
TensorVar layer_norm(const TensorVar& x, const TensorVar& weight, const TensorVar& bias,
                     double eps = 1e-5);

/// Batch normalisation with the batch's statistics (training mode): x is [N, C] or [N, C, L];
/// each channel c is normalised by the mean and biased variance over N (and L), then scaled by
/// weight[c] and shifted by bias[c] (both of shape [C]).
/// @throws nabla::Error for another rank, weight or bias not [C], fewer than 2 values per
/// channel (PyTorch refuses them too: the variance is 0), or a bad eps.
TensorVar batch_norm(const TensorVar& x, const TensorVar& weight, const TensorVar& bias,
                     double eps = 1e-5);

// ---- Modules ----

/// A layer (or a network of layers): forward() maps a TensorVar to a TensorVar. Every module
/// has a training flag (on when made), switched for a whole tree by train()/eval(); it changes
/// what Dropout and BatchNorm1d do, as in PyTorch. Parameters live in the nn::Parameters set
/// given to each layer's constructor, under "<name>.weight", "<name>.bias" and so on.
class Module {
 public:
  Module() = default;
  Module(const Module&) = default;
  Module(Module&&) = default;
  Module& operator=(const Module&) = default;
  Module& operator=(Module&&) = default;
  virtual ~Module() = default;
  /// The layer applied to x, recorded on the active tape.
  /// @throws nabla::Error for an input the layer cannot take (the message names both shapes).
  virtual TensorVar forward(const TensorVar& x) = 0;
  /// Same as forward(x).
  TensorVar operator()(const TensorVar& x) { return forward(x); }
  /// Switches this module and every module inside it to training (on) or evaluation (off).
  virtual void train(bool on = true) { training_ = on; }
  /// Same as train(false).
  void eval() { train(false); }
  /// True in training mode.
  [[nodiscard]] bool is_training() const noexcept { return training_; }
  /// The state that is not a parameter (BatchNorm1d's running statistics), named like the
  /// parameters, appended to `out` (nothing for most layers).
  virtual void buffers(std::vector<std::pair<std::string, MutableTensorView>>& out) { (void)out; }

 private:
  bool training_ = true;
};

/// y = x·Wᵀ + b (PyTorch's nn.Linear). The weight is [out, in], PyTorch's layout (so a saved
/// state matches a torch state_dict), named "<name>.weight"; the bias is [out], "<name>.bias".
/// Both start uniform in (−1/√in, 1/√in), PyTorch's default, drawn from the set's generator.
class Linear : public Module {
 public:
  /// Adds the weight (and bias) to `params`.
  /// @throws nabla::Error when in or out is 0, or from Parameters::add (duplicate names, a
  /// parameter of the set recorded on a tape).
  Linear(Parameters& params, const std::string& name, std::size_t in, std::size_t out,
         bool bias = true);
  /// x·Wᵀ + b for x of shape [..., in] (rank ≥ 1).
  /// @throws nabla::Error when x's last dimension is not `in`.
  TensorVar forward(const TensorVar& x) override;
  /// The weight, [out, in].
  [[nodiscard]] const Parameter& weight() const noexcept { return weight_; }
  /// The bias, [out] (only when made with bias = true).
  /// @throws nabla::Error when the layer has no bias.
  [[nodiscard]] const Parameter& bias() const;
  /// True when the layer has a bias.
  [[nodiscard]] bool has_bias() const noexcept { return bias_.has_value(); }

 private:
  Parameter weight_;
  std::optional<Parameter> bias_;
};

/// max(x, 0) elementwise (nn.ReLU).
class ReLU : public Module {
 public:
  /// relu(x).
  TensorVar forward(const TensorVar& x) override;
};

/// tanh elementwise (nn.Tanh).
class Tanh : public Module {
 public:
  /// tanh(x).
  TensorVar forward(const TensorVar& x) override;
};

/// The logistic function elementwise (nn.Sigmoid).
class Sigmoid : public Module {
 public:
  /// sigmoid(x).
  TensorVar forward(const TensorVar& x) override;
};

/// Inverted dropout (nn.Dropout): in training each element is zeroed with probability p and the
/// others are scaled by 1/(1 − p), so the expected output is x; in evaluation, the identity.
/// The masks come from the layer's own generator (splitmix64), the same for a seed.
/// p = 1 is refused (PyTorch returns zeros; here 1/(1 − p) would be infinite and a layer that
/// drops everything trains nothing).
class Dropout : public Module {
 public:
  /// @throws nabla::Error when p is not in [0, 1).
  explicit Dropout(double p = 0.5, std::uint64_t seed = 0);
  /// x times a fresh mask of 0 and 1/(1 − p) in training; x itself in evaluation (or p = 0).
  TensorVar forward(const TensorVar& x) override;
  /// The dropout probability.
  [[nodiscard]] double p() const noexcept { return p_; }

 private:
  double p_;
  std::uint64_t state_;
};

/// Layer normalisation (nn.LayerNorm): over the trailing dimensions `normalized_shape`,
/// y = (x − mean) / √(var + eps) · weight + bias with the biased variance; weight ("<name>.weight",
/// ones) and bias ("<name>.bias", zeros) have shape normalized_shape when elementwise_affine.
class LayerNorm : public Module {
 public:
  /// @throws nabla::Error for an empty normalized_shape or one with a 0 dimension, a negative or
  /// non-finite eps, or from Parameters::add.
  LayerNorm(Parameters& params, const std::string& name, const Shape& normalized_shape,
            double eps = 1e-5, bool elementwise_affine = true);
  /// The normalised x, whose trailing dimensions must be normalized_shape.
  /// @throws nabla::Error when they are not (naming both shapes).
  TensorVar forward(const TensorVar& x) override;

 private:
  Shape shape_;
  double eps_;
  std::optional<Parameter> weight_, bias_;
};

/// Batch normalisation over [N, C] or [N, C, L] inputs (nn.BatchNorm1d, affine, tracking running
/// statistics). Training: each channel is normalised with the batch's mean and biased variance,
/// and the running statistics move by `momentum`: running = (1 − momentum)·running +
/// momentum·batch, with the unbiased variance (n/(n − 1) times the biased one, n = N·L).
/// Evaluation: normalised with the running statistics. weight ("<name>.weight") starts at 1,
/// bias ("<name>.bias") at 0; running_mean at 0 and running_var at 1 are buffers (not parameters:
/// no gradient, not updated by optimizers), named "<name>.running_mean" and "<name>.running_var".
class BatchNorm1d : public Module {
 public:
  /// @throws nabla::Error when features is 0, eps is negative or not finite, momentum is not in
  /// [0, 1], or from Parameters::add.
  BatchNorm1d(Parameters& params, const std::string& name, std::size_t features, double eps = 1e-5,
              double momentum = 0.1);
  /// Normalises x (see the class); in training also updates the running statistics.
  /// @throws nabla::Error for a shape other than [N, features] or [N, features, L], or in
  /// training fewer than 2 values per channel.
  TensorVar forward(const TensorVar& x) override;
  /// The running mean, [features].
  [[nodiscard]] MutableTensorView running_mean() noexcept { return running_mean_; }
  /// The running (unbiased) variance, [features].
  [[nodiscard]] MutableTensorView running_var() noexcept { return running_var_; }
  /// Training batches seen (PyTorch's num_batches_tracked).
  [[nodiscard]] std::size_t batches_tracked() const noexcept { return batches_; }
  /// running_mean and running_var, named "<name>.running_mean" and "<name>.running_var".
  void buffers(std::vector<std::pair<std::string, MutableTensorView>>& out) override;

 private:
  std::string name_;
  double eps_, momentum_;
  Parameter weight_, bias_;
  Tensor running_mean_, running_var_;
  std::size_t batches_ = 0;
};

/// A lookup table (nn.Embedding): row i of a [num, dim] weight ("<name>.weight", N(0, 1) from
/// the set's generator) for index i.
class Embedding : public Module {
 public:
  /// @throws nabla::Error when num or dim is 0, or from Parameters::add.
  Embedding(Parameters& params, const std::string& name, std::size_t num, std::size_t dim);
  /// The rows for `indices`, shape [indices.size(), dim].
  /// @throws nabla::Error for an index ≥ num (naming it and its position).
  TensorVar forward(std::span<const std::size_t> indices);
  /// The rows for integer-valued `indices` of any shape: shape indices.shape() + [dim].
  /// @throws nabla::Error for a value that is not an integer in [0, num).
  TensorVar forward(const TensorVar& indices) override;
  /// The table, [num, dim].
  [[nodiscard]] const Parameter& weight() const noexcept { return weight_; }

 private:
  Parameter weight_;
};

/// Modules applied one after the other (nn.Sequential); train()/eval() reach every one of them.
/// An empty Sequential is the identity. It owns its modules (move-only).
///
/// Example:
///   nabla::nn::Parameters params(/*seed=*/1);
///   nabla::nn::Sequential model(nabla::nn::Linear(params, "0", 784, 128), nabla::nn::ReLU(),
///                               nabla::nn::Dropout(0.2), nabla::nn::Linear(params, "3", 128, 10));
///   nabla::TensorVar logits = model(nabla::constant(x));
class Sequential : public Module {
 public:
  /// An empty sequence.
  Sequential() = default;
  Sequential(Sequential&&) = default;
  Sequential& operator=(Sequential&&) = default;
  /// The modules, in order (each moved or copied in).
  template <class... M>
  requires(sizeof...(M) > 0 && (std::derived_from<std::remove_cvref_t<M>, Module> && ...) &&
           !(sizeof...(M) == 1 && (std::same_as<std::remove_cvref_t<M>, Sequential> &&
                                   ...))) explicit Sequential(M&&... modules) {
    (add(std::forward<M>(modules)), ...);
  }
  /// Appends a module; returns the stored one (valid as long as the Sequential lives).
  template <class M>
  requires std::derived_from<std::remove_cvref_t<M>, Module> std::remove_cvref_t<M>
  &add(M&& module) {
    auto owned = std::make_unique<std::remove_cvref_t<M>>(std::forward<M>(module));
    owned->train(is_training());
    auto& ref = *owned;
    modules_.push_back(std::move(owned));
    return ref;
  }
  /// Each module applied in turn.
  TensorVar forward(const TensorVar& x) override;
  /// Switches every module.
  void train(bool on = true) override;
  /// Every module's buffers.
  void buffers(std::vector<std::pair<std::string, MutableTensorView>>& out) override;
  /// Number of modules.
  [[nodiscard]] std::size_t size() const noexcept { return modules_.size(); }
  /// Module k.
  /// @throws nabla::Error when k ≥ size().
  [[nodiscard]] Module& operator[](std::size_t k);

 private:
  std::vector<std::unique_ptr<Module>> modules_;
};

}  // namespace nabla::nn
