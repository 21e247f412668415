// least_squares(): classic nonlinear regressions from two starts each against certified or
// independently computed parameters and standard errors; robust losses, bounds, statuses, the
// covariance's corner cases and misuse.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "error_of.hpp"
#include "nist_strd.hpp"

using namespace nabla::optim;

// For Boost.Test's messages.
namespace nabla::optim {
std::ostream& operator<<(std::ostream& out, Status s) { return out << to_string(s); }
std::ostream& operator<<(std::ostream& out, CovarianceStatus s) { return out << to_string(s); }
std::ostream& operator<<(std::ostream& out, JacobianMode m) {
  return out << (m == JacobianMode::forward   ? "forward"
                 : m == JacobianMode::reverse ? "reverse"
                                              : "automatic");
}
}  // namespace nabla::optim

namespace {

const double NaN = std::numeric_limits<double>::quiet_NaN();
const double Inf = std::numeric_limits<double>::infinity();

// Gauss1's model: a decaying exponential and two Gaussian peaks.
const auto gaussians = [](const auto& b, double x) {
  using std::exp;
  return b[0] * exp(-b[1] * x) + b[2] * exp(-(x - b[3]) * (x - b[3]) / (b[4] * b[4])) +
         b[5] * exp(-(x - b[6]) * (x - b[6]) / (b[7] * b[7]));
};

// The residuals model(b, xᵢ) − yᵢ as least_squares() takes them.
template <class Model>
auto residuals_of(const Model& model, const std::vector<double>& x, const std::vector<double>& y) {
  return [&model, &x, &y](const auto& b) {
    using T = std::decay_t<decltype(b[0])>;
    std::vector<T> r;
    r.reserve(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) r.push_back(T(model(b, x[i])) - y[i]);
    return r;
  };
}

bool converged(Status s) {
  return s == Status::gradient_converged || s == Status::value_converged ||
         s == Status::step_converged;
}

bool close(double got, double expected, double rel) {
  return std::abs(got - expected) <= rel * std::abs(expected);
}

// An independent check of a fit: the Jacobian by central differences of the model in doubles,
// JᵀJ (columns scaled to norm 1) inverted by Gauss–Jordan with partial pivoting, σ² = RSS/(m−n).
struct Reference {
  std::vector<double> se;
  double rss = 0;
  double cosine = 0;  // max |cos| between r and a column of J: 0 at a minimum
};

template <class Model>
Reference reference(const Model& model, const std::vector<double>& x, const std::vector<double>& y,
                    const std::vector<double>& b) {
  const std::size_t m = x.size(), n = b.size();
  std::vector<double> r(m), J(m * n), norms(n);
  Reference out;
  for (std::size_t i = 0; i < m; ++i) {
    r[i] = model(b, x[i]) - y[i];
    out.rss += r[i] * r[i];
  }
  for (std::size_t j = 0; j < n; ++j) {
    const double h = 1e-5 * std::abs(b[j]);
    std::vector<double> up = b, down = b;
    up[j] += h;
    down[j] -= h;
    for (std::size_t i = 0; i < m; ++i)
      J[i * n + j] = (model(up, x[i]) - model(down, x[i])) / (2 * h);
  }
  double rnorm = std::sqrt(out.rss);
  for (std::size_t j = 0; j < n; ++j) {
    double s = 0, g = 0;
    for (std::size_t i = 0; i < m; ++i) {
      s += J[i * n + j] * J[i * n + j];
      g += J[i * n + j] * r[i];
    }
    norms[j] = std::sqrt(s);
    out.cosine = std::max(out.cosine, std::abs(g) / (norms[j] * rnorm));
  }
  // A = [JᵀJ | I] in the scaled columns, reduced to [I | (JᵀJ)⁻¹].
  std::vector<double> A(n * 2 * n, 0.0);
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t c = 0; c < n; ++c) {
      double s = 0;
      for (std::size_t i = 0; i < m; ++i) s += J[i * n + a] * J[i * n + c];
      A[a * 2 * n + c] = s / (norms[a] * norms[c]);
    }
    A[a * 2 * n + n + a] = 1;
  }
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t pivot = col;
    for (std::size_t row = col + 1; row < n; ++row)
      if (std::abs(A[row * 2 * n + col]) > std::abs(A[pivot * 2 * n + col])) pivot = row;
    for (std::size_t k = 0; k < 2 * n; ++k) std::swap(A[col * 2 * n + k], A[pivot * 2 * n + k]);
    const double p = A[col * 2 * n + col];
    for (std::size_t k = 0; k < 2 * n; ++k) A[col * 2 * n + k] /= p;
    for (std::size_t row = 0; row < n; ++row) {
      if (row == col) continue;
      const double f = A[row * 2 * n + col];
      for (std::size_t k = 0; k < 2 * n; ++k) A[row * 2 * n + k] -= f * A[col * 2 * n + k];
    }
  }
  const double sigma2 = out.rss / static_cast<double>(m - n);
  for (std::size_t j = 0; j < n; ++j)
    out.se.push_back(std::sqrt(sigma2 * A[j * 2 * n + n + j]) / norms[j]);
  return out;
}

