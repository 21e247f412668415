// nabla::optim — learning-rate schedules (the formulas of PyTorch's lr_scheduler, by step) and
// the per-step extras every first-order method accepts (schedule, gradient clipping).
#pragma once

#include <concepts>
#include <functional>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace nabla::optim {

/// A learning-rate schedule: the learning rate of step t (0-based), given the method's base
/// rate and the last value of f (for ReduceOnPlateau). Holds any callable
/// `double(long t, double base_lr, double last_value)`: one of the schedules below or a user's
/// lambda. A callable with a `validate()` member (every schedule below) is checked when the
/// Schedule is made, so invalid options throw before the first step; the rate returned at every
/// step is checked too (NaN, negative or infinite throws nabla::Error naming the step).
///
/// A schedule may also set the method's momentum at each step (OneCycle with cycle_momentum):
/// a callable with a member `std::optional<double> momentum(long t) const` that returns a value
/// at step 0 does, and the optimizer then uses momentum(t) as its ρ (Momentum, Nesterov), μ
/// (RMSProp) or β₁ (Adam, AdamW) at step t.
///
/// Example: `Adam{.extras = {.schedule = [](long t, double base, double) { return base / (1 + t);
/// }}}`
class Schedule {
 public:
  /// No schedule: the method's base rate at every step.
  Schedule() = default;
  /// A schedule calling `f`; runs `f.validate()` first when f has one.
  /// @throws nabla::Error when `f.validate()` does (invalid options).
  template <class F>
  requires(!std::same_as<std::remove_cvref_t<F>, Schedule> &&
           std::is_invocable_r_v<double, F&, long, double, double>)
      Schedule(F f) {  // NOLINT: implicit, so `.schedule = CosineAnnealing{…}` and lambdas work
    if constexpr (requires(const F& g) { g.validate(); }) f.validate();
    if constexpr (requires(const F& g, long t) {
                    { g.momentum(t) } -> std::same_as<std::optional<double>>;
                  }) {
      if (f.momentum(0)) momentum_ = [f](long t) { return f.momentum(t); };
    }
    fn_ = std::move(f);
  }
  /// True when a schedule is set.
  explicit operator bool() const noexcept { return static_cast<bool>(fn_); }
  /// The rate of step t (the base rate when no schedule is set).
  /// @throws nabla::Error when t < 0, or when the schedule returns NaN, a negative or an
  /// infinite rate (the message names the step and the value).
  double operator()(long t, double base_lr, double last_value) const;
  /// True when the schedule sets the method's momentum at each step (see momentum()).
  [[nodiscard]] bool cycles_momentum() const noexcept { return static_cast<bool>(momentum_); }
  /// The momentum (ρ, μ or β₁) of step t; nullopt when the schedule does not set it.
  /// @throws nabla::Error when t < 0, or when the value is not in [0, 1) (the message names
  /// the step and the value).
  [[nodiscard]] std::optional<double> momentum(long t) const;

 private:
  std::function<double(long, double, double)> fn_;
  std::function<std::optional<double>(long)> momentum_;
};

/// lr = base·γ^⌊t / step_size⌋  (PyTorch StepLR)
struct StepDecay {
  long step_size = 10;  ///< steps between cuts, >= 1
  double gamma = 0.1;   ///< factor per cut, finite and > 0
  /// @throws nabla::Error for an invalid option (also for t < 0).
  double operator()(long t, double base, double) const;
  /// Checks the options. @throws nabla::Error naming the invalid option and what was expected.
  void validate() const;
};

/// lr = base·γ^(number of milestones ≤ t)  (PyTorch MultiStepLR)
struct MultiStep {
  std::vector<long> milestones{};  ///< steps of the cuts: >= 0, strictly increasing (may be empty)
  double gamma = 0.1;              ///< factor per cut, finite and > 0
  /// @throws nabla::Error for an invalid option (also for t < 0).
  double operator()(long t, double base, double) const;
  /// Checks the options. @throws nabla::Error naming the invalid option and what was expected.
  void validate() const;
};

