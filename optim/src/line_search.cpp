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
    // Out of evaluations while f kept falling (unbounded below, or a long way to go): the last
    // point evaluated decreased f sufficiently — take it rather than lose the progress.
    if (previous.alpha > 0) return accept(previous, out);
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
    bool lo_is_last = false;  // whether x_new and g_new hold lo (the last point evaluated)
    while (line_.evaluations() < o_.max_evaluations) {
      if (line_.out_of_evaluations()) return Outcome::out_of_evaluations;
      if (std::abs(hi.alpha - lo.alpha) <= 1e-16 * std::max(1.0, std::abs(lo.alpha))) break;
      const double width = std::max(lo.alpha, hi.alpha);  // [0, both ends]
      if (line_.flat(width, lo.value) && line_.flat(width, hi.value)) return Outcome::flat;
      const LinePoint p = evaluate(trial(lo, hi));
      if (!sufficient(p) || p.value >= lo.value) {
        hi = p;
        lo_is_last = false;
      } else {
        if (curvature(p)) return accept(p, out);
        if (p.slope * (hi.alpha - lo.alpha) >= 0) hi = lo;
        lo = p;
        lo_is_last = true;
      }
    }
    // As in search(): a last point with sufficient decrease is progress, not a failure.
    if (lo_is_last && lo.alpha > 0) return accept(lo, out);
    return Outcome::failed;
  }

  Line& line_;
  const StrongWolfe& o_;
};

// Moré & Thuente, "Line search algorithms with guaranteed
// sufficient decrease", ACM TOMS 20(3), 1994 — the safeguarded step of their Section 4 (four
// cases of cubic and quadratic interpolation, extrapolation at most 4× the last step), on
// φ(α) − c1·α·φ'(0) until a point with sufficient decrease is found, then on φ itself; trial
// steps within [0, alpha_max]. A NaN or infinite f or ∇f is "too far": the step is halved and
// becomes the largest allowed. Accepts a point satisfying the strong Wolfe conditions, or
// alpha_max when f decreases sufficiently and still slopes down there.
class MoreThuente {
 public:
  MoreThuente(Line& line, const StrongWolfe& o, double alpha_max)
      : line_(line), o_(o), alpha_max_(alpha_max) {}

  Outcome search(double stp, LinePoint& out) {
    const double finit = line_.f0(), ginit = line_.slope0(), gtest = o_.c1 * ginit;
    constexpr double xtol = 0.1;
    double width = alpha_max_, width1 = 2 * width;
    double stx = 0, fx = finit, gx = ginit, sty = 0, fy = finit, gy = ginit;
    double stmin = 0, stmax = stp + 4 * stp, stpmax = alpha_max_;
    bool brackt = false, stage1 = true;
    LinePoint last{};              // the last point evaluated (x_new and g_new hold it) …
    bool last_sufficient = false;  // … and whether it decreased f sufficiently
    stp = std::min(stp, stpmax);
    while (line_.evaluations() < o_.max_evaluations) {
      if (line_.out_of_evaluations()) return Outcome::out_of_evaluations;
      const double f = line_.value_at(stp);
      if (!std::isfinite(f) || !line_.gradient_finite()) {  // too far: back off
        last_sufficient = false;
        stpmax = stp;
        stp = stx + 0.5 * (stp - stx);
        if (stp <= stx) return Outcome::failed;
        continue;
      }
      const double g = line_.slope(), ftest = finit + stp * gtest;
      last = {stp, f, g};
      last_sufficient = f <= ftest && f < finit;
      if (f <= ftest && std::abs(g) <= -o_.c2 * ginit) return accept(stp, f, g, out);
      if (stp >= alpha_max_ && f <= ftest && g < 0) return accept(stp, f, g, out);
      if (stage1 && f <= ftest && g >= 0) stage1 = false;
      // The bracket is as narrow as rounding or xtol allows: the point just evaluated (the best
      // one, stx, when the step fell outside) is taken when it decreases f sufficiently.
      if (brackt && (stp <= stmin || stp >= stmax || stmax - stmin <= xtol * stmax)) {
        if (f <= ftest && f < finit) return accept(stp, f, g, out);
        break;
      }
      if (brackt && line_.flat(std::max(stx, sty), fx) && line_.flat(std::max(stx, sty), fy))
        return Outcome::flat;
      if (stage1 && f <= fx && f > ftest) {  // the modified function ψ(α) = φ(α) − α·c1·φ'(0)
        double fxm = fx - stx * gtest, fym = fy - sty * gtest, gxm = gx - gtest, gym = gy - gtest;
        step(stx, fxm, gxm, sty, fym, gym, stp, f - stp * gtest, g - gtest, brackt, stmin, stmax);
        fx = fxm + stx * gtest;
        fy = fym + sty * gtest;
        gx = gxm + gtest;
        gy = gym + gtest;
      } else {
        step(stx, fx, gx, sty, fy, gy, stp, f, g, brackt, stmin, stmax);
      }
      if (brackt) {  // force a sufficient shrink of the bracket
        if (std::abs(sty - stx) >= 0.66 * width1) stp = stx + 0.5 * (sty - stx);
        width1 = width;
        width = std::abs(sty - stx);
        stmin = std::min(stx, sty);
        stmax = std::max(stx, sty);
      } else {
        stmin = stp + 1.1 * (stp - stx);
        stmax = stp + 4 * (stp - stx);
      }
      stp = std::clamp(stp, 0.0, stpmax);
      if (brackt && (stp <= stmin || stp >= stmax || stmax - stmin <= xtol * stmax)) stp = stx;
      if (stp <= 0) break;
    }
    // Out of evaluations (or of room) after a sufficient decrease: take that point, as
    // Wolfe::search does. Otherwise no step met the conditions: f flat to rounding, or a failure.
    if (last_sufficient) return accept(last.alpha, last.value, last.slope, out);
    return line_.flat(std::max(stx, sty), fx) && line_.flat(std::max(stx, sty), fy)
               ? Outcome::flat
               : Outcome::failed;
  }

