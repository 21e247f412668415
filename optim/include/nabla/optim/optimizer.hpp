// nabla::optim — the stateful object behind every first-order method: one update rule, written
// once, over flat buffers. minimize() and training loops both use it.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "nabla/autodiff/error.hpp"
#include "nabla/optim/methods.hpp"

namespace nabla::optim {

/// A first-order method with its state (moments, accumulators, step count) for n parameters.
///
/// Example:
///   auto opt = nabla::optim::make_optimizer(nabla::optim::Adam{.lr = 0.01}, x.size());
///   for (...) { nabla::gradient(loss, x, g); opt->step(x, g); }
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  /// Updates x in place from the gradient g (one step): applies the extras (clipping, coupled
  /// weight decay, the schedule's rate — and momentum, when it cycles it — for this step), then
  /// the method's rule.
  /// @throws nabla::Error when x or g does not have the optimizer's size, or when the schedule
  /// returns NaN, a negative or an infinite rate, or a momentum outside [0, 1) (x is left
  /// unchanged).
  void step(std::span<double> x, std::span<const double> g);
  /// Forgets the state (moments, step count, the schedule's state): the next step is the first.
  void reset();
  /// The learning rate of the last step (the base rate before the first step).
  [[nodiscard]] double learning_rate() const { return lr_; }
  /// The momentum of the last step: ρ (Momentum, Nesterov), μ (RMSProp) or β₁ (Adam, AdamW) —
  /// the method's own value, or the schedule's when it cycles the momentum (OneCycle with
  /// cycle_momentum); the method's own value before the first step. NaN for GradientDescent
  /// and AdaGrad, which have none.
  [[nodiscard]] double momentum() const { return momentum_; }
  /// Sets the base learning rate (the schedule scales it from the next step on).
  /// @throws nabla::Error when lr is not finite and > 0 (as the methods' own lr).
  void set_learning_rate(double lr);
  /// Tells the optimizer the latest value of f (ReduceOnPlateau reads it).
  void observe(double value) { last_value_ = value; }
  /// Number of parameters.
  [[nodiscard]] std::size_t size() const { return n_; }
  /// Steps taken since construction or reset().
  [[nodiscard]] long steps() const { return steps_; }

 protected:
  /// `momentum`: the method's ρ, μ or β₁ (NaN for a method without momentum).
  Optimizer(std::size_t n, double lr, const Extras& extras,
            double momentum = std::numeric_limits<double>::quiet_NaN());
  /// The method's rule with learning rate lr (and momentum momentum_, when it has one).
  virtual void update(std::span<double> x, std::span<const double> g, double lr) = 0;
  /// Zeroes the method's state.
  virtual void clear_state() = 0;
  long steps_ = 0;
  double momentum_;  ///< the momentum of this step (the schedule may change it per step)

 private:
  std::size_t n_;
  double base_lr_, lr_, base_momentum_;
  Extras extras_;
  Schedule schedule_;             // a copy of extras_.schedule that carries the run's state
  std::vector<double> gradient_;  // the gradient after clipping and weight decay
  double last_value_;
};

/// The stateful optimizer of a method, for n parameters.
/// @throws nabla::Error for invalid options, naming the option and the expected range: lr not
/// finite and > 0, ρ, α, β₁, β₂ or momentum outside [0, 1), ε not finite and > 0, a negative or
/// non-finite extra (clip_value, clip_norm, weight_decay), AdamW's lr·weight_decay above 1, a
/// schedule that cycles the momentum (OneCycle with cycle_momentum) for GradientDescent or
/// AdaGrad, which have none. A schedule's options are checked when the Schedule is made (see
/// schedule.hpp).
std::unique_ptr<Optimizer> make_optimizer(const GradientDescent& method, std::size_t n);
/// @copydoc make_optimizer(const GradientDescent&, std::size_t)
std::unique_ptr<Optimizer> make_optimizer(const Momentum& method, std::size_t n);
/// @copydoc make_optimizer(const GradientDescent&, std::size_t)
std::unique_ptr<Optimizer> make_optimizer(const Nesterov& method, std::size_t n);
/// @copydoc make_optimizer(const GradientDescent&, std::size_t)
std::unique_ptr<Optimizer> make_optimizer(const AdaGrad& method, std::size_t n);
/// @copydoc make_optimizer(const GradientDescent&, std::size_t)
std::unique_ptr<Optimizer> make_optimizer(const RMSProp& method, std::size_t n);
/// @copydoc make_optimizer(const GradientDescent&, std::size_t)
std::unique_ptr<Optimizer> make_optimizer(const Adam& method, std::size_t n);
/// @copydoc make_optimizer(const GradientDescent&, std::size_t)
std::unique_ptr<Optimizer> make_optimizer(const AdamW& method, std::size_t n);

}  // namespace nabla::optim
