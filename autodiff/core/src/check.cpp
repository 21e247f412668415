#include "nabla/autodiff/check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "nabla/autodiff/error.hpp"

namespace nabla {

namespace {

constexpr double eps = std::numeric_limits<double>::epsilon();

void validate(const CheckOptions& o, const char* who = "nabla::check_gradient") {
  const auto bad = [who](const char* name, double v) {
    detail::fail(who,
                 fmt::format("invalid option {} (got {}, expected a finite value >= 0)", name, v));
  };
  if (!(o.step >= 0) || !std::isfinite(o.step)) bad("step", o.step);
  if (!(o.rtol >= 0) || !std::isfinite(o.rtol)) bad("rtol", o.rtol);
  if (!(o.atol >= 0) || !std::isfinite(o.atol)) bad("atol", o.atol);
  if (o.mode != CheckMode::automatic && o.mode != CheckMode::full &&
      o.mode != CheckMode::directional) {
    detail::fail(who,
                 fmt::format("invalid option mode (got {}, expected CheckMode::automatic, full or "
                             "directional)",
                             static_cast<int>(o.mode)));
  }
}

// Finite differences need a finite point, and a step that moves it: x + h == x divides 0 by 0,
// and an overflowing x + h gives ∞ − ∞ (either reports a right gradient as wrong).
void validate_point(std::span<const double> x, const char* who = "nabla::check_gradient") {
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      detail::fail(who, fmt::format("x[{}] = {} is not finite (expected a finite point: finite "
                                    "differences need one)",
                                    i, x[i]));
    }
  }
}

void validate_step(double h, double moved, double xi, std::size_t i,
                   const char* who = "nabla::check_gradient") {
  if (!(moved > 0) || !std::isfinite(moved)) {
    detail::fail(who, fmt::format("the step {} does not move x[{}] = {} (x ± step − x is {}; "
                                  "expected a step that changes x and keeps it finite: set "
                                  "CheckOptions::step to 0 for an automatic one)",
                                  h, i, xi, moved));
  }
}

struct Numeric {
  double derivative;
  double truncation;  // estimated from the two differences
  double rounding;    // bound on what rounding in f contributes
  double kink = 0;    // how far the differences depart from a smooth f's (Note [Kinks in the step])
};

// Note [Kinks in the step]
// A kink of f (relu, abs, max: a jump Δ in slope) between x − h and x + h makes the central
// differences unreliable: at a kink on x itself both D(h) and D(h/2) give the mean of the two
// slopes, which the analytic gradient (one of them) misses by Δ/2. Such a row is not a wrong
// derivative, and the report says so. The four values the differences already take tell the
// two apart, with the value f(x) the check has anyway:
//   K₁ = 2|D(h) − D(h/2)|              (≈ f‴h²/4 for a smooth f)
//   K₂ = |s(h) − 2·s(h/2)|, s(t) = (f(x+t) − 2f(x) + f(x−t))/t  (one-sided slopes' gap; a smooth
//        f has s(t) ≈ f″t, so K₂ ≈ f⁗h³/16)
// For one kink at distance δ < h with locally linear pieces, K₁ = Δ·δ/h and K₂ = Δ·|3δ/h − 1|
// (δ < h/2), both Δ(1 − δ/h) beyond h/2: max(K₁, K₂) ≥ Δ/4, never both 0, while the error the kink
// causes in the extrapolated difference is at most Δ/2 and at most 2·max(K₁, K₂). A row that
// disagrees is called a kink when K = max(K₁, K₂) is at least half its abs error and above the
// rounding bound; a wrong derivative of a smooth f leaves K at truncation level, far below its
// error. (A wrong derivative at a kink is reported as a kink: the differences cannot check it.)