/// lr = base·γ^t  (PyTorch ExponentialLR)
struct Exponential {
  double gamma = 0.99;  ///< factor per step, finite and > 0 (> 1 grows until the rate overflows)
  /// @throws nabla::Error for an invalid option (also for t < 0).
  double operator()(long t, double base, double) const;
  /// Checks the options. @throws nabla::Error naming the invalid option and what was expected.
  void validate() const;
};

/// lr = η_min + (base − η_min)·(1 + cos(π·t / t_max)) / 2  (PyTorch CosineAnnealingLR)
struct CosineAnnealing {
  long t_max = 100;      ///< steps of the half cosine, >= 1
  double eta_min = 0.0;  ///< the lowest rate, finite and >= 0
  /// @throws nabla::Error for an invalid option (also for t < 0).
  double operator()(long t, double base, double) const;
  /// Checks the options. @throws nabla::Error naming the invalid option and what was expected.
  void validate() const;
};

/// Cosine annealing restarted after t_0, t_0·t_mult, t_0·t_mult², … steps
/// (SGDR, Loshchilov & Hutter 2017; PyTorch CosineAnnealingWarmRestarts).
struct CosineWarmRestarts {
  long t_0 = 10;         ///< steps of the first cycle, >= 1
  long t_mult = 1;       ///< growth of the cycle length, >= 1
  double eta_min = 0.0;  ///< the lowest rate, finite and >= 0
  /// @throws nabla::Error for an invalid option (also for t < 0).
  double operator()(long t, double base, double) const;
  /// Checks the options. @throws nabla::Error naming the invalid option and what was expected.
  void validate() const;
};

/// Linear warm-up: lr = base·(start + (end − start)·min(t, steps) / steps)  (PyTorch LinearLR)
struct LinearWarmup {
  long steps = 5;                   ///< steps of the ramp, >= 1
  double start_factor = 1.0 / 3.0;  ///< finite and >= 0
  double end_factor = 1.0;          ///< finite and >= 0
  /// @throws nabla::Error for an invalid option (also for t < 0).
  double operator()(long t, double base, double) const;
  /// Checks the options. @throws nabla::Error naming the invalid option and what was expected.
  void validate() const;
};

/// A constant factor for the first steps: lr = base·factor for t < steps, base after
/// (PyTorch ConstantLR; `steps` is its total_iters).
struct ConstantWarmup {
  double factor = 1.0 / 3.0;  ///< in (0, 1] (PyTorch accepts 0, then divides by it at `steps`)
  long steps = 5;             ///< steps at the reduced rate, >= 1
  /// @throws nabla::Error for an invalid option (also for t < 0).
  double operator()(long t, double base, double) const;
  /// Checks the options. @throws nabla::Error naming the invalid option and what was expected.
  void validate() const;
};

/// Polynomial decay to 0: lr = base·(1 − min(t, steps)/steps)^power
/// (PyTorch PolynomialLR; `steps` is its total_iters).
struct PolynomialDecay {
  long steps = 5;      ///< steps of the decay, >= 1; the rate is 0 from step `steps` on
  double power = 1.0;  ///< finite and > 0
  /// @throws nabla::Error for an invalid option (also for t < 0).
  double operator()(long t, double base, double) const;
  /// Checks the options. @throws nabla::Error naming the invalid option and what was expected.
  void validate() const;
};

