// Misuse and edge cases of the optimizers (issue 10): options at and past their bounds,
// schedules, multistart. Each case failed before its fix.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <numbers>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "error_of.hpp"

using namespace nabla::optim;

namespace {

const double NaN = std::numeric_limits<double>::quiet_NaN();
const double Inf = std::numeric_limits<double>::infinity();

const auto quadratic = [](const auto& x) { return (x[0] - 1.0) * (x[0] - 1.0) + x[1] * x[1]; };
// x⁴ − 4x² + 2x: global minimum near −1.5257, local minimum near 1.2670.
const auto quartic = [](const auto& x) { return pow(x[0], 4) - 4.0 * x[0] * x[0] + 2.0 * x[0]; };

using testing::error_of;

// Checks that making an optimizer with this schedule throws nabla::Error, and that the message
// names the option.
void expect_invalid_schedule(const std::function<Schedule()>& make, const std::string& option) {
  const std::string message = error_of(
      [&] { (void)make_optimizer(GradientDescent{.lr = 0.1, .extras = {.schedule = make()}}, 1); });
  BOOST_TEST(message.find("invalid option " + option + " (got ") != std::string::npos,
             "'" << message << "' should name " << option);
}

// The rates a plain-GD optimizer with `schedule` takes on its first `steps` steps (g = 1).
std::vector<double> rates(const Schedule& schedule, int steps, double base = 0.1) {
  auto opt = make_optimizer(GradientDescent{.lr = base, .extras = {.schedule = schedule}}, 1);
  std::vector<double> out;
  for (int t = 0; t < steps; ++t) {
    std::vector<double> x = {0.0};
    const std::vector<double> g = {1.0};
    opt->step(x, g);
    out.push_back(opt->learning_rate());
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(optim_robustness)

// ---- 1. Schedules ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(schedule_options_are_checked_when_the_optimizer_is_made) {
  // Before: step_size 0 was a SIGFPE at the first step, t_0 or t_mult 0 an endless loop,
  // t_max or steps 0 a NaN rate reported as "diverged", the rest silently wrong rates.
  for (long bad : {0L, -1L, LONG_MIN}) {
    expect_invalid_schedule([&] { return StepDecay{.step_size = bad}; }, "step_size");
    expect_invalid_schedule([&] { return CosineAnnealing{.t_max = bad}; }, "t_max");
    expect_invalid_schedule([&] { return CosineWarmRestarts{.t_0 = bad}; }, "t_0");
    expect_invalid_schedule([&] { return CosineWarmRestarts{.t_mult = bad}; }, "t_mult");
    expect_invalid_schedule([&] { return LinearWarmup{.steps = bad}; }, "steps");
    expect_invalid_schedule([&] { return OneCycle{.total_steps = bad}; }, "total_steps");
  }
  for (double bad : {0.0, -0.5, NaN, Inf, -Inf}) {
    expect_invalid_schedule([&] { return StepDecay{.gamma = bad}; }, "gamma");
    expect_invalid_schedule([&] { return MultiStep{.milestones = {5}, .gamma = bad}; }, "gamma");
    expect_invalid_schedule([&] { return Exponential{.gamma = bad}; }, "gamma");
    expect_invalid_schedule([&] { return OneCycle{.max_lr = bad}; }, "max_lr");
    expect_invalid_schedule([&] { return OneCycle{.div_factor = bad}; }, "div_factor");
    expect_invalid_schedule([&] { return OneCycle{.final_div_factor = bad}; }, "final_div_factor");
  }
  for (double bad : {-0.5, NaN, Inf, -Inf}) {  // 0 is a valid floor or factor for these
    expect_invalid_schedule([&] { return CosineAnnealing{.eta_min = bad}; }, "eta_min");
    expect_invalid_schedule([&] { return CosineWarmRestarts{.eta_min = bad}; }, "eta_min");
    expect_invalid_schedule([&] { return LinearWarmup{.start_factor = bad}; }, "start_factor");
    expect_invalid_schedule([&] { return LinearWarmup{.end_factor = bad}; }, "end_factor");
    expect_invalid_schedule([&] { return ReduceOnPlateau{.min_lr = bad}; }, "min_lr");
  }
  for (double bad : {-0.1, 1.5, NaN, Inf}) {
    expect_invalid_schedule([&] { return OneCycle{.pct_start = bad}; }, "pct_start");
  }
  for (double bad : {0.0, 1.0, -0.1, 2.0, NaN}) {
    expect_invalid_schedule([&] { return ReduceOnPlateau{.factor = bad}; }, "factor");
  }
  for (double bad : {-0.1, 1.0, NaN, Inf}) {
    expect_invalid_schedule([&] { return ReduceOnPlateau{.threshold = bad}; }, "threshold");
  }
  expect_invalid_schedule([] { return ReduceOnPlateau{.patience = -1}; }, "patience");
  expect_invalid_schedule([] { return ReduceOnPlateau{.cooldown = -1}; }, "cooldown");
  // Milestones: unsorted, repeated or negative.
  expect_invalid_schedule([] { return MultiStep{.milestones = {30, 10}}; }, "milestones");
  expect_invalid_schedule([] { return MultiStep{.milestones = {10, 10}}; }, "milestones");
  expect_invalid_schedule([] { return MultiStep{.milestones = {-5, 10}}; }, "milestones");

  // The messages say what was wrong and what was expected.
  BOOST_TEST(error_of([] {
               (void)make_optimizer(Adam{.extras = {.schedule = StepDecay{.step_size = 0}}}, 1);
             }) ==
             "nabla::optim::StepDecay: invalid option step_size (got 0, expected a positive "
             "number of steps)");
  BOOST_TEST(
      error_of([] {
        (void)make_optimizer(Adam{.extras = {.schedule = MultiStep{.milestones = {30, 10}}}}, 1);
      }) ==
      "nabla::optim::MultiStep: invalid option milestones (got 10 after 30, expected "
      "strictly increasing steps)");
  // minimize() reports them the same way, before evaluating f.
  int calls = 0;
  const auto counted = [&](const auto& x) {
    ++calls;
    return quadratic(x);
  };
  BOOST_CHECK_THROW(minimize(counted, {0.0, 0.0},
                             Momentum{.extras = {.schedule = CosineWarmRestarts{.t_mult = 0}}}),
                    nabla::Error);
  BOOST_TEST(calls == 0);
  // Calling a schedule struct directly checks too (no SIGFPE, no endless loop).
  BOOST_CHECK_THROW(StepDecay{.step_size = 0}(5, 1.0, NaN), nabla::Error);
  BOOST_CHECK_THROW(CosineWarmRestarts{.t_0 = 0}(5, 1.0, NaN), nabla::Error);
  BOOST_CHECK_THROW(CosineAnnealing{}(-1, 1.0, NaN), nabla::Error);
  const Schedule cosine = CosineAnnealing{};
  BOOST_CHECK_THROW(cosine(-1, 1.0, NaN), nabla::Error);
}

BOOST_AUTO_TEST_CASE(schedules_at_their_bounds_give_finite_rates) {
  // The smallest valid option values: every rate finite and >= 0 for 50 steps.
  const std::vector<std::pair<const char*, Schedule>> edges = {
      {"StepDecay 1", StepDecay{.step_size = 1, .gamma = 0.5}},
      {"MultiStep at 0", MultiStep{.milestones = {0, 1, 2}}},
      {"MultiStep none", MultiStep{}},
      {"Exponential 1", Exponential{.gamma = 1.0}},
      {"Exponential tiny", Exponential{.gamma = 1e-300}},
      {"Cosine 1", CosineAnnealing{.t_max = 1}},
      {"Restarts 1", CosineWarmRestarts{.t_0 = 1}},
      {"Restarts 1 x2", CosineWarmRestarts{.t_0 = 1, .t_mult = 2}},
      {"Restarts huge t_mult", CosineWarmRestarts{.t_0 = 1, .t_mult = LONG_MAX}},
      {"Warmup 1", LinearWarmup{.steps = 1, .start_factor = 0}},
      {"OneCycle 1", OneCycle{.total_steps = 1}},
      {"OneCycle pct 0", OneCycle{.total_steps = 10, .pct_start = 0}},
      {"OneCycle pct 1", OneCycle{.total_steps = 10, .pct_start = 1}},
      {"OneCycle peak 0", OneCycle{.total_steps = 10, .pct_start = 0.1}},
      {"Plateau", ReduceOnPlateau{.patience = 0, .threshold = 0}},
  };
  for (const auto& [name, schedule] : edges) {
    const auto got = rates(schedule, 50);
    for (std::size_t t = 0; t < got.size(); ++t)
      BOOST_TEST((std::isfinite(got[t]) && got[t] >= 0), name << " step " << t << ": " << got[t]);
  }
  // OneCycle with its peak at step 0 (pct_start·total_steps = 1): before, 0/0 gave a NaN rate.
  BOOST_TEST(rates(OneCycle{.max_lr = 0.5, .total_steps = 10, .pct_start = 0.1}, 1)[0] == 0.5);
  // After total_steps, OneCycle stays at its final rate.
  const auto tail = rates(OneCycle{.max_lr = 1.0, .total_steps = 5}, 10);
  BOOST_TEST(tail[9] == 1.0 / 25 / 1e4, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(restarts_at_huge_steps_neither_overflow_nor_loop) {
  // Before: t_mult = 1 looped t / t_0 times (for ever at t ~ 1e18); t_mult > 1 overflowed the
  // cycle length (undefined behaviour; an endless loop in practice).
  const double pi = std::numbers::pi;
  const long huge = 1'000'000'000'000'000'003L;  // 1e18 + 3
  const CosineWarmRestarts equal{.t_0 = 10};
  BOOST_TEST(equal(huge, 1.0, NaN) == (1 + std::cos(pi * 3 / 10)) / 2,
             boost::test_tools::tolerance(1e-12));
  BOOST_TEST(CosineWarmRestarts{.t_0 = 1}(LONG_MAX, 1.0, NaN) == 1.0);
  // Cycles of 1, 2, 4, …: cycle k starts at 2^k − 1, so 2^62 − 1 starts one (rate = base), and
  // LONG_MAX = 2^63 − 1 starts the next, whose length saturates.
  const CosineWarmRestarts doubling{.t_0 = 1, .t_mult = 2};
  BOOST_TEST(doubling((1L << 62) - 1, 1.0, NaN) == 1.0);
  BOOST_TEST(doubling((1L << 62) + (1L << 61) - 1, 1.0, NaN) == 0.5,
             boost::test_tools::tolerance(1e-12));  // half way through the cycle
  BOOST_TEST(doubling(LONG_MAX, 1.0, NaN) == 1.0);
  const double r = CosineWarmRestarts{.t_0 = 3, .t_mult = 1000}(LONG_MAX - 7, 1.0, NaN);
  BOOST_TEST((std::isfinite(r) && r >= 0 && r <= 1), r);
  const CosineWarmRestarts longest{.t_0 = LONG_MAX, .t_mult = 3};
  BOOST_TEST(longest(LONG_MAX, 1.0, NaN) == 1.0);
  BOOST_TEST(Exponential{.gamma = 0.5}(LONG_MAX, 1.0, NaN) == 0.0);
  const StepDecay halving{.step_size = 1, .gamma = 0.5};
  BOOST_TEST(halving(LONG_MAX, 1.0, NaN) == 0.0);
  const MultiStep both{.milestones = {0, LONG_MAX}};
  BOOST_TEST(both(LONG_MAX, 1.0, NaN) == 0.01, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(LinearWarmup{.steps = LONG_MAX}(LONG_MAX, 1.0, NaN) == 1.0,
             boost::test_tools::tolerance(1e-15));
  BOOST_TEST(OneCycle{.total_steps = LONG_MAX}(LONG_MAX, 1.0, NaN) == 0.1 / 25 / 1e4,
             boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(a_bad_rate_from_a_user_schedule_throws_naming_the_step) {
  // Before: a negative rate silently ran uphill; NaN or Inf was reported as "diverged".
  const auto faulty = [](double bad_value) {
    return [bad_value](long t, double base, double) { return t < 3 ? base : bad_value; };
  };
  for (double bad : {NaN, -0.1, Inf, -Inf}) {
    auto opt = make_optimizer(Adam{.lr = 0.1, .extras = {.schedule = faulty(bad)}}, 1);
    std::vector<double> x = {1.0};
    const std::vector<double> g = {2.0};
    for (int t = 0; t < 3; ++t) opt->step(x, g);
    const double before = x[0];
    const std::string message = error_of([&] { opt->step(x, g); });
    BOOST_TEST(message == fmt::format("nabla::optim::Schedule: the schedule returned the "
                                      "learning rate {} at step 3 (expected a finite rate >= 0)",
                                      bad));
    BOOST_TEST(x[0] == before);  // not moved
    BOOST_TEST(opt->steps() == 3);
  }
  // In minimize() as well, and a negative rate at step 0 does not move x uphill first.
  const auto uphill = [](long, double base, double) { return -base; };
  BOOST_CHECK_THROW(
      minimize(quadratic, {0.0, 0.0}, GradientDescent{.extras = {.schedule = uphill}}),
      nabla::Error);
  // A valid schedule that grows without bound overflows to Inf at step 1024 (2^1024).
  auto growing = make_optimizer(
      GradientDescent{.lr = 1.0, .extras = {.schedule = Exponential{.gamma = 2.0}}}, 1);
  std::vector<double> x = {1.0};
  const std::vector<double> zero = {0.0};
  const std::string overflow = error_of([&] {
    for (int t = 0; t < 2000; ++t) growing->step(x, zero);
  });
  BOOST_TEST(overflow.find("learning rate inf at step 1024 ") != std::string::npos, overflow);
  BOOST_TEST(growing->steps() == 1024);
  // A rate of exactly 0 is valid (e.g. the end of cosine annealing down to eta_min = 0).
  BOOST_TEST(rates([](long, double, double) { return 0.0; }, 3)[2] == 0.0);
}

BOOST_AUTO_TEST_CASE(schedules_stay_easy_to_write) {
  // A user lambda, an empty std::function and a schedule struct all convert to a Schedule.
  const auto got = rates(
      [](long t, double base, double) { return base / (1.0 + static_cast<double>(t)); }, 4, 1.0);
  BOOST_TEST(got[3] == 0.25);
  const std::function<double(long, double, double)> none;
  const Schedule empty = none;
  BOOST_TEST(!empty);
  BOOST_TEST(rates(empty, 2)[1] == 0.1);
  const Extras e{.schedule = CosineAnnealing{.t_max = 100}};
  BOOST_TEST(static_cast<bool>(e.schedule));
  BOOST_TEST(std::abs(e.schedule(100, 1.0, NaN)) < 1e-15);
  // ReduceOnPlateau keeps its state per optimizer; reset() starts it again.
  auto opt = make_optimizer(
      Momentum{.lr = 1.0, .extras = {.schedule = ReduceOnPlateau{.factor = 0.5, .patience = 0}}},
      1);
  std::vector<double> x = {0.0};
  const std::vector<double> g = {0.0};
  for (int t = 0; t < 2; ++t) {  // no improvement at step 1: the rate is cut
    opt->observe(1.0);
    opt->step(x, g);
  }
  BOOST_TEST(opt->learning_rate() == 0.5);
  opt->reset();
  opt->step(x, g);
  BOOST_TEST(opt->learning_rate() == 1.0);
}

BOOST_AUTO_TEST_CASE(set_learning_rate_is_checked) {
  // Before: set_learning_rate(-1) made every later step go uphill.
  auto opt = make_optimizer(Momentum{}, 1);
  for (double bad : {0.0, -1.0, NaN, Inf})
    BOOST_CHECK_THROW(opt->set_learning_rate(bad), nabla::Error);
  BOOST_TEST(opt->learning_rate() == 0.01);
  opt->set_learning_rate(0.5);
  BOOST_TEST(opt->learning_rate() == 0.5);
}

// ---- 2. Options of every method --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(method_options_past_their_bounds_throw) {
  for (double bad : {0.0, -1.0, NaN, Inf, -Inf}) {
    BOOST_CHECK_THROW(make_optimizer(GradientDescent{.lr = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(Momentum{.lr = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(Nesterov{.lr = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(AdaGrad{.lr = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(RMSProp{.lr = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(Adam{.lr = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(AdamW{.lr = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(AdaGrad{.eps = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(RMSProp{.eps = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(Adam{.eps = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(AdamW{.eps = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(GradientDescent{.c1 = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(GradientDescent{.shrink = bad}, 1), nabla::Error);
  }
  for (double bad : {1.0, -0.1, 1.5, NaN, Inf}) {  // outside [0, 1)
    BOOST_CHECK_THROW(make_optimizer(Momentum{.rho = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(Nesterov{.rho = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(RMSProp{.alpha = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(RMSProp{.momentum = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(Adam{.beta1 = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(Adam{.beta2 = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(AdamW{.beta1 = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(AdamW{.beta2 = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(GradientDescent{.c1 = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(GradientDescent{.shrink = bad}, 1), nabla::Error);
  }
  for (double bad : {-1.0, NaN, Inf}) {
    BOOST_CHECK_THROW(make_optimizer(AdaGrad{.initial_accumulator = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(Adam{.weight_decay = bad}, 1), nabla::Error);
    BOOST_CHECK_THROW(make_optimizer(AdamW{.weight_decay = bad}, 1), nabla::Error);
    // Every field of Extras, for every first-order method.
    for (const Extras& e :
         {Extras{.clip_value = bad}, Extras{.clip_norm = bad}, Extras{.weight_decay = bad}}) {
      BOOST_CHECK_THROW(make_optimizer(GradientDescent{.extras = e}, 1), nabla::Error);
      BOOST_CHECK_THROW(make_optimizer(Momentum{.extras = e}, 1), nabla::Error);
      BOOST_CHECK_THROW(make_optimizer(Nesterov{.extras = e}, 1), nabla::Error);
      BOOST_CHECK_THROW(make_optimizer(AdaGrad{.extras = e}, 1), nabla::Error);
      BOOST_CHECK_THROW(make_optimizer(RMSProp{.extras = e}, 1), nabla::Error);
      BOOST_CHECK_THROW(make_optimizer(Adam{.extras = e}, 1), nabla::Error);
      BOOST_CHECK_THROW(make_optimizer(AdamW{.extras = e}, 1), nabla::Error);
    }
  }
  // Centered RMSProp with α = 0 divides by ε alone (s − m² is always 0).
  BOOST_CHECK_THROW(make_optimizer(RMSProp{.alpha = 0.0, .centered = true}, 1), nabla::Error);
  BOOST_TEST(error_of([] { (void)make_optimizer(Momentum{.rho = 1.0}, 1); }) ==
             "nabla::optim::Momentum: invalid option rho (got 1, expected a value in [0, 1))");
  BOOST_TEST(error_of([] { (void)make_optimizer(Adam{.extras = {.clip_norm = NaN}}, 1); }) ==
             "nabla::optim::Extras: invalid option clip_norm (got nan, expected a finite value "
             ">= 0)");
  // L-BFGS and its line search.
  for (int bad : {0, -1, INT_MIN}) {
    BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, LBFGS{.history = bad}), nabla::Error);
    BOOST_CHECK_THROW(
        minimize(quadratic, {0.0, 0.0}, LBFGS{.line_search = {.max_evaluations = bad}}),
        nabla::Error);
  }
  for (double bad : {0.0, 1.0, -0.5, NaN, Inf}) {
    BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, LBFGS{.line_search = {.c1 = bad}}),
                      nabla::Error);
    BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, LBFGS{.line_search = {.c2 = bad}}),
                      nabla::Error);
  }
  // Stopping rules.
  for (double bad : {-1.0, NaN}) {
    BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, Adam{}, Stop{.grad_tol = bad}), nabla::Error);
    BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, Adam{}, Stop{.step_tol = bad}), nabla::Error);
    BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, LBFGS{}, Stop{.value_tol = bad}),
                      nabla::Error);
    BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, LBFGS{}, Stop{.time_limit_s = bad}),
                      nabla::Error);
  }
  BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, Adam{}, Stop{.target = NaN}), nabla::Error);
  BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, Adam{}, Stop{.max_iterations = -1}),
                    nabla::Error);
  BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, LBFGS{}, Stop{.max_evaluations = INT_MIN}),
                    nabla::Error);
}

BOOST_AUTO_TEST_CASE(method_options_at_their_bounds_work) {
  // ρ, α, β = 0 and huge clip values are valid: finite iterates that go down hill.
  const auto check = [](const char* name, auto method) {
    const Result r = minimize(quadratic, {3.0, -2.0}, method, Stop{.max_iterations = 50});
    BOOST_TEST((std::isfinite(r.value) && r.value < quadratic(std::vector<double>{3.0, -2.0})),
               name << ": " << fmt::format("{}", r));
  };
  check("Momentum rho 0", Momentum{.lr = 0.1, .rho = 0.0});
  check("Nesterov rho 0", Nesterov{.lr = 0.1, .rho = 0.0});
  check("RMSProp alpha 0", RMSProp{.lr = 0.01, .alpha = 0.0});
  check("Adam betas 0", Adam{.lr = 0.1, .beta1 = 0.0, .beta2 = 0.0});
  check("AdamW lr·wd = 1", AdamW{.lr = 0.1, .weight_decay = 10.0});
  check("huge clips",
        GradientDescent{.lr = 0.1, .extras = {.clip_value = 1e308, .clip_norm = 1e308}});
  // L-BFGS with history 1, and with a history far larger than memory allows up front (before:
  // n·history doubles were allocated at the start: std::bad_alloc, or an abort under ASan).
  for (int history : {1, INT_MAX}) {
    const Result r = minimize(quadratic, {3.0, -2.0}, LBFGS{.history = history});
    BOOST_TEST((r.status == Status::gradient_converged), history << ": " << fmt::format("{}", r));
  }
  // max_iterations = 0: no step, a status that says so.
  const Result none = minimize(quadratic, {3.0, -2.0}, Adam{}, Stop{.max_iterations = 0});
  BOOST_TEST((none.status == Status::max_iterations));
  BOOST_TEST(none.iterations == 0);
  BOOST_TEST(none.x == (std::vector<double>{3.0, -2.0}));
}

BOOST_AUTO_TEST_CASE(adamw_decay_that_would_flip_the_sign_of_x_throws) {
  // Before: lr·weight_decay = 1.5 turned x ← x·(1 − 1.5) = −x/2 every step, silently.
  BOOST_TEST(error_of([] { (void)make_optimizer(AdamW{.lr = 1.0, .weight_decay = 1.5}, 1); }) ==
             "nabla::optim::AdamW: invalid option weight_decay (got 1.5, expected lr·weight_decay "
             "at most 1: x ← x·(1 − lr·weight_decay) would flip the sign of x)");
  BOOST_CHECK_THROW(make_optimizer(AdamW{.lr = 1e-3, .weight_decay = 1e300}, 1), nabla::Error);
  // A schedule can raise the rate later: checked at each step.
  auto opt = make_optimizer(
      AdamW{.lr = 0.1,
            .weight_decay = 5.0,
            .extras = {.schedule = LinearWarmup{.steps = 4, .start_factor = 1, .end_factor = 4}}},
      1);
  std::vector<double> x = {1.0};
  const std::vector<double> g = {0.5};
  opt->step(x, g);                                                 // lr·λ = 0.5
  opt->step(x, g);                                                 // 0.875
  const std::string message = error_of([&] { opt->step(x, g); });  // 1.25
  BOOST_TEST(
      message.find("lr·weight_decay is 1.25 at step 2 (expected at most 1") != std::string::npos,
      message);
  BOOST_TEST(opt->steps() == 2);
}

BOOST_AUTO_TEST_CASE(centered_rmsprop_stays_finite) {
  // With a constant gradient, s − m² is 0 in exact arithmetic but rounds to −4e-15 at step 53
  // (α = 0.5, g = 5): before, √(s − m²) was NaN and so was x.
  auto opt = make_optimizer(RMSProp{.lr = 0.01, .alpha = 0.5, .centered = true}, 1);
  std::vector<double> x = {0.0};
  const std::vector<double> g = {5.0};
  for (int t = 0; t < 100; ++t) {
    opt->step(x, g);
    BOOST_TEST_REQUIRE(std::isfinite(x[0]), "step " << t);
  }
}

BOOST_AUTO_TEST_CASE(huge_gradients_have_a_finite_norm) {
  // ‖g‖² overflows for |gᵢ| above ~1e154. Before: clip_norm divided by an infinite norm and
  // zeroed the gradient (x did not move), and Result::grad_norm was inf.
  auto opt = make_optimizer(GradientDescent{.lr = 1.0, .extras = {.clip_norm = 1.0}}, 2);
  std::vector<double> x = {0.0, 0.0};
  const std::vector<double> g = {3e200, -4e200};
  opt->step(x, g);
  BOOST_TEST(x[0] == -0.6, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(x[1] == 0.8, boost::test_tools::tolerance(1e-15));
  const auto steep = [](std::span<const double> v, std::span<double> grad) {
    grad[0] = 3e200;
    grad[1] = -4e200;
    return 3e200 * v[0] - 4e200 * v[1];
  };
  const Result r = minimize(steep, {0.0, 0.0}, Adam{}, Stop{.max_iterations = 0});
  BOOST_TEST(r.grad_norm == 5e200, boost::test_tools::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(armijo_backtracking_always_ends) {
  // shrink next to 1: before, the search shrank t by one ulp per trial (effectively for ever).
  const Result r =
      minimize(quadratic, {3.0, -2.0},
               GradientDescent{.lr = 10.0, .line_search = true, .shrink = std::nextafter(1.0, 0.0)},
               Stop{.max_iterations = 5});
  BOOST_TEST((r.status == Status::line_search_failed), fmt::format("{}", r));
  BOOST_TEST(r.evaluations <= 1 + 1000);
  BOOST_TEST(r.x == (std::vector<double>{3.0, -2.0}));
  // Extras are not applied by the line search: asking for them is an error, not ignored.
  BOOST_CHECK_THROW(minimize(quadratic, {3.0, -2.0},
                             GradientDescent{.line_search = true, .extras = {.weight_decay = 0.1}}),
                    nabla::Error);
  BOOST_CHECK_THROW(
      minimize(quadratic, {3.0, -2.0},
               GradientDescent{.line_search = true, .extras = {.schedule = Exponential{}}}),
      nabla::Error);
}

BOOST_AUTO_TEST_CASE(bad_starting_points) {
  // Empty or non-finite x0 is a mistake (nabla::Error); f NaN at a finite x0 is a status
  // (diverged, after one evaluation), as for any other point where f is undefined.
  for (double bad : {NaN, Inf, -Inf}) {
    const std::vector<double> x0 = {1.0, bad};
    const std::string message = error_of([&] { (void)minimize(quadratic, x0, Adam{}); });
    BOOST_TEST(message == fmt::format("nabla::optim::minimize: x0[1] is {} (expected a finite "
                                      "starting point)",
                                      bad));
    BOOST_CHECK_THROW(minimize(quadratic, x0, LBFGS{}), nabla::Error);
    BOOST_CHECK_THROW(minimize(quadratic, x0, GradientDescent{.line_search = true}), nabla::Error);
  }
  const auto constant = [](std::span<const double>, std::span<double>) { return 1.0; };
  BOOST_CHECK_THROW(minimize(constant, std::vector<double>{}, Adam{}), nabla::Error);
  BOOST_CHECK_THROW(minimize(constant, std::vector<double>{}, LBFGS{}), nabla::Error);
  const auto undefined = [](const auto& x) { return log(x[0]); };
  for (const Result& r :
       {minimize(undefined, {-1.0}, Adam{}), minimize(undefined, {-1.0}, LBFGS{})}) {
    BOOST_TEST((r.status == Status::diverged));
    BOOST_TEST(r.iterations == 0);
    BOOST_TEST(r.evaluations == 1);
    BOOST_TEST(r.x == std::vector<double>{-1.0});
  }
}

BOOST_AUTO_TEST_CASE(progress_bar_on_a_terminal_with_a_huge_budget) {
  // Before: 20·iteration overflowed an int past ~1.07e8 iterations; the negative bar width made
  // fmt throw out of the observer (and it was undefined behaviour).
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  BOOST_REQUIRE(master >= 0);
  BOOST_REQUIRE(grantpt(master) == 0 && unlockpt(master) == 0);
  std::FILE* terminal = std::fopen(ptsname(master), "w");
  BOOST_REQUIRE(terminal != nullptr);
  BOOST_REQUIRE(isatty(fileno(terminal)));
  const Observer bar = progress(1, terminal);
  for (const Iteration& it : {Iteration{.iteration = 200'000'000, .max_iterations = INT_MAX},
                              Iteration{.iteration = -5, .max_iterations = 10},
                              Iteration{.iteration = 50, .max_iterations = 10}}) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(110));  // the bar redraws at most every 100 ms
    bool go = false;
    BOOST_CHECK_NO_THROW(go = bar.callback(it));
    BOOST_TEST(go);
  }
  std::fclose(terminal);
  close(master);
}

// ---- 3. and 4. multistart ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(multistart_survives_threads_that_cannot_start) {
  // Before: a std::system_error from std::thread left the started threads unjoined, and their
  // destructors called std::terminate (e.g. under `ulimit -v 200000` with 64 threads).
  const auto local = [](std::vector<double> x0) {
    return minimize(quartic, std::move(x0), LBFGS{});
  };
  const Box box = {{-3.0, 3.0}};
  const auto reference = detail::run_multistart(local, box, 24, 5, 1);
  std::atomic<int> asked{0};
  const detail::ThreadStarter two_then_fail = [&](std::function<void()> work) {
    if (asked++ >= 2)
      throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
    return std::thread(std::move(work));
  };
  const detail::ThreadStarter never = [&](std::function<void()>) -> std::thread {
    ++asked;
    throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
  };
  const detail::ThreadStarter out_of_memory = [&](std::function<void()>) -> std::thread {
    ++asked;
    throw std::bad_alloc();
  };
  for (const auto* starter : {&two_then_fail, &never, &out_of_memory}) {
    asked = 0;
    const auto r = detail::run_multistart(local, box, 24, 5, 8, *starter);
    BOOST_TEST(asked.load() == (starter == &two_then_fail ? 3 : 1));  // stops asking at once
    BOOST_REQUIRE(r.runs.size() == 24u);
    for (std::size_t k = 0; k < 24; ++k) {  // every start ran, as on one thread
      BOOST_TEST(r.runs[k].evaluations > 0);
      BOOST_TEST(r.runs[k].x == reference.runs[k].x);
    }
    BOOST_TEST(r.best.x == reference.best.x);
    BOOST_TEST(r.minima.size() == reference.minima.size());
  }
  // An exception from a run (here: invalid options) reaches the caller, with every thread joined.
  BOOST_CHECK_THROW(multistart(quartic, box, LBFGS{.history = 0}, 16, 1, 4), nabla::Error);
  BOOST_CHECK_THROW(multistart(quartic, box, Adam{.lr = -1}, 16, 1, 4), nabla::Error);
}

BOOST_AUTO_TEST_CASE(multistart_boxes_and_counts) {
  // A box wider than the largest double: before, hi − lo overflowed and every start was ±Inf or
  // NaN. Now every start is finite and inside the box, spread over both signs.
  std::vector<std::vector<double>> seen;
  const auto record = [&](std::vector<double> x0) {
    seen.push_back(x0);
    Result r;
    r.x = x0;
    r.value = 0;
    return r;
  };
  const double big = std::numeric_limits<double>::max();
  (void)detail::run_multistart(record, {{-big, big}, {-1e308, 1e308}, {2.0, 2.0}}, 64, 3, 1);
  BOOST_REQUIRE(seen.size() == 64u);
  int negative = 0;
  for (const auto& x : seen) {
    BOOST_TEST((std::isfinite(x[0]) && std::isfinite(x[1])));
    BOOST_TEST((x[1] >= -1e308 && x[1] <= 1e308));
    BOOST_TEST(x[2] == 2.0);  // a degenerate interval is a fixed coordinate
    negative += x[0] < 0;
  }
  BOOST_TEST((negative > 8 && negative < 56), negative);
  // Through multistart(): huge starts make f overflow, and that is a status, not a crash.
  const auto r = multistart(quartic, {{-1e308, 1e308}}, LBFGS{}, 8, 1, 2);
  BOOST_TEST(r.runs.size() == 8u);
  // Invalid boxes and counts.
  for (const Box& bad : {Box{}, Box{{1.0, -1.0}}, Box{{NaN, 1.0}}, Box{{0.0, NaN}},
                         Box{{-Inf, 1.0}}, Box{{0.0, Inf}}, Box{{0.0, 1.0}, {3.0, 2.0}}}) {
    BOOST_CHECK_THROW(multistart(quartic, bad, LBFGS{}, 4, 1), nabla::Error);
  }
  BOOST_TEST(error_of([] {
               (void)multistart(quartic, {{0.0, 1.0}, {3.0, 2.0}}, LBFGS{}, 4, 1);
             }) == "nabla::optim::multistart: interval 1 is [3, 2] (expected lower <= upper)");
  for (int bad : {0, -1, INT_MIN}) {
    BOOST_CHECK_THROW(multistart(quartic, {{-1.0, 1.0}}, LBFGS{}, bad, 1), nabla::Error);
    BOOST_CHECK_THROW(multistart(quartic, {{-1.0, 1.0}}, LBFGS{}, 4, 1, bad), nabla::Error);
  }
  // More threads than starts is fine.
  BOOST_TEST(multistart(quartic, {{-3.0, 3.0}}, LBFGS{}, 2, 1, 64).runs.size() == 2u);
}

BOOST_AUTO_TEST_CASE(multistart_orders_minima_with_nan_runs) {
  // Runs whose f is NaN at the start (status diverged, value NaN) mixed with finite ones.
  // Before: std::stable_sort with `<` on NaN values (not a strict weak ordering) left finite
  // values out of order, so `best` was not the lowest minimum.
  const auto local = [](std::vector<double> x0) {
    Result r;
    r.x = x0;
    const double u = x0[0];
    r.value = u < 0.3 ? NaN : u < 0.6 ? 3.0 + u : u;  // NaN, then high, then low values
    r.status = std::isnan(r.value) ? Status::diverged : Status::gradient_converged;
    return r;
  };
  const auto r = detail::run_multistart(local, {{0.0, 1.0}}, 40, 11, 1);
  double lowest = Inf;
  for (const Result& run : r.runs)
    if (!std::isnan(run.value)) lowest = std::min(lowest, run.value);
  BOOST_TEST(r.best.value == lowest);
  for (std::size_t k = 1; k < r.minima.size(); ++k)
    BOOST_TEST(r.minima[k - 1].value <= r.minima[k].value);
  for (const Result& m : r.minima) BOOST_TEST(!std::isnan(m.value));
  // All NaN: best is the first run, and there are no minima.
  const auto all_nan = detail::run_multistart(
      [](std::vector<double> x0) {
        Result r;
        r.x = x0;
        r.value = NaN;
        return r;
      },
      {{0.0, 1.0}}, 5, 1, 1);
  BOOST_TEST(all_nan.minima.empty());
  BOOST_TEST(all_nan.best.x == all_nan.runs[0].x);
}

// Hostile stopping rules and boxes (adversarial pass): a relative gradient rule at a start whose
// gradient is exactly 0 ends there at once (no 0/0), and a box with lower == upper everywhere
// leaves nothing to move: every method ends at the bound after one evaluation.
BOOST_AUTO_TEST_CASE(zero_start_gradient_and_fully_fixed_box_end_at_once) {
  const Stop relative{.grad_tol = 0, .grad_rtol = 0.1};
  const std::vector<Result> at_minimum = {
      minimize(quadratic, {1.0, 0.0}, LBFGS{}, relative),
      minimize(quadratic, {1.0, 0.0}, LBFGS{}, Bounds{.lower = {0, 0}, .upper = {5, 5}}, relative),
      minimize(quadratic, {1.0, 0.0}, Newton{}, relative),
      minimize(quadratic, {1.0, 0.0}, NewtonCG{}, relative),
      minimize(quadratic, {1.0, 0.0}, Adam{}, relative)};
  for (const Result& r : at_minimum) {
    BOOST_TEST((r.status == Status::gradient_converged));
    BOOST_TEST(r.iterations == 0);
    BOOST_TEST(r.evaluations == 1);
  }
  const Bounds fixed{.lower = {2, 2}, .upper = {2, 2}};
  const std::vector<Result> boxed = {
      minimize(quadratic, {3.0, 3.0}, LBFGS{}, fixed),
      minimize(quadratic, {3.0, 3.0}, Adam{}, fixed),
      minimize(quadratic, {3.0, 3.0}, GradientDescent{.line_search = true}, fixed)};
  for (const Result& r : boxed) {
    BOOST_TEST((r.status == Status::gradient_converged));
    BOOST_TEST(r.x == (std::vector<double>{2, 2}));
    BOOST_TEST(r.value == 5.0);
    BOOST_TEST(r.active == (std::vector<int>{-1, -1}));
    BOOST_TEST(r.evaluations == 1);
  }
}

BOOST_AUTO_TEST_SUITE_END()
