// nabla::optim — the stateful object behind every first-order method: one update rule, written
// once, over flat buffers. minimize() and training loops both use it.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

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
  /// Updates x in place from the gradient g (one step).
  /// @throws nabla::Error when x or g does not have the optimizer's size.
  void step(std::span<double> x, std::span<const double> g);
  /// Forgets the state: the next step is the method's first.
  virtual void reset() = 0;
  /// The learning rate the next step uses.
  [[nodiscard]] virtual double learning_rate() const = 0;
  /// Sets the learning rate (schedules and line searches use it).
  virtual void set_learning_rate(double lr) = 0;
  /// Number of parameters.
  [[nodiscard]] std::size_t size() const { return n_; }
  /// Steps taken since construction or reset().
  [[nodiscard]] long steps() const { return steps_; }

 protected:
  explicit Optimizer(std::size_t n) : n_(n) {}
  virtual void update(std::span<double> x, std::span<const double> g) = 0;
  long steps_ = 0;

 private:
  std::size_t n_;
};

/// The stateful optimizer of a method, for n parameters.
/// @throws nabla::Error for invalid options (a non-positive learning rate, β outside [0, 1), …).
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
