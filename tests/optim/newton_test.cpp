// The trust-region Newton methods (NewtonCG, Newton) and covariance().
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

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
  BOOST_TEST_MESSAGE("NewtonCG: " << fmt::format("{}", cg) << ", " << cg.hessian_evaluations
                                  << " Hessian-vector products");
  BOOST_TEST_MESSAGE("Newton: " << fmt::format("{}", dense) << ", " << dense.hessian_evaluations
                                << " Hessians");
  BOOST_TEST_MESSAGE("LBFGS: " << fmt::format("{}", lbfgs));
  for (const Result* r : {&cg, &dense, &lbfgs}) {
    BOOST_TEST(converged(*r), fmt::format("{}", *r));
    BOOST_TEST(r->value < 1e-14 * q(std::span<const double>(x0)));  // the minimum is 0
  }
  BOOST_TEST(cg.iterations * 10 < lbfgs.iterations);
  BOOST_TEST(dense.iterations * 10 < lbfgs.iterations);
  BOOST_TEST(cg.hessian_evaluations > 0);
  BOOST_TEST(dense.hessian_evaluations == dense.iterations);  // one per point stepped from
}

BOOST_AUTO_TEST_CASE(rosenbrock_2d_and_chained_100d) {
  const auto rosenbrock = generic(mgh::Rosenbrock{});  // 100(y − x²)² + (1 − x)²
  const Stop stop{.grad_tol = 1e-10};
  const Result cg = minimize(rosenbrock, {-1.2, 1.0}, NewtonCG{}, stop);
  const Result dense = minimize(rosenbrock, {-1.2, 1.0}, Newton{}, stop);
  const Result lbfgs = minimize(rosenbrock, {-1.2, 1.0}, LBFGS{}, stop);
  BOOST_TEST_MESSAGE("Rosenbrock NewtonCG: " << fmt::format("{}", cg) << ", "
                                             << cg.hessian_evaluations << " HVPs");
  BOOST_TEST_MESSAGE("Rosenbrock Newton: " << fmt::format("{}", dense));
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
                                                           << cg100.hessian_evaluations
                                                           << " HVPs");
  BOOST_TEST_MESSAGE("chained Rosenbrock n=100 LBFGS: " << fmt::format("{}", lbfgs100));
  BOOST_TEST(converged(cg100), fmt::format("{}", cg100));
  BOOST_TEST(cg100.value < 1e-16);
  for (double xi : cg100.x) BOOST_TEST(std::abs(xi - 1) < 1e-7);
  // A hard problem for Newton too (SciPy's trust-ncg: 443 iterations): not far below L-BFGS.
  BOOST_TEST(cg100.iterations < lbfgs100.iterations);
  // The dense method (n = 100 is within max_dimension) ends at the global minimum 0 or at the
  // local one near x₁ = −1 (f = 3.98662), where SciPy's trust-exact ends from this start.
  const Result dense100 = minimize(chained, x0, Newton{}, stop);
  BOOST_TEST_MESSAGE("chained Rosenbrock n=100 Newton: " << fmt::format("{}", dense100));
  BOOST_TEST(converged(dense100), fmt::format("{}", dense100));
  BOOST_TEST((dense100.value < 1e-16 || std::abs(dense100.value - 3.98662385) < 1e-6));
}

BOOST_AUTO_TEST_SUITE_END()
