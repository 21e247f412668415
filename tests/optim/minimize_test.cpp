// minimize(): convergence of every method, every status, the best point after divergence,
// observers and history, user-supplied gradients, bad stopping rules.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace nabla::optim;
using nabla::Var;

namespace {
const auto rosenbrock = [](const auto& x) {
  return 100.0 * pow(x[1] - x[0] * x[0], 2) + pow(1.0 - x[0], 2);
};
// An ill-conditioned quadratic (condition number 100), minimum 0 at (1, −2).
const auto quadratic = [](const auto& x) {
  return 0.5 * (pow(x[0] - 1.0, 2) + 100.0 * pow(x[1] + 2.0, 2));
};
}  // namespace

BOOST_AUTO_TEST_SUITE(minimize_suite)

BOOST_AUTO_TEST_CASE(every_first_order_method_converges) {
  const Stop stop{.grad_tol = 1e-6, .max_iterations = 200000};
  const auto check = [&](const char* name, auto method, double tol) {
    const Result q = minimize(quadratic, {5.0, 3.0}, method, stop);
    BOOST_TEST(std::abs(q.x[0] - 1) < tol, name << " quadratic: " << fmt::format("{}", q));
    BOOST_TEST(std::abs(q.x[1] + 2) < tol, name << " quadratic: " << fmt::format("{}", q));
    const Result r = minimize(rosenbrock, {-1.2, 1.0}, method, stop);
    BOOST_TEST(std::abs(r.x[0] - 1) < 10 * tol, name << " Rosenbrock: " << fmt::format("{}", r));
    BOOST_TEST(std::abs(r.x[1] - 1) < 20 * tol, name << " Rosenbrock: " << fmt::format("{}", r));
  };
  check("GradientDescent", GradientDescent{.lr = 0.0019}, 1e-4);
  check("GradientDescent+Armijo", GradientDescent{.lr = 1.0, .line_search = true}, 1e-4);
  check("Momentum", Momentum{.lr = 2e-4, .rho = 0.9}, 1e-4);
  check("Nesterov", Nesterov{.lr = 2e-4, .rho = 0.9}, 1e-4);
  check("AdaGrad", AdaGrad{.lr = 0.5}, 1e-4);
  check("RMSProp", RMSProp{.lr = 1e-3, .alpha = 0.99}, 1e-2);
  check("Adam", Adam{.lr = 0.01}, 1e-3);
  check("AdamW", AdamW{.lr = 0.01, .weight_decay = 0.0}, 1e-3);
  check("LBFGS", LBFGS{}, 1e-6);
}

BOOST_AUTO_TEST_CASE(statuses) {
  // gradient_converged
  BOOST_TEST((minimize(quadratic, {5.0, 3.0}, LBFGS{}).status == Status::gradient_converged));
  // step_converged and value_converged: with lr = 0.01 the slow direction contracts by 0.99 a
  // step, so steps shrink below 1e-3 after a few hundred steps, and f falls by ~2% a step.
  BOOST_TEST((minimize(quadratic, {5.0, 3.0}, GradientDescent{.lr = 0.01},
                       Stop{.grad_tol = 0, .step_tol = 1e-3})
                  .status == Status::step_converged));
  BOOST_TEST((minimize(quadratic, {5.0, 3.0}, GradientDescent{.lr = 0.01},
                       Stop{.grad_tol = 0, .value_tol = 0.03})
                  .status == Status::value_converged));
  // target_reached
  const Result t = minimize(quadratic, {5.0, 3.0}, LBFGS{}, Stop{.target = 1.0});
  BOOST_TEST((t.status == Status::target_reached));
  BOOST_TEST(t.value <= 1.0);
  // max_iterations, max_evaluations, time_limit
  const Result i = minimize(rosenbrock, {-1.2, 1.0}, Adam{}, Stop{.max_iterations = 7});
  BOOST_TEST((i.status == Status::max_iterations));
  BOOST_TEST(i.iterations == 7);
  BOOST_TEST(i.evaluations == 8);
  const Result e = minimize(rosenbrock, {-1.2, 1.0}, LBFGS{}, Stop{.max_evaluations = 5});
  BOOST_TEST((e.status == Status::max_evaluations));
  BOOST_TEST(e.evaluations <= 5);
  BOOST_TEST((minimize(rosenbrock, {-1.2, 1.0}, Adam{}, Stop{.time_limit_s = 1e-12}).status ==
              Status::time_limit));
  // stopped_by_callback
  // A plain lambda is an observer.
  const Result c = minimize(rosenbrock, {-1.2, 1.0}, Adam{}, Stop{},
                            [](const Iteration& it) { return it.iteration < 3; });
  BOOST_TEST((c.status == Status::stopped_by_callback));
  BOOST_TEST(c.iterations == 3);
  // line_search_failed: a gradient that is wrong (its sign flipped in y), so no step along the
  // claimed descent direction decreases f.
  const auto wrong = [](std::span<const double> x, std::span<double> g) {
    g[0] = 2 * x[0];
    g[1] = -2 * x[1];
    return x[0] * x[0] + x[1] * x[1];
  };
  const Result w = minimize(wrong, {1.0, 1.0}, LBFGS{});
  BOOST_TEST((w.status == Status::line_search_failed), fmt::format("{}", w));
}

