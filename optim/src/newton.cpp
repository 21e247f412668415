// Trust-region Newton methods (Nocedal & Wright, Numerical Optimization, 2nd ed.): the radius
// and acceptance rules of Algorithm 4.1, with the subproblem solved by Steihaug's truncated CG
// on Hessian-vector products (Algorithm 7.2: NewtonCG) or exactly through an eigendecomposition
// of the dense Hessian (§4.3, the hard case included: Newton).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "eigen.hpp"
#include "line_search.hpp"
#include "nabla/autodiff/error.hpp"
#include "run.hpp"

namespace nabla::optim::detail {

namespace {

constexpr double eps = std::numeric_limits<double>::epsilon();

struct TrustRegion {
  double initial_radius, max_radius, eta;
};

[[noreturn]] void bad_option(const char* method, const char* option, double got,
                             const char* expected) {
  nabla::detail::fail(
      method, fmt::format("invalid option {} (got {}, expected {})", option, got, expected));
}

void validate(const char* method, const TrustRegion& o) {
  if (!(std::isfinite(o.initial_radius) && o.initial_radius > 0))
    bad_option(method, "initial_radius", o.initial_radius, "a finite value > 0");
  if (!(std::isfinite(o.max_radius) && o.max_radius >= o.initial_radius))
    bad_option(method, "max_radius", o.max_radius, "a finite value >= initial_radius");
  if (!(o.eta >= 0 && o.eta < 0.25)) bad_option(method, "eta", o.eta, "a value in [0, 0.25)");
}

/// A trust-region step: its predicted decrease −m(p) and whether it lies on the boundary.
struct Step {
  double predicted;
  bool boundary;
};

/// The quadratic model at the current iterate, and its minimizer inside a radius.
class Model {
 public:
  virtual ~Model() = default;
  /// Moves the model to x with gradient g (both stay alive until the next call). False when the
  /// Hessian there is not finite.
  virtual bool at(std::span<const double> x, std::span<const double> g) = 0;
  /// The step for radius Δ into p. A NaN predicted decrease when the curvature is not finite.
  virtual Step solve(double radius, std::span<double> p) = 0;
};

// The outer loop, Algorithm 4.1: ρ = (f(x) − f(x + p)) / (−m(p)); Δ ← ¼·min(Δ, ‖p‖) when ρ < ¼,
// Δ ← min(2Δ, max_radius) when ρ > ¾ on the boundary; the step is taken when ρ > η.
Result trust_region(Run& run, std::vector<double> x, const TrustRegion& o, Model& model) {
  const std::size_t n = x.size();
  std::vector<double> g(n), p(n), x_new(n), g_new(n);
  double value = run.evaluate(x, g);
  if (!std::isfinite(value) || !all_finite(g))
    return run.finish(x, value, norm(g), Status::diverged);
  double grad_norm = norm(g), radius = o.initial_radius;
  bool fresh = true;  // the model must move to x
  Status status = Status::max_iterations;
  while (!run.should_stop(value, grad_norm, status)) {
    if (fresh && !model.at(x, g)) {
      status = Status::diverged;  // the Hessian at x is NaN or infinite
      break;
    }
    fresh = false;
    const Step step = model.solve(radius, p);
    if (std::isnan(step.predicted)) {
      status = Status::diverged;
      break;
    }
    bool moved = false;
    for (std::size_t i = 0; i < n; ++i) {
      x_new[i] = x[i] + p[i];
      moved = moved || x_new[i] != x[i];
    }
    if (!moved) {
      // The radius fell below the rounding of x: every step was rejected down to nothing.
      status = at_precision_limit(value, std::numeric_limits<double>::infinity(), grad_norm,
                                  run.initial_grad_norm())
                   ? Status::precision_limit
                   : Status::line_search_failed;
      break;
    }
    if (run.out_of_evaluations()) {
      status = Status::max_evaluations;
      break;
    }
    const double step_norm = norm(p);
    const double trial = run.evaluate(x_new, g_new);
    double rho = -std::numeric_limits<double>::infinity();  // NaN or ∞ at the trial: reject
    bool accept = false;
    if (std::isfinite(trial) && all_finite(g_new)) {
      if (step.predicted <= rounding_noise(value)) {
        // Note [Precision limit]: the model's decrease is below the rounding of f, so f cannot
        // judge the step; the gradient can. A full Newton step that does not reduce ‖∇f‖ means
        // the model has nothing left to give.
        accept = trial <= value + rounding_noise(value) && norm(g_new) < grad_norm;
        if (!accept && !step.boundary) {
          status = Status::precision_limit;
          break;
        }
        rho = accept ? 1.0 : rho;
      } else {
        rho = (value - trial) / step.predicted;
        accept = rho > o.eta;
      }
    }
    if (rho < 0.25)
      radius = 0.25 * std::min(radius, step_norm);
    else if (rho > 0.75 && step.boundary)
      radius = std::min(2 * radius, o.max_radius);
    if (!accept) continue;
    const double value_prev = value;
    x.swap(x_new);
    g.swap(g_new);
    value = trial;
    grad_norm = norm(g);
    fresh = true;
    ++run.iterations;
    if (run.after_step(value, value_prev, grad_norm, step_norm, radius, status)) break;
  }
  return run.finish(std::move(x), value, grad_norm, status);
}

// The two roots τ₋ < 0 < τ₊ of ‖z + τd‖ = Δ for ‖z‖ < Δ, without cancellation.
std::pair<double, double> boundary_roots(double zz, double zd, double dd, double radius) {
  const double gap = (radius - std::sqrt(zz)) * (radius + std::sqrt(zz));  // Δ² − ‖z‖² > 0
  const double disc = std::sqrt(zd * zd + dd * gap);
  if (zd >= 0) return {-(zd + disc) / dd, gap / (zd + disc)};
  return {gap / (zd - disc), (disc - zd) / dd};
}

// Steihaug's truncated CG (Nocedal & Wright, Algorithm 7.2) on B z = −g, run on the gradient
// scaled to norm 1 (CG is invariant to it, and it keeps dᵀBd far from overflow and underflow
// when f is scaled by 1e±100).
class SteihaugCG final : public Model {
 public:
  SteihaugCG(const HessianVector& hvp, Run& run, const NewtonCG& o, std::size_t n)
      : hvp_(hvp), run_(run), o_(o), n_(n), z_(n), r_(n), d_(n), bd_(n), bz_(n) {}