// Fits a NIST problem from both starts and checks parameters, standard errors and RSS against
// the certified values to a relative error `rel`.
template <class Model>
void check_certified(const nist::Problem& p, const Model& model, const LeastSquares& options,
                     double rel) {
  const auto r = residuals_of(model, p.x, p.y);
  for (std::size_t s = 0; s < p.starts.size(); ++s) {
    BOOST_TEST_CONTEXT(p.name << " from start " << s + 1) {
      const LeastSquaresResult fit = least_squares(r, p.starts[s], options);
      BOOST_TEST_MESSAGE(fmt::format("{} start {}: {}", p.name, s + 1, fit));
      BOOST_TEST(converged(fit.status), to_string(fit.status));
      BOOST_TEST(fit.covariance_status == CovarianceStatus::ok);
      for (std::size_t j = 0; j < p.b.size(); ++j) {
        BOOST_TEST(close(fit.x[j], p.b[j], rel),
                   "b" << j + 1 << " = " << fit.x[j] << ", certified " << p.b[j]);
        BOOST_TEST(
            close(fit.standard_errors[j], p.se[j], rel),
            "se(b" << j + 1 << ") = " << fit.standard_errors[j] << ", certified " << p.se[j]);
      }
      if (p.rss > 0) BOOST_TEST(close(2 * fit.cost, p.rss, rel));
      BOOST_TEST(fit.iterations > 0);
      BOOST_TEST(fit.evaluations >= fit.iterations + 1);
    }
  }
}

const LeastSquares tight = {.ftol = 1e-15, .xtol = 1e-15, .gtol = 1e-15, .max_evaluations = 2000};

// Samples of N(0, 1) from a seeded mt19937 (whose output the standard fixes), by Box–Muller.
std::vector<double> normal_noise(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const auto uniform = [&] { return (static_cast<double>(rng()) + 0.5) / 4294967296.0; };
  std::vector<double> out;
  while (out.size() < count) {
    const double u = uniform(), v = uniform();
    out.push_back(std::sqrt(-2 * std::log(u)) * std::cos(2 * std::numbers::pi * v));
  }
  return out;
}

using testing::error_of;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(least_squares_regressions)

// Exponential decay: Misra1a (lower difficulty) and BoxBOD (higher), 6 digits with tight
// tolerances and 4 with the defaults.
BOOST_AUTO_TEST_CASE(exponential_decay_misra1a_and_boxbod_match_the_certified_values) {
  check_certified(nist::misra1a, nist::exponential, tight, 1e-6);
  check_certified(nist::misra1a, nist::exponential, {}, 1e-4);
  check_certified(nist::boxbod, nist::exponential, tight, 1e-6);
  check_certified(nist::boxbod, nist::exponential, {}, 1e-4);
}

// Michaelis–Menten: Puromycin against Bates & Watts' 4 published digits, and against the
// independent finite-difference computation to 6.
BOOST_AUTO_TEST_CASE(michaelis_menten_puromycin_matches_the_published_and_independent_values) {
  const nist::Problem& p = nist::puromycin;
  check_certified(p, nist::michaelis_menten, {}, 5e-4);
  const auto r = residuals_of(nist::michaelis_menten, p.x, p.y);
  const auto a = least_squares(r, p.starts[0], tight);
  const auto b = least_squares(r, p.starts[1], tight);
  const Reference ref = reference(nist::michaelis_menten, p.x, p.y, a.x);
  BOOST_TEST(ref.cosine < 1e-7);
  for (std::size_t j = 0; j < 2; ++j) {
    BOOST_TEST(close(a.x[j], b.x[j], 1e-8));
    BOOST_TEST(close(a.standard_errors[j], ref.se[j], 1e-6));
  }
  BOOST_TEST(close(2 * a.cost, ref.rss, 1e-12));
  BOOST_TEST(close(a.sigma2, ref.rss / 10, 1e-12));
  // The covariance matrix is symmetric, and its diagonal is the squared standard errors.
  BOOST_TEST(a.cov(0, 1) == a.cov(1, 0));
  BOOST_TEST(close(a.cov(1, 1), a.standard_errors[1] * a.standard_errors[1], 1e-14));
  BOOST_TEST(a.cov(0, 1) > 0);  // Vm and K are positively correlated
}

