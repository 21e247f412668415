// L-BFGS-B: limited-memory BFGS within box constraints, written from the published math —
// R. H. Byrd, P. Lu, J. Nocedal & C. Zhu, "A limited memory algorithm for bound constrained
// optimization", SIAM J. Sci. Comput. 16(5), 1995 (the compact representation, Section 3; the
// generalized Cauchy point, Section 4; the direct primal subspace minimization, Section 5.1), and
// J. L. Morales & J. Nocedal, "Remark on Algorithm 778", ACM TOMS 38(1), 2011 (L-BFGS-B 3.0: the
// subspace step is projected onto the box, and truncated only when that is not a descent
// direction). The line search is Moré & Thuente's (1994), as L-BFGS-B's, within the largest
// feasible step; trial points are evaluated through line_search.hpp's Line.
//
// Note [Compact representation]
// With the m newest pairs S = [s₀ … s_{k−1}], Y = [y₀ … y_{k−1}] (oldest first) and θ = yᵀy/sᵀy
// of the newest pair, the quasi-Newton matrix is B = θI − W M Wᵀ with W = [Y  θS] (n × 2k) and
//   M = K⁻¹,  K = [ −D   Lᵀ  ]      D = diag(sᵢᵀyᵢ),  L = the strictly lower part of SᵀY.
//                 [  L  θSᵀS ]
// M·v is solved from K (Memory::times_m): with v = (v₁, v₂), the second half b solves
// (θSᵀS + L D⁻¹ Lᵀ) b = v₂ + L D⁻¹ v₁ (a positive definite k × k system, factored once per
// update by Cholesky) and the first half is a = D⁻¹(Lᵀb − v₁).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>
#include <utility>

#include "box.hpp"
#include "line_search.hpp"
#include "nabla/autodiff/error.hpp"
#include "run.hpp"

namespace nabla::optim::detail {

namespace {

constexpr double eps = std::numeric_limits<double>::epsilon();

// Solves the dense N × N system A z = b in place (z in b) by Gaussian elimination with partial
// pivoting. False when A is singular to working precision.
bool solve_dense(std::vector<double>& a, std::vector<double>& b, std::size_t n) {
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < n; ++r)
      if (std::abs(a[r * n + col]) > std::abs(a[pivot * n + col])) pivot = r;
    if (!(std::abs(a[pivot * n + col]) > 0)) return false;
    if (pivot != col) {
      for (std::size_t c = 0; c < n; ++c) std::swap(a[col * n + c], a[pivot * n + c]);
      std::swap(b[col], b[pivot]);
    }
    for (std::size_t r = col + 1; r < n; ++r) {
      const double factor = a[r * n + col] / a[col * n + col];
      if (factor == 0) continue;
      for (std::size_t c = col; c < n; ++c) a[r * n + c] -= factor * a[col * n + c];
      b[r] -= factor * b[col];
    }
  }
  for (std::size_t r = n; r-- > 0;) {
    double s = b[r];
    for (std::size_t c = r + 1; c < n; ++c) s -= a[r * n + c] * b[c];
    b[r] = s / a[r * n + r];
  }
  return all_finite(b);
}

// The m newest (s, y) pairs with SᵀS, SᵀY and the Cholesky factor of θSᵀS + L D⁻¹ Lᵀ
// (Note [Compact representation]).
class Memory {
 public:
  explicit Memory(int history) : m_(static_cast<std::size_t>(history)) {}

  std::size_t size() const { return s_.size(); }
  bool empty() const { return s_.empty(); }
  double theta() const { return theta_; }
  void clear() {
    s_.clear();
    y_.clear();
    ss_.clear();
    sy_.clear();
    theta_ = 1;
  }

  // Adds a pair (sᵀy > 0), dropping the oldest when full. False when the middle matrix cannot
  // be factored (the memory is then cleared).
  bool push(std::span<const double> s, std::span<const double> y) {
    if (s_.size() == m_) {  // drop the oldest pair; its buffers take the new one
      std::rotate(s_.begin(), s_.begin() + 1, s_.end());
      std::rotate(y_.begin(), y_.begin() + 1, y_.end());
      std::copy(s.begin(), s.end(), s_.back().begin());
      std::copy(y.begin(), y.end(), y_.back().begin());
      for (auto* a : {&ss_, &sy_}) {  // drop the first row and column
        std::rotate(a->begin(), a->begin() + 1, a->end());
        for (auto& row : *a) std::rotate(row.begin(), row.begin() + 1, row.end());
      }
    } else {  // the matrices grow with the pairs kept: a huge history costs nothing up front
      s_.emplace_back(s.begin(), s.end());
      y_.emplace_back(y.begin(), y.end());
      for (auto* a : {&ss_, &sy_}) {
        for (auto& row : *a) row.push_back(0);
        a->emplace_back(s_.size(), 0.0);
      }
    }
    const std::size_t k = s_.size(), last = k - 1;
    for (std::size_t j = 0; j < k; ++j) {
      ss_[last][j] = ss_[j][last] = dot(s_[last], s_[j]);
      sy_[last][j] = dot(s_[last], y_[j]);
      sy_[j][last] = dot(s_[j], y_[last]);
    }
    theta_ = dot(y_[last], y_[last]) / sy_[last][last];
    if (factor()) return true;
    clear();
    return false;
  }