/// The one-cycle policy (Smith & Topin 2019; PyTorch OneCycleLR). Two phases: from
/// initial = max_lr/div_factor up to max_lr at step pct_start·total_steps − 1, then down to
/// initial/final_div_factor at step total_steps − 1. Three phases (the paper's form): up to
/// max_lr at pct_start·total_steps − 1, back to initial at 2·pct_start·total_steps − 2, then
/// down to initial/final_div_factor at total_steps − 1. Each phase anneals by cosine or
/// linearly. With cycle_momentum, the method's momentum (ρ, μ or β₁) moves inversely, between
/// max_momentum (at the low rates) and base_momentum (at max_lr). The method's own lr is
/// ignored.
struct OneCycle {
  /// How each phase goes from its start to its end value (PyTorch anneal_strategy).
  enum class Anneal {
    cos,    ///< end + (start − end)·(1 + cos(π·p))/2 at fraction p of the phase
    linear  ///< start + (end − start)·p
  };
  double max_lr = 0.1;                   ///< the peak rate, finite and > 0
  long total_steps = 100;                ///< >= 1; later steps keep the final rate and momentum
  double pct_start = 0.3;                ///< fraction going up: in [0, 1], in [0, 0.5] for 3 phases
  Anneal anneal_strategy = Anneal::cos;  ///< cosine (PyTorch's default) or linear
  bool cycle_momentum = false;    ///< set the method's momentum too (PyTorch's default is true)
  double base_momentum = 0.85;    ///< the momentum at max_lr, in [0, 1)
  double max_momentum = 0.95;     ///< the momentum at the initial and final rates, in [0, 1)
  double div_factor = 25.0;       ///< initial rate = max_lr/div_factor; finite and > 0
  double final_div_factor = 1e4;  ///< final rate = initial/final_div_factor; finite and > 0
  bool three_phase = false;       ///< the paper's three phases instead of fastai's two
  /// @throws nabla::Error for an invalid option (also for t < 0).
  double operator()(long t, double base, double) const;
  /// The momentum of step t with cycle_momentum; nullopt without.
  /// @throws nabla::Error for an invalid option (also for t < 0).
  [[nodiscard]] std::optional<double> momentum(long t) const;
  /// Checks the options. @throws nabla::Error naming the invalid option and what was expected.
  void validate() const;
};

/// Multiply the rate by `factor` when f has not improved for more than `patience` steps; wait
/// `cooldown` steps after a cut; never go below min_lr; skip a cut smaller than eps
/// (PyTorch ReduceLROnPlateau). An improvement on the best value b so far is, by mode and
/// threshold_mode: min/rel f < b·(1 − threshold), min/abs f < b − threshold,
/// max/rel f > b·(1 + threshold), max/abs f > b + threshold. Stateful.
struct ReduceOnPlateau {
  /// Whether f should go down (a loss) or up (a score).
  enum class Mode { min, max };
  /// Whether `threshold` is relative to the best value or absolute.
  enum class ThresholdMode { rel, abs };
  Mode mode = Mode::min;    ///< min: lower f is better; max: higher f is better
  double factor = 0.1;      ///< cut factor, in (0, 1)
  long patience = 10;       ///< steps without improvement tolerated, >= 0
  double threshold = 1e-4;  ///< improvement that counts: in [0, 1) if rel, finite >= 0 if abs
  ThresholdMode threshold_mode = ThresholdMode::rel;  ///< relative or absolute threshold
  long cooldown = 0;                                  ///< steps to wait after a cut, >= 0
  double min_lr = 0.0;                                ///< the lowest rate, finite and >= 0
  double eps = 1e-8;  ///< a cut smaller than eps is skipped; finite and >= 0
  /// @throws nabla::Error for an invalid option (also for t < 0).
  double operator()(long t, double base, double last_value);
  /// Checks the options. @throws nabla::Error naming the invalid option and what was expected.
  void validate() const;

  /// The run's state (kept public so the options stay an aggregate; not for users to set).
  struct State {
    double lr = -1;                                          ///< current rate (−1: not started)
    double best = std::numeric_limits<double>::quiet_NaN();  ///< best f so far (set at start)
    long bad = 0, cooling = 0;  ///< steps without improvement; cooldown steps left
  } state{};
};

/// What every first-order method accepts besides its own rule, applied at each step in this
/// order: clip the gradient by value, then by global norm, then add the coupled L2 term
/// (weight_decay·x; Adam and AdamW have their own), then take the step with the scheduled rate.
/// Each number must be finite and >= 0 (checked by make_optimizer; 0 turns it off).
struct Extras {
  Schedule schedule{};      ///< empty: constant learning rate
  double clip_value = 0;    ///< > 0: gᵢ ← clamp(gᵢ, −clip_value, clip_value)
  double clip_norm = 0;     ///< > 0: g ← g·min(1, clip_norm/‖g‖₂)
  double weight_decay = 0;  ///< coupled L2: g ← g + weight_decay·x (not for Adam/AdamW)
};

}  // namespace nabla::optim