// Derivative of t ↦ f(x + t·d) at t = 0 (detail::richardson_difference), and the kink measure
// from the same four values.
Numeric directional_derivative(const std::function<double(std::span<const double>)>& f,
                               std::span<const double> x, std::span<const double> d, double h,
                               double fx) {
  std::vector<double> p(x.begin(), x.end());
  double plus_h = 0, minus_h = 0, plus_half = 0, minus_half = 0;
  const detail::Difference r = detail::richardson_difference(
      [&](double t) {
        for (std::size_t i = 0; i < x.size(); ++i) p[i] = x[i] + t * d[i];
        const double v = f(p);
        (t == h ? plus_h : t == -h ? minus_h : t > 0 ? plus_half : minus_half) = v;
        return v;
      },
      h);
  const double rounding = 64 * eps * (std::abs(fx) + 1) / h;
  const double d_h = (plus_h - minus_h) / (2 * h), d_half = (plus_half - minus_half) / h;
  const double s_h = (plus_h - 2 * fx + minus_h) / h;
  const double s_half = (plus_half - 2 * fx + minus_half) / (h / 2);
  const double kink = std::max(2 * std::abs(d_h - d_half), std::abs(s_h - 2 * s_half));
  return {r.derivative, r.truncation, rounding, std::isnan(kink) ? 0.0 : kink};
}

GradientCheckRow compare(std::size_t index, double analytic, Numeric numeric,
                         const CheckOptions& o) {
  GradientCheckRow row;
  row.index = index;
  row.analytic = analytic;
  row.numeric = numeric.derivative;
  row.numeric_error = numeric.truncation + numeric.rounding;
  row.abs_error = std::abs(analytic - numeric.derivative);
  const double scale = std::max(std::abs(analytic), std::abs(numeric.derivative));
  row.rel_error = scale > 0 ? row.abs_error / scale : 0.0;
  if (std::isnan(row.abs_error)) row.rel_error = row.abs_error;
  // Rounding in f limits what differences can resolve, so it widens the tolerance; the
  // truncation estimate does not (it would hide a kink or a wrong derivative).
  row.ok = row.abs_error <= o.atol + o.rtol * scale + numeric.rounding;
  row.kink_size = numeric.kink;
  row.kink = !row.ok && numeric.kink > numeric.rounding && numeric.kink >= 0.5 * row.abs_error;
  return row;
}

// The verdict and largest errors of a check's rows (a NaN error makes both maxima NaN).
template <class Check>
void summarize(Check& out) {
  for (const auto& r : out.rows) {
    out.ok = out.ok && r.ok;
    if constexpr (requires { out.kinks; }) {
      out.kinks += r.kink;
      out.consistent = out.consistent && (r.ok || r.kink);
    }
    out.max_abs_error = std::max(out.max_abs_error, r.abs_error);
    out.max_rel_error = std::max(out.max_rel_error, r.rel_error);
    if (std::isnan(r.abs_error)) out.max_abs_error = out.max_rel_error = r.abs_error;
  }
}

}  // namespace

std::vector<detail::Difference> detail::richardson_differences(
    const std::function<std::vector<double>(double)>& g, double h) {
  const auto central = [&](double step) {
    std::vector<double> d = g(step);
    const std::vector<double> minus = g(-step);
    for (std::size_t j = 0; j < d.size(); ++j) d[j] = (d[j] - minus[j]) / (2 * step);
    return d;
  };
  const std::vector<double> d1 = central(h), d2 = central(h / 2);
  std::vector<Difference> out(d1.size());
  for (std::size_t j = 0; j < d1.size(); ++j) {
    out[j] = {(4 * d2[j] - d1[j]) / 3, std::abs(d2[j] - d1[j]) / 3};
  }
  return out;
}

detail::Difference detail::richardson_difference(const std::function<double(double)>& g, double h) {
  return richardson_differences([&](double t) { return std::vector<double>{g(t)}; }, h)[0];
}

