// Learning-rate schedules over 30 steps against their closed forms, and the per-step extras
// (gradient clipping, coupled weight decay) of every first-order method.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <numbers>
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
