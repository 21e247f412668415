// minimize() within Bounds: L-BFGS-B on bounded standard problems (the constrained optimum and
// its active set), every projected first-order method, invalid bounds, statuses and hard cases.
// tests/bench/lbfgsb_vs_scipy.py runs SciPy's L-BFGS-B on problems() (same starts, bounds and
// tolerances); the reference optima of Wood, Powell and Beale below are SciPy's at gtol = 1e-10.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "mgh_problems.hpp"

using namespace nabla::optim;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
using Fg = std::function<double(std::span<const double>, std::span<double>)>;

// A function of Vars as (x, g) → f, by nabla's reverse mode.
template <class P>
Fg ad(P p) {
  return [p](std::span<const double> x, std::span<double> g) {
    return nabla::gradient([&p](const auto& v) { return p(v); }, x, g);
  };
}

// ½xᵀAx − bᵀx on [0, 1]ⁿ with A tridiagonal (1 + i on the diagonal, −0.4 beside it) and b chosen
// so that the minimizer is x*ᵢ = 0, 1, 0.5 for i mod 3 = 0, 1, 2 — with ∇f = +1 at the lower
// bounds, −1 at the upper ones, 0 at the free coordinates (the KKT conditions hold there).
struct Quadratic {
  std::size_t n;
  std::vector<double> b;
  explicit Quadratic(std::size_t size) : n(size), b(size) {
    std::vector<double> xs(n), ax(n);
    for (std::size_t i = 0; i < n; ++i) xs[i] = std::vector<double>{0, 1, 0.5}[i % 3];
    times_a(xs, ax);
    for (std::size_t i = 0; i < n; ++i) b[i] = ax[i] - std::vector<double>{1, -1, 0}[i % 3];
  }
  void times_a(std::span<const double> x, std::span<double> out) const {
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = (1.0 + static_cast<double>(i)) * x[i];
      if (i > 0) out[i] -= 0.4 * x[i - 1];
      if (i + 1 < n) out[i] -= 0.4 * x[i + 1];
    }
  }
  double operator()(std::span<const double> x, std::span<double> g) const {
    times_a(x, g);
    double f = 0;
    for (std::size_t i = 0; i < n; ++i) {
      f += 0.5 * x[i] * g[i] - b[i] * x[i];
      g[i] -= b[i];
    }
    return f;
  }
};

template <class T>
std::vector<T> repeat(std::vector<T> block, std::size_t n) {
  std::vector<T> v;
  while (v.size() < n) v.insert(v.end(), block.begin(), block.end());
  v.resize(n);
  return v;
}

struct Problem {
  std::string name;
  Fg f;
  std::vector<double> x0, lower, upper;
  std::vector<double> x_star;  // the constrained minimizer
  std::vector<int> active;     // its active set
};