  bool at(std::span<const double> x, std::span<const double> g) override {
    x_ = x;
    g_ = g;
    return true;
  }

  Step solve(double radius, std::span<double> p) override {
    const double sigma = norm(g_);
    const double tolerance = std::min(o_.cg_tolerance, std::sqrt(sigma));  // relative to ‖r₀‖ = 1
    const double delta = radius / sigma;
    std::fill(z_.begin(), z_.end(), 0.0);
    std::fill(bz_.begin(), bz_.end(), 0.0);
    for (std::size_t i = 0; i < n_; ++i) {
      r_[i] = g_[i] / sigma;
      d_[i] = -r_[i];
    }
    double rr = dot(r_, r_);
    const std::size_t max_iterations =
        o_.max_cg_iterations > 0 ? static_cast<std::size_t>(o_.max_cg_iterations) : 10 * n_;
    for (std::size_t j = 0; j < max_iterations; ++j) {
      hvp_(x_, d_, bd_);
      ++run_.hessian_evaluations;
      if (!all_finite(bd_)) return {std::numeric_limits<double>::quiet_NaN(), false};
      const double dbd = dot(d_, bd_);
      const double zz = dot(z_, z_), zd = dot(z_, d_), dd = dot(d_, d_);
      if (!(dbd > 0)) {
        // Negative (or zero) curvature: to the boundary along ±d, whichever the model prefers.
        const auto [lo, hi] = boundary_roots(zz, zd, dd, delta);
        const double linear = dot(r_, d_);  // (ĝ + Bz)·d = r·d: m's slope along d at z
        const auto change = [&](double t) { return t * linear + 0.5 * t * t * dbd; };
        return finish(change(lo) < change(hi) ? lo : hi, sigma, p, true);
      }
      const double alpha = rr / dbd;
      const auto [lo, hi] = boundary_roots(zz, zd, dd, delta);
      if (alpha >= hi) return finish(hi, sigma, p, true);  // CG leaves the region
      for (std::size_t i = 0; i < n_; ++i) {
        z_[i] += alpha * d_[i];
        bz_[i] += alpha * bd_[i];
        r_[i] += alpha * bd_[i];
      }
      const double rr_next = dot(r_, r_);
      if (std::sqrt(rr_next) <= tolerance) break;
      const double beta = rr_next / rr;
      for (std::size_t i = 0; i < n_; ++i) d_[i] = -r_[i] + beta * d_[i];
      rr = rr_next;
    }
    return finish(0.0, sigma, p, false);
  }