// A sum of Gaussians: Gauss1's model and parameters with seeded N(0, 2.5²) noise on 250 points,
// from NIST's two Gauss1 starts, against the independent computation.
BOOST_AUTO_TEST_CASE(sum_of_gaussians_matches_an_independent_computation) {
  const std::vector<double> truth = {98.778, 0.0105, 100.49, 67.48, 23.13, 71.99, 178.99, 18.39};
  std::vector<double> x, y;
  const std::vector<double> noise = normal_noise(250, 2024);
  for (int i = 1; i <= 250; ++i) {
    x.push_back(i);
    y.push_back(gaussians(truth, i) + 2.5 * noise[static_cast<std::size_t>(i - 1)]);
  }
  const auto r = residuals_of(gaussians, x, y);
  const std::vector<std::vector<double>> starts = {{97, 0.009, 100, 65, 20, 70, 178, 16.5},
                                                   {94, 0.0105, 99, 63, 25, 71, 180, 20}};
  std::vector<LeastSquaresResult> fits;
  for (const auto& x0 : starts) fits.push_back(least_squares(r, x0, tight));
  const Reference ref = reference(gaussians, x, y, fits[0].x);
  BOOST_TEST_MESSAGE(fmt::format("Gaussians: {}", fits[0]));
  BOOST_TEST(ref.cosine < 1e-7);
  for (const auto& fit : fits) {
    BOOST_TEST(fit.covariance_status == CovarianceStatus::ok);
    BOOST_TEST(fit.mode == JacobianMode::forward);  // n = 8 ≤ m = 250
    for (std::size_t j = 0; j < truth.size(); ++j) {
      BOOST_TEST(close(fit.x[j], fits[0].x[j], 1e-7));
      BOOST_TEST(close(fit.standard_errors[j], ref.se[j], 1e-5),
                 "se " << j << ": " << fit.standard_errors[j] << " vs " << ref.se[j]);
      // The estimate is within 4 standard errors of the truth.
      BOOST_TEST(std::abs(fit.x[j] - truth[j]) < 4 * fit.standard_errors[j]);
    }
    BOOST_TEST(close(fit.sigma2, ref.rss / 242, 1e-10));
    BOOST_TEST(std::sqrt(fit.sigma2) > 2.2);
    BOOST_TEST(std::sqrt(fit.sigma2) < 2.8);
  }
}

