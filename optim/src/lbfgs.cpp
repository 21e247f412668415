// L-BFGS with a strong Wolfe line search (Nocedal & Wright, Numerical Optimization, 2nd ed.:
// Algorithm 7.4 for the two-loop recursion; the line search, Algorithms 3.5 and 3.6, is
// line_search.hpp's strong_wolfe).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "line_search.hpp"
#include "nabla/autodiff/error.hpp"
#include "run.hpp"

namespace nabla::optim::detail {

namespace {

// The (s, y) pairs of the last `history` steps, oldest first, in one ring of flat buffers.
// The buffers grow with the pairs actually kept, so a huge `history` costs nothing up front.
class Memory {
 public:
  Memory(std::size_t n, int history) : n_(n), m_(static_cast<std::size_t>(history)) {}
  void clear() { size_ = first_ = 0; }
  bool empty() const { return size_ == 0; }
  void push(std::span<const double> s, std::span<const double> y, double sy) {
    const std::size_t slot = (first_ + size_) % m_;
    if (slot == rho_.size()) {  // the ring is not full yet: the next slot is a new one
      s_.resize(s_.size() + n_);
      y_.resize(y_.size() + n_);
      rho_.push_back(0);
      alpha_.push_back(0);
    }
    if (size_ == m_)
      first_ = (first_ + 1) % m_;
    else
      ++size_;
    double* sj = s_.data() + slot * n_;
    double* yj = y_.data() + slot * n_;
    double yy = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      sj[i] = s[i];
      yj[i] = y[i];
      yy += y[i] * y[i];
    }
    rho_[slot] = 1.0 / sy;
    gamma_ = sy / yy;  // H₀ = γI with γ = sᵀy / yᵀy of the newest pair
  }
  // d = −H g by the two-loop recursion (Nocedal & Wright, Algorithm 7.4). Each pair's update
  // is fused with the next pair's dot product, so the recursion makes 2m + 1 passes over n
  // values instead of 4m + 2 — it is bound by memory traffic when n is large.
  void direction(std::span<const double> g, std::span<double> d) {
    const std::size_t m = size_;
    std::copy(g.begin(), g.end(), d.begin());
    // First loop, newest to oldest: αₖ = ρₖ sₖ·d;  d ← d − αₖ yₖ.
    std::size_t j = at(m - 1);
    double a = rho_[j] * dot(s(j), d);
    alpha_[j] = a;
    for (std::size_t k = m - 1; k > 0; --k) {
      const std::size_t next = at(k - 1);
      const double* yj = y(j).data();
      const double* sn = s(next).data();
      double sd = 0;
      for (std::size_t i = 0; i < n_; ++i) {
        d[i] -= a * yj[i];
        sd += sn[i] * d[i];
      }
      j = next;
      a = alpha_[j] = rho_[j] * sd;
    }
    // The oldest pair's update, the scaling by γ, and the first dot of the second loop.
    const double* y0 = y(j).data();
    double yd = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      d[i] = gamma_ * (d[i] - a * y0[i]);
      yd += y0[i] * d[i];
    }
    // Second loop, oldest to newest: βₖ = ρₖ yₖ·d;  d ← d + sₖ(αₖ − βₖ); the last pass negates.
    for (std::size_t k = 0; k < m; ++k) {
      j = at(k);
      const double c = alpha_[j] - rho_[j] * yd;
      const double* sj = s(j).data();
      if (k + 1 < m) {
        const double* yn = y(at(k + 1)).data();
        yd = 0;
        for (std::size_t i = 0; i < n_; ++i) {
          d[i] += c * sj[i];
          yd += yn[i] * d[i];
        }
      } else {
        for (std::size_t i = 0; i < n_; ++i) d[i] = -(d[i] + c * sj[i]);
      }
    }
  }

 private:
  std::size_t at(std::size_t k) const { return (first_ + k) % m_; }  // the k-th oldest pair
  std::span<const double> s(std::size_t j) const { return {s_.data() + j * n_, n_}; }
  std::span<const double> y(std::size_t j) const { return {y_.data() + j * n_, n_}; }
  std::size_t n_, m_, first_ = 0, size_ = 0;
  std::vector<double> s_, y_, rho_, alpha_;
  double gamma_ = 1.0;
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

}  // namespace

Result run_lbfgs(const Objective& f, std::vector<double> x, const LBFGS& method, const Stop& stop,
                 const Observer& observer) {
  validate(method);
  const std::size_t n = x.size();
  Run run(f, x, stop, observer);
  Memory memory(n, method.history);
  std::vector<double> g(n), d(n), x_new(n), g_new(n), s(n), y(n);
  double value = run.evaluate(x, g);
  if (!std::isfinite(value) || !all_finite(g))
    return run.finish(x, value, norm(g), Status::diverged);
  double grad_norm = norm(g);
  Status status = Status::max_iterations;
  while (!run.should_stop(value, grad_norm, status)) {
    LinePoint accepted{};
    Outcome result = Outcome::failed;
    bool precision = false;  // Note [Precision limit]
    // Try the quasi-Newton direction; on failure drop the memory and retry along −∇f once —
    // unless the failure is the limit of double precision.
    for (int attempt = 0; attempt < 2 && (result == Outcome::failed || result == Outcome::flat);
         ++attempt) {
      if (attempt == 1 && memory.empty()) break;  // already was steepest descent
      if (attempt == 1) memory.clear();
      if (memory.empty()) {
        for (std::size_t i = 0; i < n; ++i) d[i] = -g[i];
      } else {
        memory.direction(g, d);
      }
      double slope = dot(g, d);
      if (!(slope < 0)) {  // not a descent direction: fall back to −∇f
        memory.clear();
        for (std::size_t i = 0; i < n; ++i) d[i] = -g[i];
        slope = -grad_norm * grad_norm;
      }
      const bool quasi_newton = !memory.empty();
      const double alpha0 = quasi_newton ? 1.0 : std::min(1.0, 1.0 / grad_norm);
      Line line(run, x, d, value, {slope}, x_new, g_new);
      result = strong_wolfe(line, alpha0, method.line_search, accepted);
      // −∇f·d predicts the decrease of a full quasi-Newton step; along −∇f there is no scale.
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
    // Keep the pair only when the curvature condition holds (always, after a Wolfe step, up to
    // rounding), so H stays positive definite.
    if (sy > std::numeric_limits<double>::epsilon() * norm(s) * norm(y)) memory.push(s, y, sy);
    x.swap(x_new);
    g.swap(g_new);
    value = accepted.value;
    grad_norm = norm(g);
    ++run.iterations;
    const double step = norm(s);
    if (run.after_step(value, value_prev, grad_norm, step, accepted.alpha, status)) break;
  }
  return run.finish(std::move(x), value, grad_norm, status);
}

}  // namespace nabla::optim::detail