// The problems of tests/bench/lbfgsb_vs_scipy.py, in its order.
std::vector<Problem> problems() {
  std::vector<Problem> p;
  // Rosenbrock with x₁ ≤ 0.5: x₂ = x₁² and ∂f/∂x₁ = −1 < 0 at (0.5, 0.25), so x₁ stays there.
  p.push_back({"Rosenbrock, x1 <= 0.5",
               ad(mgh::Rosenbrock{}),
               {-1.2, 1},
               {-2, -1},
               {0.5, 2},
               {0.5, 0.25},
               {1, 0}});
  p.push_back({"Wood, x1 <= 0.8",
               ad(mgh::Wood{}),
               {-3, -1, -3, -1},
               {-10, -10, -10, -10},
               {0.8, 10, 10, 10},
               {0.8, 0.64208980124814652, 1.1589950274193093, 1.3440316042951135},
               {1, 0, 0, 0}});
  p.push_back({"Powell singular, x1 >= 0.1",
               ad(mgh::PowellSingular{}),
               {3, -1, 0, 1},
               {0.1, -20, -1, -1},
               {100, 20, 1, 50},
               {0.1, -0.0099822341573198008, 0.043073107820517993, 0.043783741527721097},
               {-1, 0, 0, 0}});
  p.push_back({"Beale, x2 <= 0.4",
               ad(mgh::Beale{}),
               {1, 1},
               {-4.5, -4.5},
               {4.5, 0.4},
               {2.7022767724710777, 0.4},
               {0, 1}});
  p.push_back({"Beale in [-4.5, 4.5]^2",
               ad(mgh::Beale{}),
               {1, 1},
               {-4.5, -4.5},
               {4.5, 4.5},
               {3, 0.5},
               {0, 0}});
  const Quadratic q(50);
  p.push_back({"quadratic n=50 in [0, 1]^n", q, std::vector<double>(50, 0.3),
               std::vector<double>(50, 0.0), std::vector<double>(50, 1.0),
               repeat<double>({0, 1, 0.5}, 50), repeat<int>({-1, 1, 0}, 50)});
  p.push_back({"ext. Rosenbrock n=100, odd x <= 0.5", ad(mgh::ExtendedRosenbrock{}),
               repeat<double>({-1.2, 1}, 100), std::vector<double>(100, -inf),
               repeat<double>({0.5, inf}, 100), repeat<double>({0.5, 0.25}, 100),
               repeat<int>({1, 0}, 100)});
  p.push_back({"corner: sum (x-2)^2 in [-1, 1]^10",
               [](std::span<const double> x, std::span<double> g) {
                 double f = 0;
                 for (std::size_t i = 0; i < x.size(); ++i) {
                   f += (x[i] - 2) * (x[i] - 2);
                   g[i] = 2 * (x[i] - 2);
                 }
                 return f;
               },
               std::vector<double>(10, 0.0), std::vector<double>(10, -1.0),
               std::vector<double>(10, 1.0), std::vector<double>(10, 1.0),
               std::vector<int>(10, 1)});
  return p;
}

// f that also checks every point it is evaluated at lies in the box.
Fg feasible_only(Fg f, std::vector<double> lower, std::vector<double> upper, int& outside) {
  return [f = std::move(f), lower = std::move(lower), upper = std::move(upper), &outside](
             std::span<const double> x, std::span<double> g) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!(x[i] >= lower[i] && x[i] <= upper[i])) ++outside;
    }
    return f(x, g);
  };
}

double max_error(const std::vector<double>& x, const std::vector<double>& x_star) {
  double e = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    e = std::max(e, std::abs(x[i] - x_star[i]) / (1 + std::abs(x_star[i])));
  return e;
}

bool has_status(const Result& r, Status s) { return r.status == s; }

bool converged(Status s) { return s == Status::gradient_converged || s == Status::precision_limit; }

}  // namespace

BOOST_AUTO_TEST_SUITE(bounds)

BOOST_AUTO_TEST_CASE(lbfgsb_reaches_the_constrained_optimum_and_active_set) {
  // The tolerance of tests/bench/lbfgsb_vs_scipy.py (SciPy's gtol is on the max-norm of the
  // projected gradient, ours on its 2-norm: ours is the stricter).
  for (const Problem& p : problems()) {
    int outside = 0;
    const Result r = minimize(feasible_only(p.f, p.lower, p.upper, outside), p.x0, LBFGS{},
                              Bounds{.lower = p.lower, .upper = p.upper}, {.grad_tol = 1e-6});
    const std::string what = p.name + ": " + fmt::format("{}", r);
    BOOST_TEST(converged(r.status), what);
    BOOST_TEST(max_error(r.x, p.x_star) < 1e-5, what);
    BOOST_TEST(r.active == p.active, what << fmt::format(" active {}", fmt::join(r.active, ",")));
    BOOST_TEST(outside == 0, what);
    BOOST_TEST(r.grad_norm <= 1e-6, what);
    BOOST_TEST_MESSAGE(p.name << ": " << r.evaluations << " evaluations, " << r.iterations
                              << " iterations, status " << to_string(r.status));
    // Tighter: the optimum to (nearly) the digits of the reference.
    const Result tight = minimize(p.f, p.x0, LBFGS{}, Bounds{.lower = p.lower, .upper = p.upper},
                                  {.grad_tol = 1e-10, .max_iterations = 10000});
    BOOST_TEST(converged(tight.status), p.name << ": " << fmt::format("{}", tight));
    BOOST_TEST(max_error(tight.x, p.x_star) < 1e-7, p.name << ": " << fmt::format("{}", tight));
  }
}