BOOST_AUTO_TEST_CASE(divergence_keeps_the_best_point) {
  // lr far above 2/L = 0.02 for the quadratic: the iterates blow up to infinity.
  const Result r =
      minimize(quadratic, {5.0, 3.0}, GradientDescent{.lr = 0.5}, Stop{.max_iterations = 100000});
  BOOST_TEST((r.status == Status::diverged), fmt::format("{}", r));
  BOOST_TEST(std::isfinite(r.value));
  BOOST_TEST(std::isfinite(r.best_value));
  BOOST_TEST(r.best_value <= quadratic(std::vector<double>{5.0, 3.0}));
  // A function that is NaN away from its start.
  const auto nan_soon = [](const auto& x) {
    using std::sqrt;
    return sqrt(1.0 - x[0]) - x[0];  // NaN for x > 1; f' < 0, so GD pushes x up
  };
  const Result n = minimize(nan_soon, {0.5}, GradientDescent{.lr = 10.0});
  BOOST_TEST((n.status == Status::diverged));
  BOOST_TEST(n.x[0] == 0.5);
  BOOST_TEST(n.best_x[0] == 0.5);
}

// The two line searches (one module, optim/src/line_search.hpp): their counts on Rosenbrock's
// function are pinned to those docs/optimizers.md shows, every trial point is one evaluation
// within Stop::max_evaluations, and a backtracking step reports its accepted length.
BOOST_AUTO_TEST_CASE(line_searches_count_every_trial) {
  const Stop stop{.grad_tol = 1e-6, .max_iterations = 100000};
  const Result w = minimize(rosenbrock, {-1.2, 1.0}, LBFGS{}, stop);
  BOOST_TEST(w.iterations == 36);
  BOOST_TEST(w.evaluations == 45);
  const Result a =
      minimize(rosenbrock, {-1.2, 1.0}, GradientDescent{.lr = 1.0, .line_search = true}, stop);
  BOOST_TEST(a.iterations == 13756);
  BOOST_TEST(a.evaluations == 136800);
  for (int budget = 1; budget <= 12; ++budget) {
    const Stop s{.max_evaluations = budget};
    for (const Result& r :
         {minimize(rosenbrock, {-1.2, 1.0}, LBFGS{}, s),
          minimize(rosenbrock, {-1.2, 1.0}, GradientDescent{.lr = 1.0, .line_search = true}, s)}) {
      BOOST_TEST((r.status == Status::max_evaluations), fmt::format("{}", r));
      BOOST_TEST(r.evaluations == budget);
    }
  }
  // f = x² from 1 with lr = 1: t = 1 lands on f = 1 (rejected), t = 0.5 on the minimum.
  const Result q = minimize([](const auto& x) { return x[0] * x[0]; }, {1.0},
                            GradientDescent{.lr = 1.0, .line_search = true}, Stop{}, history());
  BOOST_TEST((q.status == Status::gradient_converged));
  BOOST_TEST(q.iterations == 1);
  BOOST_TEST(q.evaluations == 3);
  BOOST_TEST(q.history.iterations.at(0).lr == 0.5);
  BOOST_TEST(q.x[0] == 0.0);
}