 private:
  // p = σ(z + τd), with its predicted decrease −(g·p + ½ pᵀBp) (Bp = σ(Bz + τBd)).
  Step finish(double tau, double sigma, std::span<double> p, bool boundary) {
    double gp = 0, pbp = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      p[i] = sigma * (z_[i] + tau * d_[i]);
      gp += g_[i] * p[i];
      pbp += p[i] * (sigma * (bz_[i] + tau * bd_[i]));
    }
    return {-(gp + 0.5 * pbp), boundary};
  }

  const HessianVector& hvp_;
  Run& run_;
  const NewtonCG& o_;
  std::size_t n_;
  std::span<const double> x_, g_;
  std::vector<double> z_, r_, d_, bd_, bz_;
};

// The exact subproblem min m(p) s.t. ‖p‖ ≤ Δ in the eigenbasis H = QΛQᵀ (Nocedal & Wright §4.3):
// p(μ) = −Σ (qᵢ·g)/(λᵢ + μ) qᵢ with μ ≥ max(0, −λ₁) and μ(Δ − ‖p(μ)‖) = 0, μ found by
// safeguarded Newton on 1/‖p(μ)‖ − 1/Δ (Algorithm 4.3); in the hard case (g has no component
// along the eigenvectors of λ₁ < 0 to rounding) p(−λ₁) plus a multiple of q₁ reaching the boundary.
class DenseNewton final : public Model {
 public:
  DenseNewton(const HessianMatrix& hessian, Run& run, std::size_t n)
      : hessian_(hessian), run_(run), n_(n), h_(n * n), gh_(n), c_(n), q_(n) {}

  bool at(std::span<const double> x, std::span<const double> g) override {
    g_ = g;
    hessian_(x, h_);
    ++run_.hessian_evaluations;
    if (!all_finite(h_)) return false;
    // The Newton step −H⁻¹g by Cholesky when H is positive definite: accurate however H is
    // scaled, where the eigenvalues (accurate to ε·‖H‖) may not be.
    newton_ok_ = cholesky_solve(0.0, newton_);
    eigen_ready_ = false;
    return true;
  }