BOOST_AUTO_TEST_CASE(every_projected_first_order_method_reaches_the_box_optimum) {
  // ½((x₀ − 1)² + 10(x₁ + 2)²) with x₁ ≥ −1 and x₀ ≤ 3: the minimizer (1, −1), x₁ at its bound.
  const auto f = [](const auto& x) {
    return 0.5 * (pow(x[0] - 1.0, 2) + 10.0 * pow(x[1] + 2.0, 2));
  };
  const Bounds box{.lower = {-inf, -1}, .upper = {3, inf}};
  const Stop stop{.grad_tol = 1e-7, .max_iterations = 100000};
  const auto check = [&](const char* name, auto method) {
    int outside = 0;
    const Result r = minimize(feasible_only(ad(f), {-inf, -1}, {3, inf}, outside), {5.0, 3.0},
                              method, box, stop);
    BOOST_TEST(has_status(r, Status::gradient_converged), name << ": " << fmt::format("{}", r));
    BOOST_TEST(std::abs(r.x[0] - 1) < 1e-6, name << ": " << fmt::format("{}", r));
    BOOST_TEST(r.x[1] == -1.0, name << ": " << fmt::format("{}", r));
    BOOST_TEST((r.active == std::vector<int>{0, -1}), name);
    BOOST_TEST(outside == 0, name);
    // Result::grad_norm is the projected gradient: ∂f/∂x₁ = 10 stays, held by the bound.
    BOOST_TEST(r.grad_norm <= 1e-7, name);
  };
  check("GradientDescent", GradientDescent{.lr = 0.05});
  check("GradientDescent+Armijo", GradientDescent{.lr = 1.0, .line_search = true});
  check("Momentum", Momentum{.lr = 0.02, .rho = 0.5});
  check("Nesterov", Nesterov{.lr = 0.02, .rho = 0.5});
  check("AdaGrad", AdaGrad{.lr = 0.5});
  check("RMSProp", RMSProp{.lr = 0.01, .alpha = 0.9});
  check("Adam", Adam{.lr = 0.05});
  check("AdamW", AdamW{.lr = 0.05, .weight_decay = 0});
  check("LBFGS", LBFGS{});
}

BOOST_AUTO_TEST_CASE(projected_armijo_on_the_bounded_problems) {
  // Projected gradient descent with the Armijo search on the quadratic with 50 coordinates. Its
  // f ≈ −286 is flat to rounding (100·ε·|f| ≈ 6e-12) once the projected gradient is near 1e-5:
  // the run may end there with precision_limit.
  const Problem p = problems()[5];
  const Result r = minimize(p.f, p.x0, GradientDescent{.lr = 1, .line_search = true},
                            Bounds{.lower = p.lower, .upper = p.upper},
                            {.grad_tol = 1e-6, .max_iterations = 100000});
  BOOST_TEST(converged(r.status), fmt::format("{}", r));
  BOOST_TEST(r.grad_norm < 1e-4, fmt::format("{}", r));
  BOOST_TEST(max_error(r.x, p.x_star) < 1e-6, fmt::format("{}", r));
  BOOST_TEST(r.active == p.active);
}

