// least_squares(): Levenberg–Marquardt as in MINPACK's lmder (Moré 1978) — a trust region in
// the norm ‖D·p‖, D from the Jacobian's column norms — with the trust-region subproblem solved
// through an SVD of the scaled Jacobian instead of a QR factorization, robust losses as SciPy
// applies them, and bounds by an active set and projection (Note [Bounds]).
#include "nabla/optim/least_squares.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>

#include "nabla/autodiff/error.hpp"
#include "run.hpp"

namespace nabla::optim {

std::string_view to_string(Loss loss) noexcept {
  constexpr std::array<std::string_view, 4> names = {"linear", "huber", "soft_l1", "cauchy"};
  const auto i = static_cast<std::size_t>(loss);
  return i < names.size() ? names[i] : std::string_view("unknown");
}

std::string_view to_string(CovarianceStatus status) noexcept {
  constexpr std::array<std::string_view, 4> names = {"ok", "singular", "no_degrees_of_freedom",
                                                     "not_computed"};
  const auto i = static_cast<std::size_t>(status);
  return i < names.size() ? names[i] : std::string_view("unknown");
}

namespace detail {

// Note [Bounds]
// Projected Levenberg–Marquardt (Kanzow, Yamashita & Fukushima 2004, here inside Moré's trust
// region): a parameter at a bound whose gradient points out of the box is held (its column is
// left out of the subproblem); the step of the others is solved as without bounds, x + p is
// projected onto the box, and the step actually taken is judged by the ratio of the actual to
// the predicted reduction of its own model. As the trust region shrinks the step turns into a
// scaled gradient step, which the projection keeps a descent direction: a rejected projection
// is followed by a shorter, more gradient-like one. Iterates are always feasible; a start
// outside the box is projected onto it first.

namespace {

constexpr double eps = std::numeric_limits<double>::epsilon();
constexpr const char* fn = "nabla::optim::least_squares";

// ρ(z), ρ′(z) and ρ″(z) of a loss at z = (r/C)² (SciPy's formulas).
struct Rho {
  double value, d1, d2;
};

Rho rho(Loss loss, double z) {
  switch (loss) {
    case Loss::huber:
      if (z <= 1) return {z, 1, 0};
      return {2 * std::sqrt(z) - 1, 1 / std::sqrt(z), -0.5 / (z * std::sqrt(z))};
    case Loss::soft_l1: {
      const double t = 1 + z;
      return {2 * (std::sqrt(t) - 1), 1 / std::sqrt(t), -0.5 / (t * std::sqrt(t))};
    }
    case Loss::cauchy:
      return {std::log1p(z), 1 / (1 + z), -1 / ((1 + z) * (1 + z))};
    case Loss::linear:
      break;
  }
  return {z, 1, 0};
}

// The state at one point: raw residuals and Jacobian, the cost and the model's residuals r̃ and
// Jacobian J̃ (equal to the raw ones for the linear loss), the gradient g = J̃ᵀr̃ = Jᵀ(ρ′·r).
struct Point {
  nabla::Jacobian raw;
  double cost = 0;
  std::vector<double> r;  // r̃, m entries
  std::vector<double> J;  // J̃, m×n row-major
  std::vector<double> g;  // n entries
};

// Robust losses the way SciPy's least_squares applies them (a simplified Triggs correction):
// with s = √max(ρ′ + 2zρ″, ε), the model uses r̃ = ρ′·r/s and J̃ = s·J, whose gradient J̃ᵀr̃ is
// the exact gradient of the cost and whose J̃ᵀJ̃ keeps the loss's curvature along r.
void apply_loss(Point& p, const LeastSquares& o) {
  const std::size_t m = p.raw.rows, n = p.raw.cols;
  p.r = p.raw.values;
  p.J = p.raw.data;
  p.g.assign(n, 0.0);
  double sum = 0;
  if (o.loss == Loss::linear) {
    for (double v : p.r) sum += v * v;
    p.cost = 0.5 * sum;
  } else {
    const double c2 = o.loss_scale * o.loss_scale;
    for (std::size_t i = 0; i < m; ++i) {
      const double z = (p.r[i] / o.loss_scale) * (p.r[i] / o.loss_scale);
      const Rho q = rho(o.loss, z);
      sum += q.value;
      const double s = std::sqrt(std::max(q.d1 + 2 * z * q.d2, eps));
      p.r[i] *= q.d1 / s;
      for (std::size_t j = 0; j < n; ++j) p.J[i * n + j] *= s;
    }
    p.cost = 0.5 * c2 * sum;
  }
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) p.g[j] += p.J[i * n + j] * p.r[i];
}

// ‖column j‖ of a row-major m×n matrix.
double column_norm(const std::vector<double>& a, std::size_t m, std::size_t n, std::size_t j) {
  std::vector<double> c(m);
  for (std::size_t i = 0; i < m; ++i) c[i] = a[i * n + j];
  return norm(c);
}

// One-sided Jacobi SVD (Hestenes) of the m×k matrix whose columns are `cols` (column-major):
// on return cols[j] = σⱼ·uⱼ, sigma[j] = σⱼ and v (k×k, column-major) holds the right singular
// vectors. Accurate to high relative precision, which the covariance of ill-conditioned fits
// needs; k is the number of parameters, so the cost O(m·k²) per sweep is that of a QR.
void jacobi_svd(std::vector<double>& cols, std::size_t m, std::size_t k, std::vector<double>& sigma,
                std::vector<double>& v) {
  v.assign(k * k, 0.0);
  for (std::size_t j = 0; j < k; ++j) v[j * k + j] = 1;
  for (int sweep = 0; sweep < 100; ++sweep) {
    bool rotated = false;
    for (std::size_t p = 0; p + 1 < k; ++p) {
      for (std::size_t q = p + 1; q < k; ++q) {
        double* a = &cols[p * m];
        double* b = &cols[q * m];
        double alpha = 0, beta = 0, gamma = 0;
        for (std::size_t i = 0; i < m; ++i) {
          alpha += a[i] * a[i];
          beta += b[i] * b[i];
          gamma += a[i] * b[i];
        }
        if (gamma == 0 || std::abs(gamma) <= eps * std::sqrt(alpha) * std::sqrt(beta)) continue;
        rotated = true;
        const double zeta = (beta - alpha) / (2 * gamma);
        const double t = std::abs(zeta) > 1e150
                             ? 0.5 / zeta
                             : std::copysign(1.0, zeta) / (std::abs(zeta) + std::hypot(1.0, zeta));
        const double c = 1 / std::sqrt(1 + t * t), s = c * t;
        for (std::size_t i = 0; i < m; ++i) {
          const double x = a[i], y = b[i];
          a[i] = c * x - s * y;
          b[i] = s * x + c * y;
        }
        double* vp = &v[p * k];
        double* vq = &v[q * k];
        for (std::size_t i = 0; i < k; ++i) {
          const double x = vp[i], y = vq[i];
          vp[i] = c * x - s * y;
          vq[i] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  sigma.resize(k);
  for (std::size_t j = 0; j < k; ++j) sigma[j] = norm(std::span<const double>(&cols[j * m], m));
}

// The trust-region subproblem min ‖r̃ + J̃p‖ subject to ‖D·p‖ ≤ Δ over the free parameters, by
// an SVD of J̃·D⁻¹: p(λ) = −D⁻¹ V diag(σ/(σ² + λ)) Uᵀr̃, with λ = 0 when the Gauss–Newton step
// (minimum-norm: singular values below ε·max(m, k)·σ_max count as 0) fits, otherwise λ > 0
// with ‖D·p(λ)‖ within 10% of Δ (Moré's safeguarded Newton iteration on the secular equation).
struct Subproblem {
  std::vector<double> sigma, b, v;  // singular values, Uᵀr̃, right singular vectors
  std::vector<std::size_t> free;    // the parameters in the subproblem
  std::size_t k = 0;

  void factor(const Point& p, std::span<const double> d, std::span<const std::size_t> free_set) {
    const std::size_t m = p.raw.rows, n = p.raw.cols;
    free.assign(free_set.begin(), free_set.end());
    k = free.size();
    std::vector<double> cols(m * k);
    for (std::size_t c = 0; c < k; ++c)
      for (std::size_t i = 0; i < m; ++i) cols[c * m + i] = p.J[i * n + free[c]] / d[free[c]];
    jacobi_svd(cols, m, k, sigma, v);
    double largest = 0;
    for (double s : sigma) largest = std::max(largest, s);
    const double cutoff = eps * static_cast<double>(std::max(m, k)) * largest;
    b.assign(k, 0.0);
    for (std::size_t c = 0; c < k; ++c) {
      if (sigma[c] <= cutoff || sigma[c] == 0) {
        sigma[c] = 0;  // a direction the data do not determine: left out of the step
        continue;
      }
      double s = 0;
      for (std::size_t i = 0; i < m; ++i) s += cols[c * m + i] * p.r[i];
      b[c] = s / sigma[c];
    }
  }
  // ‖q(λ)‖² and its derivative in λ.
  std::pair<double, double> norm2(double lambda) const {
    double q = 0, dq = 0;
    for (std::size_t c = 0; c < k; ++c) {
      if (sigma[c] == 0) continue;
      const double den = sigma[c] * sigma[c] + lambda;
      const double t = sigma[c] * b[c] / den;
      q += t * t;
      dq -= 2 * t * t / den;
    }
    return {q, dq};
  }
  // λ for trust radius Δ.
  double lambda_for(double delta) const {
    auto [q2, dq2] = norm2(0);
    if (std::sqrt(q2) <= 1.1 * delta) return 0;
    double gnorm2 = 0;
    for (std::size_t c = 0; c < k; ++c) gnorm2 += sigma[c] * sigma[c] * b[c] * b[c];
    double lo = 0, hi = std::sqrt(gnorm2) / delta;  // ‖q(hi)‖ ≤ Δ
    double lambda = 0;
    for (int it = 0; it < 200; ++it) {
      const double qn = std::sqrt(q2);
      const double phi = qn - delta;
      if (std::abs(phi) <= 0.1 * delta) return lambda;
      if (phi < 0)
        hi = lambda;
      else
        lo = lambda;
      // Newton on 1/‖q‖ (Moré): λ += (‖q‖/Δ)·φ/(−‖q‖′), with ‖q‖′ = dq2/(2‖q‖).
      double next = dq2 < 0 ? lambda + (qn / delta) * phi / (-dq2 / (2 * qn)) : hi;
      if (!(next > lo && next < hi)) next = lo > 0 ? std::sqrt(lo * hi) : 1e-3 * hi;
      if (next <= lo || next >= hi) next = 0.5 * (lo + hi);
      lambda = next;
      std::tie(q2, dq2) = norm2(lambda);
    }
    return lambda;
  }
  // The step for λ in the unscaled parameters (0 for the held ones).
  void step(double lambda, std::span<const double> d, std::span<double> p) const {
    std::fill(p.begin(), p.end(), 0.0);
    for (std::size_t c = 0; c < k; ++c) {
      if (sigma[c] == 0) continue;
      const double w = -sigma[c] * b[c] / (sigma[c] * sigma[c] + lambda);
      for (std::size_t i = 0; i < k; ++i) p[free[i]] += w * v[c * k + i];
    }
    for (std::size_t i = 0; i < k; ++i) p[free[i]] /= d[free[i]];
  }
};

void check_options(const LeastSquares& o, std::size_t n) {
  const auto check = [](bool ok, const char* option, auto got, const char* expected) {
    if (!ok) {
      nabla::detail::fail(
          fn, fmt::format("invalid option {} (got {}, expected {})", option, got, expected));
    }
  };
  const auto i = static_cast<int>(o.loss);
  check(i >= 0 && i <= 3, "loss", i, "linear, huber, soft_l1 or cauchy");
  // The cost is ½C²Σρ((r/C)²): C² must neither overflow nor underflow (C = 1e300 made it
  // inf·0 = NaN, reported as a cost overflowing at x0).
  const double c2 = o.loss_scale * o.loss_scale;
  check(o.loss_scale > 0 && std::isfinite(c2) && c2 >= std::numeric_limits<double>::min(),
        "loss_scale", o.loss_scale,
        "a value > 0 whose square is a finite normal double, between about 1e-154 and 1e154");
  check(o.ftol >= 0 && std::isfinite(o.ftol), "ftol", o.ftol, "a finite value >= 0");
  check(o.xtol >= 0 && std::isfinite(o.xtol), "xtol", o.xtol, "a finite value >= 0");
  check(o.gtol >= 0 && std::isfinite(o.gtol), "gtol", o.gtol, "a finite value >= 0");
  check(o.max_evaluations >= 0, "max_evaluations", o.max_evaluations, "a count >= 0 (0: 100(n+1))");
  check(std::isfinite(o.step_bound) && o.step_bound > 0, "step_bound", o.step_bound,
        "a finite value > 0");
  const auto j = static_cast<int>(o.jacobian);
  check(j >= 0 && j <= 2, "jacobian", j, "automatic, forward or reverse");
  const auto sized = [&](const std::vector<double>& v, const char* name) {
    if (!v.empty() && v.size() != n) {
      nabla::detail::fail(fn, fmt::format("invalid option {} (got {} values, expected {} — one per "
                                          "parameter — or none)",
                                          name, v.size(), n));
    }
  };
  sized(o.lower, "lower");
  sized(o.upper, "upper");
  sized(o.x_scale, "x_scale");
  for (std::size_t k = 0; k < o.x_scale.size(); ++k) {
    if (!(std::isfinite(o.x_scale[k]) && o.x_scale[k] > 0)) {
      nabla::detail::fail(fn, fmt::format("invalid option x_scale[{}] (got {}, expected a finite "
                                          "value > 0)",
                                          k, o.x_scale[k]));
    }
  }
  for (std::size_t k = 0; k < n; ++k) {
    const double lo = o.lower.empty() ? -HUGE_VAL : o.lower[k];
    const double hi = o.upper.empty() ? HUGE_VAL : o.upper[k];
    if (std::isnan(lo) || std::isnan(hi) || lo > hi || lo == HUGE_VAL || hi == -HUGE_VAL) {
      nabla::detail::fail(fn, fmt::format("invalid bounds for x[{}] (got [{}, {}], expected lower "
                                          "<= upper, not NaN, lower < inf and upper > -inf)",
                                          k, lo, hi));
    }
  }
}

void check_point(std::span<const double> x0) {
  if (x0.empty()) {
    nabla::detail::fail(fn, "x0 is empty (expected a starting point with at least one parameter)");
  }
  for (std::size_t i = 0; i < x0.size(); ++i) {
    if (!std::isfinite(x0[i])) {
      nabla::detail::fail(fn,
                          fmt::format("x0[{}] is {} (expected a finite starting point)", i, x0[i]));
    }
  }
}

bool finite(const nabla::Jacobian& J) { return all_finite(J.values) && all_finite(J.data); }

}  // namespace

LeastSquaresResult run_least_squares(const Residuals& f, std::vector<double> x0,
                                     const LeastSquares& o, bool can_forward, bool can_reverse,
                                     const std::function<bool(const Iteration&)>& callback) {
  const std::size_t n = x0.size();
  check_point(x0);
  check_options(o, n);
  if (o.jacobian == JacobianMode::forward && !can_forward) {
    nabla::detail::fail(fn,
                        "invalid option jacobian (got forward, expected reverse or automatic: "
                        "the residuals cannot be called with nabla::Dual<double, 4>)");
  }
  if (o.jacobian == JacobianMode::reverse && !can_reverse) {
    nabla::detail::fail(fn,
                        "invalid option jacobian (got reverse, expected forward or automatic: "
                        "the residuals cannot be called with nabla::Var)");
  }
  std::vector<double> lower(n, -HUGE_VAL), upper(n, HUGE_VAL);
  if (!o.lower.empty()) lower = o.lower;
  if (!o.upper.empty()) upper = o.upper;
  std::vector<double> x = std::move(x0);
  for (std::size_t j = 0; j < n; ++j) x[j] = std::clamp(x[j], lower[j], upper[j]);

  const long budget = o.max_evaluations > 0 ? o.max_evaluations : 100 * (static_cast<long>(n) + 1);
  const int max_evaluations =
      static_cast<int>(std::min<long>(budget, std::numeric_limits<int>::max()));
  const auto start = std::chrono::steady_clock::now();

  // The first evaluation tells m; automatic mode uses reverse mode for it when it can.
  bool forward = o.jacobian == JacobianMode::forward ||
                 (o.jacobian == JacobianMode::automatic && !can_reverse);
  int evaluations = 0;
  std::size_t m = 0;
  const auto evaluate = [&](std::span<const double> at) {
    nabla::Jacobian J = f(at, forward);
    ++evaluations;
    if (J.rows != m || J.cols != n) {
      nabla::detail::fail(fn, fmt::format("the residuals changed in number (got {} at evaluation "
                                          "{}, expected {} as at x0)",
                                          J.rows, evaluations, m));
    }
    return J;
  };

  Point cur;
  cur.raw = f(x, forward);
  ++evaluations;
  m = cur.raw.rows;
  if (m == 0) nabla::detail::fail(fn, "the residuals are empty (expected at least one residual)");
  if (o.covariance && m < n) {
    nabla::detail::fail(fn, fmt::format("{} residuals for {} parameters (expected at least as many "
                                        "residuals as parameters for the covariance; set "
                                        "covariance = false to fit anyway)",
                                        m, n));
  }
  for (std::size_t i = 0; i < m; ++i) {
    if (!std::isfinite(cur.raw.values[i])) {
      nabla::detail::fail(fn, fmt::format("the residuals are not finite at x0 (r[{}] = {}, "
                                          "expected finite residuals at the starting point)",
                                          i, cur.raw.values[i]));
    }
  }
  if (!all_finite(cur.raw.data)) {
    nabla::detail::fail(fn,
                        "the Jacobian of the residuals is not finite at x0 (expected finite "
                        "derivatives at the starting point)");
  }
  if (o.jacobian == JacobianMode::automatic) forward = can_forward && (n <= m || !can_reverse);
  apply_loss(cur, o);
  if (!std::isfinite(cur.cost)) {
    nabla::detail::fail(fn, fmt::format("the cost overflows at x0 (got {}, expected ½Σρ(r²) to be "
                                        "finite)",
                                        cur.cost));
  }

  // Scaling D (MINPACK mode 1: the largest column norm of J̃ seen, or 1/x_scale).
  std::vector<double> d(n, 1.0), colnorm(n);
  const auto column_norms = [&](const Point& p) {
    for (std::size_t j = 0; j < n; ++j) colnorm[j] = column_norm(p.J, m, n, j);
  };
  column_norms(cur);
  for (std::size_t j = 0; j < n; ++j) {
    if (!o.x_scale.empty())
      d[j] = 1 / o.x_scale[j];
    else
      d[j] = colnorm[j] > 0 ? colnorm[j] : 1.0;
  }
  const auto scaled_norm = [&](std::span<const double> v) {
    std::vector<double> dv(n);
    for (std::size_t j = 0; j < n; ++j) dv[j] = d[j] * v[j];
    return norm(dv);
  };
  double xnorm = scaled_norm(x);
  double delta = o.step_bound * (xnorm > 0 ? xnorm : 1.0);

  // Held: at a bound with the gradient pointing out of the box (Note [Bounds]).
  const auto held = [&](std::size_t j, const Point& p) {
    return lower[j] == upper[j] || (x[j] <= lower[j] && p.g[j] > 0) ||
           (x[j] >= upper[j] && p.g[j] < 0);
  };
  // MINPACK's gtol measure: the largest |cosine| between r̃ and a free column of J̃, with
  // √(2·cost) for ‖r̃‖ so that robust losses measure against the cost.
  const auto gradient_measure = [&](const Point& p) {
    if (p.cost == 0) return 0.0;
    const double rnorm = std::sqrt(2 * p.cost);
    double worst = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (held(j, p) || colnorm[j] == 0) continue;
      worst = std::max(worst, std::abs(p.g[j]) / colnorm[j] / rnorm);
    }
    return worst;
  };
  const auto projected_gradient_norm = [&](const Point& p) {
    std::vector<double> pg(n);
    for (std::size_t j = 0; j < n; ++j) pg[j] = held(j, p) ? 0.0 : p.g[j];
    return norm(pg);
  };

  Status status = Status::max_evaluations;
  int iterations = 0;
  bool first_trial = true;
  Subproblem sub;
  std::vector<double> p(n), x_new(n), s(n), Js(m);
  std::vector<std::size_t> free_set;
  bool done = false;
  while (!done) {
    // A new point: its gradient test, scaling and factorization.
    if (gradient_measure(cur) <= o.gtol) {
      status = Status::gradient_converged;
      break;
    }
    if (evaluations >= max_evaluations) {
      status = Status::max_evaluations;
      break;
    }
    column_norms(cur);
    if (o.x_scale.empty()) {
      // MINPACK keeps the largest column norm seen; a column that has since shrunk by more than
      // 10⁸ (a residual like exp(50x²) fitted from far out) restarts at its current norm: else
      // its singular value in J̃·D⁻¹ falls below the rank cutoff, the step leaves it out and the
      // run ended gradient_converged far from a minimum.
      bool rescaled = false;
      for (std::size_t j = 0; j < n; ++j) {
        if (colnorm[j] > 0 && colnorm[j] < 1e-8 * d[j]) {
          d[j] = colnorm[j];
          rescaled = true;
        }
        d[j] = std::max(d[j], colnorm[j]);
      }
      if (rescaled) xnorm = scaled_norm(x);
    }
    free_set.clear();
    for (std::size_t j = 0; j < n; ++j)
      if (!held(j, cur)) free_set.push_back(j);
    sub.factor(cur, d, free_set);

    // Trials until one is accepted (MINPACK's inner loop).
    for (;;) {
      const double lambda = sub.lambda_for(delta);
      sub.step(lambda, d, p);
      bool any = false;
      for (std::size_t j = 0; j < n; ++j) {
        x_new[j] = std::clamp(x[j] + p[j], lower[j], upper[j]);
        s[j] = x_new[j] - x[j];
        any = any || s[j] != 0;
      }
      const double pnorm = scaled_norm(s);
      if (first_trial) {
        delta = std::min(delta, pnorm > 0 ? pnorm : delta);
        first_trial = false;
      }
      // The model's reduction for the step taken: −(gᵀs + ½‖J̃s‖²), relative to the cost.
      double gs = 0, js2 = 0;
      for (std::size_t j = 0; j < n; ++j) gs += cur.g[j] * s[j];
      for (std::size_t i = 0; i < m; ++i) {
        double t = 0;
        for (std::size_t j = 0; j < n; ++j) t += cur.J[i * n + j] * s[j];
        js2 += t * t;
      }
      const double prered = -(gs + 0.5 * js2) / cur.cost;
      const double dirder = gs / (2 * cur.cost);

      Point trial;
      double actred = -1;
      bool accepted_point = false;
      if (any) {
        trial.raw = evaluate(x_new);
        if (finite(trial.raw)) {
          apply_loss(trial, o);
          if (std::isfinite(trial.cost) && all_finite(trial.g)) {
            accepted_point = true;
            // MINPACK: a cost 100 times larger counts as −1.
            if (trial.cost < 100 * cur.cost) actred = (cur.cost - trial.cost) / cur.cost;
          }
        }
      }
      const double ratio = prered > 0 ? actred / prered : 0;

      // The trust radius (MINPACK's rules).
      if (ratio <= 0.25) {
        double temp = actred >= 0 ? 0.5 : 0.5 * dirder / (dirder + 0.5 * actred);
        if (!accepted_point || trial.cost >= 100 * cur.cost || temp < 0.1 || std::isnan(temp))
          temp = 0.1;
        delta = any ? temp * std::min(delta, pnorm / 0.1) : 0.1 * delta;
      } else if (lambda == 0 || ratio >= 0.75) {
        delta = pnorm / 0.5;
      }

      const bool accepted = ratio >= 1e-4 && accepted_point;
      if (accepted) {
        x = x_new;
        cur = std::move(trial);
        xnorm = scaled_norm(x);
        ++iterations;
        if (callback) {
          const Iteration it{
              iterations,
              cur.cost,
              projected_gradient_norm(cur),
              norm(s),
              delta,
              evaluations,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
              0};
          if (!callback(it)) {
            status = Status::stopped_by_callback;
            done = true;
            break;
          }
        }
      }
      // The tests (MINPACK's order, with the new point's gradient test first: MINPACK makes it
      // at the top of the next iteration, after the ftol and xtol tests of this step, so an
      // exact fit — zero residuals, zero gradient — would end as value or step converged).
      if (accepted && gradient_measure(cur) <= o.gtol) {
        status = Status::gradient_converged;
        done = true;
      } else if (std::all_of(p.begin(), p.end(), [](double v) { return v == 0; })) {
        status = Status::gradient_converged;  // the model has no descent direction left
        done = true;
      } else if (std::abs(actred) <= o.ftol && prered <= o.ftol && 0.5 * ratio <= 1) {
        status = Status::value_converged;
        done = true;
      } else if (delta <= o.xtol * xnorm) {
        status = Status::step_converged;
        done = true;
      } else if (evaluations >= max_evaluations) {
        status = Status::max_evaluations;
        done = true;
      } else if (std::abs(actred) <= eps && prered <= eps && 0.5 * ratio <= 1) {
        status = Status::value_converged;  // no further reduction possible to rounding
        done = true;
      } else if (delta <= eps * xnorm || delta == 0) {
        status = Status::step_converged;  // the trust region shrank to rounding
        done = true;
      }
      if (done || ratio >= 1e-4) break;
    }
  }

  LeastSquaresResult res;
  res.grad_norm = projected_gradient_norm(cur);
  res.x = std::move(x);
  res.cost = cur.cost;
  res.residuals = cur.raw.values;
  res.jacobian = std::move(cur.raw);
  res.active.assign(n, 0);
  for (std::size_t j = 0; j < n; ++j) {
    if (res.x[j] <= lower[j])
      res.active[j] = -1;
    else if (res.x[j] >= upper[j])
      res.active[j] = 1;
  }
  res.iterations = iterations;
  res.evaluations = evaluations;
  res.status = status;
  res.mode = forward ? JacobianMode::forward : JacobianMode::reverse;

  // The covariance σ²(J̃ᵀJ̃)⁻¹ (SciPy's curve_fit: J̃ is the Jacobian as the loss scales it), from
  // an SVD of J̃ with its columns scaled to norm 1 — scaling by E: (J̃ᵀJ̃)⁻¹ = E⁻¹V Σ⁻² VᵀE⁻¹.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  res.covariance.assign(n * n, nan);
  res.standard_errors.assign(n, nan);
  res.sigma2 = m > n ? 2 * res.cost / static_cast<double>(m - n) : nan;
  if (!o.covariance) {
    res.covariance_status = CovarianceStatus::not_computed;
    return res;
  }
  column_norms(cur);
  std::vector<double> cols(m * n);
  bool singular = false;
  for (std::size_t j = 0; j < n; ++j) {
    if (colnorm[j] == 0 || !std::isfinite(colnorm[j])) singular = true;
    for (std::size_t i = 0; i < m; ++i) cols[j * m + i] = cur.J[i * n + j] / colnorm[j];
  }
  std::vector<double> sigma, v;
  if (!singular) {
    jacobi_svd(cols, m, n, sigma, v);
    const double largest = *std::max_element(sigma.begin(), sigma.end());
    const double smallest = *std::min_element(sigma.begin(), sigma.end());
    singular = !(smallest > eps * static_cast<double>(std::max(m, n)) * largest);
  }
  if (singular) {
    res.covariance_status = CovarianceStatus::singular;
    return res;
  }
  if (m == n) {
    res.covariance_status = CovarianceStatus::no_degrees_of_freedom;
    return res;
  }
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t b = 0; b < n; ++b) {
      double sum = 0;
      for (std::size_t c = 0; c < n; ++c)
        sum += v[c * n + a] * v[c * n + b] / (sigma[c] * sigma[c]);
      res.covariance[a * n + b] = res.sigma2 * sum / (colnorm[a] * colnorm[b]);
    }
  }
  for (std::size_t j = 0; j < n; ++j) res.standard_errors[j] = std::sqrt(res.covariance[j * n + j]);
  res.covariance_status = CovarianceStatus::ok;
  return res;
}

}  // namespace detail
}  // namespace nabla::optim