HessianCheck detail::compare_hessian(
    std::span<const double> x,
    const std::function<std::vector<double>(std::span<const double>)>& hvp,
    const std::function<ValueAndGradient(std::span<const double>)>& gradient,
    const CheckOptions& o) {
  constexpr const char* who = "nabla::check_hessian";
  validate(o, who);
  validate_point(x, who);
  const ValueAndGradient at_x = gradient(x);
  HessianCheck out;
  out.value = at_x.value;
  out.directional = o.mode == CheckMode::directional ||
                    (o.mode == CheckMode::automatic && x.size() > o.full_limit);
  if (out.directional && o.directions == 0) {
    detail::fail(who, fmt::format("invalid option directions (got 0, expected at least one "
                                  "direction for the directional check of {} inputs)",
                                  x.size()));
  }
  double g_scale = 1.0;
  for (double gi : at_x.gradient) g_scale = std::max(g_scale, std::abs(gi));
  double x_scale = 0.1;
  for (double xi : x) x_scale = std::max(x_scale, std::abs(xi));
  std::mt19937_64 rng(o.seed);
  const double norm = 1.0 / std::sqrt(static_cast<double>(std::max<std::size_t>(x.size(), 1)));
  const std::size_t count = out.directional ? o.directions : x.size();
  out.seed = out.directional ? o.seed : 0;
  std::vector<double> d(x.size(), 0.0), p(x.size());
  for (std::size_t k = 0; k < count; ++k) {
    double h;
    if (out.directional) {
      for (double& di : d) di = (rng() >> 63) != 0 ? norm : -norm;
      h = o.step > 0 ? o.step : 1e-3 * x_scale;
    } else {
      std::fill(d.begin(), d.end(), 0.0);
      d[k] = 1.0;
      const double step = o.step > 0 ? o.step : 1e-3 * std::max(std::abs(x[k]), 0.1);
      h = (x[k] + step) - x[k];  // exactly representable next to x[k]
    }
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (d[i] != 0.0) {
        validate_step(h, std::abs((x[i] + h * d[i]) - x[i]), x[i], i, who);
        validate_step(h, std::abs((x[i] - h * d[i]) - x[i]), x[i], i, who);
      }
    }
    const std::vector<double> analytic = hvp(d);
    const std::vector<Difference> numeric = richardson_differences(
        [&](double t) {
          for (std::size_t i = 0; i < x.size(); ++i) p[i] = x[i] + t * d[i];
          return gradient(p).gradient;
        },
        h);
    const double rounding = 64 * eps * g_scale / h;
    for (std::size_t j = 0; j < x.size(); ++j) {
      HessianCheckRow row;
      static_cast<GradientCheckRow&>(row) =
          compare(k, analytic[j], {numeric[j].derivative, numeric[j].truncation, rounding}, o);
      row.component = j;
      out.rows.push_back(row);
    }
  }
  summarize(out);
  return out;
}

GradientCheck detail::compare_gradient(std::span<const double> x, const ValueAndGradient& analytic,
                                       const std::function<double(std::span<const double>)>& f,
                                       const CheckOptions& o) {
  validate(o);
  validate_point(x);
  GradientCheck out;
  out.value = analytic.value;
  out.directional = o.mode == CheckMode::directional ||
                    (o.mode == CheckMode::automatic && x.size() > o.full_limit);
  if (out.directional && o.directions == 0) {
    detail::fail("nabla::check_gradient",
                 fmt::format("invalid option directions (got 0, expected at least one direction "
                             "for the directional check of {} inputs{})",
                             x.size(),
                             o.mode == CheckMode::automatic
                                 ? fmt::format(", above full_limit = {}", o.full_limit)
                                 : std::string()));
  }
  std::vector<double> d(x.size(), 0.0);
  if (!out.directional) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double step = o.step > 0 ? o.step : 1e-3 * std::max(std::abs(x[i]), 0.1);
      const double h = (x[i] + step) - x[i];  // a step that is exactly representable next to x[i]
      validate_step(step, h, x[i], i);
      validate_step(step, x[i] - (x[i] - h), x[i], i);
      d[i] = 1.0;
      out.rows.push_back(
          compare(i, analytic.gradient[i], directional_derivative(f, x, d, h, analytic.value), o));
      d[i] = 0.0;
    }
  } else {
    out.seed = o.seed;
    std::mt19937_64 rng(o.seed);
    const double norm = 1.0 / std::sqrt(static_cast<double>(std::max<std::size_t>(x.size(), 1)));
    double x_scale = 0.1;
    for (double xi : x) x_scale = std::max(x_scale, std::abs(xi));
    const double h = o.step > 0 ? o.step : 1e-3 * x_scale;
    // Each coordinate moves by h·norm: it must move the largest one.
    std::size_t widest = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (std::abs(x[i]) > std::abs(x[widest])) widest = i;
    }
    if (!x.empty()) {
      const double xw = x[widest];
      validate_step(h, std::abs((xw + h * norm) - xw), xw, widest);
      validate_step(h, std::abs((xw - h * norm) - xw), xw, widest);
    }
    for (std::size_t k = 0; k < o.directions; ++k) {
      double g_dot_d = 0.0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        d[i] = (rng() >> 63) != 0 ? norm : -norm;  // Rademacher directions of unit length
        g_dot_d += analytic.gradient[i] * d[i];
      }
      out.rows.push_back(
          compare(k, g_dot_d, directional_derivative(f, x, d, h, analytic.value), o));
    }
  }
  summarize(out);
  return out;
}

