#include "run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "box.hpp"
#include "nabla/autodiff/error.hpp"

namespace nabla::optim::detail {

double dot(std::span<const double> a, std::span<const double> b) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

double norm(std::span<const double> v) noexcept {
  double s = 0;
  for (double x : v) s += x * x;
  if (!std::isinf(s) || !all_finite(v)) return std::sqrt(s);
  // Σx² overflowed although every x is finite (|x| above ~1e154): scale by the largest |x|.
  double largest = 0;
  for (double x : v) largest = std::max(largest, std::abs(x));
  double scaled = 0;
  for (double x : v) scaled += (x / largest) * (x / largest);
  return largest * std::sqrt(scaled);
}

bool all_finite(std::span<const double> v) noexcept {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

void validate(const Stop& s) {
  const auto check = [](bool ok, const char* rule, double got, const char* expected) {
    if (!ok) {
      nabla::detail::fail(
          "nabla::optim::minimize",
          fmt::format("invalid stopping rule {} (got {}, expected {})", rule, got, expected));
    }
  };
  check(s.grad_tol >= 0, "grad_tol", s.grad_tol, "a value >= 0");
  check(s.grad_rtol >= 0, "grad_rtol", s.grad_rtol, "a value >= 0");
  check(s.step_tol >= 0, "step_tol", s.step_tol, "a value >= 0");
  check(s.value_tol >= 0, "value_tol", s.value_tol, "a value >= 0");
  check(!std::isnan(s.target), "target", s.target, "a number (-inf to disable)");
  check(s.max_iterations >= 0, "max_iterations", s.max_iterations, "a count >= 0");
  check(s.max_evaluations >= 0, "max_evaluations", s.max_evaluations, "a count >= 0 (0: none)");
  check(s.time_limit_s >= 0, "time_limit_s", s.time_limit_s, "seconds >= 0 (0: none)");
}

void check_start(std::span<const double> x0) {
  if (x0.empty()) {
    nabla::detail::fail("nabla::optim::minimize",
                        "x0 is empty (expected a starting point with at least one coordinate)");
  }
  for (std::size_t i = 0; i < x0.size(); ++i) {
    if (!std::isfinite(x0[i])) {
      nabla::detail::fail("nabla::optim::minimize",
                          fmt::format("x0[{}] is {} (expected a finite starting point)", i, x0[i]));
    }
  }
}

Run::Run(const Objective& f, std::span<const double> x0, const Stop& stop, const Observer& observer)
    : f_(f),
      stop_(stop),
      observer_(observer),
      start_(std::chrono::steady_clock::now()),
      best_x_(x0.size()) {
  validate(stop);
  check_start(x0);
}

double Run::evaluate(std::span<const double> x, std::span<double> g) {
  const double value = f_(x, g);
  ++evaluations;
  if (std::isfinite(value) && value < best_value_ && all_finite(g)) {
    best_value_ = value;
    std::copy(x.begin(), x.end(), best_x_.begin());
  }
  return value;
}

bool Run::out_of_evaluations() const {
  // INT_MAX is a budget even when max_evaluations is 0 (off): the count is an int, and line
  // searches evaluate several times per iteration, so it could overflow before max_iterations.
  return (stop_.max_evaluations > 0 && evaluations >= stop_.max_evaluations) ||
         evaluations == std::numeric_limits<int>::max();
}

bool Run::should_stop(double value, double grad_norm, Status& status) {
  if (std::isnan(grad_norm0_)) grad_norm0_ = grad_norm;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (grad_norm <= stop_.grad_tol || grad_norm <= stop_.grad_rtol * grad_norm0_)
    status = Status::gradient_converged;
  else if (value <= stop_.target)
    status = Status::target_reached;
  else if (iterations >= stop_.max_iterations)
    status = Status::max_iterations;
  else if (out_of_evaluations())
    status = Status::max_evaluations;
  else if (stop_.time_limit_s > 0 && elapsed >= stop_.time_limit_s)
    status = Status::time_limit;
  else
    return false;
  return true;
}

bool Run::after_step(double value, double value_prev, double grad_norm, double step, double lr,
                     Status& status) {
  if (observer_.record_history || observer_.callback) {  // free when unused
    const Iteration it{
        iterations,
        value,
        grad_norm,
        step,
        lr,
        evaluations,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(),
        stop_.max_iterations};
    if (observer_.record_history) history_.iterations.push_back(it);
    if (observer_.callback && !observer_.callback(it)) {
      status = Status::stopped_by_callback;
      return true;
    }
  }
  if (stop_.step_tol > 0 && step <= stop_.step_tol) {
    status = Status::step_converged;
    return true;
  }
  if (stop_.value_tol > 0 &&
      std::abs(value - value_prev) <= stop_.value_tol * std::abs(value_prev)) {
    status = Status::value_converged;
    return true;
  }
  return false;
}

Result Run::finish(std::vector<double> x, double value, double grad_norm, Status status) {
  Result r;
  r.x = std::move(x);
  r.value = value;
  if (std::isfinite(best_value_)) {
    r.best_x = best_x_;
    r.best_value = best_value_;
  } else {  // nothing finite was ever evaluated
    r.best_x = r.x;
    r.best_value = value;
  }
  r.grad_norm = grad_norm;
  if (box != nullptr) r.active = box->active(r.x);
  r.iterations = iterations;
  r.evaluations = evaluations;
  r.hessian_evaluations = hessian_evaluations;
  r.status = status;
  r.history = std::move(history_);
  if (observer_.on_finish) observer_.on_finish(r);
  return r;
}

}  // namespace nabla::optim::detail
