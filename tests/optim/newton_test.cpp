// The trust-region Newton methods (NewtonCG, Newton) and covariance().
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "error_of.hpp"
#include "mgh_problems.hpp"

using namespace nabla::optim;

namespace {

// ½ Σ λᵢ (xᵢ − 1)², with λ log-spaced from 1 to `condition`, in rotated coordinates (a chain of
// plane rotations mixes neighbours, so neither the Hessian nor the problem is separable).
struct IllConditioned {
  std::size_t n;
  double condition;
  template <class T>
  T operator()(std::span<const T> x) const {
    std::vector<T> u(x.begin(), x.end());
    for (std::size_t i = 0; i + 1 < n; ++i) {  // rotate by 30° in the plane (i, i + 1)
      const double c = std::sqrt(3.0) / 2, s = 0.5;
      const T a = u[i], b = u[i + 1];
      u[i] = c * a - s * b;
      u[i + 1] = s * a + c * b;
    }
    T f = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double lambda =
          std::pow(condition, static_cast<double>(i) / static_cast<double>(n - 1));
      f += 0.5 * lambda * (u[i] - 1.0) * (u[i] - 1.0);
    }
    return f;
  }
};

// Σ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²: the chained Rosenbrock function.
struct ChainedRosenbrock {
  template <class T>
  T operator()(std::span<const T> x) const {
    T f = 0.0;
    for (std::size_t i = 0; i + 1 < x.size(); ++i)
      f += 100.0 * mgh::sq(x[i + 1] - x[i] * x[i]) + mgh::sq(1.0 - x[i]);
    return f;
  }
};

template <class F>
auto generic(F f) {
  return [f](const auto& x) { return f(x); };
}

std::vector<double> repeat(std::vector<double> block, std::size_t n) {
  std::vector<double> x;
  while (x.size() < n) x.insert(x.end(), block.begin(), block.end());
  x.resize(n);
  return x;
}

using testing::error_of;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

