#include "nabla/optim/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "nabla/autodiff/error.hpp"
#include "run.hpp"

namespace nabla::optim {

namespace {

// ---- Option checks (one message format: "<method>: invalid <option> (got X, expected Y)") ----

void require(bool ok, const char* method, const char* option, double got, const char* expected) {
  if (!ok) {
    nabla::detail::fail(
        method, fmt::format("invalid option {} (got {}, expected {})", option, got, expected));
  }
}
void positive(const char* method, const char* option, double v) {
  require(std::isfinite(v) && v > 0, method, option, v, "a finite value > 0");
}
void non_negative(const char* method, const char* option, double v) {
  require(std::isfinite(v) && v >= 0, method, option, v, "a finite value >= 0");
}
void unit(const char* method, const char* option, double v) {
  require(v >= 0 && v < 1, method, option, v, "a value in [0, 1)");
}

// ---- The update rules, each written once over flat buffers (docs/optimizers.md) ---------------

class Plain final : public Optimizer {  // x ← x − lr·g
 public:
  Plain(const GradientDescent& m, std::size_t n) : Optimizer(n, m.lr, m.extras) {}

 private:
  void clear_state() override {}
  void update(std::span<double> x, std::span<const double> g, double lr) override {
    for (std::size_t i = 0; i < x.size(); ++i) x[i] -= lr * g[i];
  }
};

class HeavyBall final : public Optimizer {  // v ← ρv + g;  x ← x − lr·v  (Nesterov: lr·(g + ρv))
 public:
  HeavyBall(double lr, double rho, bool nesterov, const Extras& extras, std::size_t n)
      : Optimizer(n, lr, extras, rho), nesterov_(nesterov), v_(n, 0.0) {}

 private:
  void clear_state() override { std::fill(v_.begin(), v_.end(), 0.0); }
  void update(std::span<double> x, std::span<const double> g, double lr) override {
    const double rho = momentum_;  // the method's ρ, or the schedule's of this step
    for (std::size_t i = 0; i < x.size(); ++i) {
      v_[i] = rho * v_[i] + g[i];
      x[i] -= lr * (nesterov_ ? g[i] + rho * v_[i] : v_[i]);
    }
  }
  bool nesterov_;
  std::vector<double> v_;
};

class AdaGradRule final : public Optimizer {  // s ← s + g²;  x ← x − lr·g/(√s + ε)
 public:
  AdaGradRule(const AdaGrad& m, std::size_t n)
      : Optimizer(n, m.lr, m.extras), m_(m), s_(n, m.initial_accumulator) {}

 private:
  void clear_state() override { std::fill(s_.begin(), s_.end(), m_.initial_accumulator); }
  void update(std::span<double> x, std::span<const double> g, double lr) override {
    for (std::size_t i = 0; i < x.size(); ++i) {
      s_[i] += g[i] * g[i];
      x[i] -= lr * g[i] / (std::sqrt(s_[i]) + m_.eps);
    }
  }
  AdaGrad m_;
  std::vector<double> s_;
};

class RMSPropRule final : public Optimizer {
 public:
  RMSPropRule(const RMSProp& m, std::size_t n)
      : Optimizer(n, m.lr, m.extras, m.momentum),
        m_(m),
        s_(n, 0.0),
        mean_(m.centered ? n : 0, 0.0),
        buffer_(m.momentum > 0 || m.extras.schedule.cycles_momentum() ? n : 0, 0.0) {}