std::string to_string(const GradientCheck& c) {
  std::size_t bad = 0;
  for (const GradientCheckRow& r : c.rows) bad += !r.ok;
  const char* what = c.directional ? "directions" : "coordinates";
  const std::size_t wrong = bad - c.kinks;
  std::string counts = fmt::format("{} of {} {} agree", c.rows.size() - bad, c.rows.size(), what);
  if (c.kinks > 0) {
    counts +=
        fmt::format(", {} disagree, {} unreliable (f has a kink within the step)", wrong, c.kinks);
  }
  std::string s = fmt::format(
      "gradient check {}: {}; f = {:.6g}, max abs error {:.2e}, max rel error {:.2e}{}\n",
      c.ok           ? "passed"
      : c.consistent ? "INCONCLUSIVE"
                     : "FAILED",
      counts, c.value, c.max_abs_error, c.max_rel_error,
      c.directional ? fmt::format(" (random directions, seed {})", c.seed) : std::string());
  s += fmt::format("{:>9} {:>15} {:>15} {:>10} {:>10} {:>10}\n",
                   c.directional ? "direction" : "x[i]", "analytic", "numeric", "abs err",
                   "rel err", "fd err");
  for (const GradientCheckRow& r : c.rows) {
    s += fmt::format("{:>9} {:>15.8e} {:>15.8e} {:>10.2e} {:>10.2e} {:>10.2e}{}\n", r.index,
                     r.analytic, r.numeric, r.abs_error, r.rel_error, r.numeric_error,
                     r.ok     ? ""
                     : r.kink ? "  <- kink: differences unreliable"
                              : "  <- disagree");
  }
  if (c.kinks > 0) {
    s += fmt::format(
        "kink: f has a kink within h of x{} (e.g. relu/abs/max): finite differences are "
        "unreliable there, not evidence of a wrong derivative — move the point or use a smaller "
        "step (CheckOptions::step)\n",
        c.directional ? " along that direction" : "[i]");
  }
  return s;
}

std::string to_string(const HessianCheck& c) {
  std::size_t bad = 0;
  for (const HessianCheckRow& r : c.rows) bad += !r.ok;
  std::string s = fmt::format(
      "Hessian check {}: {} of {} entries of H·v agree; f = {:.6g}, max abs error {:.2e}, max "
      "rel error {:.2e}{}\n",
      c.ok ? "passed" : "FAILED", c.rows.size() - bad, c.rows.size(), c.value, c.max_abs_error,
      c.max_rel_error,
      c.directional ? fmt::format(" (random directions v, seed {})", c.seed)
                    : std::string(" (v = each coordinate: the Hessian's columns)"));
  s += fmt::format("{:>9} {:>9} {:>15} {:>15} {:>10} {:>10} {:>10}\n",
                   c.directional ? "direction" : "column", "row", "analytic", "numeric", "abs err",
                   "rel err", "fd err");
  for (const HessianCheckRow& r : c.rows) {
    s += fmt::format("{:>9} {:>9} {:>15.8e} {:>15.8e} {:>10.2e} {:>10.2e} {:>10.2e}{}\n", r.index,
                     r.component, r.analytic, r.numeric, r.abs_error, r.rel_error, r.numeric_error,
                     r.ok ? "" : "  <- disagree");
  }
  return s;
}

}  // namespace nabla