// Rational models: Misra1d (average difficulty) and MGH09 (higher; start 1 is far off).
BOOST_AUTO_TEST_CASE(rational_models_misra1d_and_mgh09_match_the_certified_values) {
  check_certified(nist::misra1d, nist::misra1d_model, tight, 1e-6);
  check_certified(nist::misra1d, nist::misra1d_model, {}, 1e-4);
  check_certified(nist::mgh09, nist::mgh09_model, tight, 1e-6);
  check_certified(nist::mgh09, nist::mgh09_model, {}, 1e-4);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(least_squares_edge_cases)

// Misra1a with b1 ≤ 200 (the unconstrained optimum is 238.9): the bound holds at the solution,
// the other parameter is optimal for b1 = 200, the start outside the box is projected, and the
// residuals are never evaluated outside the box.
BOOST_AUTO_TEST_CASE(a_bound_active_at_the_solution) {
  const nist::Problem& p = nist::misra1a;
  double largest_b1 = 0, smallest_b2 = Inf;
  auto r = [&](const auto& b) {
    largest_b1 = std::max(largest_b1, b[0].value());
    smallest_b2 = std::min(smallest_b2, b[1].value());
    return residuals_of(nist::exponential, p.x, p.y)(b);
  };
  for (const auto& x0 : p.starts) {
    largest_b1 = 0;
    const auto fit = least_squares(r, x0, {.upper = {200, Inf}});
    BOOST_TEST_MESSAGE("upper bound: " << fmt::format("{}", fit));
    BOOST_TEST(fit.x[0] == 200);
    BOOST_TEST(largest_b1 <= 200);
    BOOST_TEST((fit.active == std::vector<int>{1, 0}));
    // b2's gradient vanishes (relative to its column of J and ‖r‖); b1's pushes up.
    double column = 0;
    for (std::size_t i = 0; i < p.x.size(); ++i) column += fit.jacobian(i, 1) * fit.jacobian(i, 1);
    BOOST_TEST(fit.grad_norm < 1e-8 * std::sqrt(column * 2 * fit.cost));
    // b2 alone, with b1 fixed at 200: the same optimum.
    auto r1 = [&](const auto& b) {
      using T = std::decay_t<decltype(b[0])>;
      std::vector<T> out;
      for (std::size_t i = 0; i < p.x.size(); ++i)
        out.push_back(200.0 * (1.0 - exp(-b[0] * p.x[i])) - p.y[i]);
      return out;
    };
    const auto one = least_squares(r1, {x0[1]}, tight);
    BOOST_TEST(close(fit.x[1], one.x[0], 1e-7));
    BOOST_TEST(fit.cost > 0.5 * p.rss);
    BOOST_TEST(fit.covariance_status == CovarianceStatus::ok);
  }
  // A lower bound above the optimum of b2.
  smallest_b2 = Inf;
  const auto fit = least_squares(r, p.starts[0], {.lower = {-Inf, 6e-4}});
  BOOST_TEST(fit.x[1] == 6e-4);
  BOOST_TEST(smallest_b2 >= 6e-4);
  BOOST_TEST((fit.active == std::vector<int>{0, -1}));
  // Bounds that hold nothing give the unconstrained fit.
  const auto loose = least_squares(r, p.starts[0], {.lower = {0, 0}, .upper = {1e4, 1}});
  BOOST_TEST(close(loose.x[0], p.b[0], 1e-4));
  BOOST_TEST((loose.active == std::vector<int>{0, 0}));
  // lower == upper fixes a parameter.
  const auto fixed = least_squares(r, {300, 1e-4}, {.lower = {200, 0}, .upper = {200, 1}});
  BOOST_TEST(fixed.x[0] == 200);
  const auto held = least_squares(r, {200, 1e-4}, {.upper = {200, Inf}});
  BOOST_TEST(close(fixed.x[1], held.x[1], 1e-6));
}

// Data generated exactly by the model: the fit is exact, σ² = 0 and the standard errors are 0.
BOOST_AUTO_TEST_CASE(a_zero_residual_problem_has_zero_standard_errors) {
  const std::vector<double> truth = {240, 5.5e-4};
  std::vector<double> y;
  for (double x : nist::misra_x) y.push_back(nist::exponential(truth, x));
  const auto fit = least_squares(residuals_of(nist::exponential, nist::misra_x, y), {500, 1e-4});
  BOOST_TEST_MESSAGE("exact data: " << fmt::format("{}", fit));
  BOOST_TEST(converged(fit.status));
  BOOST_TEST(close(fit.x[0], truth[0], 1e-10));
  BOOST_TEST(close(fit.x[1], truth[1], 1e-10));
  BOOST_TEST(fit.cost < 1e-20);
  BOOST_TEST(fit.covariance_status == CovarianceStatus::ok);
  BOOST_TEST(fit.standard_errors[0] < 1e-8 * truth[0]);
  BOOST_TEST(fit.standard_errors[1] < 1e-8 * truth[1]);
}

// An exact fit whose residuals reach 0 exactly ends on its gradient (0 ≤ gtol), not on the
// step or the cost: a line through exact points, and a nonlinear system solved exactly.
BOOST_AUTO_TEST_CASE(an_exact_fit_ends_gradient_converged) {
  const auto line = [](const auto& b) {
    using T = std::decay_t<decltype(b[0])>;
    std::vector<T> r;
    for (int i = 0; i < 5; ++i) r.push_back(T(b[0] * double(i) + b[1]) - (2.0 * i + 1));
    return r;
  };
  const auto fit = least_squares(line, {0, 0});
  BOOST_TEST_MESSAGE("exact line: " << fmt::format("{}", fit));
  BOOST_TEST(fit.cost == 0);
  BOOST_TEST(fit.grad_norm == 0);
  BOOST_TEST(fit.status == Status::gradient_converged);
  BOOST_TEST((fit.x == std::vector<double>{2, 1}));
  const auto system = [](const auto& b) {
    using T = std::decay_t<decltype(b[0])>;
    return std::vector<T>{T(b[0] - 3.0), T(b[1] * b[1] - 4.0), T(b[0] * b[1] - 6.0)};
  };
  const auto solved = least_squares(system, {1, 1});
  BOOST_TEST(solved.cost == 0);
  BOOST_TEST(solved.status == Status::gradient_converged);
  // The evaluations are those of the test at the top of the next iteration: none is added.
  BOOST_TEST(fit.evaluations == fit.iterations + 1);
}

// As many residuals as parameters: an exact fit with no degrees of freedom left for σ².
BOOST_AUTO_TEST_CASE(as_many_residuals_as_parameters_leave_no_degrees_of_freedom) {
  const std::vector<double> x = {100, 400}, y = {20, 50};
  const auto fit = least_squares(residuals_of(nist::exponential, x, y), {100, 1e-3});
  BOOST_TEST(fit.cost < 1e-20);
  BOOST_TEST(fit.covariance_status == CovarianceStatus::no_degrees_of_freedom);
  BOOST_TEST(std::isnan(fit.sigma2));
  BOOST_TEST(std::isnan(fit.standard_errors[0]));
  BOOST_TEST(fmt::format("{}", fit).find("covariance no_degrees_of_freedom") != std::string::npos);
}

// y ≈ (a·b)·t identifies only the product: the run ends with the least-squares slope and the
// covariance is singular; so is it for a parameter the residuals do not depend on.
BOOST_AUTO_TEST_CASE(a_rank_deficient_jacobian_gives_a_singular_covariance) {
  const std::vector<double> t = {1, 2, 3, 4, 5}, y = {2.1, 3.9, 6.2, 7.8, 10.1};
  double sty = 0, stt = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    sty += t[i] * y[i];
    stt += t[i] * t[i];
  }
  const auto product = [](const auto& b, double x) { return b[0] * b[1] * x; };
  const auto fit = least_squares(residuals_of(product, t, y), {1, 1});
  BOOST_TEST_MESSAGE("rank deficient: " << fmt::format("{}", fit));
  BOOST_TEST(converged(fit.status));
  BOOST_TEST(close(fit.x[0] * fit.x[1], sty / stt, 1e-8));
  BOOST_TEST(fit.covariance_status == CovarianceStatus::singular);
  BOOST_TEST(std::isnan(fit.standard_errors[0]));
  BOOST_TEST(std::isnan(fit.cov(0, 1)));
  const auto unused = [](const auto& b, double x) { return b[0] * x + 0.0 * b[1]; };
  const auto fit2 = least_squares(residuals_of(unused, t, y), {1, 1});
  BOOST_TEST(close(fit2.x[0], sty / stt, 1e-8));
  BOOST_TEST(fit2.x[1] == 1);
  BOOST_TEST(fit2.covariance_status == CovarianceStatus::singular);
}