  // Row i of W = [Y  θS] (2k values).
  void w_row(std::size_t i, std::span<double> w) const {
    const std::size_t k = size();
    for (std::size_t j = 0; j < k; ++j) {
      w[j] = y_[j][i];
      w[k + j] = theta_ * s_[j][i];
    }
  }
  // Wᵀv over all coordinates (2k values).
  void w_transpose(std::span<const double> v, std::span<double> out) const {
    const std::size_t k = size();
    for (std::size_t j = 0; j < k; ++j) {
      out[j] = dot(y_[j], v);
      out[k + j] = theta_ * dot(s_[j], v);
    }
  }
  // (W z)ᵢ.
  double w_times(std::size_t i, std::span<const double> z) const {
    const std::size_t k = size();
    double a = 0, b = 0;
    for (std::size_t j = 0; j < k; ++j) {
      a += y_[j][i] * z[j];
      b += s_[j][i] * z[k + j];
    }
    return a + theta_ * b;
  }

  // out = M v (Note [Compact representation]); v and out have 2k values and may not alias.
  void times_m(std::span<const double> v, std::span<double> out) const {
    const std::size_t k = size();
    std::span<double> a = out.subspan(0, k), b = out.subspan(k, k);
    for (std::size_t i = 0; i < k; ++i) {  // b = v₂ + L D⁻¹ v₁
      double s = v[k + i];
      for (std::size_t j = 0; j < i; ++j) s += sy_[i][j] * v[j] / sy_[j][j];
      b[i] = s;
    }
    for (std::size_t i = 0; i < k; ++i) {  // forward: J c = b
      double s = b[i];
      for (std::size_t j = 0; j < i; ++j) s -= chol_[i * k + j] * b[j];
      b[i] = s / chol_[i * k + i];
    }
    for (std::size_t i = k; i-- > 0;) {  // backward: Jᵀ b = c
      double s = b[i];
      for (std::size_t j = i + 1; j < k; ++j) s -= chol_[j * k + i] * b[j];
      b[i] = s / chol_[i * k + i];
    }
    for (std::size_t j = 0; j < k; ++j) {  // a = D⁻¹(Lᵀb − v₁)
      double s = -v[j];
      for (std::size_t i = j + 1; i < k; ++i) s += sy_[i][j] * b[i];
      a[j] = s / sy_[j][j];
    }
  }

  // The 2k × 2k matrix K − UᵀU/θ of the subspace step (Section 5.1 by Sherman–Morrison–Woodbury),
  // U = ZᵀW the rows of W of the free coordinates. Its lower-right block θSᵀS − θSᵀZZᵀS is summed
  // over the coordinates at a bound, so it is exactly 0 when every coordinate is free.
  std::vector<double> reduced_middle(std::span<const std::size_t> free,
                                     std::span<const std::size_t> fixed) const {
    const std::size_t k = size(), k2 = 2 * k;
    std::vector<double> a(k2 * k2, 0.0);
    const auto sum = [](const std::vector<double>& u, const std::vector<double>& v,
                        std::span<const std::size_t> idx) {
      double s = 0;
      for (std::size_t i : idx) s += u[i] * v[i];
      return s;
    };
    for (std::size_t i = 0; i < k; ++i) {
      for (std::size_t j = 0; j <= i; ++j) {
        const double yy = sum(y_[i], y_[j], free) / theta_;
        a[i * k2 + j] = a[j * k2 + i] = (i == j ? -sy_[i][i] : 0.0) - yy;
        a[(k + i) * k2 + k + j] = a[(k + j) * k2 + k + i] = theta_ * sum(s_[i], s_[j], fixed);
      }
      for (std::size_t j = 0; j < k; ++j) {
        // Lower-left block (k + i, j): L(i, j) − sᵢᵀZZᵀyⱼ, and its transpose upper-right.
        const double value = (i > j ? sy_[i][j] : 0.0) - sum(s_[i], y_[j], free);
        a[(k + i) * k2 + j] = a[j * k2 + k + i] = value;
      }
    }
    return a;
  }

