// Learning-rate schedules over 30 steps against their closed forms, and the per-step extras
// (gradient clipping, coupled weight decay) of every first-order method.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <numbers>
#include <string>
#include <vector>

using namespace nabla::optim;

namespace {
const double pi = std::numbers::pi;

// The learning rates a plain-GD optimizer uses on its first 30 steps, read back from the step
// itself: with g = 1 and x = 0, x moves by −lr.
std::vector<double> rates(Schedule schedule, double base = 0.1, std::vector<double> values = {}) {
  auto opt = make_optimizer(GradientDescent{.lr = base, .extras = {.schedule = schedule}}, 1);
  std::vector<double> out;
  for (int t = 0; t < 30; ++t) {
    if (!values.empty()) opt->observe(values[static_cast<std::size_t>(t)]);
    std::vector<double> x = {0.0};
    const std::vector<double> g = {1.0};
    opt->step(x, g);
    out.push_back(-x[0]);
    BOOST_TEST(opt->learning_rate() == out.back(), boost::test_tools::tolerance(1e-15));
  }
  return out;
}

void expect_rates(const char* name, const std::vector<double>& got, auto closed_form) {
  for (int t = 0; t < 30; ++t)
    BOOST_TEST(got[static_cast<std::size_t>(t)] == closed_form(t),
               name << " step " << t << boost::test_tools::tolerance(1e-12));
}

// The rate of each step as ReduceOnPlateau sets it when f takes values[t] before step t.
std::vector<double> plateau_rates(ReduceOnPlateau schedule, double (*value)(int)) {
  std::vector<double> values;
  for (int t = 0; t < 30; ++t) values.push_back(value(t));
  return rates(schedule, 0.1, values);
}

// The message of the nabla::Error that making a GD optimizer with this schedule throws.
std::string schedule_error(const std::function<Schedule()>& make) {
  try {
    (void)make_optimizer(GradientDescent{.lr = 0.1, .extras = {.schedule = make()}}, 1);
  } catch (const nabla::Error& e) {
    return e.what();
  }
  return "";
}

void expect_invalid(const std::function<Schedule()>& make, const std::string& option) {
  const std::string message = schedule_error(make);
  BOOST_TEST(message.find("invalid option " + option + " (got ") != std::string::npos,
             "'" << message << "' should name " << option);
}

// The one-cycle closed forms of the tests, from PyTorch's OneCycleLR documentation: with
// initial = max/div and final = initial/final_div, two phases end at u − 1 and T − 1
// (u = pct·T); three phases at u − 1, 2u − 2 and T − 1. `a` anneals from → to over [0, 1].
double cos_anneal(double from, double to, double p) {
  return to + (from - to) * (1 + std::cos(pi * p)) / 2;
}
double lin_anneal(double from, double to, double p) { return from + (to - from) * p; }
}  // namespace

BOOST_AUTO_TEST_SUITE(schedules)

BOOST_AUTO_TEST_CASE(closed_forms) {
  expect_rates("constant", rates({}), [](int) { return 0.1; });
  expect_rates("step", rates(StepDecay{.step_size = 7, .gamma = 0.5}),
               [](int t) { return 0.1 * std::pow(0.5, t / 7); });
  expect_rates("multi-step", rates(MultiStep{.milestones = {3, 10, 25}, .gamma = 0.3}),
               [](int t) { return 0.1 * std::pow(0.3, (t >= 3) + (t >= 10) + (t >= 25)); });
  expect_rates("exponential", rates(Exponential{.gamma = 0.9}),
               [](int t) { return 0.1 * std::pow(0.9, t); });
  expect_rates("cosine", rates(CosineAnnealing{.t_max = 20, .eta_min = 0.01}),
               [](int t) { return 0.01 + (0.1 - 0.01) * (1 + std::cos(pi * t / 20)) / 2; });
  // Warm restarts with cycles of 4, 8, 16, 32 steps (t_0 = 4, t_mult = 2): restarts at 4, 12, 28.
  expect_rates("warm restarts", rates(CosineWarmRestarts{.t_0 = 4, .t_mult = 2}), [](int t) {
    const int start = t < 4 ? 0 : t < 12 ? 4 : t < 28 ? 12 : 28;
    const int length = t < 4 ? 4 : t < 12 ? 8 : t < 28 ? 16 : 32;
    return 0.1 * (1 + std::cos(pi * (t - start) / length)) / 2;
  });
  expect_rates("linear warm-up", rates(LinearWarmup{.steps = 10, .start_factor = 0.25}),
               [](int t) { return 0.1 * (0.25 + 0.75 * std::min(t, 10) / 10.0); });
  // One cycle of 30 steps: up for 0.3·30 − 1 = 8 steps from 0.04 to 1, then down to 4e-6.
  expect_rates("one-cycle", rates(OneCycle{.max_lr = 1.0, .total_steps = 30}), [](int t) {
    const double lo = 1.0 / 25, end = lo / 1e4;
    if (t <= 8) return 1.0 + (lo - 1.0) * (1 + std::cos(pi * t / 8.0)) / 2;
    return end + (1.0 - end) * (1 + std::cos(pi * (t - 8) / 21.0)) / 2;
  });
}