// Data and parameters of magnitude 1e±100 fit as well as the originals (the scaling is
// MINPACK's: by the Jacobian's column norms).
BOOST_AUTO_TEST_CASE(huge_and_tiny_magnitudes_fit_like_the_original) {
  const nist::Problem& p = nist::misra1a;
  for (double scale : {1e100, 1e-100}) {
    BOOST_TEST_CONTEXT("scale " << scale) {
      std::vector<double> y = p.y, x = p.x;
      for (double& v : y) v *= scale;
      auto fit = least_squares(residuals_of(nist::exponential, p.x, y), {500 * scale, 1e-4}, tight);
      BOOST_TEST(close(fit.x[0], p.b[0] * scale, 1e-6));
      BOOST_TEST(close(fit.x[1], p.b[1], 1e-6));
      BOOST_TEST(close(fit.standard_errors[0], p.se[0] * scale, 1e-6));
      BOOST_TEST(close(fit.standard_errors[1], p.se[1], 1e-6));
      for (double& v : x) v *= scale;  // b2 of magnitude 1e∓100
      fit = least_squares(residuals_of(nist::exponential, x, p.y), {500, 1e-4 / scale}, tight);
      BOOST_TEST(close(fit.x[0], p.b[0], 1e-6));
      BOOST_TEST(close(fit.x[1], p.b[1] / scale, 1e-6));
      BOOST_TEST(close(fit.standard_errors[1], p.se[1] / scale, 1e-6));
    }
  }
}

// One parameter: the line through the origin has the closed form k = Σty/Σt², se² = σ²/Σt².
BOOST_AUTO_TEST_CASE(one_parameter_matches_the_closed_form) {
  const std::vector<double> t = {0.5, 1, 2, 3, 5, 8}, y = {1.2, 1.9, 4.3, 5.8, 10.4, 15.7};
  double sty = 0, stt = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    sty += t[i] * y[i];
    stt += t[i] * t[i];
  }
  const double k = sty / stt;
  double rss = 0;
  for (std::size_t i = 0; i < t.size(); ++i) rss += (y[i] - k * t[i]) * (y[i] - k * t[i]);
  const auto line = [](const auto& b, double x) { return b[0] * x; };
  const auto fit = least_squares(residuals_of(line, t, y), {-3});
  BOOST_TEST(close(fit.x[0], k, 1e-12));
  BOOST_TEST(close(fit.standard_errors[0], std::sqrt(rss / 5 / stt), 1e-10));
  BOOST_TEST(fit.iterations <= 2);  // a linear model: the Gauss–Newton step is exact
}

// Tolerances 0: the run stops when nothing changes to rounding, at the certified values.
BOOST_AUTO_TEST_CASE(zero_tolerances_stop_at_rounding) {
  const nist::Problem& p = nist::misra1a;
  for (const auto& x0 : p.starts) {
    const auto fit = least_squares(residuals_of(nist::exponential, p.x, p.y), x0,
                                   {.ftol = 0, .xtol = 0, .gtol = 0});
    BOOST_TEST(fit.status != Status::max_evaluations, fmt::format("{}", fit));
    BOOST_TEST(close(fit.x[0], p.b[0], 1e-8));
    BOOST_TEST(close(fit.standard_errors[1], p.se[1], 1e-8));
  }
}