  const std::vector<double>& s(std::size_t j) const { return s_[j]; }
  const std::vector<double>& y(std::size_t j) const { return y_[j]; }

 private:
  // Cholesky of θSᵀS + L D⁻¹ Lᵀ; false when it is not positive definite.
  bool factor() {
    const std::size_t k = size();
    chol_.assign(k * k, 0.0);
    for (std::size_t i = 0; i < k; ++i) {
      for (std::size_t j = 0; j <= i; ++j) {
        double t = theta_ * ss_[i][j];
        for (std::size_t l = 0; l < j; ++l) t += sy_[i][l] * sy_[j][l] / sy_[l][l];
        for (std::size_t l = 0; l < j; ++l) t -= chol_[i * k + l] * chol_[j * k + l];
        if (i == j) {
          if (!(t > 0) || !std::isfinite(t)) return false;
          chol_[i * k + i] = std::sqrt(t);
        } else {
          chol_[i * k + j] = t / chol_[j * k + j];
        }
      }
    }
    return true;
  }

  std::size_t m_;
  std::vector<std::vector<double>> s_, y_;    // oldest first
  std::vector<std::vector<double>> ss_, sy_;  // k × k: sᵢᵀsⱼ and sᵢᵀyⱼ
  std::vector<double> chol_;                  // k × k lower triangular
  double theta_ = 1;
};

// One iteration's search direction: the generalized Cauchy point, then the subspace step.
class Direction {
 public:
  Direction(const Box& box, const Memory& memory, std::size_t n)
      : box_(box), memory_(memory), xc_(n), d_(n), r_(n) {}

  // x̄ − x into d for the current memory (x̄ = x when x is stationary on the box).
  void compute(std::span<const double> x, std::span<const double> g, std::span<double> d) {
    const std::size_t n = x.size(), k2 = 2 * memory_.size();
    c_.assign(k2, 0.0);
    if (box_.constrained() || memory_.empty()) {
      cauchy_point(x, g);
    } else {  // unconstrained with a memory: the subspace step is the full quasi-Newton step
      std::copy(x.begin(), x.end(), xc_.begin());
    }
    std::copy(xc_.begin(), xc_.end(), d.begin());  // d holds x̄ for now
    if (!memory_.empty()) subspace_step(x, g, d);
    for (std::size_t i = 0; i < n; ++i) d[i] -= x[i];
  }