  Step solve(double radius, std::span<double> p) override {
    if (newton_ok_ && norm(newton_) <= radius) {
      std::copy(newton_.begin(), newton_.end(), p.begin());
      return {predicted(p), false};
    }
    if (!eigen_ready_) {
      eigen_ = symmetric_eigen(h_, n_);
      for (std::size_t k = 0; k < n_; ++k) {
        double s = 0;
        for (std::size_t i = 0; i < n_; ++i) s += eigen_.vectors[i * n_ + k] * g_[i];
        gh_[k] = s;
      }
      eigen_ready_ = true;
    }
    const std::vector<double>& lambda = eigen_.values;
    const double lambda1 = lambda.front();
    const double scale = std::max(std::abs(lambda.front()), std::abs(lambda.back()));
    const double tiny = static_cast<double>(n_) * eps * scale;  // eigenvalues this close count as 0
    bool boundary = true;
    double lo = std::max(0.0, -lambda1);
    if (lambda1 > tiny && components(0.0) <= radius) {
      boundary = false;  // the Newton step lies inside
    } else if (lambda1 <= tiny && !newton_ok_ && components(lo + tiny) <= radius) {
      // The hard case (or a singular positive semidefinite H): p(μ) stays inside down to
      // μ = −λ₁. (When Cholesky found H positive definite, λ₁ ≤ ε·‖H‖ is rounding of a small
      // positive eigenvalue: the Newton step is just long, and the boundary step below is
      // polished by Cholesky.) With λ₁ < 0, move along q₁ to the boundary, the sign the model
      // prefers.
      if (-lambda1 > tiny) {
        const double c0 = c_[0], cc = dot(c_, c_);
        const double root =
            std::sqrt(c0 * c0 + (radius - std::sqrt(cc)) * (radius + std::sqrt(cc)));
        const auto change = [&](double t) {
          return gh_[0] * t + 0.5 * lambda[0] * ((c0 + t) * (c0 + t) - c0 * c0);
        };
        const double t1 = -c0 + root, t2 = -c0 - root;
        c_[0] += change(t1) < change(t2) ? t1 : t2;
      } else {
        boundary = false;
      }
    } else {
      double mu = solve_secular(lambda1 <= tiny ? lo + tiny : lo, radius);
      // μ polished by Cholesky of H + μI while that is positive definite to rounding
      // (Algorithm 4.3's Newton iteration on 1/‖p(μ)‖ − 1/Δ): accurate however H is scaled,
      // where the eigenvalues, and so the μ above, are only accurate to ε·‖H‖.
      bool factored = cholesky_solve(mu, shifted_);
      for (int iteration = 0; factored && iteration < 30; ++iteration) {
        const double length = norm(shifted_);
        if (std::abs(length - radius) <= 1e-3 * radius) break;
        double q2 = 0;  // ‖L⁻¹p‖²
        for (std::size_t i = 0; i < n_; ++i) {
          double s = shifted_[i];
          for (std::size_t k = 0; k < i; ++k) s -= chol_[i * n_ + k] * q_[k];
          q_[i] = s / chol_[i * n_ + i];
          q2 += q_[i] * q_[i];
        }
        double next = std::max(0.0, mu + (length * length / q2) * ((length - radius) / radius));
        if (next == mu) break;
        if (!cholesky_solve(next, trial_)) {  // past −λ₁: half the move
          next = 0.5 * (mu + next);
          if (!cholesky_solve(next, trial_)) break;
        }
        mu = next;
        shifted_.swap(trial_);
      }
      if (factored) {
        const double length = norm(shifted_);
        for (std::size_t i = 0; i < n_; ++i)
          p[i] = length > radius ? shifted_[i] * (radius / length) : shifted_[i];
        return {predicted(p), true};
      }
    }
    for (std::size_t i = 0; i < n_; ++i) {  // p = Q c
      double s = 0;
      for (std::size_t k = 0; k < n_; ++k) s += eigen_.vectors[i * n_ + k] * c_[k];
      p[i] = s;
    }
    return {predicted(p), boundary};
  }

 private:
  // −(g·p + ½ pᵀHp), with the Hessian itself.
  double predicted(std::span<const double> p) const {
    double gp = 0, php = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      double hp = 0;
      for (std::size_t j = 0; j < n_; ++j) hp += h_[i * n_ + j] * p[j];
      gp += g_[i] * p[i];
      php += p[i] * hp;
    }
    return -(gp + 0.5 * php);
  }

  // (H + μI) = LLᵀ and out = −(H + μI)⁻¹g; false when H + μI is not positive definite to
  // rounding (a pivot not above n·ε times its diagonal entry) or the step is not finite.
  bool cholesky_solve(double mu, std::vector<double>& out) {
    std::vector<double>& l = chol_;
    l.assign(n_ * n_, 0.0);
    for (std::size_t j = 0; j < n_; ++j) {
      const double diagonal = h_[j * n_ + j] + mu;
      double d = diagonal;
      for (std::size_t k = 0; k < j; ++k) d -= l[j * n_ + k] * l[j * n_ + k];
      if (!(d > static_cast<double>(n_) * eps * std::abs(diagonal))) return false;
      l[j * n_ + j] = std::sqrt(d);
      for (std::size_t i = j + 1; i < n_; ++i) {
        double s = h_[i * n_ + j];
        for (std::size_t k = 0; k < j; ++k) s -= l[i * n_ + k] * l[j * n_ + k];
        l[i * n_ + j] = s / l[j * n_ + j];
      }
    }
    out.resize(n_);
    for (std::size_t i = 0; i < n_; ++i) {  // L y = −g
      double s = -g_[i];
      for (std::size_t k = 0; k < i; ++k) s -= l[i * n_ + k] * out[k];
      out[i] = s / l[i * n_ + i];
    }
    for (std::size_t i = n_; i-- > 0;) {  // Lᵀ p = y
      double s = out[i];
      for (std::size_t k = i + 1; k < n_; ++k) s -= l[k * n_ + i] * out[k];
      out[i] = s / l[i * n_ + i];
    }
    return all_finite(out);
  }