// An exception from the residuals reaches the caller; the tape is left as it was, and the next
// fit gives the same answer as one that never saw the exception.
BOOST_AUTO_TEST_CASE(an_exception_from_the_residuals_propagates_and_leaves_the_tape_usable) {
  const nist::Problem& p = nist::misra1a;
  const auto r = residuals_of(nist::exponential, p.x, p.y);
  for (JacobianMode mode : {JacobianMode::reverse, JacobianMode::forward}) {
    int calls = 0;
    auto throwing = [&](const auto& b) {
      if (++calls == 4) throw std::runtime_error("model failed");
      return r(b);
    };
    const nabla::Position before = nabla::Tape::active().position();
    BOOST_CHECK_THROW((void)least_squares(throwing, p.starts[0], {.jacobian = mode}),
                      std::runtime_error);
    BOOST_TEST(calls == 4);
    BOOST_TEST((nabla::Tape::active().position() == before));
    const auto after = least_squares(throwing, p.starts[0], {.jacobian = mode});
    const auto fresh = least_squares(r, p.starts[0], {.jacobian = mode});
    BOOST_TEST(after.x == fresh.x);
    BOOST_TEST(after.mode == mode);
  }
}

// NaN residuals after a long step (sqrt of a negative number) reject the step and shrink the
// trust region; the run still converges.
BOOST_AUTO_TEST_CASE(non_finite_residuals_during_the_run_are_rejected_steps) {
  const std::vector<double> t = {1, 2, 3, 4};
  std::vector<double> y;
  for (double v : t) y.push_back(std::sqrt(0.01) * v);
  int non_finite = 0;
  auto r = [&](const auto& b) {
    using T = std::decay_t<decltype(b[0])>;
    std::vector<T> out;
    for (std::size_t i = 0; i < t.size(); ++i) out.push_back(sqrt(b[0]) * t[i] - y[i]);
    if (!std::isfinite(out[0].value())) ++non_finite;
    return out;
  };
  const auto fit = least_squares(r, {1}, {.step_bound = 100});
  BOOST_TEST_MESSAGE("NaN on the way: " << fmt::format("{}", fit));
  BOOST_TEST(non_finite > 0);
  BOOST_TEST(converged(fit.status));
  BOOST_TEST(fit.evaluations > fit.iterations + 1);  // the rejected steps
  BOOST_TEST(close(fit.x[0], 0.01, 1e-10));
}

// A residual whose Jacobian column shrinks by many orders of magnitude (exp(50x²) from x = 1):
// the largest column norm seen, MINPACK's scale, put the column below the rank cutoff and the run
// ended gradient_converged at x ≈ 0.553 with cost 9.6e12 and ‖∇cost‖ 1e15.
BOOST_AUTO_TEST_CASE(a_column_that_shrinks_by_orders_of_magnitude_is_rescaled) {
  const auto fit = least_squares(
      [](const auto& p) {
        using T = std::decay_t<decltype(p[0])>;
        using std::exp;
        return std::vector<T>{exp(50.0 * p[0] * p[0]) - 3.0, p[1] - 1.0, p[0]};
      },
      {1.0, 1.0});
  BOOST_TEST(converged(fit.status));
  BOOST_TEST(fit.cost < 0.011);
  BOOST_TEST(fit.grad_norm < 1e-6);
  BOOST_TEST(close(fit.x[1], 1.0, 1e-10));
}