BOOST_AUTO_TEST_CASE(constant_and_polynomial) {
  // ConstantLR(factor = 0.5, total_iters = 7): half the rate for steps 0–6.
  expect_rates("constant factor", rates(ConstantWarmup{.factor = 0.5, .steps = 7}),
               [](int t) { return t < 7 ? 0.05 : 0.1; });
  // Defaults (factor 1/3, 5 steps), and factor 1 (no change at all).
  expect_rates("constant factor defaults", rates(ConstantWarmup{}),
               [](int t) { return t < 5 ? 0.1 / 3 : 0.1; });
  expect_rates("constant factor 1", rates(ConstantWarmup{.factor = 1, .steps = 3}),
               [](int) { return 0.1; });
  // PolynomialLR(total_iters = 20, power = 2): 0.1·(1 − t/20)², then 0 from step 20 on.
  expect_rates("polynomial", rates(PolynomialDecay{.steps = 20, .power = 2}), [](int t) {
    const double left = t < 20 ? (20.0 - t) / 20 : 0.0;
    return 0.1 * left * left;
  });
  // PyTorch's documented example, power 1 over 4 steps: 0.1, 0.075, 0.05, 0.025, 0, 0, …
  expect_rates("polynomial linear", rates(PolynomialDecay{.steps = 4}),
               [](int t) { return t >= 4 ? 0.0 : 0.1 - 0.025 * t; });
  expect_rates("polynomial sqrt", rates(PolynomialDecay{.steps = 25, .power = 0.5}),
               [](int t) { return t >= 25 ? 0.0 : 0.1 * std::sqrt(1 - t / 25.0); });
}

BOOST_AUTO_TEST_CASE(one_cycle_forms) {
  const double lo = 1.0 / 25, end = lo / 1e4;
  // Two phases, linear: up over steps 0–8 (u − 1 = 0.3·30 − 1 = 8), down over 8–29.
  expect_rates("one-cycle linear",
               rates(OneCycle{
                   .max_lr = 1.0, .total_steps = 30, .anneal_strategy = OneCycle::Anneal::linear}),
               [&](int t) {
                 if (t <= 8) return lo + (1.0 - lo) * t / 8.0;
                 return 1.0 + (end - 1.0) * (t - 8) / 21.0;
               });
  // Three phases, pct_start 0.25: u = 7.5, so up to 1 at 6.5, back to 0.04 at 13, down to
  // 4e-6 at 29 (fractional phase ends, as in PyTorch).
  for (const auto anneal : {OneCycle::Anneal::linear, OneCycle::Anneal::cos}) {
    const auto a = anneal == OneCycle::Anneal::linear ? lin_anneal : cos_anneal;
    expect_rates(anneal == OneCycle::Anneal::linear ? "three-phase linear" : "three-phase cos",
                 rates(OneCycle{.max_lr = 1.0,
                                .total_steps = 30,
                                .pct_start = 0.25,
                                .anneal_strategy = anneal,
                                .three_phase = true}),
                 [&](int t) {
                   if (t <= 6.5) return a(lo, 1.0, t / 6.5);
                   if (t <= 13) return a(1.0, lo, (t - 6.5) / 6.5);
                   return a(lo, end, (t - 13) / 16.0);
                 });
  }
  // The momentum moves inversely: 0.95 at the low rates, 0.85 at the peak; the third phase
  // stays at 0.95.
  const OneCycle three{.max_lr = 1.0,
                       .total_steps = 30,
                       .pct_start = 0.25,
                       .anneal_strategy = OneCycle::Anneal::linear,
                       .cycle_momentum = true,
                       .three_phase = true};
  for (int t = 0; t < 30; ++t) {
    const double expected = t <= 6.5  ? 0.95 - 0.1 * t / 6.5
                            : t <= 13 ? 0.85 + 0.1 * (t - 6.5) / 6.5
                                      : 0.95;
    BOOST_TEST(*three.momentum(t) == expected, "step " << t << boost::test_tools::tolerance(1e-12));
  }
  BOOST_TEST(!OneCycle{}.momentum(3).has_value());  // cycle_momentum is off by default
  const Schedule off = OneCycle{};
  BOOST_TEST(!off.cycles_momentum());
  const Schedule on = three;
  BOOST_TEST(on.cycles_momentum());
  BOOST_TEST(*on.momentum(0) == 0.95);
}

