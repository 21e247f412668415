#include "nabla/autodiff/layers.hpp"

#include <fmt/format.h>

#include <cmath>

#include "nabla/autodiff/error.hpp"
#include "random.hpp"

namespace nabla::nn {

namespace {

void check_eps(double eps, const char* function) {
  if (!(eps >= 0.0) || !std::isfinite(eps)) {
    nabla::detail::fail(function, fmt::format("eps = {} (expected a finite number ≥ 0)", eps));
  }
}

// Note [PyTorch's initialisers from the set's generator]
// Parameters::add draws he_uniform as U(−a, a) with a = gain·√(6 / fan_in) and he_normal as
// N(0, σ²) with σ = gain·√(2 / fan_in), fan_in = shape[0]. The gains below turn these into
// PyTorch's defaults — U(−1/√in, 1/√in) for Linear (weight [out, in] and bias [out]: fan_in =
// out) and N(0, 1) for Embedding ([num, dim]: fan_in = num) — so that the values still come from
// the set's seeded generator, in the order the layers are made.
double uniform_gain(std::size_t fan_in, std::size_t in) {
  return std::sqrt(static_cast<double>(fan_in) / (6.0 * static_cast<double>(in)));
}

}  // namespace

// ---- Functional forms ----

namespace {
void check_linear(const TensorVar& x, const TensorVar& weight) {
  if (weight.rank() != 2) {
    nabla::detail::fail("nabla::nn::linear",
                        fmt::format("the weight has shape {} (expected a matrix [out, in])",
                                    to_string(weight.shape())));
  }
  if (x.rank() == 0 || x.shape()[x.rank() - 1] != weight.shape()[1]) {
    nabla::detail::fail(
        "nabla::nn::linear",
        fmt::format("the input has shape {} and the weight {} (expected an input "
                    "of shape [..., {}])",
                    to_string(x.shape()), to_string(weight.shape()), weight.shape()[1]));
  }
}
}  // namespace

TensorVar linear(const TensorVar& x, const TensorVar& weight) {
  check_linear(x, weight);
  const TensorVar wt = transpose(weight);
  if (x.rank() == 1) {
    return reshape(matmul(reshape(x, {1, x.shape()[0]}), wt), {weight.shape()[0]});
  }
  return matmul(x, wt);
}

TensorVar linear(const TensorVar& x, const TensorVar& weight, const TensorVar& bias) {
  check_linear(x, weight);
  if (bias.shape() != Shape{weight.shape()[0]}) {
    nabla::detail::fail(
        "nabla::nn::linear",
        fmt::format("the bias has shape {} and the weight {} (expected a bias of "
                    "shape [{}])",
                    to_string(bias.shape()), to_string(weight.shape()), weight.shape()[0]));
  }
  return linear(x, weight) + bias;
}

TensorVar layer_norm(const TensorVar& x, std::size_t normalized_rank, double eps) {
  check_eps(eps, "nabla::nn::layer_norm");
  const Shape& shape = x.shape();
  if (normalized_rank == 0 || normalized_rank > shape.rank()) {
    nabla::detail::fail("nabla::nn::layer_norm",
                        fmt::format("normalising the last {} dimensions of an input of shape {} "
                                    "(expected 1 to {})",
                                    normalized_rank, to_string(shape), shape.rank()));
  }
  // The normalised dimensions flattened into one, normalised over the last axis, shaped back.
  std::size_t group = 1;
  std::vector<std::size_t> flat(shape.begin(), shape.end() - normalized_rank);
  for (std::size_t k = shape.rank() - normalized_rank; k < shape.rank(); ++k) group *= shape[k];
  if (group == 0) {
    nabla::detail::fail("nabla::nn::layer_norm",
                        fmt::format("the normalised dimensions of {} hold no element (expected "
                                    "at least one)",
                                    to_string(shape)));
  }
  flat.push_back(group);
  const TensorVar x2 = reshape(x, Shape(std::span<const std::size_t>(flat)));
  const TensorVar centred = x2 - mean(x2, -1, true);
  const TensorVar var = mean(centred * centred, -1, true);
  return reshape(centred / sqrt(var + eps), shape);
}

TensorVar layer_norm(const TensorVar& x, const TensorVar& weight, const TensorVar& bias,
                     double eps) {
  const Shape& xs = x.shape();
  const Shape& ws = weight.shape();
  bool fits = ws.rank() >= 1 && ws.rank() <= xs.rank();
  for (std::size_t k = 0; fits && k < ws.rank(); ++k) fits = xs[xs.rank() - ws.rank() + k] == ws[k];
  if (!fits) {
    nabla::detail::fail("nabla::nn::layer_norm",
                        fmt::format("the input has shape {} and the weight {} (expected the "
                                    "input's trailing dimensions to be the weight's shape)",
                                    to_string(xs), to_string(ws)));
  }
  if (bias.shape() != ws) {
    nabla::detail::fail("nabla::nn::layer_norm",
                        fmt::format("the bias has shape {} and the weight {} (expected equal "
                                    "shapes)",
                                    to_string(bias.shape()), to_string(ws)));
  }
  return layer_norm(x, ws.rank(), eps) * weight + bias;
}

namespace {
// The channel count of a BatchNorm1d input, checked: [N, C] or [N, C, L].
std::size_t batch_norm_channels(const Shape& s, const char* function) {
  if (s.rank() != 2 && s.rank() != 3) {
    nabla::detail::fail(function, fmt::format("the input has shape {} (expected [N, C] or "
                                              "[N, C, L])",
                                              to_string(s)));
  }
  return s[1];
}
// [C] as [C] for a rank-2 input and [C, 1] for a rank-3 one (to broadcast over N and L).
TensorVar per_channel(const TensorVar& t, std::size_t rank) {
  return rank == 2 ? t : reshape(t, {t.shape()[0], 1});
}
}  // namespace

TensorVar batch_norm(const TensorVar& x, const TensorVar& weight, const TensorVar& bias,
                     double eps) {
  check_eps(eps, "nabla::nn::batch_norm");
  const Shape& s = x.shape();
  const std::size_t c = batch_norm_channels(s, "nabla::nn::batch_norm");
  if (weight.shape() != Shape{c} || bias.shape() != Shape{c}) {
    nabla::detail::fail(
        "nabla::nn::batch_norm",
        fmt::format("the input has shape {}, the weight {} and the bias {} "
                    "(expected both of shape [{}])",
                    to_string(s), to_string(weight.shape()), to_string(bias.shape()), c));
  }
  const std::size_t n = s.size() / std::max<std::size_t>(c, 1);
  if (n < 2) {
    nabla::detail::fail("nabla::nn::batch_norm",
                        fmt::format("the input has shape {}: {} value(s) per channel (expected "
                                    "more than 1 in training)",
                                    to_string(s), n));
  }
  const Axes axes = s.rank() == 2 ? Axes(0) : Axes{0, 2};
  const TensorVar centred = x - mean(x, axes, true);
  const TensorVar var = mean(centred * centred, axes, true);
  return centred / sqrt(var + eps) * per_channel(weight, s.rank()) + per_channel(bias, s.rank());
}

// ---- Modules ----

Linear::Linear(Parameters& params, const std::string& name, std::size_t in, std::size_t out,
               bool bias)
    : weight_([&] {
        if (in == 0 || out == 0) {
          nabla::detail::fail(
              "nabla::nn::Linear",
              fmt::format("'{}': in = {}, out = {} (expected both at least 1)", name, in, out));
        }
        return params.add(name + ".weight", {out, in}, Init::he_uniform, uniform_gain(out, in));
      }()) {
  if (bias) bias_ = params.add(name + ".bias", {out}, Init::he_uniform, uniform_gain(out, in));
}

TensorVar Linear::forward(const TensorVar& x) {
  return bias_ ? linear(x, weight_, *bias_) : linear(x, weight_);
}

const Parameter& Linear::bias() const {
  if (!bias_) {
    nabla::detail::fail("nabla::nn::Linear::bias", fmt::format("'{}' was made without a bias "
                                                               "(expected bias = true)",
                                                               weight_.name()));
  }
  return *bias_;
}

TensorVar ReLU::forward(const TensorVar& x) { return relu(x); }
TensorVar Tanh::forward(const TensorVar& x) { return tanh(x); }
TensorVar Sigmoid::forward(const TensorVar& x) { return sigmoid(x); }

Dropout::Dropout(double p, std::uint64_t seed) : p_(p), state_(seed) {
  if (!(p >= 0.0 && p < 1.0)) {
    nabla::detail::fail("nabla::nn::Dropout",
                        fmt::format("p = {} (expected a probability in [0, 1); p = 1 would drop "
                                    "every element)",
                                    p));
  }
}

TensorVar Dropout::forward(const TensorVar& x) {
  if (!is_training() || p_ == 0.0) return x;
  Tensor mask(x.shape());
  const double scale = 1.0 / (1.0 - p_);
  for (double& m : mask.span()) m = rng::uniform01(state_) < p_ ? 0.0 : scale;
  return x * constant(mask);
}

LayerNorm::LayerNorm(Parameters& params, const std::string& name, const Shape& normalized_shape,
                     double eps, bool elementwise_affine)
    : shape_(normalized_shape), eps_(eps) {
  check_eps(eps, "nabla::nn::LayerNorm");
  if (normalized_shape.rank() == 0 || normalized_shape.size() == 0) {
    nabla::detail::fail("nabla::nn::LayerNorm",
                        fmt::format("'{}': normalized_shape = {} (expected at least one "
                                    "dimension, none of them 0)",
                                    name, to_string(normalized_shape)));
  }
  if (elementwise_affine) {
    weight_ = params.add(name + ".weight", Tensor(normalized_shape, 1.0));
    bias_ = params.add(name + ".bias", normalized_shape, Init::zeros);
  }
}

TensorVar LayerNorm::forward(const TensorVar& x) {
  const Shape& xs = x.shape();
  bool fits = shape_.rank() <= xs.rank();
  for (std::size_t k = 0; fits && k < shape_.rank(); ++k)
    fits = xs[xs.rank() - shape_.rank() + k] == shape_[k];
  if (!fits) {
    nabla::detail::fail("nabla::nn::LayerNorm",
                        fmt::format("the input has shape {} (expected trailing dimensions {})",
                                    to_string(xs), to_string(shape_)));
  }
  if (weight_) return layer_norm(x, *weight_, *bias_, eps_);
  return layer_norm(x, shape_.rank(), eps_);
}

BatchNorm1d::BatchNorm1d(Parameters& params, const std::string& name, std::size_t features,
                         double eps, double momentum)
    : name_(name),
      eps_(eps),
      momentum_(momentum),
      weight_([&] {
        if (features == 0) {
          nabla::detail::fail("nabla::nn::BatchNorm1d",
                              fmt::format("'{}': features = 0 (expected at least 1)", name));
        }
        check_eps(eps, "nabla::nn::BatchNorm1d");
        if (!(momentum >= 0.0 && momentum <= 1.0)) {
          nabla::detail::fail(
              "nabla::nn::BatchNorm1d",
              fmt::format("'{}': momentum = {} (expected a number in [0, 1])", name, momentum));
        }
        return params.add(name + ".weight", Tensor({features}, 1.0));
      }()),
      bias_(params.add(name + ".bias", {features}, Init::zeros)),
      running_mean_({features}, 0.0),
      running_var_({features}, 1.0) {}

TensorVar BatchNorm1d::forward(const TensorVar& x) {
  const Shape& s = x.shape();
  const std::size_t c = batch_norm_channels(s, "nabla::nn::BatchNorm1d");
  if (c != running_mean_.size()) {
    nabla::detail::fail("nabla::nn::BatchNorm1d",
                        fmt::format("'{}': the input has shape {} (expected {} channels: [N, {}] "
                                    "or [N, {}, L])",
                                    name_, to_string(s), running_mean_.size(), running_mean_.size(),
                                    running_mean_.size()));
  }
  if (!is_training()) {
    // (x − running_mean) / √(running_var + eps) · weight + bias, the statistics as constants.
    Tensor scale({c}), shift({c});
    for (std::size_t k = 0; k < c; ++k) {
      scale[k] = 1.0 / std::sqrt(running_var_[k] + eps_);
      shift[k] = -running_mean_[k] * scale[k];
    }
    const TensorVar w = weight_;
    return (x * per_channel(constant(scale), s.rank()) + per_channel(constant(shift), s.rank())) *
               per_channel(w, s.rank()) +
           per_channel(bias_, s.rank());
  }
  const TensorVar y = batch_norm(x, weight_, bias_, eps_);
  // The running statistics, from the batch's values (in plain doubles: no recording).
  const TensorView v = x.value();
  const std::size_t n = s.size() / c, length = s.rank() == 3 ? s[2] : 1;
  for (std::size_t k = 0; k < c; ++k) {
    double sum = 0.0;
    for (std::size_t i = 0; i < s[0]; ++i)
      for (std::size_t l = 0; l < length; ++l) sum += v[(i * c + k) * length + l];
    const double m = sum / static_cast<double>(n);
    double squares = 0.0;
    for (std::size_t i = 0; i < s[0]; ++i) {
      for (std::size_t l = 0; l < length; ++l) {
        const double d = v[(i * c + k) * length + l] - m;
        squares += d * d;
      }
    }
    const double unbiased = squares / static_cast<double>(n - 1);
    running_mean_[k] = (1.0 - momentum_) * running_mean_[k] + momentum_ * m;
    running_var_[k] = (1.0 - momentum_) * running_var_[k] + momentum_ * unbiased;
  }
  ++batches_;
  return y;
}

void BatchNorm1d::buffers(std::vector<std::pair<std::string, MutableTensorView>>& out) {
  out.emplace_back(name_ + ".running_mean", running_mean_);
  out.emplace_back(name_ + ".running_var", running_var_);
}

Embedding::Embedding(Parameters& params, const std::string& name, std::size_t num, std::size_t dim)
    : weight_([&] {
        if (num == 0 || dim == 0) {
          nabla::detail::fail(
              "nabla::nn::Embedding",
              fmt::format("'{}': num = {}, dim = {} (expected both at least 1)", name, num, dim));
        }
        // N(0, 1): Note [PyTorch's initialisers from the set's generator].
        return params.add(name + ".weight", {num, dim}, Init::he_normal,
                          std::sqrt(static_cast<double>(num) / 2.0));
      }()) {}

TensorVar Embedding::forward(std::span<const std::size_t> indices) {
  const std::size_t num = weight_.shape()[0];
  for (std::size_t k = 0; k < indices.size(); ++k) {
    if (indices[k] >= num) {
      nabla::detail::fail("nabla::nn::Embedding",
                          fmt::format("'{}': index {} at position {} is out of range (expected "
                                      "below {})",
                                      weight_.name(), indices[k], k, num));
    }
  }
  return index_select(weight_, 0, indices);
}

TensorVar Embedding::forward(const TensorVar& indices) {
  const TensorView v = indices.value();
  const std::size_t num = weight_.shape()[0];
  std::vector<std::size_t> rows(v.size());
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (!(v[k] >= 0.0 && v[k] < static_cast<double>(num)) || v[k] != std::floor(v[k])) {
      nabla::detail::fail("nabla::nn::Embedding",
                          fmt::format("'{}': index {} at position {} is not an integer in [0, {}) "
                                      "(expected row numbers)",
                                      weight_.name(), v[k], k, num));
    }
    rows[k] = static_cast<std::size_t>(v[k]);
  }
  std::vector<std::size_t> shape(indices.shape().begin(), indices.shape().end());
  shape.push_back(weight_.shape()[1]);
  return reshape(forward(std::span<const std::size_t>(rows)),
                 Shape(std::span<const std::size_t>(shape)));
}

TensorVar Sequential::forward(const TensorVar& x) {
  TensorVar y = x;
  for (const auto& m : modules_) y = m->forward(y);
  return y;
}

void Sequential::train(bool on) {
  Module::train(on);
  for (const auto& m : modules_) m->train(on);
}

void Sequential::buffers(std::vector<std::pair<std::string, MutableTensorView>>& out) {
  for (const auto& m : modules_) m->buffers(out);
}

Module& Sequential::operator[](std::size_t k) {
  if (k >= modules_.size()) {
    nabla::detail::fail("nabla::nn::Sequential", fmt::format("module {} is out of range "
                                                             "(expected below {})",
                                                             k, modules_.size()));
  }
  return *modules_[k];
}

}  // namespace nabla::nn