 private:
  // Algorithm CP (Section 4): the first local minimizer of the quadratic model along the
  // projected steepest-descent path x(t) = P(x − t g), examined segment by segment between the
  // breakpoints where coordinates reach their bounds. Writes x^c into xc_ and c = Wᵀ(x^c − x).
  void cauchy_point(std::span<const double> x, std::span<const double> g) {
    const std::size_t n = x.size(), k2 = 2 * memory_.size();
    const double theta = memory_.theta();
    using Break = std::pair<double, std::size_t>;
    std::vector<Break> heap;
    double dd = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double t = std::numeric_limits<double>::infinity();
      if (g[i] < 0 && std::isfinite(box_.upper[i]))
        t = (x[i] - box_.upper[i]) / g[i];
      else if (g[i] > 0 && std::isfinite(box_.lower[i]))
        t = (x[i] - box_.lower[i]) / g[i];
      d_[i] = t == 0 ? 0.0 : -g[i];
      xc_[i] = x[i];
      dd += d_[i] * d_[i];
      if (t > 0 && std::isfinite(t)) heap.emplace_back(t, i);
    }
    const auto later = std::greater<Break>();
    std::make_heap(heap.begin(), heap.end(), later);
    std::vector<double> p(k2), mp(k2), w(k2), mw(k2);
    memory_.w_transpose(d_, p);
    double f1 = -dd, f2 = theta * dd;
    if (k2 > 0) {
      memory_.times_m(p, mp);
      f2 -= dot(p, mp);
    }
    const double f2_start = f2;
    double dt_min = f2 > 0 ? -f1 / f2 : 0.0, t_old = 0;
    while (!heap.empty() && f1 < 0) {
      const auto [t, b] = heap.front();
      const double dt = t - t_old;
      if (dt_min < dt) break;
      std::pop_heap(heap.begin(), heap.end(), later);
      heap.pop_back();
      xc_[b] = d_[b] > 0 ? box_.upper[b] : box_.lower[b];
      const double z = xc_[b] - x[b], gb = g[b];
      for (std::size_t j = 0; j < k2; ++j) c_[j] += dt * p[j];
      f1 += dt * f2 + gb * gb + theta * gb * z;
      f2 -= theta * gb * gb;
      if (k2 > 0) {
        memory_.w_row(b, w);
        memory_.times_m(w, mw);
        f1 -= gb * dot(mw, c_);
        f2 -= 2 * gb * dot(mw, p) + gb * gb * dot(mw, w);
        for (std::size_t j = 0; j < k2; ++j) p[j] += gb * w[j];
      }
      d_[b] = 0;
      f2 = std::max(f2, eps * f2_start);  // B is positive definite: f″ > 0 up to rounding
      dt_min = -f1 / f2;
      t_old = t;
    }
    dt_min = std::max(dt_min, 0.0);
    t_old += dt_min;
    for (std::size_t i = 0; i < n; ++i) {
      if (d_[i] != 0) xc_[i] = std::clamp(x[i] + t_old * d_[i], box_.lower[i], box_.upper[i]);
    }
    for (std::size_t j = 0; j < k2; ++j) c_[j] += dt_min * p[j];
  }

  // Direct primal subspace minimization (Section 5.1) over the coordinates free at x^c, then
  // L-BFGS-B 3.0's projection of x^c + d^u onto the box (truncated instead when the projected
  // point is not a descent direction from x). x̄ into xbar.
  void subspace_step(std::span<const double> x, std::span<const double> g, std::span<double> xbar) {
    const std::size_t n = x.size(), k2 = 2 * memory_.size();
    const double theta = memory_.theta();
    free_.clear();
    fixed_.clear();
    for (std::size_t i = 0; i < n; ++i) {
      if (xc_[i] > box_.lower[i] && xc_[i] < box_.upper[i])
        free_.push_back(i);
      else
        fixed_.push_back(i);
    }
    if (free_.empty()) return;
    // Reduced gradient of the model at x^c: r = Zᵀ(g + θ(x^c − x) − W M c).
    std::vector<double> mc(k2), v(k2, 0.0);
    memory_.times_m(c_, mc);
    for (std::size_t i : free_) r_[i] = g[i] + theta * (xc_[i] - x[i]) - memory_.w_times(i, mc);
    // d^u = −r/θ − U (K − UᵀU/θ)⁻¹ Uᵀ r / θ².
    const std::size_t k = memory_.size();
    for (std::size_t j = 0; j < k; ++j) {
      double a = 0, b = 0;
      for (std::size_t i : free_) {
        a += memory_.y(j)[i] * r_[i];
        b += memory_.s(j)[i] * r_[i];
      }
      v[j] = a;
      v[k + j] = theta * b;
    }
    std::vector<double> a = memory_.reduced_middle(free_, fixed_);
    if (!solve_dense(a, v, k2)) return;  // keep x̄ = x^c
    double descent = 0;
    for (std::size_t i = 0; i < n; ++i) xbar[i] = xc_[i];
    for (std::size_t i : free_) {
      d_[i] = -r_[i] / theta - memory_.w_times(i, v) / (theta * theta);
      xbar[i] = std::clamp(xc_[i] + d_[i], box_.lower[i], box_.upper[i]);
    }
    for (std::size_t i = 0; i < n; ++i) descent += g[i] * (xbar[i] - x[i]);
    if (descent < 0) return;
    // Not a descent direction: x^c + α d^u with the largest feasible α ≤ 1 (Section 5.1).
    double alpha = 1;
    for (std::size_t i : free_) {
      if (d_[i] > 0)
        alpha = std::min(alpha, (box_.upper[i] - xc_[i]) / d_[i]);
      else if (d_[i] < 0)
        alpha = std::min(alpha, (box_.lower[i] - xc_[i]) / d_[i]);
    }
    for (std::size_t i : free_)
      xbar[i] = std::clamp(xc_[i] + alpha * d_[i], box_.lower[i], box_.upper[i]);
  }

  const Box& box_;
  const Memory& memory_;
  std::vector<double> xc_, d_, r_, c_;
  std::vector<std::size_t> free_, fixed_;
};

void validate(const LBFGS& m) {
  const auto bad = [](const char* option, double got, const char* expected) {
    nabla::detail::fail(
        "nabla::optim::LBFGS",
        fmt::format("invalid option {} (got {}, expected {})", option, got, expected));
  };
  if (m.history < 1) bad("history", m.history, "at least 1");
  const StrongWolfe& w = m.line_search;
  if (!(w.c1 > 0 && w.c1 < w.c2 && w.c2 < 1)) bad("line_search.c1/c2", w.c1, "0 < c1 < c2 < 1");
  if (w.max_evaluations < 1) bad("line_search.max_evaluations", w.max_evaluations, "at least 1");
}