bool converged(const Result& r) {
  return r.status == Status::gradient_converged || r.status == Status::precision_limit;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(newton)

BOOST_AUTO_TEST_CASE(ill_conditioned_quadratic_far_fewer_iterations_than_lbfgs) {
  const IllConditioned q{100, 1e6};
  const auto f = generic(q);
  const std::vector<double> x0(100, 0.0);
  const Stop stop{.grad_tol = 0, .grad_rtol = 1e-10, .max_iterations = 100000};
  const Result cg = minimize(f, x0, NewtonCG{}, stop);
  const Result dense = minimize(f, x0, Newton{}, stop);
  const Result lbfgs = minimize(f, x0, LBFGS{}, stop);
  BOOST_TEST_MESSAGE("ill-conditioned quadratic n=100 NewtonCG: " << fmt::format("{}", cg) << ", "
                                                                  << cg.hessian_evaluations
                                                                  << " Hessian-vector products");
  BOOST_TEST_MESSAGE("ill-conditioned quadratic n=100 Newton: " << fmt::format("{}", dense) << ", "
                                                                << dense.hessian_evaluations
                                                                << " Hessians");
  BOOST_TEST_MESSAGE("ill-conditioned quadratic n=100 LBFGS: " << fmt::format("{}", lbfgs));
  for (const Result* r : {&cg, &dense, &lbfgs}) {
    BOOST_TEST(converged(*r), fmt::format("{}", *r));
    BOOST_TEST(r->value < 1e-14 * q(std::span<const double>(x0)));  // the minimum is 0
  }
  BOOST_TEST(cg.iterations * 100 < lbfgs.iterations);     // 24 against 7042
  BOOST_TEST(dense.iterations * 100 < lbfgs.iterations);  // 4
  BOOST_TEST(cg.hessian_evaluations > 0);
  BOOST_TEST(dense.hessian_evaluations == dense.iterations);  // one per point stepped from
}

BOOST_AUTO_TEST_CASE(rosenbrock_2d_and_chained_100d) {
  const auto rosenbrock = generic(mgh::Rosenbrock{});  // 100(y − x²)² + (1 − x)²
  const Stop stop{.grad_tol = 1e-10};
  const Result cg = minimize(rosenbrock, {-1.2, 1.0}, NewtonCG{}, stop);
  const Result dense = minimize(rosenbrock, {-1.2, 1.0}, Newton{}, stop);
  const Result lbfgs = minimize(rosenbrock, {-1.2, 1.0}, LBFGS{}, stop);
  BOOST_TEST_MESSAGE("Rosenbrock (grad_tol 1e-10) NewtonCG: " << fmt::format("{}", cg) << ", "
                                                              << cg.hessian_evaluations << " HVPs");
  BOOST_TEST_MESSAGE("Rosenbrock (grad_tol 1e-10) Newton: " << fmt::format("{}", dense));
  BOOST_TEST_MESSAGE("Rosenbrock LBFGS: " << fmt::format("{}", lbfgs));
  for (const Result* r : {&cg, &dense}) {
    BOOST_TEST(converged(*r), fmt::format("{}", *r));
    BOOST_TEST(std::abs(r->x[0] - 1) < 1e-8);
    BOOST_TEST(std::abs(r->x[1] - 1) < 1e-8);
    BOOST_TEST(r->iterations < lbfgs.iterations);
  }

  // Chained: Σ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², n = 100, from (−1.2, 1, −1.2, 1, …).
  const auto chained = generic(ChainedRosenbrock{});
  const std::vector<double> x0 = repeat({-1.2, 1}, 100);
  const Result cg100 = minimize(chained, x0, NewtonCG{}, stop);
  const Result lbfgs100 = minimize(chained, x0, LBFGS{}, stop);
  BOOST_TEST_MESSAGE("chained Rosenbrock n=100 NewtonCG: " << fmt::format("{}", cg100) << ", "
                                                           << cg100.hessian_evaluations << " HVPs");
  BOOST_TEST_MESSAGE("chained Rosenbrock n=100 LBFGS: " << fmt::format("{}", lbfgs100));
  BOOST_TEST(converged(cg100), fmt::format("{}", cg100));
  BOOST_TEST(cg100.value < 1e-16);
  for (double xi : cg100.x) BOOST_TEST(std::abs(xi - 1) < 1e-7);
  // A hard problem for Newton too (SciPy's trust-ncg: 443 iterations): not far below L-BFGS.
  BOOST_TEST(cg100.iterations < lbfgs100.iterations);
  // The dense method (n = 100 is within max_dimension) ends at the global minimum 0 or at the
  // local one near x₁ = −1 (f = 3.98662), where SciPy's trust-exact ends from this start.
  const Result dense100 = minimize(chained, x0, Newton{}, stop);
  BOOST_TEST_MESSAGE("chained Rosenbrock n=100 Newton: " << fmt::format("{}", dense100) << ", "
                                                         << dense100.hessian_evaluations
                                                         << " Hessians");
  BOOST_TEST(converged(dense100), fmt::format("{}", dense100));
  BOOST_TEST((dense100.value < 1e-16 || std::abs(dense100.value - 3.98662385) < 1e-6));
}

BOOST_AUTO_TEST_CASE(more_garbow_hillstrom) {
  const Stop stop{.grad_tol = 1e-9, .max_iterations = 10000};
  struct Case {
    const char* name;
    std::function<double(std::span<const double>)> value;  // for the message only
    std::vector<double> x0;
    std::vector<double> minima;
    double tol;
  };
  int n_cg = 0, n_dense = 0;
  const auto run = [&](const char* name, auto problem, std::vector<double> x0,
                       std::vector<double> minima, double tol) {
    const auto f = generic(problem);
    for (int dense = 0; dense < 2; ++dense) {
      const Result r = dense ? minimize(f, x0, Newton{}, stop) : minimize(f, x0, NewtonCG{}, stop);
      bool reached = false;
      for (double m : minima) reached = reached || std::abs(r.value - m) <= tol * (m == 0 ? 1 : m);
      BOOST_TEST(reached, name << (dense ? " Newton: " : " NewtonCG: ") << fmt::format("{}", r));
      BOOST_TEST(converged(r), name << ": " << fmt::format("{}", r));
      BOOST_TEST_MESSAGE(name << (dense ? " Newton: " : " NewtonCG: ") << fmt::format("{}", r)
                              << ", " << r.hessian_evaluations << (dense ? " Hessians" : " HVPs"));
      (dense ? n_dense : n_cg) += reached;
    }
  };
  run("Rosenbrock", mgh::Rosenbrock{}, {-1.2, 1}, {0}, 1e-14);
  run("Freudenstein-Roth", mgh::FreudensteinRoth{}, {0.5, -2}, {0, 48.9842536792}, 1e-8);
  // NewtonCG meets ‖∇f‖ ≤ 1e-9 at f = 1.2e-11 on this badly scaled problem.
  run("Powell badly scaled", mgh::PowellBadlyScaled{}, {0, 1}, {0}, 1e-10);
  run("Brown badly scaled", mgh::BrownBadlyScaled{}, {1, 1}, {0}, 1e-10);
  run("Beale", mgh::Beale{}, {1, 1}, {0}, 1e-14);
  run("Helical valley", mgh::HelicalValley{}, {-1, 0, 0}, {0}, 1e-14);
  run("Bard", mgh::Bard{}, {1, 1, 1}, {8.21487e-3}, 1e-5);
  run("Gaussian", mgh::Gaussian{}, {0.4, 1, 0}, {1.12793e-8}, 1e-4);
  run("Box 3-D", mgh::Box3D{}, {0, 10, 20}, {0}, 1e-14);
  run("Powell singular", mgh::PowellSingular{}, {3, -1, 0, 1}, {0}, 1e-10);
  run("Wood", mgh::Wood{}, {-3, -1, -3, -1}, {0}, 1e-12);
  run("Kowalik-Osborne", mgh::KowalikOsborne{}, {0.25, 0.39, 0.415, 0.39}, {3.07505e-4}, 1e-5);
  run("Extended Rosenbrock n=100", mgh::ExtendedRosenbrock{}, repeat({-1.2, 1}, 100), {0}, 1e-14);
  run("Penalty I n=4", mgh::PenaltyI{}, {1, 2, 3, 4}, {2.24997e-5}, 1e-5);
  run("Trigonometric n=10", mgh::Trigonometric{}, std::vector<double>(10, 0.1), {0, 2.79506e-5},
      1e-4);
  run("Broyden tridiagonal n=10", mgh::BroydenTridiagonal{}, std::vector<double>(10, -1.0), {0},
      1e-14);
  BOOST_TEST_MESSAGE("reached: NewtonCG " << n_cg << ", Newton " << n_dense << " of 16");
}

BOOST_AUTO_TEST_CASE(saddle_points_are_left_along_negative_curvature) {
  // f = x² − y² + y⁴/4: a saddle at 0, minima at (0, ±√2) with f = −1.
  const auto f = [](const auto& x) { return x[0] * x[0] - x[1] * x[1] + 0.25 * pow(x[1], 4); };
  // Near the saddle (∇f almost along x): CG meets the negative curvature along y.
  for (const std::vector<double>& x0 : {std::vector<double>{1, 1e-3}, {1e-6, 1e-7}}) {
    const Result cg = minimize(f, x0, NewtonCG{});
    BOOST_TEST((cg.status == Status::gradient_converged), fmt::format("{}", cg));
    BOOST_TEST(cg.value == -1.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(std::abs(cg.x[1]) == std::sqrt(2.0), boost::test_tools::tolerance(1e-8));
  }
  // Exactly on the saddle's stable manifold (∇f has no y component): only the dense method sees
  // the negative eigenvalue (the hard case of the subproblem) and leaves.
  const Result dense = minimize(f, {1.0, 0.0}, Newton{});
  BOOST_TEST((dense.status == Status::gradient_converged), fmt::format("{}", dense));
  BOOST_TEST(dense.value == -1.0, boost::test_tools::tolerance(1e-12));
  // NewtonCG, whose Krylov space never leaves the x axis, ends at the saddle: a stationary point.
  const Result cg = minimize(f, {1.0, 0.0}, NewtonCG{});
  BOOST_TEST((cg.status == Status::gradient_converged));
  BOOST_TEST(cg.value == 0.0, boost::test_tools::tolerance(1e-12));
  // At the saddle itself ∇f = 0: converged at once, as any gradient method.
  BOOST_TEST(minimize(f, {0.0, 0.0}, Newton{}).iterations == 0);
  // A concave f = −x² − y² (negative definite): both go to the boundary, always downhill.
  const auto concave = [](const auto& x) { return -(x[0] * x[0]) - x[1] * x[1]; };
  for (int dense_method = 0; dense_method < 2; ++dense_method) {
    const Stop stop{.target = -1e6};
    const Result r = dense_method ? minimize(concave, {0.5, 0.1}, Newton{}, stop)
                                  : minimize(concave, {0.5, 0.1}, NewtonCG{}, stop);
    BOOST_TEST((r.status == Status::target_reached), fmt::format("{}", r));
  }
}

BOOST_AUTO_TEST_CASE(singular_hessians_one_dimension_and_scales) {
  // Singular Hessian everywhere: f = (x + y − 2)², a valley of minima.
  const auto valley = [](const auto& x) { return pow(x[0] + x[1] - 2.0, 2); };
  for (int dense = 0; dense < 2; ++dense) {
    const Result r =
        dense ? minimize(valley, {5.0, -1.0}, Newton{}) : minimize(valley, {5.0, -1.0}, NewtonCG{});
    BOOST_TEST((r.status == Status::gradient_converged), fmt::format("{}", r));
    BOOST_TEST(r.x[0] + r.x[1] == 2.0, boost::test_tools::tolerance(1e-9));
    // The minimum-norm step: x − y is kept (no arbitrary move along the valley).
    BOOST_TEST(r.x[0] - r.x[1] == 6.0, boost::test_tools::tolerance(1e-9));
  }
  // Powell's singular function has a singular Hessian at its minimum (checked in MGH above).
  // n = 1.
  const auto one = [](const auto& x) { return exp(x[0]) - 2 * x[0]; };  // minimum at ln 2
  for (int dense = 0; dense < 2; ++dense) {
    const Stop tight{.grad_tol = 1e-14};
    const Result r =
        dense ? minimize(one, {3.0}, Newton{}, tight) : minimize(one, {3.0}, NewtonCG{}, tight);
    BOOST_TEST((r.status == Status::gradient_converged), fmt::format("{}", r));
    BOOST_TEST(r.x[0] == std::log(2.0), boost::test_tools::tolerance(1e-12));
  }
  // f scaled by 1e±100: the same steps (the CG runs on the normalised gradient; the
  // eigendecomposition on the normalised Hessian); the gradient rule is relative.
  const auto rosenbrock = generic(mgh::Rosenbrock{});
  const Stop relative{.grad_tol = 0, .grad_rtol = 1e-12};
  const Result base = minimize(rosenbrock, {-1.2, 1.0}, NewtonCG{}, relative);
  for (double scale : {1e100, 1e-100}) {
    const auto scaled = [&](const auto& x) { return scale * rosenbrock(x); };
    for (int dense = 0; dense < 2; ++dense) {
      const Result r = dense ? minimize(scaled, {-1.2, 1.0}, Newton{}, relative)
                             : minimize(scaled, {-1.2, 1.0}, NewtonCG{}, relative);
      BOOST_TEST(converged(r), scale << ": " << fmt::format("{}", r));
      BOOST_TEST(std::abs(r.x[0] - 1) < 1e-6, scale << ": " << fmt::format("{}", r));
      BOOST_TEST(std::abs(r.x[1] - 1) < 1e-6);
    }
  }
  BOOST_TEST(converged(base));
}

BOOST_AUTO_TEST_CASE(nan_regions_and_exceptions) {
  // f = x − 2 ln x is undefined for x < 0; from x = 5 the Newton step is −20·(1 − 0.4) → NaN
  // there: the step is rejected and the radius shrinks.
  const auto f = [](const auto& x) { return x[0] - 2 * log(x[0]); };
  for (int dense = 0; dense < 2; ++dense) {
    const Result r = dense ? minimize(f, {50.0}, Newton{.initial_radius = 100})
                           : minimize(f, {50.0}, NewtonCG{.initial_radius = 100});
    BOOST_TEST((r.status == Status::gradient_converged), fmt::format("{}", r));
    BOOST_TEST(r.x[0] == 2.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(r.evaluations > r.iterations + 1);  // some trials were rejected
  }
  // NaN at the start: diverged at once.
  BOOST_TEST((minimize(f, {-1.0}, NewtonCG{}).status == Status::diverged));

  // An exception from f mid-run propagates; the tape is left usable.
  int calls = 0;
  const auto throwing = [&calls](const auto& x) {
    if (++calls == 7) throw std::runtime_error("f failed");
    return pow(x[0] - 1, 4) + x[1] * x[1];
  };
  const auto position = nabla::Tape::active().position();
  for (int dense = 0; dense < 2; ++dense) {
    calls = 0;
    BOOST_CHECK_THROW(dense ? minimize(throwing, {3.0, 2.0}, Newton{})
                            : minimize(throwing, {3.0, 2.0}, NewtonCG{}),
                      std::runtime_error);
    BOOST_TEST((nabla::Tape::active().position() == position));
    const auto after = nabla::value_and_gradient([](const auto& x) { return x[0] * x[1]; },
                                                 std::vector<double>{2.0, 3.0});
    BOOST_TEST(after.gradient[0] == 3.0);
    calls = 1000;  // no more throws: the run completes on the same tape
    const Result r = dense ? minimize(throwing, {3.0, 2.0}, Newton{})
                           : minimize(throwing, {3.0, 2.0}, NewtonCG{});
    BOOST_TEST(converged(r), fmt::format("{}", r));
  }
}

BOOST_AUTO_TEST_CASE(invalid_options_name_the_option) {
  const auto f = [](const auto& x) { return x[0] * x[0]; };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double bad : {0.0, -1.0, nan, std::numeric_limits<double>::infinity()}) {
    BOOST_TEST(contains(error_of([&] { minimize(f, {1.0}, NewtonCG{.initial_radius = bad}); }),
                        "NewtonCG: invalid option initial_radius"));
    BOOST_TEST(contains(error_of([&] { minimize(f, {1.0}, Newton{.initial_radius = bad}); }),
                        "Newton: invalid option initial_radius"));
  }
  for (double bad : {0.5, -1.0, nan, std::numeric_limits<double>::infinity()}) {
    BOOST_TEST(contains(error_of([&] { minimize(f, {1.0}, NewtonCG{.max_radius = bad}); }),
                        "invalid option max_radius"));
  }
  for (double bad : {-0.1, 0.25, nan})
    BOOST_TEST(
        contains(error_of([&] { minimize(f, {1.0}, Newton{.eta = bad}); }), "invalid option eta"));
  for (double bad : {0.0, 1.0, nan})
    BOOST_TEST(contains(error_of([&] { minimize(f, {1.0}, NewtonCG{.cg_tolerance = bad}); }),
                        "invalid option cg_tolerance"));
  BOOST_TEST(contains(error_of([&] { minimize(f, {1.0}, NewtonCG{.max_cg_iterations = -1}); }),
                      "invalid option max_cg_iterations"));
  const std::string big = error_of([&] { minimize(f, std::vector<double>(300, 1.0), Newton{}); });
  BOOST_TEST(contains(big, "300 coordinates, above max_dimension = 200"), big);
  BOOST_TEST(contains(big, "use NewtonCG"));
  BOOST_TEST(contains(error_of([&] { minimize(f, {nan}, NewtonCG{}); }), "x0[0] is nan"));
}

BOOST_AUTO_TEST_CASE(observer_counts_and_budgets) {
  const auto f = generic(mgh::Rosenbrock{});
  const Result r = minimize(f, {-1.2, 1.0}, NewtonCG{}, {}, history());
  BOOST_TEST(r.history.iterations.size() == static_cast<std::size_t>(r.iterations));
  for (const Iteration& it : r.history.iterations) BOOST_TEST(it.lr > 0);  // the radius
  const Result capped = minimize(f, {-1.2, 1.0}, NewtonCG{}, {.max_evaluations = 5});
  BOOST_TEST((capped.status == Status::max_evaluations));
  BOOST_TEST(capped.evaluations == 5);
  const Result few = minimize(f, {-1.2, 1.0}, Newton{}, {.max_iterations = 3});
  BOOST_TEST((few.status == Status::max_iterations));
  BOOST_TEST(few.iterations == 3);
  BOOST_TEST(few.best_value <= few.value);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(covariance_of_estimates)

BOOST_AUTO_TEST_CASE(gaussian_log_likelihood_closed_form) {
  // −ln L(μ, σ) = n ln σ + Σ(yᵢ − μ)²/(2σ²); at the MLE the inverse Hessian is
  // diag(σ̂²/n, σ̂²/(2n)) (the information of a normal sample).
  const std::vector<double> y = {2.1, 1.4, 3.3, 2.9, 1.7, 2.5, 3.8, 2.2};
  const auto nll = [&](const auto& p) {
    using T = std::decay_t<decltype(p[0])>;
    T s = static_cast<double>(y.size()) * log(p[1]);
    for (double v : y) s += (v - p[0]) * (v - p[0]) / (2 * p[1] * p[1]);
    return s;
  };
  const Result fit = minimize(nll, {1.0, 1.0}, Newton{}, {.grad_tol = 1e-12});
  BOOST_TEST(converged(fit), fmt::format("{}", fit));
  const double n = static_cast<double>(y.size());
  double mean = 0, ss = 0;
  for (double v : y) mean += v / n;
  for (double v : y) ss += (v - mean) * (v - mean);
  const double sigma2 = ss / n;
  BOOST_TEST(fit.x[0] == mean, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(fit.x[1] * fit.x[1] == sigma2, boost::test_tools::tolerance(1e-12));
  const Covariance c = covariance(nll, fit.x);
  BOOST_TEST(c.n == 2u);
  BOOST_TEST(c(0, 0) == sigma2 / n, boost::test_tools::tolerance(1e-10));
  BOOST_TEST(c(1, 1) == sigma2 / (2 * n), boost::test_tools::tolerance(1e-10));
  BOOST_TEST(std::abs(c(0, 1)) < 1e-12 * sigma2);
  BOOST_TEST(c.standard_errors[0] == std::sqrt(sigma2 / n), boost::test_tools::tolerance(1e-10));
  BOOST_TEST(c.log_det == std::log(sigma2 / n * sigma2 / (2 * n)),
             boost::test_tools::tolerance(1e-10));
}

BOOST_AUTO_TEST_CASE(quadratic_forms_scales_and_errors) {
  // ½(x − m)ᵀA(x − m) with A = [[4, 1, 0], [1, 3, 1], [0, 1, 2]]: the inverse is
  // [[5, −2, 1], [−2, 8, −4], [1, −4, 11]]/18.
  const auto quadratic = [](const auto& x) {
    return 0.5 * (4 * x[0] * x[0] + 3 * x[1] * x[1] + 2 * x[2] * x[2]) + x[0] * x[1] + x[1] * x[2];
  };
  const Covariance c = covariance(quadratic, {0.3, -0.2, 0.1});
  const double inverse[3][3] = {{5, -2, 1}, {-2, 8, -4}, {1, -4, 11}};
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      BOOST_TEST(c(i, j) == inverse[i][j] / 18, boost::test_tools::tolerance(1e-13));
  // Parameters of wildly different scales: Hessian diag(1e100, 1e-100) with a correlation.
  const auto scaled = [](const auto& x) {
    return 0.5e100 * x[0] * x[0] + 0.5e-100 * x[1] * x[1] + 0.5 * x[0] * x[1];
  };
  const Covariance s = covariance(scaled, {0.0, 0.0});
  const double det = 1 - 0.25;  // of the unit-diagonal form [[1, ½], [½, 1]]
  BOOST_TEST(s(0, 0) == 1e-100 / det, boost::test_tools::tolerance(1e-13));
  BOOST_TEST(s(1, 1) == 1e100 / det, boost::test_tools::tolerance(1e-13));
  BOOST_TEST(s(0, 1) == -0.5 / det, boost::test_tools::tolerance(1e-13));
  // Not a minimum, singular, or not finite: nabla::Error saying which.
  const auto saddle = [](const auto& x) { return x[0] * x[0] - x[1] * x[1]; };
  BOOST_TEST(contains(error_of([&] { covariance(saddle, {0.0, 0.0}); }), "not positive definite"));
  const auto indefinite = [](const auto& x) { return x[0] * x[0] + x[1] * x[1] + 3 * x[0] * x[1]; };
  BOOST_TEST(contains(error_of([&] {
                        covariance(indefinite, {0.0, 0.0});
                      }),
                      "not positive definite"));
  const auto singular = [](const auto& x) { return pow(x[0] + x[1], 2); };
  BOOST_TEST(contains(error_of([&] { covariance(singular, {0.0, 0.0}); }), "singular"));
  const auto kink = [](const auto& x) { return sqrt(x[0] * x[0]); };
  BOOST_TEST(contains(error_of([&] { covariance(kink, {0.0}); }), "expected a finite"));
}

BOOST_AUTO_TEST_SUITE_END()
