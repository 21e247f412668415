#include "nabla/optim/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <string>

#include "nabla/autodiff/error.hpp"

namespace nabla::optim {

namespace {

// ---- Option checks, in the optimizers' format: "<schedule>: invalid option <name> (got X,
// expected Y)" ------------------------------------------------------------------------------

template <class T>
void require(bool ok, const char* schedule, const char* option, T got, const char* expected) {
  if (!ok) {
    nabla::detail::fail(
        schedule, fmt::format("invalid option {} (got {}, expected {})", option, got, expected));
  }
}
void at_least_one(const char* schedule, const char* option, long v, const char* expected) {
  require(v >= 1, schedule, option, v, expected);
}
void positive(const char* schedule, const char* option, double v) {
  require(std::isfinite(v) && v > 0, schedule, option, v, "a finite value > 0");
}
void non_negative(const char* schedule, const char* option, double v) {
  require(std::isfinite(v) && v >= 0, schedule, option, v, "a finite value >= 0");
}
// Steps count from 0; a negative step is a caller's mistake.
void step_index(const char* schedule, long t) {
  if (t < 0) {
    nabla::detail::fail(schedule, fmt::format("step {} is negative (expected a step >= 0)", t));
  }
}

// The cosine ramp from `from` (at fraction 0) to `to` (at fraction 1).
double cosine(double from, double to, double fraction) {
  return to + (from - to) * (1 + std::cos(std::numbers::pi * fraction)) / 2;
}

}  // namespace

double Schedule::operator()(long t, double base_lr, double last_value) const {
  if (!fn_) return base_lr;
  step_index("nabla::optim::Schedule", t);
  const double lr = fn_(t, base_lr, last_value);
  if (!(std::isfinite(lr) && lr >= 0)) {
    nabla::detail::fail("nabla::optim::Schedule",
                        fmt::format("the schedule returned the learning rate {} at step {} "
                                    "(expected a finite rate >= 0)",
                                    lr, t));
  }
  return lr;
}

std::optional<double> Schedule::momentum(long t) const {
  if (!momentum_) return std::nullopt;
  step_index("nabla::optim::Schedule", t);
  const std::optional<double> m = momentum_(t);
  if (m && !(*m >= 0 && *m < 1)) {
    nabla::detail::fail("nabla::optim::Schedule",
                        fmt::format("the schedule returned the momentum {} at step {} "
                                    "(expected a value in [0, 1))",
                                    *m, t));
  }
  return m;
}

void StepDecay::validate() const {
  at_least_one("nabla::optim::StepDecay", "step_size", step_size, "a positive number of steps");
  positive("nabla::optim::StepDecay", "gamma", gamma);
}

double StepDecay::operator()(long t, double base, double) const {
  validate();
  step_index("nabla::optim::StepDecay", t);
  return base * std::pow(gamma, static_cast<double>(t / step_size));
}

void MultiStep::validate() const {
  for (std::size_t i = 0; i < milestones.size(); ++i) {
    require(milestones[i] >= 0, "nabla::optim::MultiStep", "milestones", milestones[i],
            "steps >= 0");
    if (i > 0 && milestones[i] <= milestones[i - 1]) {
      require(false, "nabla::optim::MultiStep", "milestones",
              fmt::format("{} after {}", milestones[i], milestones[i - 1]),
              "strictly increasing steps");
    }
  }
  positive("nabla::optim::MultiStep", "gamma", gamma);
}

double MultiStep::operator()(long t, double base, double) const {
  validate();
  step_index("nabla::optim::MultiStep", t);
  const auto passed = std::upper_bound(milestones.begin(), milestones.end(), t) -
                      milestones.begin();  // milestones <= t (sorted)
  return base * std::pow(gamma, static_cast<double>(passed));
}

void Exponential::validate() const { positive("nabla::optim::Exponential", "gamma", gamma); }

double Exponential::operator()(long t, double base, double) const {
  validate();
  step_index("nabla::optim::Exponential", t);
  return base * std::pow(gamma, static_cast<double>(t));
}

void CosineAnnealing::validate() const {
  at_least_one("nabla::optim::CosineAnnealing", "t_max", t_max, "a positive number of steps");
  non_negative("nabla::optim::CosineAnnealing", "eta_min", eta_min);
}

double CosineAnnealing::operator()(long t, double base, double) const {
  validate();
  step_index("nabla::optim::CosineAnnealing", t);
  return cosine(base, eta_min, static_cast<double>(t) / static_cast<double>(t_max));
}

void CosineWarmRestarts::validate() const {
  at_least_one("nabla::optim::CosineWarmRestarts", "t_0", t_0, "a positive number of steps");
  at_least_one("nabla::optim::CosineWarmRestarts", "t_mult", t_mult,
               "a growth factor >= 1 (1: cycles of equal length)");
  non_negative("nabla::optim::CosineWarmRestarts", "eta_min", eta_min);
}

double CosineWarmRestarts::operator()(long t, double base, double) const {
  validate();
  step_index("nabla::optim::CosineWarmRestarts", t);
  long start = 0, length = t_0;
  if (t_mult == 1) {
    start = t / t_0 * t_0;  // equal cycles: no loop (t may be huge)
  } else {
    // Cycles grow geometrically, so this takes at most ~63 turns. start + length <= t before
    // each addition (no overflow), and the length saturates instead of overflowing.
    constexpr long most = std::numeric_limits<long>::max();
    while (t - start >= length) {
      start += length;
      length = length > most / t_mult ? most : length * t_mult;
    }
  }
  return cosine(base, eta_min, static_cast<double>(t - start) / static_cast<double>(length));
}

void LinearWarmup::validate() const {
  at_least_one("nabla::optim::LinearWarmup", "steps", steps, "a positive number of steps");
  non_negative("nabla::optim::LinearWarmup", "start_factor", start_factor);
  non_negative("nabla::optim::LinearWarmup", "end_factor", end_factor);
}

double LinearWarmup::operator()(long t, double base, double) const {
  validate();
  step_index("nabla::optim::LinearWarmup", t);
  const double progress = static_cast<double>(std::min(t, steps)) / static_cast<double>(steps);
  return base * (start_factor + (end_factor - start_factor) * progress);
}

void ConstantWarmup::validate() const {
  require(factor > 0 && factor <= 1, "nabla::optim::ConstantWarmup", "factor", factor,
          "a value in (0, 1]");
  at_least_one("nabla::optim::ConstantWarmup", "steps", steps, "a positive number of steps");
}

double ConstantWarmup::operator()(long t, double base, double) const {
  validate();
  step_index("nabla::optim::ConstantWarmup", t);
  return t < steps ? base * factor : base;
}

void PolynomialDecay::validate() const {
  at_least_one("nabla::optim::PolynomialDecay", "steps", steps, "a positive number of steps");
  positive("nabla::optim::PolynomialDecay", "power", power);
}

double PolynomialDecay::operator()(long t, double base, double) const {
  validate();
  step_index("nabla::optim::PolynomialDecay", t);
  const double left = 1 - static_cast<double>(std::min(t, steps)) / static_cast<double>(steps);
  return base * std::pow(left, power);
}

void OneCycle::validate() const {
  positive("nabla::optim::OneCycle", "max_lr", max_lr);
  at_least_one("nabla::optim::OneCycle", "total_steps", total_steps, "a positive number of steps");
  if (three_phase) {
    require(pct_start >= 0 && pct_start <= 0.5, "nabla::optim::OneCycle", "pct_start", pct_start,
            "a fraction in [0, 0.5] with three_phase = true (the way up and the way back each "
            "take pct_start of the steps)");
  } else {
    require(pct_start >= 0 && pct_start <= 1, "nabla::optim::OneCycle", "pct_start", pct_start,
            "a fraction in [0, 1]");
  }
  require(anneal_strategy == Anneal::cos || anneal_strategy == Anneal::linear,
          "nabla::optim::OneCycle", "anneal_strategy", static_cast<int>(anneal_strategy),
          "Anneal::cos or Anneal::linear");
  require(base_momentum >= 0 && base_momentum < 1, "nabla::optim::OneCycle", "base_momentum",
          base_momentum, "a value in [0, 1)");
  require(max_momentum >= 0 && max_momentum < 1, "nabla::optim::OneCycle", "max_momentum",
          max_momentum, "a value in [0, 1)");
  positive("nabla::optim::OneCycle", "div_factor", div_factor);
  positive("nabla::optim::OneCycle", "final_div_factor", final_div_factor);
}

namespace {

struct RateAndMomentum {
  double lr, momentum;
};

// PyTorch's OneCycleLR.get_lr: phases end at the given (fractional) steps; step t falls in the
// first phase whose end is >= t, or in the last one. A phase of length <= 0 (possible at the
// bounds of pct_start, where PyTorch divides by zero) gives its end values; steps past the end
// of the last phase keep its end values.
RateAndMomentum one_cycle(const OneCycle& c, long t) {
  struct Phase {
    double end_step, start_lr, end_lr, start_momentum, end_momentum;
  };
  const double initial = c.max_lr / c.div_factor, final_lr = initial / c.final_div_factor;
  const double up = c.pct_start * static_cast<double>(c.total_steps);
  const double last = static_cast<double>(c.total_steps) - 1;
  const double lo_m = c.base_momentum, hi_m = c.max_momentum;
  const std::array<Phase, 3> phases =
      c.three_phase ? std::array<Phase, 3>{{{up - 1, initial, c.max_lr, hi_m, lo_m},
                                            {2 * up - 2, c.max_lr, initial, lo_m, hi_m},
                                            {last, initial, final_lr, hi_m, hi_m}}}
                    : std::array<Phase, 3>{{{up - 1, initial, c.max_lr, hi_m, lo_m},
                                            {last, c.max_lr, final_lr, lo_m, hi_m}}};
  const std::size_t count = c.three_phase ? 3 : 2;
  const auto anneal = [&](double from, double to, double fraction) {
    return c.anneal_strategy == OneCycle::Anneal::cos ? cosine(from, to, fraction)
                                                      : from + (to - from) * fraction;
  };
  const double s = static_cast<double>(t);
  double start = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const Phase& p = phases[i];
    if (s <= p.end_step || i + 1 == count) {
      const double length = p.end_step - start;
      if (length <= 0) return {p.end_lr, p.end_momentum};
      const double fraction = std::min(1.0, (s - start) / length);
      return {anneal(p.start_lr, p.end_lr, fraction),
              anneal(p.start_momentum, p.end_momentum, fraction)};
    }
    start = p.end_step;
  }
  return {final_lr, hi_m};  // not reached: the last phase takes every remaining step
}

}  // namespace