BOOST_AUTO_TEST_CASE(one_cycle_momentum_drives_the_methods) {
  // Two phases, cosine, over 30 steps with max_lr 0.1: rate and momentum of step t.
  const OneCycle cycle{.max_lr = 0.1, .total_steps = 30, .cycle_momentum = true};
  const auto rate = [](int t) {
    const double lo = 0.1 / 25, end = lo / 1e4;
    return t <= 8 ? cos_anneal(lo, 0.1, t / 8.0) : cos_anneal(0.1, end, (t - 8) / 21.0);
  };
  const auto beta = [](int t) {
    return t <= 8 ? cos_anneal(0.95, 0.85, t / 8.0) : cos_anneal(0.85, 0.95, (t - 8) / 21.0);
  };
  const auto grad = [](double x) { return 6 * x - 6; };  // f = 3x² − 6x + 4
  {
    // Adam with the cycled β₁ and PyTorch's bias correction by the current β₁: 1 − β₁(t)^(t+1).
    auto opt = make_optimizer(Adam{.lr = 1.0, .extras = {.schedule = cycle}}, 1);
    BOOST_TEST(opt->momentum() == 0.9);  // Adam's own β₁ before the first step
    std::vector<double> x = {1.5};
    double ref = 1.5, m = 0, v = 0;
    for (int t = 0; t < 30; ++t) {
      opt->step(x, std::vector<double>{grad(x[0])});
      const double g = grad(ref), b1 = beta(t), b2 = 0.999;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      ref -= rate(t) * (m / (1 - std::pow(b1, t + 1))) /
             (std::sqrt(v / (1 - std::pow(b2, t + 1))) + 1e-8);
      BOOST_TEST(opt->momentum() == b1,
                 "Adam β₁ step " << t << boost::test_tools::tolerance(1e-12));
      BOOST_TEST(opt->learning_rate() == rate(t), boost::test_tools::tolerance(1e-12));
      BOOST_TEST(x[0] == ref, "Adam step " << t << boost::test_tools::tolerance(1e-12));
    }
    opt->reset();  // back to Adam's own β₁
    BOOST_TEST(opt->momentum() == 0.9);
  }
  {
    // Heavy ball (and Nesterov) with the cycled ρ: v ← ρ(t)v + g.
    for (bool nesterov : {false, true}) {
      auto opt = nesterov ? make_optimizer(Nesterov{.extras = {.schedule = cycle}}, 1)
                          : make_optimizer(Momentum{.extras = {.schedule = cycle}}, 1);
      std::vector<double> x = {1.5};
      double ref = 1.5, buf = 0;
      for (int t = 0; t < 30; ++t) {
        opt->step(x, std::vector<double>{grad(x[0])});
        const double g = grad(ref), rho = beta(t);
        buf = rho * buf + g;
        ref -= rate(t) * (nesterov ? g + rho * buf : buf);
        BOOST_TEST(opt->momentum() == rho, boost::test_tools::tolerance(1e-12));
        BOOST_TEST(x[0] == ref,
                   "nesterov " << nesterov << " step " << t << boost::test_tools::tolerance(1e-12));
      }
    }
  }
  {
    // RMSProp with momentum 0 takes the cycled μ (PyTorch cycles RMSprop's momentum too).
    auto opt = make_optimizer(RMSProp{.extras = {.schedule = cycle}}, 1);
    BOOST_TEST(opt->momentum() == 0.0);
    std::vector<double> x = {1.5};
    double ref = 1.5, s = 0, buf = 0;
    for (int t = 0; t < 30; ++t) {
      opt->step(x, std::vector<double>{grad(x[0])});
      const double g = grad(ref);
      s = 0.99 * s + 0.01 * g * g;
      buf = beta(t) * buf + g / (std::sqrt(s) + 1e-8);
      ref -= rate(t) * buf;
      BOOST_TEST(x[0] == ref, "RMSProp step " << t << boost::test_tools::tolerance(1e-12));
    }
  }
  // Without cycle_momentum the method keeps its own.
  auto plain = make_optimizer(Adam{.extras = {.schedule = OneCycle{}}}, 1);
  std::vector<double> x = {1.5};
  plain->step(x, std::vector<double>{grad(x[0])});
  BOOST_TEST(plain->momentum() == 0.9);
  // Methods without momentum refuse a schedule that cycles it.
  BOOST_CHECK_THROW(make_optimizer(GradientDescent{.extras = {.schedule = cycle}}, 1),
                    nabla::Error);
  BOOST_CHECK_THROW(make_optimizer(AdaGrad{.extras = {.schedule = cycle}}, 1), nabla::Error);
  BOOST_TEST(std::isnan(make_optimizer(AdaGrad{}, 1)->momentum()));
  // A user schedule returning a momentum outside [0, 1) throws, naming the step, x unmoved.
  struct BadMomentum {
    double operator()(long, double base, double) const { return base; }
    std::optional<double> momentum(long t) const { return t < 2 ? 0.9 : 1.0; }
  };
  auto bad = make_optimizer(Momentum{.extras = {.schedule = BadMomentum{}}}, 1);
  for (int t = 0; t < 2; ++t) bad->step(x, std::vector<double>{1.0});
  const double before = x[0];
  try {
    bad->step(x, std::vector<double>{1.0});
    BOOST_ERROR("expected a nabla::Error");
  } catch (const nabla::Error& e) {
    BOOST_TEST(std::string(e.what()) ==
               "nabla::optim::Schedule: the schedule returned the momentum 1 at step 2 "
               "(expected a value in [0, 1))");
  }
  BOOST_TEST(x[0] == before);
  BOOST_TEST(bad->steps() == 2);
}

