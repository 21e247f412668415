// Internal: the line searches of minimize(), shared by every method that searches along a
// direction — backtracking (Armijo) for GradientDescent{.line_search = true} (projected within
// bounds), strong Wolfe (Nocedal & Wright, Algorithms 3.5 and 3.6) for LBFGS, Moré–Thuente within
// a largest step for L-BFGS-B. All evaluate f through a Line, which evaluates through the Run:
// every evaluation is counted, kept as the best point when it is, and stopped by the evaluation
// budget.
#pragma once

#include <cmath>
#include <limits>
#include <span>

#include "nabla/optim/methods.hpp"
#include "nabla/optim/minimize.hpp"
#include "run.hpp"

namespace nabla::optim::detail {

/// φ'(0) = ∇f(x)·d (< 0 for a descent direction), as the two factors u·v it was computed from:
/// −‖g‖ and ‖g‖ when d = −∇f, the dot product and 1 otherwise. The sufficient-decrease bound
/// φ(0) + c1·α·φ'(0) is rounded as φ(0) + ((c1·α)·u)·v, so gradient descent's bound stays
/// f − c1·t·‖g‖·‖g‖ to the last bit.
struct Slope {
  double u;
  double v = 1.0;
};

/// The function along x + αd: φ(α) = f(x + αd), φ'(α) = ∇f(x + αd)·d. Each evaluation writes
/// x + αd into x_new and the gradient there into g_new, so after a search they hold the last
/// point evaluated (the accepted one, when the search succeeds).
class Line {
 public:
  Line(Run& run, std::span<const double> x, std::span<const double> d, double f0, Slope slope0,
       std::span<double> x_new, std::span<double> g_new);

  /// φ(α), with ∇f(x + αd) in g_new; the raw value, which may be NaN or infinite.
  double value_at(double alpha);
  /// φ'(α) at the last point evaluated.
  double slope() const;
  /// Whether ∇f is finite at the last point evaluated.
  bool gradient_finite() const;
  /// The Armijo condition φ(α) ≤ φ(0) + c1·α·φ'(0) (false for a NaN value).
  bool sufficient_decrease(double alpha, double value, double c1) const;
  /// Whether f is flat along the line to rounding (Note [Precision limit]): `value` is within
  /// rounding_factor·ε·|φ(0)| of φ(0), and so is the first-order change |φ'(0)|·width over an
  /// interval of α of that width.
  bool flat(double width, double value) const;

  double f0() const { return f0_; }
  double slope0() const { return slope0_.u * slope0_.v; }
  /// Evaluations made along this line.
  int evaluations() const { return evaluations_; }
  /// True when the run has no evaluation left.
  bool out_of_evaluations() const { return run_.out_of_evaluations(); }
  /// Clamps every trial point to [lower, upper] (L-BFGS-B: x + αd may leave the box by rounding).
  void clamp_to(std::span<const double> lower, std::span<const double> upper) {
    lower_ = lower;
    upper_ = upper;
  }

 private:
  Run& run_;
  std::span<const double> x_, d_;
  double f0_;
  Slope slope0_;
  std::span<double> x_new_, g_new_;
  std::span<const double> lower_, upper_;  // empty: no clamping
  int evaluations_ = 0;
};

/// A point on the line: α, φ(α) and φ'(α) (NaN where the search did not need it).
struct LinePoint {
  double alpha, value, slope;
};

/// How a line search ended: `flat` when it gave up because f does not change along the line
/// beyond rounding (Line::flat), so no step can decrease it measurably.
enum class Outcome { accepted, failed, flat, out_of_evaluations };

/// f values closer than this many ε·|f| count as equal (the rounding of a sum of many terms).
inline constexpr double rounding_factor = 100;
/// The changes of f near the value f that count as rounding: rounding_factor·ε·|f|.
inline double rounding_noise(double f) {
  return rounding_factor * std::numeric_limits<double>::epsilon() * std::abs(f);
}

/// The status a run ends with when its line search did not accept a step:
/// Status::max_evaluations or Status::line_search_failed.
Status failure_status(Outcome outcome);

/// Note [Precision limit]
/// A line search that cannot find a step has two very different causes: the point is a
/// minimizer to the precision of doubles (f along the line is flat to rounding, every trial
/// equal to f(x) within rounding_factor·ε·|f|), or something is wrong (a wrong gradient, a
/// discontinuous f). The searches give up as soon as the line is flat over the interval left
/// (Outcome::flat, instead of spending their whole budget on noise), and the run ends with
/// Status::precision_limit when, besides, the gradient is small by a scale-free test: the
/// decrease a quasi-Newton step predicts, −∇f·d, is itself below rounding of f, or
/// ‖∇f‖ ≤ √ε·‖∇f(x₀)‖. Otherwise the failure stays Status::line_search_failed.
bool at_precision_limit(double value, double predicted_decrease, double grad_norm,
                        double grad_norm0);

/// Backtracking: the first of α0, α0·shrink, α0·shrink², … with sufficient decrease
/// (a NaN or infinite value never has it; a finite value with a non-finite gradient can, and the
/// caller decides). At most max_trials trials; the search also ends when α reaches 0, when a trial
/// is below 1e-20 times the one before (a shrink < 1e-20), when the run's evaluations run out, or
/// (Outcome::flat) when f is flat to rounding over [0, α].
struct Backtracking {
  double c1;
  double shrink;
  int max_trials;
};
Outcome backtrack(Line& line, double alpha0, const Backtracking& options, LinePoint& accepted);

/// A step satisfying the strong Wolfe conditions, from α0 (Nocedal & Wright, Algorithm 3.5:
/// doubling α until a bracket is found; Algorithm 3.6: zooming in by safeguarded cubic
/// interpolation). A NaN or infinite value or gradient counts as "too far". At most
/// options.max_evaluations evaluations; Outcome::flat as soon as f is flat to rounding over the
/// bracket.
Outcome strong_wolfe(Line& line, double alpha0, const StrongWolfe& options, LinePoint& accepted);

/// A step satisfying the strong Wolfe conditions within [0, alpha_max], by Moré & Thuente's
/// safeguarded interpolation (ACM TOMS 20(3), 1994) — L-BFGS-B's search, where alpha_max is the
/// largest step that stays inside the box. Accepts alpha_max itself when f decreases
/// sufficiently there and still slopes down. A NaN or infinite f or ∇f halves the step and makes
/// it the largest allowed. At most options.max_evaluations evaluations; Outcome::flat as
/// strong_wolfe.
Outcome more_thuente(Line& line, double alpha0, const StrongWolfe& options, double alpha_max,
                     LinePoint& accepted);

}  // namespace nabla::optim::detail