BOOST_AUTO_TEST_CASE(invalid_input_throws_saying_what_was_expected) {
  const nist::Problem& p = nist::misra1a;
  const auto r = residuals_of(nist::exponential, p.x, p.y);
  const auto message = [&](std::vector<double> x0, LeastSquares o) {
    return error_of([&] { (void)least_squares(r, x0, o); });
  };
  const std::vector<double> x0 = p.starts[0];
  BOOST_TEST(contains(message({}, {}), "x0 is empty"));
  BOOST_TEST(contains(message({500, NaN}, {}), "x0[1] is nan (expected a finite starting point)"));
  BOOST_TEST(contains(message(x0, {.lower = {1, 1}, .upper = {0, 2}}),
                      "invalid bounds for x[0] (got [1, 0], expected lower <= upper"));
  BOOST_TEST(contains(message(x0, {.lower = {NaN, 0}}), "invalid bounds for x[0]"));
  BOOST_TEST(contains(message(x0, {.upper = {-Inf, 1}}), "invalid bounds for x[0]"));
  BOOST_TEST(
      contains(message(x0, {.lower = {1}}), "invalid option lower (got 1 values, expected 2"));
  BOOST_TEST(contains(message(x0, {.x_scale = {1, 0}}), "invalid option x_scale[1] (got 0"));
  BOOST_TEST(contains(message(x0, {.loss_scale = 0}), "invalid option loss_scale (got 0"));
  // C² overflowing or underflowing made the cost inf·0 = NaN, reported as "the cost overflows
  // at x0" for valid residuals.
  BOOST_TEST(contains(message(x0, {.loss = Loss::cauchy, .loss_scale = 1e300}),
                      "invalid option loss_scale (got 1e+300"));
  BOOST_TEST(contains(message(x0, {.loss = Loss::huber, .loss_scale = 1e-300}),
                      "invalid option loss_scale (got 1e-300"));
  BOOST_TEST(contains(message(x0, {.loss_scale = -1}), "invalid option loss_scale (got -1"));
  BOOST_TEST(message(x0, {.loss = Loss::soft_l1, .loss_scale = 1e150}).empty());
  BOOST_TEST(contains(message(x0, {.ftol = -1}), "invalid option ftol (got -1"));
  BOOST_TEST(contains(message(x0, {.xtol = NaN}), "invalid option xtol (got nan"));
  BOOST_TEST(contains(message(x0, {.gtol = Inf}), "invalid option gtol (got inf"));
  BOOST_TEST(contains(message(x0, {.max_evaluations = -1}), "invalid option max_evaluations"));
  BOOST_TEST(contains(message(x0, {.step_bound = 0}), "invalid option step_bound (got 0"));
  BOOST_TEST(contains(message(x0, {.loss = static_cast<Loss>(9)}), "invalid option loss (got 9"));
  // The residuals: non-finite at x0, changing in number, fewer than the parameters.
  BOOST_TEST(contains(message({500, -1}, {}), ""));  // finite: exp(+x) is large but finite
  BOOST_TEST(contains(message({500, -10}, {}),
                      "the residuals are not finite at x0 (r[0] = -inf, expected finite"));
  int calls = 0;
  auto growing = [&](const auto& b) {
    auto out = r(b);
    if (++calls > 2) out.push_back(b[0]);
    return out;
  };
  BOOST_TEST(contains(error_of([&] { (void)least_squares(growing, x0); }),
                      "the residuals changed in number (got 15 at evaluation 3, expected 14"));
  auto few = [](const auto& b) {
    using T = std::decay_t<decltype(b[0])>;
    return std::vector<T>{b[0] + b[1] + b[2]};
  };
  BOOST_TEST(contains(error_of([&] {
                        (void)least_squares(few, {1, 2, 3});
                      }),
                      "1 residuals for 3 parameters (expected at least as many residuals as "
                      "parameters for the covariance; set covariance = false"));
  auto none = [](const auto& b) { return std::vector<std::decay_t<decltype(b[0])>>{}; };
  BOOST_TEST(contains(error_of([&] { (void)least_squares(none, {1.0}); }), "returned no outputs"));
  // Every message names the function.
  BOOST_TEST(contains(message({}, {}), "nabla::optim::least_squares: "));
}

// Fewer residuals than parameters fit without the covariance, by reverse mode.
BOOST_AUTO_TEST_CASE(fewer_residuals_than_parameters_fit_without_the_covariance) {
  auto r = [](const auto& b) {
    using T = std::decay_t<decltype(b[0])>;
    return std::vector<T>{b[0] + 2.0 * b[1] - b[2] * b[2] - 3.0};
  };
  const auto fit = least_squares(r, {0, 0, 1}, {.covariance = false});
  BOOST_TEST(fit.cost < 1e-20);
  BOOST_TEST(fit.mode == JacobianMode::reverse);  // m = 1 < n = 3
  BOOST_TEST(fit.covariance_status == CovarianceStatus::not_computed);
  BOOST_TEST(fmt::format("{}", fit).find("covariance") == std::string::npos);
}

// Robust losses: the cost is ½C²Σρ((r/C)²) with SciPy's ρ; the fit is a stationary point of
// that cost; and the robust fits of a line with outliers land near the truth where the linear
// loss does not.
BOOST_AUTO_TEST_CASE(robust_losses_follow_scipys_definitions_and_resist_outliers) {
  std::vector<double> t, y;
  const std::vector<double> noise = normal_noise(40, 7);
  for (std::size_t i = 0; i < 40; ++i) {
    t.push_back(0.25 * static_cast<double>(i));
    y.push_back(1.0 + 0.5 * t.back() + 0.1 * noise[i] + (i % 10 == 3 ? 8.0 : 0.0));
  }
  const auto line = [](const auto& b, double x) { return b[0] + b[1] * x; };
  const auto r = residuals_of(line, t, y);
  const auto robust_cost = [&](Loss loss, double c, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const double z = std::pow((line(b, t[i]) - y[i]) / c, 2);
      switch (loss) {
        case Loss::linear:
          s += z;
          break;
        case Loss::huber:
          s += z <= 1 ? z : 2 * std::sqrt(z) - 1;
          break;
        case Loss::soft_l1:
          s += 2 * (std::sqrt(1 + z) - 1);
          break;
        case Loss::cauchy:
          s += std::log1p(z);
          break;
      }
    }
    return 0.5 * c * c * s;
  };
  const auto linear = least_squares(r, {0, 0});
  BOOST_TEST(std::abs(linear.x[0] - 1.0) > 0.5);  // the outliers pull the intercept up
  for (Loss loss : {Loss::huber, Loss::soft_l1, Loss::cauchy}) {
    BOOST_TEST_CONTEXT(to_string(loss)) {
      for (double c : {0.2, 1.0}) {
        const auto at_start =
            least_squares(r, {0.3, 0.2}, {.loss = loss, .loss_scale = c, .max_evaluations = 1});
        BOOST_TEST(at_start.evaluations == 1);
        BOOST_TEST(at_start.status == Status::max_evaluations);
        BOOST_TEST(close(at_start.cost, robust_cost(loss, c, {0.3, 0.2}), 1e-13));
      }
      const auto fit = least_squares(r, {0, 0}, {.loss = loss, .loss_scale = 0.2});
      BOOST_TEST_MESSAGE(to_string(loss) << ": " << fmt::format("{}", fit));
      BOOST_TEST(close(fit.cost, robust_cost(loss, 0.2, fit.x), 1e-13));
      // Stationary: central differences of the cost vanish.
      for (std::size_t j = 0; j < 2; ++j) {
        std::vector<double> up = fit.x, down = fit.x;
        up[j] += 1e-6;
        down[j] -= 1e-6;
        const double g = (robust_cost(loss, 0.2, up) - robust_cost(loss, 0.2, down)) / 2e-6;
        BOOST_TEST(std::abs(g) < 1e-6 * fit.cost + 1e-9);
      }
      BOOST_TEST(std::abs(fit.x[0] - 1.0) < 0.15);
      BOOST_TEST(std::abs(fit.x[1] - 0.5) < 0.03);
      BOOST_TEST(fit.covariance_status == CovarianceStatus::ok);
    }
  }
  BOOST_TEST(to_string(Loss::soft_l1) == "soft_l1");
}