double OneCycle::operator()(long t, double, double) const {
  validate();
  step_index("nabla::optim::OneCycle", t);
  return one_cycle(*this, t).lr;
}

std::optional<double> OneCycle::momentum(long t) const {
  validate();
  step_index("nabla::optim::OneCycle", t);
  if (!cycle_momentum) return std::nullopt;
  return one_cycle(*this, t).momentum;
}

void ReduceOnPlateau::validate() const {
  require(mode == Mode::min || mode == Mode::max, "nabla::optim::ReduceOnPlateau", "mode",
          static_cast<int>(mode), "Mode::min or Mode::max");
  require(factor > 0 && factor < 1, "nabla::optim::ReduceOnPlateau", "factor", factor,
          "a value in (0, 1)");
  require(patience >= 0, "nabla::optim::ReduceOnPlateau", "patience", patience,
          "a number of steps >= 0");
  if (threshold_mode == ThresholdMode::rel) {
    require(threshold >= 0 && threshold < 1, "nabla::optim::ReduceOnPlateau", "threshold",
            threshold, "a relative change in [0, 1) with threshold_mode = rel");
  } else {
    require(threshold_mode == ThresholdMode::abs, "nabla::optim::ReduceOnPlateau", "threshold_mode",
            static_cast<int>(threshold_mode), "ThresholdMode::rel or ThresholdMode::abs");
    require(std::isfinite(threshold) && threshold >= 0, "nabla::optim::ReduceOnPlateau",
            "threshold", threshold, "a finite change >= 0 with threshold_mode = abs");
  }
  require(cooldown >= 0, "nabla::optim::ReduceOnPlateau", "cooldown", cooldown,
          "a number of steps >= 0");
  non_negative("nabla::optim::ReduceOnPlateau", "min_lr", min_lr);
  non_negative("nabla::optim::ReduceOnPlateau", "eps", eps);
}

