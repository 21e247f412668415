#include "nabla/autodiff/nn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include "nabla/autodiff/error.hpp"
#include "random.hpp"

namespace nabla::nn {

using rng::below;
using rng::uniform01;

// Note [Parameter lifetime]
// A recorded use of a parameter is a leaf node that points into the set's buffers and holds a
// share of them (a shared_ptr), so the buffers outlive the set while a tape still refers to
// them. The share count also tells add() that a use is on a tape: growing the buffers then
// would leave that node pointing at freed memory, so add() throws instead.

Parameters::Parameters(std::uint64_t seed) : storage_(std::make_shared<Storage>()), state_(seed) {}

Parameter Parameters::push(std::string name, const Shape& shape) {
  if (storage_.use_count() > 1) {
    detail::fail(
        "nabla::nn::Parameters::add",
        fmt::format(
            "cannot add '{}' while {} recorded use(s) of this set's parameters are on a tape "
            "(adding moves the buffers; expected every parameter added before recording, or the "
            "tape rewound or cleared first)",
            name, storage_.use_count() - 1));
  }
  for (const Entry& e : entries_) {
    if (e.name == name) {
      detail::fail(
          "nabla::nn::Parameters::add",
          fmt::format("a parameter named '{}' exists already (expected unique names)", name));
    }
  }
  auto& values = storage_->values;
  const std::size_t offset = values.size();
  try {
    values.resize(offset + shape.size(), 0.0);
    storage_->gradients.resize(values.size(), 0.0);
  } catch (const std::bad_alloc&) {
    values.resize(offset);
    storage_->gradients.resize(offset);
    detail::fail("nabla::nn::Parameters::add",
                 fmt::format("out of memory adding '{}' of shape {} ({} values)", name,
                             to_string(shape), shape.size()));
  }
  entries_.push_back({std::move(name), shape, offset});
  return {this, entries_.size() - 1};
}

Parameter Parameters::add(std::string name, const Shape& shape, Init init, double gain) {
  if (!(gain > 0.0) || !std::isfinite(gain)) {
    detail::fail("nabla::nn::Parameters::add",
                 fmt::format("gain = {} for '{}' (expected a positive finite number)", gain, name));
  }
  if (init != Init::zeros && init != Init::glorot_uniform && init != Init::glorot_normal &&
      init != Init::he_uniform && init != Init::he_normal) {
    detail::fail("nabla::nn::Parameters::add",
                 fmt::format("init = {} for '{}' is not an Init (expected zeros, glorot_uniform, "
                             "glorot_normal, he_uniform or he_normal)",
                             static_cast<int>(init), name));
  }
  const Parameter p = push(std::move(name), shape);
  double fan_in = 1, fan_out = 1;
  if (shape.rank() == 1) {
    fan_in = fan_out = static_cast<double>(shape[0]);
  } else if (shape.rank() >= 2) {
    double receptive = 1;
    for (std::size_t k = 2; k < shape.rank(); ++k) receptive *= static_cast<double>(shape[k]);
    fan_in = static_cast<double>(shape[0]) * receptive;
    fan_out = static_cast<double>(shape[1]) * receptive;
  }
  fan_in = std::max(fan_in, 1.0);
  fan_out = std::max(fan_out, 1.0);
  const std::span<double> v = p.value().span();
  const bool uniform = init == Init::glorot_uniform || init == Init::he_uniform;
  const bool glorot = init == Init::glorot_uniform || init == Init::glorot_normal;
  const double scale =
      gain * std::sqrt((uniform ? 6.0 : 2.0) / (glorot ? fan_in + fan_out : fan_in));
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (init == Init::zeros) {
      v[i] = 0.0;
    } else if (uniform) {
      v[i] = scale * (2.0 * uniform01(state_) - 1.0);
    } else {  // Box–Muller
      const double u1 = uniform01(state_), u2 = uniform01(state_);
      v[i] = scale * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }
  }
  return p;
}

Parameter Parameters::add(std::string name, TensorView initial) {
  // Copied first: `initial` may view this set's buffer, which push() can move.
  const std::span<const double> values =
      detail::view_values(initial, fmt::format("nabla::nn::Parameters::add ('{}')", name).c_str());
  const std::vector<double> copy(values.begin(), values.end());
  const Parameter p = push(std::move(name), initial.shape());
  std::copy(copy.begin(), copy.end(), p.value().data());
  return p;
}

