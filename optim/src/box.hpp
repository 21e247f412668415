// Internal: box constraints for minimize() — the validated bounds, the projection onto them, the
// projected gradient, the active set, and the projected Armijo search of projected gradient
// descent.
#pragma once

#include <span>
#include <vector>

#include "line_search.hpp"
#include "nabla/optim/minimize.hpp"
#include "run.hpp"

namespace nabla::optim::detail {

/// Bounds with one entry per coordinate (±∞ where there is none).
class Box {
 public:
  /// Checks the bounds against n coordinates (nabla::Error saying what is wrong).
  Box(const Bounds& bounds, std::size_t n);

  /// x ← P(x), the nearest point of the box.
  void project(std::span<double> x) const;
  /// ‖P(x − g) − x‖₂: zero exactly at a stationary point of f on the box.
  double projected_gradient_norm(std::span<const double> x, std::span<const double> g) const;
  /// Per coordinate: −1 at its lower bound, +1 at its upper, 0 inside.
  std::vector<int> active(std::span<const double> x) const;
  /// Whether some bound is finite.
  bool constrained() const { return constrained_; }

  std::vector<double> lower, upper;

 private:
  bool constrained_ = false;
};

/// Armijo backtracking along the projection arc x(t) = P(x − t g) (Bertsekas 1976): the first of
/// t = t0, t0·shrink, … with f(x(t)) ≤ f(x) + c1·gᵀ(x(t) − x). Writes the last point evaluated
/// into x_new, g_new; Outcome::flat when f is flat to rounding over the arc.
Outcome projected_backtrack(Run& run, const Box& box, std::span<const double> x,
                            std::span<const double> g, double f0, double t0,
                            const Backtracking& options, std::span<double> x_new,
                            std::span<double> g_new, LinePoint& accepted);

}  // namespace nabla::optim::detail