BOOST_AUTO_TEST_CASE(invalid_bounds_are_errors_that_say_what_was_expected) {
  const auto f = [](const auto& x) { return x[0] * x[0] + x[1] * x[1]; };
  const auto message = [&](Bounds b) -> std::string {
    try {
      minimize(f, {1.0, 1.0}, LBFGS{}, b);
    } catch (const nabla::Error& e) {
      return e.what();
    }
    return "no error";
  };
  const auto first_order = [&](Bounds b) -> std::string {
    try {
      minimize(f, {1.0, 1.0}, Adam{}, b);
    } catch (const nabla::Error& e) {
      return e.what();
    }
    return "no error";
  };
  const auto contains = [](const std::string& s, const char* part) {
    return s.find(part) != std::string::npos;
  };
  const std::string size = message({.lower = {0}});
  BOOST_TEST(contains(size, "bounds.lower has 1 values (expected 2"), size);
  const std::string nan = message({.upper = {1, std::nan("")}});
  BOOST_TEST(contains(nan, "bounds.upper[1] is nan"), nan);
  const std::string order = message({.lower = {0, 2}, .upper = {1, 1}});
  BOOST_TEST(contains(order, "invalid bounds for x[1] (got [2, 1], expected lower <= upper"),
             order);
  BOOST_TEST(contains(message({.lower = {inf, 0}}), "invalid bounds for x[0]"));
  BOOST_TEST(contains(message({.upper = {0, -inf}}), "invalid bounds for x[1]"));
  BOOST_TEST(contains(first_order({.lower = {0, 2}, .upper = {1, 1}}), "invalid bounds for x[1]"));
  BOOST_TEST(contains(first_order({.lower = {0, 0, 0}}), "bounds.lower has 3 values"));
  // An infinite x0 is an error as without bounds, even though projection could make it finite.
  try {
    minimize(f, {inf, 1.0}, LBFGS{}, Bounds{.lower = {0, 0}, .upper = {1, 1}});
    BOOST_TEST(false, "no error for an infinite x0");
  } catch (const nabla::Error& e) {
    BOOST_TEST(contains(e.what(), "x0[0] is inf"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(infeasible_starts_and_starts_on_the_boundary) {
  const Problem p = problems()[0];  // Rosenbrock, x₁ ≤ 0.5
  const Bounds box{.lower = p.lower, .upper = p.upper};
  for (const std::vector<double>& x0 : std::vector<std::vector<double>>{
           {10, 10}, {-100, -100}, {0.5, 2}, {0.5, 0.25}, {-2, -1}, {0.5, -1}}) {
    int outside = 0;
    const Result r = minimize(feasible_only(p.f, p.lower, p.upper, outside), x0, LBFGS{}, box,
                              {.grad_tol = 1e-9});
    BOOST_TEST(converged(r.status), fmt::format("from [{}, {}]: {}", x0[0], x0[1], r));
    BOOST_TEST(max_error(r.x, p.x_star) < 1e-8, fmt::format("{}", r));
    BOOST_TEST(r.active == p.active);
    BOOST_TEST(outside == 0);
  }
  // Starting at the optimum: converged at once, without an iteration.
  const Result at = minimize(p.f, {0.5, 0.25}, LBFGS{}, box);
  BOOST_TEST(at.iterations == 0);
  BOOST_TEST(at.evaluations == 1);
  BOOST_TEST(has_status(at, Status::gradient_converged));
}

BOOST_AUTO_TEST_CASE(hard_boxes) {
  const Fg rosenbrock = ad(mgh::Rosenbrock{});
  // Bounds at ±1e300: the unconstrained minimum.
  const Result huge = minimize(rosenbrock, {-1.2, 1.0}, LBFGS{},
                               Bounds{.lower = {-1e300, -1e300}, .upper = {1e300, 1e300}});
  BOOST_TEST(converged(huge.status), fmt::format("{}", huge));
  BOOST_TEST(max_error(huge.x, {1, 1}) < 1e-7, fmt::format("{}", huge));
  BOOST_TEST((huge.active == std::vector<int>{0, 0}));
  // A box 1e-12 wide: ∂f/∂x₁ < 0 and ∂f/∂x₂ > 0 throughout, so the minimum is a corner. Every
  // point of it has a projected gradient below 1e-12 (it is a distance in x): grad_tol = 0 asks
  // for the corner itself, where the projected gradient is exactly 0.
  const Bounds tiny{.lower = {0.3, 2}, .upper = {0.3 + 1e-12, 2 + 1e-12}};
  int outside = 0;
  const Result t = minimize(feasible_only(rosenbrock, tiny.lower, tiny.upper, outside),
                            {0.3 + 5e-13, 2 + 5e-13}, LBFGS{}, tiny, {.grad_tol = 0});
  BOOST_TEST(has_status(t, Status::gradient_converged), fmt::format("{}", t));
  BOOST_TEST((t.active == std::vector<int>{1, -1}), fmt::format("{}", t));
  BOOST_TEST(outside == 0);
  // The same with projected Adam.
  const Result ta =
      minimize(rosenbrock, {0.3 + 5e-13, 2 + 5e-13}, Adam{.lr = 1e-3}, tiny, {.grad_tol = 0});
  BOOST_TEST(has_status(ta, Status::gradient_converged), fmt::format("{}", ta));
  BOOST_TEST((ta.active == std::vector<int>{1, -1}), fmt::format("{}", ta));
  // A fixed coordinate (lower == upper): Rosenbrock in x₁ alone with x₂ = 2, whose minimizer
  // solves 400x₁³ − 798x₁ − 2 = 0 (∂f/∂x₁ = 0) near 1.4137.
  const Result fixed = minimize(rosenbrock, {0.0, 0.0}, LBFGS{},
                                Bounds{.lower = {-inf, 2}, .upper = {inf, 2}}, {.grad_tol = 1e-10});
  BOOST_TEST(converged(fixed.status), fmt::format("{}", fixed));
  BOOST_TEST(fixed.x[1] == 2.0);
  const double x1 = fixed.x[0];
  BOOST_TEST(std::abs(400 * x1 * x1 * x1 - 798 * x1 - 2) < 1e-8, fmt::format("{}", fixed));
  BOOST_TEST(x1 > 1.4);
  BOOST_TEST((fixed.active == std::vector<int>{0, -1}));
  // Every coordinate fixed: nothing to do.
  const Result all_fixed =
      minimize(rosenbrock, {0.0, 0.0}, LBFGS{}, Bounds{.lower = {1, 3}, .upper = {1, 3}});
  BOOST_TEST(has_status(all_fixed, Status::gradient_converged));
  BOOST_TEST((all_fixed.x == std::vector<double>{1, 3}));
  // n = 1, the optimum at the upper bound; and with history = 1.
  const auto line = [](const auto& x) { return pow(x[0] - 3.0, 2); };
  const Result one = minimize(line, {0.0}, LBFGS{.history = 1}, Bounds{.upper = {1}});
  BOOST_TEST(has_status(one, Status::gradient_converged), fmt::format("{}", one));
  BOOST_TEST(one.x[0] == 1.0);
  BOOST_TEST((one.active == std::vector<int>{1}));
  const Problem wood = problems()[1];
  const Result h1 = minimize(wood.f, wood.x0, LBFGS{.history = 1},
                             Bounds{.lower = wood.lower, .upper = wood.upper},
                             {.grad_tol = 1e-8, .max_iterations = 10000});
  BOOST_TEST(converged(h1.status), fmt::format("{}", h1));
  BOOST_TEST(max_error(h1.x, wood.x_star) < 1e-6, fmt::format("{}", h1));
}

BOOST_AUTO_TEST_CASE(unbounded_bounds_converge_like_lbfgs) {
  // L-BFGS-B without a finite bound is L-BFGS with L-BFGS-B's step rules: not the same
  // trajectory as LBFGS without Bounds, but the same minimum.
  for (const auto& [f, x0] : std::vector<std::pair<Fg, std::vector<double>>>{
           {ad(mgh::Rosenbrock{}), {-1.2, 1}},
           {ad(mgh::Wood{}), {-3, -1, -3, -1}},
           {ad(mgh::ExtendedRosenbrock{}), repeat<double>({-1.2, 1}, 100)}}) {
    const Result b = minimize(f, x0, LBFGS{}, Bounds{}, {.grad_tol = 1e-9});
    const Result u = minimize(f, x0, LBFGS{}, {.grad_tol = 1e-9});
    BOOST_TEST(converged(b.status), fmt::format("{}", b));
    BOOST_TEST(max_error(b.x, u.x) < 1e-7, fmt::format("{} vs {}", b, u));
    BOOST_TEST(b.active == std::vector<int>(x0.size(), 0));
    BOOST_TEST(u.active.empty());
    BOOST_TEST_MESSAGE("unbounded: L-BFGS-B " << b.evaluations << " evaluations, L-BFGS "
                                              << u.evaluations);
  }
}

BOOST_AUTO_TEST_CASE(unbounded_projection_is_the_identity) {
  // A first-order method with Bounds{} takes exactly the steps it takes without bounds.
  const Fg f = ad(mgh::Rosenbrock{});
  const Stop stop{.grad_tol = 1e-6, .max_iterations = 3000};
  const Result b = minimize(f, {-1.2, 1.0}, Adam{.lr = 0.01}, Bounds{}, stop);
  const Result u = minimize(f, {-1.2, 1.0}, Adam{.lr = 0.01}, stop);
  BOOST_TEST(b.x == u.x);
  BOOST_TEST(b.iterations == u.iterations);
  BOOST_TEST(b.grad_norm == u.grad_norm, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(large_n_is_fast) {
  // Extended Rosenbrock with n = 10000 and every other coordinate ≤ 0.5.
  const std::size_t n = 10000;
  const auto start = std::chrono::steady_clock::now();
  const Result r = minimize(
      [](std::span<const double> x, std::span<double> g) {
        double f = 0;
        for (std::size_t i = 0; i < x.size(); i += 2) {
          const double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
          f += 100 * a * a + b * b;
          g[i] = -400 * x[i] * a - 2 * b;
          g[i + 1] = 200 * a;
        }
        return f;
      },
      repeat<double>({-1.2, 1}, n), LBFGS{},
      Bounds{.lower = {}, .upper = repeat<double>({0.5, inf}, n)}, {.grad_tol = 1e-6});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  BOOST_TEST(converged(r.status), fmt::format("{}", r));
  BOOST_TEST(max_error(r.x, repeat<double>({0.5, 0.25}, n)) < 1e-6, fmt::format("{}", r));
  BOOST_TEST(r.active == repeat<int>({1, 0}, n));
  BOOST_TEST(seconds < 10);
  BOOST_TEST_MESSAGE("n = 10000: " << r.evaluations << " evaluations in " << seconds << " s");
}

BOOST_AUTO_TEST_CASE(statuses_as_without_bounds) {
  const Problem p = problems()[1];  // Wood
  const Bounds box{.lower = p.lower, .upper = p.upper};
  // The evaluation budget.
  const Result budget = minimize(p.f, p.x0, LBFGS{}, box, {.max_evaluations = 7});
  BOOST_TEST(has_status(budget, Status::max_evaluations));
  BOOST_TEST(budget.evaluations <= 7);
  BOOST_TEST(budget.best_value <= budget.value);
  // The observer sees the projected gradient, and can stop the run.
  std::vector<double> seen;
  const Result stopped = minimize(p.f, p.x0, LBFGS{}, box, {}, history([&](const Iteration& it) {
                                    seen.push_back(it.grad_norm);
                                    return it.iteration < 5;
                                  }));
  BOOST_TEST(has_status(stopped, Status::stopped_by_callback));
  BOOST_TEST(stopped.iterations == 5);
  BOOST_TEST(stopped.history.iterations.size() == 5u);
  BOOST_TEST(seen.back() == stopped.grad_norm);
  // f NaN at the start: diverged at once, the active set still reported.
  const Result nan_start = minimize([](const auto& x) { return log(x[0] - 1.0); }, {0.5}, LBFGS{},
                                    Bounds{.lower = {0}, .upper = {2}});
  BOOST_TEST(has_status(nan_start, Status::diverged));
  BOOST_TEST(nan_start.evaluations == 1);
  BOOST_TEST(nan_start.active.size() == 1u);
  // A gradient with the wrong sign: no step decreases f.
  const Result wrong = minimize(
      [](std::span<const double> x, std::span<double> g) {
        g[0] = -2 * (x[0] - 1);
        return (x[0] - 1) * (x[0] - 1);
      },
      {-0.5}, LBFGS{}, Bounds{.lower = {-1}, .upper = {2}});
  BOOST_TEST(has_status(wrong, Status::line_search_failed), fmt::format("{}", wrong));
  // grad_tol = 0: converged as far as doubles allow.
  const Result precise = minimize(p.f, p.x0, LBFGS{}, box, {.grad_tol = 0});
  BOOST_TEST(converged(precise.status), fmt::format("{}", precise));
  BOOST_TEST(max_error(precise.x, p.x_star) < 1e-8, fmt::format("{}", precise));
  // An exception from f propagates out of minimize, and a later run is unaffected.
  int calls = 0;
  const auto throwing = [&calls, &p](std::span<const double> x, std::span<double> g) {
    if (++calls == 10) throw std::runtime_error("f failed");
    return p.f(x, g);
  };
  BOOST_CHECK_THROW(minimize(throwing, p.x0, LBFGS{}, box), std::runtime_error);
  BOOST_TEST(calls == 10);
  const Result after = minimize(throwing, p.x0, LBFGS{}, box);
  BOOST_TEST(converged(after.status), fmt::format("{}", after));
  BOOST_TEST(max_error(after.x, p.x_star) < 1e-6);
  BOOST_TEST(after.active == p.active);
  // The on_finish observer sees the active set.
  std::vector<int> finished;
  Observer o;
  o.on_finish = [&finished](const Result& r) { finished = r.active; };
  minimize(p.f, p.x0, LBFGS{}, box, {}, o);
  BOOST_TEST(finished == p.active);
}

BOOST_AUTO_TEST_CASE(f_undefined_outside_a_region) {
  // f is NaN where x₀ + x₁ > 5 — a region the box does not exclude; the minimizer (2, 2) is
  // inside it. The searches treat NaN as "too far" and step back.
  const auto f = [](std::span<const double> x, std::span<double> g) {
    if (x[0] + x[1] > 5) {
      g[0] = g[1] = std::nan("");
      return std::nan("");
    }
    g[0] = 2 * (x[0] - 2);
    g[1] = 20 * (x[1] - 2);
    return (x[0] - 2) * (x[0] - 2) + 10 * (x[1] - 2) * (x[1] - 2);
  };
  const Result r = minimize(f, {0.0, 0.0}, LBFGS{}, Bounds{.lower = {0, 0}, .upper = {100, 100}});
  BOOST_TEST(has_status(r, Status::gradient_converged), fmt::format("{}", r));
  BOOST_TEST(max_error(r.x, {2, 2}) < 1e-8);
  // A log-likelihood on [0, 1] whose optimum is inside: the bound itself is never evaluated with
  // a NaN result mattering, since the searches back off from −∞ and NaN.
  const auto loglik = [](const auto& p) { return -(3.0 * log(p[0]) + 7.0 * log(1.0 - p[0])); };
  const Result b =
      minimize(loglik, {0.999}, LBFGS{}, Bounds{.lower = {1e-12}, .upper = {1 - 1e-12}});
  BOOST_TEST(converged(b.status), fmt::format("{}", b));
  BOOST_TEST(std::abs(b.x[0] - 0.3) < 1e-8, fmt::format("{}", b));
}

BOOST_AUTO_TEST_SUITE_END()
