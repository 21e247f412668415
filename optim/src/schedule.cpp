#include "nabla/optim/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace nabla::optim {

namespace {
// The cosine ramp from `from` (at fraction 0) to `to` (at fraction 1).
double cosine(double from, double to, double fraction) {
  return to + (from - to) * (1 + std::cos(std::numbers::pi * fraction)) / 2;
}
}  // namespace

double StepDecay::operator()(long t, double base, double) const {
  return base * std::pow(gamma, static_cast<double>(t / step_size));
}

double MultiStep::operator()(long t, double base, double) const {
  const auto passed = std::count_if(milestones.begin(), milestones.end(),
                                    [t](long m) { return m <= t; });
  return base * std::pow(gamma, static_cast<double>(passed));
}

double Exponential::operator()(long t, double base, double) const {
  return base * std::pow(gamma, static_cast<double>(t));
}

double CosineAnnealing::operator()(long t, double base, double) const {
  return cosine(base, eta_min, static_cast<double>(t) / static_cast<double>(t_max));
}

double CosineWarmRestarts::operator()(long t, double base, double) const {
  long start = 0, length = t_0;
  while (t >= start + length) {  // find the cycle that contains step t
    start += length;
    length *= t_mult;
  }
  return cosine(base, eta_min, static_cast<double>(t - start) / static_cast<double>(length));
}

double LinearWarmup::operator()(long t, double base, double) const {
  const double progress = static_cast<double>(std::min(t, steps)) / static_cast<double>(steps);
  return base * (start_factor + (end_factor - start_factor) * progress);
}

double OneCycle::operator()(long t, double, double) const {
  const double initial = max_lr / div_factor, final_lr = initial / final_div_factor;
  const double peak = pct_start * static_cast<double>(total_steps) - 1;
  const double end = static_cast<double>(total_steps) - 1;
  const double s = static_cast<double>(t);
  if (s <= peak) return cosine(initial, max_lr, s / peak);
  return cosine(max_lr, final_lr, std::min(1.0, (s - peak) / (end - peak)));
}

double ReduceOnPlateau::operator()(long, double base, double last_value) {
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