Parameter Parameters::operator[](std::string_view name) {
  for (std::size_t k = 0; k < entries_.size(); ++k) {
    if (entries_[k].name == name) return {this, k};
  }
  detail::fail("nabla::nn::Parameters", fmt::format("no parameter is named '{}' (expected one "
                                                    "of the {} names added)",
                                                    name, entries_.size()));
}

Parameter Parameters::at(std::size_t k) {
  if (k >= entries_.size()) {
    detail::fail("nabla::nn::Parameters::at", fmt::format("index {} is out of range (expected "
                                                          "below {})",
                                                          k, entries_.size()));
  }
  return {this, k};
}

void Parameters::zero_grad() noexcept {
  std::fill(storage_->gradients.begin(), storage_->gradients.end(), 0.0);
}

Parameter::Parameter(Parameters* set, std::size_t index)
    : set_(set), alive_(set->alive_), index_(index) {}

Parameters& Parameter::set() const {
  if (alive_.expired()) {
    detail::fail("nabla::nn::Parameter",
                 "its nn::Parameters set was destroyed (got a handle "
                 "that outlived its set; expected the set to live as "
                 "long as its handles are used)");
  }
  return *set_;
}

Parameter::operator TensorVar() const {
  // A data-parallel shard's uses add into the shard's own gradient buffer.
  MutableTensorView g = gradient();
  if (const detail::GradientRedirect* r = detail::gradient_redirect;
      r != nullptr && r->storage == set().storage_.get()) {
    g = {r->gradients + set().entries_[index_].offset, shape()};
  }
  const TensorVar t = detail::shared_parameter(value(), g, set().storage_);
  // Graphs and reports show the name.
  if (detail::TapeDiagnostics::diagnosing(Tape::active())) label(t, name());
  return t;
}

MutableTensorView Parameter::value() const {
  const Parameters& s = set();
  const auto& e = s.entries_[index_];
  return {s.storage_->values.data() + e.offset, e.shape};
}

MutableTensorView Parameter::gradient() const {
  const Parameters& s = set();
  const auto& e = s.entries_[index_];
  return {s.storage_->gradients.data() + e.offset, e.shape};
}

const std::string& Parameter::name() const { return set().entries_[index_].name; }
const Shape& Parameter::shape() const { return set().entries_[index_].shape; }

BatchSampler::BatchSampler(std::size_t n, std::size_t batch_size, std::uint64_t seed,
                           bool drop_last)
    : batch_size_(batch_size), drop_last_(drop_last), state_(seed) {
  if (batch_size == 0) {
    detail::fail("nabla::nn::BatchSampler", "batch_size = 0 (expected at least 1)");
  }
  try {
    if (n > order_.max_size()) throw std::bad_alloc();
    order_.resize(n);
  } catch (const std::bad_alloc&) {
    detail::fail("nabla::nn::BatchSampler",
                 fmt::format("out of memory for the order of n = {} indices ({:.3g} bytes; "
                             "expected an n whose indices fit in memory)",
                             n, static_cast<double>(n) * sizeof(std::size_t)));
  }
  std::iota(order_.begin(), order_.end(), std::size_t{0});
}

void BatchSampler::shuffle() {
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  for (std::size_t i = order_.size(); i > 1; --i)
    std::swap(order_[i - 1], order_[below(state_, i)]);
  ++epoch_;
}

std::size_t BatchSampler::count() const noexcept {
  // Rounded up without n + batch_size − 1, which wraps around for huge batch sizes.
  const std::size_t n = order_.size();
  return n / batch_size_ + (!drop_last_ && n % batch_size_ != 0 ? 1 : 0);
}

std::span<const std::size_t> BatchSampler::operator[](std::size_t k) const {
  if (k >= count()) {
    detail::fail("nabla::nn::BatchSampler", fmt::format("batch {} is out of range (expected "
                                                        "below {})",
                                                        k, count()));
  }
  const std::size_t begin = k * batch_size_;
  return {order_.data() + begin, std::min(batch_size_, order_.size() - begin)};
}

}  // namespace nabla::nn

namespace nabla {

double detail::backward_loss(const TensorVar& loss) {
  const TensorView v = loss.value();
  nabla::backward(loss);  // checks that the loss has one element
  return v.data()[0];
}

double detail::backward_loss(const Var& loss) {
  nabla::backward(loss);
  return loss.value();
}

}  // namespace nabla