 private:
  void clear_state() override {
    for (auto* v : {&s_, &mean_, &buffer_}) std::fill(v->begin(), v->end(), 0.0);
  }
  void update(std::span<double> x, std::span<const double> g, double lr) override {
    const double a = m_.alpha, mu = momentum_;  // μ: the method's, or the schedule's
    for (std::size_t i = 0; i < x.size(); ++i) {
      s_[i] = a * s_[i] + (1 - a) * g[i] * g[i];  // s ← αs + (1 − α)g²
      double avg = s_[i];
      if (m_.centered) {  // m ← αm + (1 − α)g;  use s − m² (≥ 0, but rounding can go below)
        mean_[i] = a * mean_[i] + (1 - a) * g[i];
        avg = std::max(avg - mean_[i] * mean_[i], 0.0);
      }
      const double step = g[i] / (std::sqrt(avg) + m_.eps);
      if (mu > 0) {  // b ← μb + g/(√s + ε);  x ← x − lr·b
        buffer_[i] = mu * buffer_[i] + step;
        x[i] -= lr * buffer_[i];
      } else {
        x[i] -= lr * step;
      }
    }
  }
  RMSProp m_;
  std::vector<double> s_, mean_, buffer_;
};

struct AdamConstants {
  double beta1, beta2, eps, coupled, keep, step, root_bc2;
};

// ThreadSanitizer instruments target_clones' ifunc resolver, which the dynamic loader runs
// before TSan's runtime is initialised (a crash at load): one version only under TSan.
#if defined(__SANITIZE_THREAD__)
#define NABLA_ADAM_CLONES
#else
#define NABLA_ADAM_CLONES __attribute__((target_clones("avx2", "default")))
#endif

// The Adam/AdamW loop over flat buffers, branch-free so that it vectorises; compiled for AVX2
// as well as the baseline, the right one chosen at load time (its sqrt and division dominate).
NABLA_ADAM_CLONES void adam_update(double* __restrict x, const double* __restrict g,
                                   double* __restrict m, double* __restrict v,
                                   double* __restrict vmax, std::size_t n, AdamConstants c) {
  // lr·m̂/(√v̂ + ε) with m̂ = m/bc1, v̂ = v/bc2; one pass, one loop per AMSGrad setting.
  if (vmax == nullptr) {
    for (std::size_t i = 0; i < n; ++i) {
      const double gi = g[i] + c.coupled * x[i];
      m[i] = c.beta1 * m[i] + (1 - c.beta1) * gi;
      v[i] = c.beta2 * v[i] + (1 - c.beta2) * gi * gi;
      x[i] = x[i] * c.keep - c.step * m[i] / (std::sqrt(v[i]) / c.root_bc2 + c.eps);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const double gi = g[i] + c.coupled * x[i];
      m[i] = c.beta1 * m[i] + (1 - c.beta1) * gi;
      v[i] = c.beta2 * v[i] + (1 - c.beta2) * gi * gi;
      vmax[i] = std::max(vmax[i], v[i]);
      x[i] = x[i] * c.keep - c.step * m[i] / (std::sqrt(vmax[i]) / c.root_bc2 + c.eps);
    }
  }
}

class AdamRule final : public Optimizer {
 public:
  // `coupled` is Adam's L2 term (added to g); `decoupled` is AdamW's (x ← x − lr·λ·x).
  AdamRule(double lr, double beta1, double beta2, double eps, double coupled, double decoupled,
           bool amsgrad, const Extras& extras, std::size_t n)
      : Optimizer(n, lr, extras, beta1),
        beta2_(beta2),
        eps_(eps),
        coupled_(coupled),
        decoupled_(decoupled),
        amsgrad_(amsgrad),
        m_(n, 0.0),
        v_(n, 0.0),
        vmax_(amsgrad ? n : 0, 0.0) {}

