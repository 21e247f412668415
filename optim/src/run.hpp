// Internal: the bookkeeping every method shares in minimize() — evaluations, the best point,
// stopping rules, time, the observer and the history.
#pragma once

#include <chrono>
#include <cmath>
#include <span>
#include <vector>

#include "nabla/optim/minimize.hpp"

namespace nabla::optim::detail {

/// a·b, summed in order.
double dot(std::span<const double> a, std::span<const double> b) noexcept;
/// ‖v‖₂, without overflow when the squares overflow but the values are finite.
double norm(std::span<const double> v) noexcept;
bool all_finite(std::span<const double> v) noexcept;
void validate(const Stop& stop);
/// Throws nabla::Error for an empty x0 or one with a NaN or infinite coordinate.
void check_start(std::span<const double> x0);

class Box;

class Run {
 public:
  /// Checks the stopping rules and the starting point x0 (nabla::Error when invalid).
  Run(const Objective& f, std::span<const double> x0, const Stop& stop, const Observer& observer);

  /// f(x) with ∇f into g; counts the evaluation and remembers the best finite point.
  double evaluate(std::span<const double> x, std::span<double> g);
  /// The status of a stopping rule that holds before the next iteration, if any. The first
  /// call sees the start: its gradient norm is ‖∇f(x₀)‖ (for Stop::grad_rtol).
  bool should_stop(double value, double grad_norm, Status& status);
  /// ‖∇f(x₀)‖₂ (known after the first should_stop).
  double initial_grad_norm() const { return grad_norm0_; }
  /// True when no evaluation budget is left.
  bool out_of_evaluations() const;
  /// After a step: reports it to the history and the observer, then applies the step and value
  /// rules. True (with `status` set) when the run should end.
  bool after_step(double value, double value_prev, double grad_norm, double step, double lr,
                  Status& status);
  /// The result at x (the method's last finite iterate).
  Result finish(std::vector<double> x, double value, double grad_norm, Status status);

  int iterations = 0;
  int evaluations = 0;
  /// The bounds of a bounded run: finish() reports the active set (Result::active).
  const Box* box = nullptr;
  int hessian_evaluations = 0;  ///< counted by the Newton methods themselves

 private:
  const Objective& f_;
  const Stop& stop_;
  const Observer& observer_;
  std::chrono::steady_clock::time_point start_;
  std::vector<double> best_x_;
  double best_value_ = std::numeric_limits<double>::infinity();
  double grad_norm0_ = std::numeric_limits<double>::quiet_NaN();
  History history_;
};

}  // namespace nabla::optim::detail
