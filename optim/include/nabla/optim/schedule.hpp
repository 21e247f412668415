// nabla::optim — learning-rate schedules (the formulas of PyTorch's lr_scheduler, by step) and
// the per-step extras every first-order method accepts (schedule, gradient clipping).
#pragma once

#include <functional>
#include <limits>
#include <vector>

namespace nabla::optim {

/// A learning-rate schedule: the learning rate of step t (0-based), given the method's base
/// rate and the last value of f (for ReduceOnPlateau). Any callable with this signature works.
using Schedule = std::function<double(long t, double base_lr, double last_value)>;

/// lr = base·γ^⌊t / step_size⌋  (PyTorch StepLR)
struct StepDecay {
  long step_size = 10;
  double gamma = 0.1;
  double operator()(long t, double base, double) const;
};

/// lr = base·γ^(number of milestones ≤ t)  (PyTorch MultiStepLR)
struct MultiStep {
  std::vector<long> milestones{};
  double gamma = 0.1;
  double operator()(long t, double base, double) const;
};

/// lr = base·γ^t  (PyTorch ExponentialLR)
struct Exponential {
  double gamma = 0.99;
  double operator()(long t, double base, double) const;
};

/// lr = η_min + (base − η_min)·(1 + cos(π·t / t_max)) / 2  (PyTorch CosineAnnealingLR)
struct CosineAnnealing {
  long t_max = 100;
  double eta_min = 0.0;
  double operator()(long t, double base, double) const;
};

/// Cosine annealing restarted after t_0, t_0·t_mult, t_0·t_mult², … steps
/// (SGDR, Loshchilov & Hutter 2017; PyTorch CosineAnnealingWarmRestarts).
struct CosineWarmRestarts {
  long t_0 = 10;
  long t_mult = 1;
  double eta_min = 0.0;
  double operator()(long t, double base, double) const;
};

/// Linear warm-up: lr = base·(start + (end − start)·min(t, steps) / steps)  (PyTorch LinearLR)
struct LinearWarmup {
  long steps = 5;
  double start_factor = 1.0 / 3.0;
  double end_factor = 1.0;
  double operator()(long t, double base, double) const;
};

/// The one-cycle policy (Smith & Topin 2019; PyTorch OneCycleLR, two phases, cosine): from
/// max_lr/div_factor up to max_lr over pct_start·total_steps steps, then down to
/// max_lr/(div_factor·final_div_factor). The method's own lr is ignored.
struct OneCycle {
  double max_lr = 0.1;
  long total_steps = 100;
  double pct_start = 0.3;
  double div_factor = 25.0;
  double final_div_factor = 1e4;
  double operator()(long t, double base, double) const;
};

/// Multiply the rate by `factor` when f has not improved by more than `threshold` (relative)
/// for `patience` steps; wait `cooldown` steps after a cut; never go below min_lr
/// (PyTorch ReduceLROnPlateau, mode "min", relative threshold). Stateful.
struct ReduceOnPlateau {
  double factor = 0.1;
  long patience = 10;
  double threshold = 1e-4;
  long cooldown = 0;
  double min_lr = 0.0;
  double operator()(long t, double base, double last_value);

  /// The run's state (kept public so the options stay an aggregate; not for users to set).
  struct State {
    double lr = -1;  ///< current rate (−1: not started)
    double best = std::numeric_limits<double>::infinity();
    long bad = 0, cooling = 0;
  } state{};
};

/// What every first-order method accepts besides its own rule, applied at each step in this
/// order: clip the gradient by value, then by global norm, then add the coupled L2 term
/// (weight_decay·x; Adam and AdamW have their own), then take the step with the scheduled rate.
struct Extras {
  Schedule schedule{};        ///< empty: constant learning rate
  double clip_value = 0;      ///< > 0: gᵢ ← clamp(gᵢ, −clip_value, clip_value)
  double clip_norm = 0;       ///< > 0: g ← g·min(1, clip_norm/‖g‖₂)
  double weight_decay = 0;    ///< coupled L2: g ← g + weight_decay·x (not for Adam/AdamW)
};

}  // namespace nabla::optim