 private:
  void clear_state() override {
    for (auto* v : {&m_, &v_, &vmax_}) std::fill(v->begin(), v->end(), 0.0);
  }
  void update(std::span<double> x, std::span<const double> g, double lr) override {
    if (lr * decoupled_ > 1) {  // a scheduled rate can raise lr·λ past 1 after the start
      nabla::detail::fail("nabla::optim::AdamW",
                          fmt::format("the decoupled decay lr·weight_decay is {} at step {} "
                                      "(expected at most 1: x ← x·(1 − lr·weight_decay) would "
                                      "flip the sign of x)",
                                      lr * decoupled_, steps_));
    }
    const double t = static_cast<double>(steps_ + 1);
    const double beta1 = momentum_;  // the method's β₁, or the schedule's of this step (PyTorch
                                     // corrects the bias with the current β₁ too)
    const double bc1 = 1 - std::pow(beta1, t), bc2 = 1 - std::pow(beta2_, t);
    const double step = lr / bc1, root_bc2 = std::sqrt(bc2);
    const double keep = 1 - lr * decoupled_;  // AdamW's decoupled decay; exactly 1 for Adam
    adam_update(x.data(), g.data(), m_.data(), v_.data(), amsgrad_ ? vmax_.data() : nullptr,
                x.size(), {beta1, beta2_, eps_, coupled_, keep, step, root_bc2});
  }
  double beta2_, eps_, coupled_, decoupled_;
  bool amsgrad_;
  std::vector<double> m_, v_, vmax_;
};

}  // namespace

Optimizer::Optimizer(std::size_t n, double lr, const Extras& extras, double momentum)
    : momentum_(momentum),
      n_(n),
      base_lr_(lr),
      lr_(lr),
      base_momentum_(momentum),
      extras_(extras),
      schedule_(extras.schedule),
      last_value_(std::numeric_limits<double>::quiet_NaN()) {
  non_negative("nabla::optim::Extras", "clip_value", extras.clip_value);
  non_negative("nabla::optim::Extras", "clip_norm", extras.clip_norm);
  non_negative("nabla::optim::Extras", "weight_decay", extras.weight_decay);
}

void Optimizer::step(std::span<double> x, std::span<const double> g) {
  if (x.size() != n_ || g.size() != n_) {
    nabla::detail::fail("nabla::optim::Optimizer::step",
                        fmt::format("wrong sizes (got x of {} and g of {}, expected {} each)",
                                    x.size(), g.size(), n_));
  }
  // The schedule checks the rate (finite, >= 0) and the momentum (in [0, 1)) it returns, and
  // names the step when they are not; both are read before x moves.
  const double lr = schedule_(steps_, base_lr_, last_value_);
  const std::optional<double> momentum = schedule_.momentum(steps_);
  lr_ = lr;
  if (momentum) momentum_ = *momentum;
  std::span<const double> grad = g;
  const Extras& e = extras_;
  if (e.clip_value > 0 || e.clip_norm > 0 || e.weight_decay > 0) {
    gradient_.assign(g.begin(), g.end());
    if (e.clip_value > 0) {
      for (double& v : gradient_) v = std::clamp(v, -e.clip_value, e.clip_value);
    }
    if (e.clip_norm > 0) {
      const double norm = detail::norm(gradient_);  // finite for finite g (no overflow to inf)
      if (norm > e.clip_norm) {
        for (double& v : gradient_) v *= e.clip_norm / norm;
      }
    }
    for (std::size_t i = 0; i < n_ && e.weight_decay > 0; ++i)
      gradient_[i] += e.weight_decay * x[i];
    grad = gradient_;
  }
  update(x, grad, lr_);
  ++steps_;
}

void Optimizer::set_learning_rate(double lr) {
  positive("nabla::optim::Optimizer::set_learning_rate", "lr", lr);
  base_lr_ = lr_ = lr;
}

void Optimizer::reset() {
  clear_state();
  steps_ = 0;
  schedule_ = extras_.schedule;
  lr_ = base_lr_;
  momentum_ = base_momentum_;
  last_value_ = std::numeric_limits<double>::quiet_NaN();
}

namespace {
// A schedule that cycles the momentum needs a method with one.
void no_cycled_momentum(const char* method, const Extras& extras) {
  if (extras.schedule.cycles_momentum()) {
    nabla::detail::fail(method,
                        "invalid option extras.schedule (got a schedule that cycles the "
                        "momentum, expected one that does not: this method has no momentum; "
                        "set cycle_momentum = false, or use Momentum, Nesterov, RMSProp, Adam "
                        "or AdamW)");
  }
}
}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const GradientDescent& m, std::size_t n) {
  positive("nabla::optim::GradientDescent", "lr", m.lr);
  no_cycled_momentum("nabla::optim::GradientDescent", m.extras);
  require(m.c1 > 0 && m.c1 < 1, "nabla::optim::GradientDescent", "c1", m.c1, "a value in (0, 1)");
  require(m.shrink > 0 && m.shrink < 1, "nabla::optim::GradientDescent", "shrink", m.shrink,
          "a value in (0, 1)");
  return std::make_unique<Plain>(m, n);
}