BOOST_AUTO_TEST_CASE(reduce_on_plateau) {
  // f improves up to step 5 (10, 9, …, 5), then stays at 5: steps 6, 7, 8, 9 bring no
  // improvement; with patience 3 the 4th of them (step 9) cuts the rate by 10×, and every 4
  // steps after that (13, 17, …) it is cut again.
  std::vector<double> values;
  for (int t = 0; t < 30; ++t) values.push_back(t < 5 ? 10.0 - t : 5.0);
  const auto got = rates(ReduceOnPlateau{.factor = 0.1, .patience = 3}, 0.1, values);
  for (int t = 0; t < 30; ++t) {
    const int cuts = t < 9 ? 0 : (t - 9) / 4 + 1;
    BOOST_TEST(got[static_cast<std::size_t>(t)] == 0.1 * std::pow(0.1, cuts),
               "step " << t << boost::test_tools::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(reduce_on_plateau_max_mode_and_absolute_threshold) {
  using Mode = ReduceOnPlateau::Mode;
  using Threshold = ReduceOnPlateau::ThresholdMode;
  // A score rising by 0.4 a step, with an absolute threshold of 0.5: only every other step
  // beats the best by more than 0.5 (steps 2, 4, …), so with patience 0 the odd steps cut:
  // rate 0.1·0.5^⌊(t + 1)/2⌋.
  const auto rising = [](int t) { return 0.4 * t; };
  expect_rates("max abs",
               plateau_rates({.mode = Mode::max,
                              .factor = 0.5,
                              .patience = 0,
                              .threshold = 0.5,
                              .threshold_mode = Threshold::abs},
                             rising),
               [](int t) { return 0.1 * std::pow(0.5, (t + 1) / 2); });
  // min mode (the default) on the same rising score: never better after step 0, so every
  // step cuts, until the cut would be smaller than eps = 1e-8: 0.1·0.5²³ ≈ 1.2e-8 would lose
  // 6e-9, so the rate stays there from step 24 on.
  expect_rates("min rel on a rising score", plateau_rates({.factor = 0.5, .patience = 0}, rising),
               [](int t) { return 0.1 * std::pow(0.5, std::min(t, 23)); });
  // eps = 0 cuts every step.
  expect_rates("min rel eps 0", plateau_rates({.factor = 0.5, .patience = 0, .eps = 0}, rising),
               [](int t) { return 0.1 * std::pow(0.5, t); });
  // min mode with an absolute threshold on the falling loss 10 − 0.4t: the same pattern as
  // max/abs on the rising score.
  expect_rates(
      "min abs",
      plateau_rates(
          {.factor = 0.5, .patience = 0, .threshold = 0.5, .threshold_mode = Threshold::abs},
          [](int t) { return 10 - 0.4 * t; }),
      [](int t) { return 0.1 * std::pow(0.5, (t + 1) / 2); });
  // A flat score in max mode with cooldown 2: cut at step 1, then 2 steps of cooldown (no
  // counting), then cut at 4, 7, …, 19 — seven cuts to 1e-8; the eighth (at 22) would lose
  // 9e-9 < eps and is skipped, as every later one. min_lr 1e-3 stops the cuts after two
  // (0.1 → 0.01 → 0.001).
  expect_rates("max cooldown",
               plateau_rates({.mode = Mode::max, .factor = 0.1, .patience = 0, .cooldown = 2},
                             [](int) { return 1.0; }),
               [](int t) { return 0.1 * std::pow(0.1, std::min(t < 1 ? 0 : (t - 1) / 3 + 1, 7)); });
  expect_rates("max cooldown floor",
               plateau_rates(
                   {.mode = Mode::max, .factor = 0.1, .patience = 0, .cooldown = 2, .min_lr = 1e-3},
                   [](int) { return 1.0; }),
               [](int t) { return t < 1   ? 0.1
                                  : t < 4 ? 0.01
                                          : 1e-3; });
}

BOOST_AUTO_TEST_CASE(new_options_are_checked) {
  for (double bad : {0.0, -0.5, 1.5, std::nan("")})
    expect_invalid([&] { return ConstantWarmup{.factor = bad}; }, "factor");
  for (long bad : {0L, -3L}) {
    expect_invalid([&] { return ConstantWarmup{.steps = bad}; }, "steps");
    expect_invalid([&] { return PolynomialDecay{.steps = bad}; }, "steps");
  }
  for (double bad : {0.0, -1.0, std::nan(""), HUGE_VAL})
    expect_invalid([&] { return PolynomialDecay{.power = bad}; }, "power");
  for (double bad : {-0.1, 1.0, std::nan("")}) {
    expect_invalid([&] { return OneCycle{.base_momentum = bad}; }, "base_momentum");
    expect_invalid([&] { return OneCycle{.max_momentum = bad}; }, "max_momentum");
  }
  for (double bad : {-0.1, 0.6, 1.0})
    expect_invalid([&] { return OneCycle{.pct_start = bad, .three_phase = true}; }, "pct_start");
  expect_invalid([] { return OneCycle{.anneal_strategy = static_cast<OneCycle::Anneal>(7)}; },
                 "anneal_strategy");
  using Threshold = ReduceOnPlateau::ThresholdMode;
  for (double bad : {-0.1, std::nan(""), HUGE_VAL})
    expect_invalid(
        [&] { return ReduceOnPlateau{.threshold = bad, .threshold_mode = Threshold::abs}; },
        "threshold");
  BOOST_TEST(schedule_error([] {  // an absolute threshold may exceed 1
               return ReduceOnPlateau{.threshold = 5, .threshold_mode = Threshold::abs};
             }) == "");
  for (double bad : {-1e-8, std::nan(""), HUGE_VAL})
    expect_invalid([&] { return ReduceOnPlateau{.eps = bad}; }, "eps");
  expect_invalid([] { return ReduceOnPlateau{.mode = static_cast<ReduceOnPlateau::Mode>(2)}; },
                 "mode");
  expect_invalid([] { return ReduceOnPlateau{.threshold_mode = static_cast<Threshold>(2)}; },
                 "threshold_mode");
  BOOST_TEST(schedule_error([] { return PolynomialDecay{.power = 0}; }) ==
             "nabla::optim::PolynomialDecay: invalid option power (got 0, expected a finite "
             "value > 0)");
  BOOST_TEST(schedule_error([] { return OneCycle{.pct_start = 0.6, .three_phase = true}; }) ==
             "nabla::optim::OneCycle: invalid option pct_start (got 0.6, expected a fraction in "
             "[0, 0.5] with three_phase = true (the way up and the way back each take pct_start "
             "of the steps))");
  // Calling a struct directly checks as well.
  BOOST_CHECK_THROW(ConstantWarmup{.steps = 0}(1, 1.0, 0.0), nabla::Error);
  BOOST_CHECK_THROW(PolynomialDecay{}(-1, 1.0, 0.0), nabla::Error);
  BOOST_CHECK_THROW((void)OneCycle{.max_momentum = 1}.momentum(0), nabla::Error);
  // Edge values give finite rates and momenta for 40 steps (past total_steps too).
  for (const OneCycle& c :
       {OneCycle{.total_steps = 1, .cycle_momentum = true, .three_phase = true},
        OneCycle{.total_steps = 10, .pct_start = 0, .cycle_momentum = true, .three_phase = true},
        OneCycle{.total_steps = 10, .pct_start = 0.5, .cycle_momentum = true, .three_phase = true},
        OneCycle{.total_steps = 10, .pct_start = 0.1, .cycle_momentum = true, .three_phase = true},
        OneCycle{.total_steps = 10, .pct_start = 1, .anneal_strategy = OneCycle::Anneal::linear}}) {
    for (long t = 0; t < 40; ++t) {
      const double r = c(t, 1.0, 0.0);
      BOOST_TEST((std::isfinite(r) && r > 0), "step " << t << ": " << r);
      if (c.cycle_momentum) {
        const double m = *c.momentum(t);
        BOOST_TEST((m >= 0.85 && m <= 0.95), "step " << t << ": " << m);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(clipping_and_weight_decay) {
  std::vector<double> x = {1.0, 2.0};
  const std::vector<double> g = {3.0, -4.0};  // ‖g‖ = 5
  auto by_norm = make_optimizer(GradientDescent{.lr = 1.0, .extras = {.clip_norm = 1.0}}, 2);
  by_norm->step(x, g);
  BOOST_TEST(x[0] == 1.0 - 0.6, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(x[1] == 2.0 + 0.8, boost::test_tools::tolerance(1e-15));
  x = {1.0, 2.0};
  auto by_value = make_optimizer(Momentum{.lr = 1.0, .extras = {.clip_value = 2.0}}, 2);
  by_value->step(x, g);
  BOOST_TEST(x[0] == -1.0);
  BOOST_TEST(x[1] == 4.0);
  x = {1.0, 2.0};
  auto decay = make_optimizer(GradientDescent{.lr = 0.1, .extras = {.weight_decay = 0.5}}, 2);
  decay->step(x, g);  // g + 0.5·x = (3.5, −3)
  BOOST_TEST(x[0] == 1.0 - 0.35, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(x[1] == 2.0 + 0.3, boost::test_tools::tolerance(1e-15));
  BOOST_CHECK_THROW(make_optimizer(Adam{.extras = {.weight_decay = 0.1}}, 1), nabla::Error);
  BOOST_CHECK_THROW(make_optimizer(Adam{.extras = {.clip_norm = -1}}, 1), nabla::Error);
}

BOOST_AUTO_TEST_CASE(schedules_drive_minimize) {
  // Adam with cosine annealing reaches the quadratic's minimum; the history shows the rates.
  const auto f = [](const auto& x) { return (x[0] - 2.0) * (x[0] - 2.0); };
  const Result r =
      minimize(f, {0.0}, Adam{.lr = 0.5, .extras = {.schedule = CosineAnnealing{.t_max = 400}}},
               Stop{.grad_tol = 0, .max_iterations = 400}, history());
  BOOST_TEST(std::abs(r.x[0] - 2.0) < 1e-3, fmt::format("{}", r));
  BOOST_REQUIRE(r.history.iterations.size() == 400u);
  BOOST_TEST(r.history.iterations.front().lr == 0.5);
  BOOST_TEST(r.history.iterations[100].lr == 0.5 * (1 + std::cos(pi * 100 / 400)) / 2,
             boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_SUITE_END()
