#include "nabla/optim/minimize.hpp"

#include <array>
#include <cmath>
#include <limits>
#include <optional>

#include "box.hpp"
#include "line_search.hpp"
#include "nabla/autodiff/error.hpp"
#include "run.hpp"

namespace nabla::optim {

std::string_view to_string(Status status) noexcept {
  constexpr std::array<std::string_view, 11> names = {
      "gradient_converged",  "step_converged",     "value_converged", "target_reached",
      "max_iterations",      "max_evaluations",    "time_limit",      "diverged",
      "stopped_by_callback", "line_search_failed", "precision_limit"};
  const auto i = static_cast<std::size_t>(status);
  return i < names.size() ? names[i] : std::string_view("unknown");
}

namespace detail {

namespace {
// Trials per Armijo backtracking search (0.5^1000 is far below any useful step).
constexpr int max_backtracks = 1000;
}  // namespace

Result run_first_order(const Objective& f, std::vector<double> x, Optimizer& optimizer,
                       const GradientDescent* armijo, const Stop& stop, const Observer& observer,
                       const Bounds* bounds) {
  const std::size_t n = x.size();
  // With bounds: x0 projected onto the box, x projected after each update, and the stopping
  // rules on the projected gradient ‖P(x − ∇f) − x‖ (Box::projected_gradient_norm).
  std::optional<Box> box;
  if (bounds != nullptr) {
    check_start(x);  // before the projection would hide an infinite coordinate
    box.emplace(*bounds, n);
    box->project(x);
  }
  const auto gradient_norm = [&box, &x](std::span<const double> g) {
    return box ? box->projected_gradient_norm(x, g) : norm(g);
  };
  Run run(f, x, stop, observer);
  if (box) run.box = &*box;
  if (armijo != nullptr) {
    const Extras& e = armijo->extras;
    if (e.schedule || e.clip_value != 0 || e.clip_norm != 0 || e.weight_decay != 0) {
      nabla::detail::fail(
          "nabla::optim::GradientDescent",
          "invalid option extras with line_search = true (got a schedule, clipping or weight "
          "decay, expected none: the backtracking search steps along the plain gradient from lr)");
    }
  }
  std::vector<double> g(n), x_prev(n), g_prev(n), d(armijo != nullptr ? n : 0);
  double value = run.evaluate(x, g);
  if (!std::isfinite(value) || !all_finite(g))
    return run.finish(x, value, gradient_norm(g), Status::diverged);
  double grad_norm = gradient_norm(g);
  double last_accepted = std::numeric_limits<double>::infinity();  // Armijo's last step length
  Status status = Status::max_iterations;
  while (!run.should_stop(value, grad_norm, status)) {
    const double value_prev = value, grad_norm_prev = grad_norm;
    double lr = optimizer.learning_rate();
    if (armijo != nullptr) {
      // Backtracking along d = −g from lr (line_search.hpp); on failure x stays where it was.
      // The search writes all of x before f reads it, so x_prev takes x's buffer uncopied.
      x_prev.swap(x);
      for (std::size_t i = 0; i < n; ++i) {
        g_prev[i] = g[i];
        d[i] = -g[i];
      }
      LinePoint accepted{};
      const Backtracking options{armijo->c1, armijo->shrink, max_backtracks};
      Outcome result;
      if (box) {
        result =
            projected_backtrack(run, *box, x_prev, g_prev, value_prev, lr, options, x, g, accepted);
      } else {
        Line line(run, x_prev, d, value_prev, {-grad_norm_prev, grad_norm_prev}, x, g);
        result = backtrack(line, lr, options, accepted);
      }
      if (result != Outcome::accepted) {
        x = x_prev;
        g = g_prev;
        value = value_prev;
        // Note [Precision limit]: the decrease predicted for a step as long as the last one
        // accepted with a real decrease, t·‖∇f‖² (none before the first).
        const double predicted = last_accepted * grad_norm_prev * grad_norm_prev;
        const bool precision =
            result == Outcome::flat &&
            at_precision_limit(value, predicted, grad_norm_prev, run.initial_grad_norm());
        status = precision ? Status::precision_limit : failure_status(result);
        break;
      }
      // A step whose decrease is rounding noise gives no scale (it may follow a wrong ∇f).
      if (value_prev - accepted.value > rounding_noise(value_prev)) last_accepted = accepted.alpha;
      value = accepted.value;
      lr = accepted.alpha;
    } else {
      x_prev = x;
      g_prev = g;
      optimizer.observe(value);  // for ReduceOnPlateau
      optimizer.step(x, g);
      if (box) box->project(x);
      lr = optimizer.learning_rate();
      value = run.evaluate(x, g);
    }
    ++run.iterations;
    if (!std::isfinite(value) || !all_finite(g)) {  // keep the last finite iterate
      x = x_prev;
      g = g_prev;
      value = value_prev;
      status = Status::diverged;
      break;
    }
    grad_norm = gradient_norm(g);
    double step = 0;
    for (std::size_t i = 0; i < n; ++i) step += (x[i] - x_prev[i]) * (x[i] - x_prev[i]);
    step = std::sqrt(step);
    if (run.after_step(value, value_prev, grad_norm, step, lr, status)) break;
  }
  const double final_norm = gradient_norm(g);
  return run.finish(std::move(x), value, final_norm, status);
}

}  // namespace detail

}  // namespace nabla::optim
