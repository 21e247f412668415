#include "nabla/optim/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
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

void OneCycle::validate() const {
  positive("nabla::optim::OneCycle", "max_lr", max_lr);
  at_least_one("nabla::optim::OneCycle", "total_steps", total_steps, "a positive number of steps");
  require(pct_start >= 0 && pct_start <= 1, "nabla::optim::OneCycle", "pct_start", pct_start,
          "a fraction in [0, 1]");
  positive("nabla::optim::OneCycle", "div_factor", div_factor);
  positive("nabla::optim::OneCycle", "final_div_factor", final_div_factor);
}

double OneCycle::operator()(long t, double, double) const {
  validate();
  step_index("nabla::optim::OneCycle", t);
  const double initial = max_lr / div_factor, final_lr = initial / final_div_factor;
  const double peak = pct_start * static_cast<double>(total_steps) - 1;
  const double end = static_cast<double>(total_steps) - 1;
  const double s = static_cast<double>(t);
  if (s <= peak) return peak > 0 ? cosine(initial, max_lr, s / peak) : max_lr;
  if (end <= peak) return final_lr;  // pct_start = 1: no way down (PyTorch divides by 0 here)
  return cosine(max_lr, final_lr, std::min(1.0, (s - peak) / (end - peak)));
}

void ReduceOnPlateau::validate() const {
  require(factor > 0 && factor < 1, "nabla::optim::ReduceOnPlateau", "factor", factor,
          "a value in (0, 1)");
  require(patience >= 0, "nabla::optim::ReduceOnPlateau", "patience", patience,
          "a number of steps >= 0");
  require(threshold >= 0 && threshold < 1, "nabla::optim::ReduceOnPlateau", "threshold", threshold,
          "a relative change in [0, 1)");
  require(cooldown >= 0, "nabla::optim::ReduceOnPlateau", "cooldown", cooldown,
          "a number of steps >= 0");
  non_negative("nabla::optim::ReduceOnPlateau", "min_lr", min_lr);
}

double ReduceOnPlateau::operator()(long t, double base, double last_value) {
  validate();
  step_index("nabla::optim::ReduceOnPlateau", t);
  State& s = state;
  if (s.lr < 0) s.lr = base;
  if (!std::isfinite(last_value)) return s.lr;  // no value yet (the first step)
  if (last_value < s.best * (1 - threshold)) {
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
    s.lr = std::max(s.lr * factor, min_lr);
    s.cooling = cooldown;
    s.bad = 0;
  }
  return s.lr;
}

}  // namespace nabla::optim