double ReduceOnPlateau::operator()(long t, double base, double last_value) {
  validate();
  step_index("nabla::optim::ReduceOnPlateau", t);
  State& s = state;
  if (s.lr < 0) {  // the first call: PyTorch's mode_worse as the best value
    s.lr = base;
    s.best = mode == Mode::min ? std::numeric_limits<double>::infinity()
                               : -std::numeric_limits<double>::infinity();
  }
  if (!std::isfinite(last_value)) return s.lr;  // no value yet (the first step)
  const bool rel = threshold_mode == ThresholdMode::rel;
  const bool better = mode == Mode::min
                          ? last_value < (rel ? s.best * (1 - threshold) : s.best - threshold)
                          : last_value > (rel ? s.best * (1 + threshold) : s.best + threshold);
  if (better) {
    s.best = last_value;
    s.bad = 0;
  } else {
    ++s.bad;
  }
  if (s.cooling > 0) {
    --s.cooling;
    s.bad = 0;
  }
  if (s.bad > patience) {
    const double cut = std::max(s.lr * factor, min_lr);
    if (s.lr - cut > eps) s.lr = cut;  // PyTorch skips a cut smaller than eps
    s.cooling = cooldown;
    s.bad = 0;
  }
  return s.lr;
}

}  // namespace nabla::optim