// The largest α with x + αd in the box (∞ when no bound limits it).
double max_step(const Box& box, std::span<const double> x, std::span<const double> d) {
  double alpha = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (d[i] > 0 && std::isfinite(box.upper[i]))
      alpha = std::min(alpha, (box.upper[i] - x[i]) / d[i]);
    else if (d[i] < 0 && std::isfinite(box.lower[i]))
      alpha = std::min(alpha, (box.lower[i] - x[i]) / d[i]);
  }
  return alpha;
}

}  // namespace

Result run_lbfgsb(const Objective& f, std::vector<double> x, const LBFGS& method,
                  const Bounds& bounds, const Stop& stop, const Observer& observer) {
  validate(method);
  check_start(x);
  const std::size_t n = x.size();
  const Box box(bounds, n);
  box.project(x);  // an infeasible start is projected onto the box
  Run run(f, x, stop, observer);
  run.box = &box;
  bool boxed = true;  // every coordinate bounded on both sides (L-BFGS-B's first step length)
  for (std::size_t i = 0; i < n; ++i)
    boxed = boxed && std::isfinite(box.lower[i]) && std::isfinite(box.upper[i]);
  Memory memory(method.history);
  Direction direction(box, memory, n);
  std::vector<double> g(n), d(n), x_new(n), g_new(n), s(n), y(n);
  double value = run.evaluate(x, g);
  if (!std::isfinite(value) || !all_finite(g))
    return run.finish(x, value, box.projected_gradient_norm(x, g), Status::diverged);
  double grad_norm = box.projected_gradient_norm(x, g);
  Status status = Status::max_iterations;
  while (!run.should_stop(value, grad_norm, status)) {
    LinePoint accepted{};
    Outcome result = Outcome::failed;
    bool precision = false;  // Note [Precision limit]
    // The quasi-Newton direction; on failure drop the memory and retry once from the Cauchy
    // point of B = I — unless the failure is the limit of double precision.
    for (int attempt = 0; attempt < 2 && (result == Outcome::failed || result == Outcome::flat);
         ++attempt) {
      if (attempt == 1 && memory.empty()) break;  // already was the steepest-descent path
      if (attempt == 1) memory.clear();
      direction.compute(x, g, d);
      const double slope = dot(g, d), d_norm = norm(d);
      if (!(slope < 0) || d_norm == 0) {
        if (memory.empty()) break;  // no descent along the projected gradient path: rounding
        result = Outcome::failed;
        continue;
      }
      const bool quasi_newton = !memory.empty();
      const bool first = run.iterations == 0 && !quasi_newton;
      // L-BFGS-B 3.0: the first step is at most 1 when bounds exist, and 1/‖d‖ unless every
      // coordinate is boxed; after the memory is dropped, min(1, 1/‖d‖); else 1.
      double alpha_max = std::max(1.0, max_step(box, x, d));
      if (first && box.constrained()) alpha_max = 1;
      double alpha0 = 1;
      if (first && !boxed) alpha0 = std::min(1 / d_norm, alpha_max);
      if (!first && !quasi_newton) alpha0 = std::min(1.0, 1 / d_norm);
      Line line(run, x, d, value, {slope}, x_new, g_new);
      if (box.constrained()) line.clamp_to(box.lower, box.upper);
      result = more_thuente(line, alpha0, method.line_search, alpha_max, accepted);
      const double predicted = quasi_newton ? -slope : std::numeric_limits<double>::infinity();
      if (result == Outcome::flat &&
          at_precision_limit(value, predicted, grad_norm, run.initial_grad_norm())) {
        precision = true;
        break;
      }
    }
    if (result != Outcome::accepted) {
      status = precision ? Status::precision_limit : failure_status(result);
      break;
    }
    for (std::size_t i = 0; i < n; ++i) {
      s[i] = x_new[i] - x[i];
      y[i] = g_new[i] - g[i];
    }
    const double value_prev = value, sy = dot(s, y);
    if (sy > eps * norm(s) * norm(y)) memory.push(s, y);
    x.swap(x_new);
    g.swap(g_new);
    value = accepted.value;
    grad_norm = box.projected_gradient_norm(x, g);
    ++run.iterations;
    if (run.after_step(value, value_prev, grad_norm, norm(s), accepted.alpha, status)) break;
  }
  return run.finish(std::move(x), value, grad_norm, status);
}

}  // namespace nabla::optim::detail