// Forward and reverse mode give the same fit; automatic picks forward mode for n ≤ m; residuals
// callable with Var only run in reverse mode.
BOOST_AUTO_TEST_CASE(forward_and_reverse_mode_agree) {
  const nist::Problem& p = nist::mgh09;
  const auto r = residuals_of(nist::mgh09_model, p.x, p.y);
  const auto automatic = least_squares(r, p.starts[1]);
  const auto forward = least_squares(r, p.starts[1], {.jacobian = JacobianMode::forward});
  const auto reverse = least_squares(r, p.starts[1], {.jacobian = JacobianMode::reverse});
  BOOST_TEST(automatic.mode == JacobianMode::forward);
  BOOST_TEST(forward.mode == JacobianMode::forward);
  BOOST_TEST(reverse.mode == JacobianMode::reverse);
  for (std::size_t j = 0; j < 4; ++j) {
    BOOST_TEST(close(forward.x[j], reverse.x[j], 1e-6));
    BOOST_TEST(close(forward.standard_errors[j], reverse.standard_errors[j], 1e-5));
  }
  auto var_only = [&](std::span<const nabla::Var> b) { return r(b); };
  const auto v = least_squares(var_only, p.starts[1]);
  BOOST_TEST(v.mode == JacobianMode::reverse);
  BOOST_TEST(close(v.x[0], p.b[0], 1e-4));
  BOOST_TEST(contains(error_of([&] {
                        (void)least_squares(var_only, p.starts[1],
                                            {.jacobian = JacobianMode::forward});
                      }),
                      "invalid option jacobian (got forward"));
  // The Jacobian in the result is that of the raw residuals at x.
  const auto J = nabla::jacobian(r, automatic.x);
  for (std::size_t k = 0; k < J.data.size(); ++k)
    BOOST_TEST(close(automatic.jacobian.data[k], J.data[k], 1e-12));
  BOOST_TEST(automatic.residuals == automatic.jacobian.values);
}

// The callback sees every accepted step and can stop the run; the evaluation budget is a status.
BOOST_AUTO_TEST_CASE(callback_and_budget_statuses) {
  const nist::Problem& p = nist::mgh09;
  const auto r = residuals_of(nist::mgh09_model, p.x, p.y);
  std::vector<Iteration> seen;
  const auto stopped = least_squares(r, p.starts[0], {}, [&](const Iteration& it) {
    seen.push_back(it);
    return it.iteration < 3;
  });
  BOOST_TEST(stopped.status == Status::stopped_by_callback);
  BOOST_TEST(stopped.iterations == 3);
  BOOST_TEST(seen.size() == 3u);
  BOOST_TEST(seen[2].value == stopped.cost);
  BOOST_TEST(seen[1].value < seen[0].value);  // only accepted (downhill) steps
  const auto budget = least_squares(r, p.starts[0], {.max_evaluations = 5});
  BOOST_TEST(budget.status == Status::max_evaluations);
  BOOST_TEST(budget.evaluations == 5);
  const std::string text = fmt::format("{}", least_squares(r, p.starts[1]));
  BOOST_TEST(
      (contains(text, "value_converged after") || contains(text, "gradient_converged after")));
  BOOST_TEST(contains(text, "0.192807"));
  BOOST_TEST(contains(text, " ± 0.0114"));
  BOOST_TEST(to_string(CovarianceStatus::singular) == "singular");
}

BOOST_AUTO_TEST_SUITE_END()