BOOST_AUTO_TEST_CASE(history_and_summary) {
  const Result r = minimize(rosenbrock, {-1.2, 1.0}, LBFGS{}, Stop{}, history());
  BOOST_TEST(r.history.iterations.size() == static_cast<std::size_t>(r.iterations));
  BOOST_TEST(r.history.iterations.back().value == r.value);
  for (std::size_t k = 1; k < r.history.iterations.size(); ++k)
    BOOST_TEST(r.history.iterations[k].value <= r.history.iterations[k - 1].value);
  const Result quiet = minimize(rosenbrock, {-1.2, 1.0}, LBFGS{});
  BOOST_TEST(quiet.history.iterations.empty());
  const std::string s = fmt::format("{}", r);
  BOOST_TEST(s.find("gradient_converged after") == 0u, s);
}

BOOST_AUTO_TEST_CASE(printed_active_set_and_hessian_evaluations) {
  Result r;
  r.status = Status::gradient_converged;
  r.iterations = 10;
  r.evaluations = 11;
  r.value = r.best_value = 1.5;
  r.grad_norm = 2.5e-9;
  r.x = {0, 0.5, 1};
  const std::string plain =
      "gradient_converged after 10 iterations (11 evaluations): f = 1.5, |grad| = 2.5e-09, "
      "x = [0, 0.5, 1]";
  BOOST_TEST(fmt::format("{}", r) == plain);
  r.active = {0, 0, 0};  // bounded, but all free: nothing more
  BOOST_TEST(fmt::format("{}", r) == plain);
  r.active = {-1, 0, 1};
  BOOST_TEST(fmt::format("{}", r) == plain + "; active: x[0] at lower, x[2] at upper");
  r.best_value = 1.0;  // the best value seen comes after the active set
  BOOST_TEST(fmt::format("{}", r) ==
             plain + "; active: x[0] at lower, x[2] at upper; best f = 1 seen on the way");
  r.best_value = 1.5;
  r.active = {};
  r.hessian_evaluations = 7;
  BOOST_TEST(fmt::format("{}", r) ==
             "gradient_converged after 10 iterations (11 evaluations, 7 Hessian evaluations): "
             "f = 1.5, |grad| = 2.5e-09, x = [0, 0.5, 1]");

  // Many coordinates at a bound: the first six, then how many in all.
  r.hessian_evaluations = 0;
  r.x.assign(10, 0.0);
  r.active.assign(10, 1);
  r.active[3] = 0;
  const std::string many = fmt::format("{}", r);
  BOOST_TEST(many.find("; active: x[0] at upper, x[1] at upper, x[2] at upper, x[4] at upper, "
                       "x[5] at upper, x[6] at upper, … (9 at a bound)") != std::string::npos,
             many);

  // From real runs: L-BFGS-B on a bound, and Newton's Hessians.
  const auto bowl = [](const auto& x) { return pow(x[0] - 2.0, 2) + pow(x[1] + 1.0, 2); };
  const Result bounded =
      minimize(bowl, {0.5, 0.5}, LBFGS{}, Bounds{.lower = {0, 0}, .upper = {1, 1}});
  const std::string b = fmt::format("{}", bounded);
  BOOST_TEST(b.find("x = [1, 0]; active: x[0] at upper, x[1] at lower") != std::string::npos, b);
  BOOST_TEST(b.find("Hessian") == std::string::npos, b);
  const Result newton = minimize(bowl, {0.5, 0.5}, Newton{});
  const std::string n = fmt::format("{}", newton);
  BOOST_TEST(newton.hessian_evaluations > 0);
  BOOST_TEST(n.find(fmt::format("evaluations, {} Hessian evaluations)",
                                newton.hessian_evaluations)) != std::string::npos,
             n);
  BOOST_TEST(n.find("active") == std::string::npos, n);
}

BOOST_AUTO_TEST_CASE(user_supplied_gradients) {
  const auto f = [](std::span<const double> x, std::span<double> g) {
    g[0] = 2 * (x[0] - 3);
    return (x[0] - 3) * (x[0] - 3);
  };
  const Result r = minimize(f, {0.0}, LBFGS{});
  BOOST_TEST(r.x[0] == 3.0, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(invalid_stopping_rules_and_options_throw) {
  BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, Adam{}, Stop{.grad_tol = -1}), nabla::Error);
  BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, Adam{}, Stop{.max_iterations = -5}),
                    nabla::Error);
  BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, LBFGS{.history = 0}), nabla::Error);
  BOOST_CHECK_THROW(minimize(quadratic, {0.0, 0.0}, LBFGS{.line_search = {.c1 = 0.9, .c2 = 0.1}}),
                    nabla::Error);
}

BOOST_AUTO_TEST_SUITE_END()