  // c = −ĝᵢ/(λᵢ + μ) (0 where ĝᵢ = 0); returns ‖c‖ = ‖p(μ)‖.
  double components(double mu) {
    for (std::size_t k = 0; k < n_; ++k)
      c_[k] = gh_[k] == 0 ? 0.0 : -gh_[k] / (eigen_.values[k] + mu);
    return norm(c_);
  }

  // ‖p(μ)‖ = Δ for μ in (lo, hi], where ‖p(lo)‖ > Δ ≥ ‖p(hi)‖ (hi = ‖g‖/Δ − λ₁).
  // Returns μ, with c = p(μ) in the eigenbasis.
  double solve_secular(double lo, double radius) {
    double hi = std::max(lo, norm(gh_) / radius - eigen_.values.front());
    double mu = hi;
    for (int iteration = 0; iteration < 200; ++iteration) {
      const double length = components(mu);
      if (std::abs(length - radius) <= 1e-12 * radius) return mu;
      (length > radius ? lo : hi) = mu;
      double q2 = 0;  // ‖q‖² = pᵀ(H + μI)⁻¹p
      for (std::size_t k = 0; k < n_; ++k) q2 += c_[k] * (c_[k] / (eigen_.values[k] + mu));
      double next =
          mu + (length / std::sqrt(q2)) * (length / std::sqrt(q2)) * ((length - radius) / radius);
      if (!(next > lo && next < hi)) next = lo + 0.5 * (hi - lo);
      if (next == mu) break;
      mu = next;
    }
    components(mu);
    return mu;
  }

  const HessianMatrix& hessian_;
  Run& run_;
  std::size_t n_;
  std::span<const double> g_;
  std::vector<double> h_, gh_, c_, chol_, newton_, shifted_, trial_, q_;
  SymmetricEigen eigen_;
  bool newton_ok_ = false, eigen_ready_ = false;
};

}  // namespace

Result run_newton_cg(const Objective& f, const HessianVector& hvp, std::vector<double> x,
                     const NewtonCG& method, const Stop& stop, const Observer& observer) {
  constexpr const char* name = "nabla::optim::NewtonCG";
  const TrustRegion o{method.initial_radius, method.max_radius, method.eta};
  validate(name, o);
  if (!(method.cg_tolerance > 0 && method.cg_tolerance < 1))
    bad_option(name, "cg_tolerance", method.cg_tolerance, "a value in (0, 1)");
  if (method.max_cg_iterations < 0)
    bad_option(name, "max_cg_iterations", method.max_cg_iterations, "a count >= 0 (0: n)");
  Run run(f, x, stop, observer);
  SteihaugCG model(hvp, run, method, x.size());
  return trust_region(run, std::move(x), o, model);
}

Result run_newton(const Objective& f, const HessianMatrix& hessian, std::vector<double> x,
                  const Newton& method, const Stop& stop, const Observer& observer) {
  constexpr const char* name = "nabla::optim::Newton";
  const TrustRegion o{method.initial_radius, method.max_radius, method.eta};
  validate(name, o);
  if (method.max_dimension < 1)
    bad_option(name, "max_dimension", method.max_dimension, "a count >= 1");
  Run run(f, x, stop, observer);
  if (x.size() > static_cast<std::size_t>(method.max_dimension)) {
    nabla::detail::fail(
        name, fmt::format("x has {} coordinates, above max_dimension = {} (expected a small "
                          "problem: the dense Hessian takes n² memory and an O(n³) "
                          "eigendecomposition per step; use NewtonCG, which needs only "
                          "Hessian-vector products, or raise max_dimension)",
                          x.size(), method.max_dimension));
  }
  DenseNewton model(hessian, run, x.size());
  return trust_region(run, std::move(x), o, model);
}

}  // namespace nabla::optim::detail
