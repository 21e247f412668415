#include "line_search.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nabla::optim::detail {

Line::Line(Run& run, std::span<const double> x, std::span<const double> d, double f0, Slope slope0,
           std::span<double> x_new, std::span<double> g_new)
    : run_(run), x_(x), d_(d), f0_(f0), slope0_(slope0), x_new_(x_new), g_new_(g_new) {}

double Line::value_at(double alpha) {
  for (std::size_t i = 0; i < x_.size(); ++i) x_new_[i] = x_[i] + alpha * d_[i];
  if (!lower_.empty()) {
    for (std::size_t i = 0; i < x_.size(); ++i)
      x_new_[i] = std::clamp(x_new_[i], lower_[i], upper_[i]);
  }
  ++evaluations_;
  return run_.evaluate(x_new_, g_new_);
}

double Line::slope() const { return dot(g_new_, d_); }

bool Line::gradient_finite() const { return all_finite(g_new_); }

bool Line::sufficient_decrease(double alpha, double value, double c1) const {
  return value <= f0_ + c1 * alpha * slope0_.u * slope0_.v;
}

bool Line::flat(double width, double value) const {
  const double noise = rounding_noise(f0_);
  return std::abs(value - f0_) <= noise && width * std::abs(slope0()) <= noise;
}

bool at_precision_limit(double value, double predicted_decrease, double grad_norm,
                        double grad_norm0) {
  return predicted_decrease <= rounding_noise(value) ||
         grad_norm <= std::sqrt(std::numeric_limits<double>::epsilon()) * grad_norm0;
}

Status failure_status(Outcome outcome) {
  return outcome == Outcome::out_of_evaluations ? Status::max_evaluations
                                                : Status::line_search_failed;
}

Outcome backtrack(Line& line, double alpha0, const Backtracking& o, LinePoint& accepted) {
  for (double alpha = alpha0, previous = alpha0;
       alpha >= 1e-20 * previous && alpha > 0 && line.evaluations() < o.max_trials &&
       !line.out_of_evaluations();
       previous = alpha, alpha *= o.shrink) {
    const double value = line.value_at(alpha);
    if (line.sufficient_decrease(alpha, value, o.c1)) {
      accepted = {alpha, value, std::numeric_limits<double>::quiet_NaN()};
      return Outcome::accepted;
    }
    if (line.flat(alpha, value)) return Outcome::flat;
  }
  return line.out_of_evaluations() ? Outcome::out_of_evaluations : Outcome::failed;
}

namespace {

// Algorithms 3.5 and 3.6 on one line, with cubic interpolation in the zoom phase.
class Wolfe {
 public:
  Wolfe(Line& line, const StrongWolfe& o) : line_(line), o_(o) {}

  Outcome search(double alpha, LinePoint& out) {
    LinePoint previous{0.0, line_.f0(), line_.slope0()};
    for (int i = 0; line_.evaluations() < o_.max_evaluations; ++i) {
      if (line_.out_of_evaluations()) return Outcome::out_of_evaluations;
      const LinePoint p = evaluate(alpha);
      if (!sufficient(p) || (i > 0 && p.value >= previous.value)) return zoom(previous, p, out);
      if (curvature(p)) return accept(p, out);
      if (p.slope >= 0) return zoom(p, previous, out);
      previous = p;
      alpha *= 2;
    }
    return Outcome::failed;
  }

 private:
  bool sufficient(const LinePoint& p) const {
    return std::isfinite(p.value) && line_.sufficient_decrease(p.alpha, p.value, o_.c1);
  }
  bool curvature(const LinePoint& p) const { return std::abs(p.slope) <= -o_.c2 * line_.slope0(); }
  LinePoint evaluate(double alpha) {
    const double value = line_.value_at(alpha);
    if (!std::isfinite(value) || !line_.gradient_finite()) {  // treat as "too far": zoom back
      return {alpha, std::numeric_limits<double>::infinity(),
              std::numeric_limits<double>::quiet_NaN()};
    }
    return {alpha, value, line_.slope()};
  }
  static Outcome accept(const LinePoint& p, LinePoint& out) {
    out = p;  // x_new and g_new hold the point just evaluated
    return Outcome::accepted;
  }
  // A trial step inside (lo, hi): the minimiser of the cubic through both points, kept at least
  // 10% of the interval away from its ends; the midpoint when the cubic is unusable.
  static double trial(const LinePoint& lo, const LinePoint& hi) {
    const double a = std::min(lo.alpha, hi.alpha), b = std::max(lo.alpha, hi.alpha), w = b - a;
    double t = 0.5 * (a + b);
    if (std::isfinite(hi.value) && std::isfinite(hi.slope)) {
      const double d1 = lo.slope + hi.slope - 3 * (lo.value - hi.value) / (lo.alpha - hi.alpha);
      const double disc = d1 * d1 - lo.slope * hi.slope;
      if (disc >= 0) {
        const double d2 = std::copysign(std::sqrt(disc), hi.alpha - lo.alpha);
        const double c = hi.alpha - (hi.alpha - lo.alpha) * (hi.slope + d2 - d1) /
                                        (hi.slope - lo.slope + 2 * d2);
        if (std::isfinite(c)) t = c;
      }
    }
    return std::clamp(t, a + 0.1 * w, b - 0.1 * w);
  }
  Outcome zoom(LinePoint lo, LinePoint hi, LinePoint& out) {
    while (line_.evaluations() < o_.max_evaluations) {
      if (line_.out_of_evaluations()) return Outcome::out_of_evaluations;
      if (std::abs(hi.alpha - lo.alpha) <= 1e-16 * std::max(1.0, std::abs(lo.alpha))) break;
      const double width = std::max(lo.alpha, hi.alpha);  // [0, both ends]
      if (line_.flat(width, lo.value) && line_.flat(width, hi.value)) return Outcome::flat;
      const LinePoint p = evaluate(trial(lo, hi));
      if (!sufficient(p) || p.value >= lo.value) {
        hi = p;
      } else {
        if (curvature(p)) return accept(p, out);
        if (p.slope * (hi.alpha - lo.alpha) >= 0) hi = lo;
        lo = p;
      }
    }
    return Outcome::failed;
  }

  Line& line_;
  const StrongWolfe& o_;
};

}  // namespace

Outcome strong_wolfe(Line& line, double alpha0, const StrongWolfe& options, LinePoint& accepted) {
  return Wolfe(line, options).search(alpha0, accepted);
}

}  // namespace nabla::optim::detail