 private:
  static Outcome accept(double stp, double f, double g, LinePoint& out) {
    out = {stp, f, g};  // x_new and g_new hold the point just evaluated
    return Outcome::accepted;
  }

  // Moré & Thuente's safeguarded step: from the best point (stx, fx, dx), the other end of the
  // interval (sty, fy, dy) and the trial (stp, fp, dp), the next trial into stp, and the new
  // interval.
  static void step(double& stx, double& fx, double& dx, double& sty, double& fy, double& dy,
                   double& stp, double fp, double dp, bool& brackt, double stpmin, double stpmax) {
    const double sgnd = dp * (dx / std::abs(dx));
    const auto cubic_gamma = [](double theta, double a, double b, bool clamp_zero) {
      const double s = std::max({std::abs(theta), std::abs(a), std::abs(b)});
      const double disc = (theta / s) * (theta / s) - (a / s) * (b / s);
      return s * std::sqrt(clamp_zero ? std::max(0.0, disc) : disc);
    };
    double stpf;
    if (fp > fx) {  // 1: a higher value — the minimum is bracketed
      const double theta = 3 * (fx - fp) / (stp - stx) + dx + dp;
      double gamma = cubic_gamma(theta, dx, dp, true);
      if (stp < stx) gamma = -gamma;
      const double p = (gamma - dx) + theta, q = ((gamma - dx) + gamma) + dp;
      const double stpc = stx + p / q * (stp - stx);
      const double stpq = stx + dx / ((fx - fp) / (stp - stx) + dx) / 2 * (stp - stx);
      stpf = std::abs(stpc - stx) < std::abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2;
      brackt = true;
    } else if (sgnd < 0) {  // 2: lower, with the derivative changing sign — bracketed
      const double theta = 3 * (fx - fp) / (stp - stx) + dx + dp;
      double gamma = cubic_gamma(theta, dx, dp, true);
      if (stp > stx) gamma = -gamma;
      const double p = (gamma - dp) + theta, q = ((gamma - dp) + gamma) + dx;
      const double stpc = stp + p / q * (stx - stp);
      const double stpq = stp + dp / (dp - dx) * (stx - stp);
      stpf = std::abs(stpc - stp) > std::abs(stpq - stp) ? stpc : stpq;
      brackt = true;
    } else if (std::abs(dp) < std::abs(dx)) {  // 3: lower, same sign, the derivative shrinks
      const double theta = 3 * (fx - fp) / (stp - stx) + dx + dp;
      double gamma = cubic_gamma(theta, dx, dp, true);
      if (stp > stx) gamma = -gamma;
      const double p = (gamma - dp) + theta, q = (gamma + (dx - dp)) + gamma, r = p / q;
      double stpc;
      if (r < 0 && gamma != 0)
        stpc = stp + r * (stx - stp);
      else
        stpc = stp > stx ? stpmax : stpmin;
      const double stpq = stp + dp / (dp - dx) * (stx - stp);
      if (brackt) {
        stpf = std::abs(stpc - stp) < std::abs(stpq - stp) ? stpc : stpq;
        stpf = stp > stx ? std::min(stp + 0.66 * (sty - stp), stpf)
                         : std::max(stp + 0.66 * (sty - stp), stpf);
      } else {
        stpf = std::abs(stpc - stp) > std::abs(stpq - stp) ? stpc : stpq;
        stpf = std::clamp(stpf, stpmin, stpmax);
      }
    } else {  // 4: lower, same sign, the derivative does not shrink
      if (brackt) {
        const double theta = 3 * (fp - fy) / (sty - stp) + dy + dp;
        double gamma = cubic_gamma(theta, dy, dp, false);
        if (stp > sty) gamma = -gamma;
        const double p = (gamma - dp) + theta, q = ((gamma - dp) + gamma) + dy;
        stpf = stp + p / q * (sty - stp);
      } else {
        stpf = stp > stx ? stpmax : stpmin;
      }
    }
    if (fp > fx) {
      sty = stp;
      fy = fp;
      dy = dp;
    } else {
      if (sgnd < 0) {
        sty = stx;
        fy = fx;
        dy = dx;
      }
      stx = stp;
      fx = fp;
      dx = dp;
    }
    stp = std::isfinite(stpf) ? stpf : stx + 0.5 * (sty - stx);
  }

  Line& line_;
  const StrongWolfe& o_;
  double alpha_max_;
};

}  // namespace

Outcome strong_wolfe(Line& line, double alpha0, const StrongWolfe& options, LinePoint& accepted) {
  return Wolfe(line, options).search(alpha0, accepted);
}

Outcome more_thuente(Line& line, double alpha0, const StrongWolfe& options, double alpha_max,
                     LinePoint& accepted) {
  return MoreThuente(line, options, alpha_max).search(alpha0, accepted);
}

}  // namespace nabla::optim::detail