std::unique_ptr<Optimizer> make_optimizer(const Momentum& m, std::size_t n) {
  positive("nabla::optim::Momentum", "lr", m.lr);
  unit("nabla::optim::Momentum", "rho", m.rho);
  return std::make_unique<HeavyBall>(m.lr, m.rho, false, m.extras, n);
}

std::unique_ptr<Optimizer> make_optimizer(const Nesterov& m, std::size_t n) {
  positive("nabla::optim::Nesterov", "lr", m.lr);
  unit("nabla::optim::Nesterov", "rho", m.rho);
  return std::make_unique<HeavyBall>(m.lr, m.rho, true, m.extras, n);
}

std::unique_ptr<Optimizer> make_optimizer(const AdaGrad& m, std::size_t n) {
  positive("nabla::optim::AdaGrad", "lr", m.lr);
  no_cycled_momentum("nabla::optim::AdaGrad", m.extras);
  positive("nabla::optim::AdaGrad", "eps", m.eps);
  non_negative("nabla::optim::AdaGrad", "initial_accumulator", m.initial_accumulator);
  return std::make_unique<AdaGradRule>(m, n);
}

std::unique_ptr<Optimizer> make_optimizer(const RMSProp& m, std::size_t n) {
  positive("nabla::optim::RMSProp", "lr", m.lr);
  unit("nabla::optim::RMSProp", "alpha", m.alpha);
  require(!m.centered || m.alpha > 0, "nabla::optim::RMSProp", "alpha", m.alpha,
          "a value in (0, 1) with centered = true (with 0, s − m² is 0 and the step lr·g/ε)");
  positive("nabla::optim::RMSProp", "eps", m.eps);
  unit("nabla::optim::RMSProp", "momentum", m.momentum);
  return std::make_unique<RMSPropRule>(m, n);
}

namespace {
// Adam and AdamW share their options and checks; they differ in where weight decay goes.
template <class Method>
std::unique_ptr<Optimizer> make_adam(const Method& m, const char* name, bool decoupled,
                                     std::size_t n) {
  positive(name, "lr", m.lr);
  unit(name, "beta1", m.beta1);
  unit(name, "beta2", m.beta2);
  positive(name, "eps", m.eps);
  non_negative(name, "weight_decay", m.weight_decay);
  require(m.extras.weight_decay == 0, name, "extras.weight_decay", m.extras.weight_decay,
          "0 (use the method's own weight_decay)");
  if (decoupled) {
    require(m.lr * m.weight_decay <= 1, name, "weight_decay", m.weight_decay,
            "lr·weight_decay at most 1: x ← x·(1 − lr·weight_decay) would flip the sign of x");
  }
  return std::make_unique<AdamRule>(m.lr, m.beta1, m.beta2, m.eps, decoupled ? 0.0 : m.weight_decay,
                                    decoupled ? m.weight_decay : 0.0, m.amsgrad, m.extras, n);
}
}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const Adam& m, std::size_t n) {
  return make_adam(m, "nabla::optim::Adam", false, n);  // coupled L2
}

std::unique_ptr<Optimizer> make_optimizer(const AdamW& m, std::size_t n) {
  return make_adam(m, "nabla::optim::AdamW", true, n);  // decoupled (Loshchilov & Hutter)
}

}  // namespace nabla::optim
