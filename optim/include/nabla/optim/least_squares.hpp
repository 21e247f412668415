// nabla::optim — least_squares(): nonlinear least squares by Levenberg–Marquardt on the AD
// Jacobian, with robust losses, bounds and the covariance of the estimate.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <ranges>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "nabla/autodiff/dual.hpp"
#include "nabla/autodiff/forward.hpp"
#include "nabla/autodiff/gradient.hpp"
#include "nabla/optim/minimize.hpp"

namespace nabla::optim {

/// The loss ρ applied to each squared residual z = (rᵢ/C)², C = loss_scale (SciPy's names):
/// cost = ½ C² Σ ρ(zᵢ).
enum class Loss {
  linear,   ///< ρ(z) = z: ordinary least squares
  huber,    ///< ρ(z) = z for z ≤ 1, 2√z − 1 beyond: linear tails
  soft_l1,  ///< ρ(z) = 2(√(1 + z) − 1): a smooth Huber
  cauchy,   ///< ρ(z) = ln(1 + z): outliers weigh almost nothing
};

/// The name of a loss, e.g. "huber".
std::string_view to_string(Loss loss) noexcept;

/// How least_squares() differentiates the residuals.
enum class JacobianMode {
  automatic,  ///< forward mode when n ≤ m (the usual curve fit), reverse mode otherwise
  forward,    ///< Dual<double, 4>: ⌈n/4⌉ evaluations of the residuals per Jacobian
  reverse,    ///< Var: one recording and m reverse sweeps per Jacobian
};

/// Whether Result::covariance could be computed.
enum class CovarianceStatus {
  ok,                     ///< σ²(JᵀJ)⁻¹ with σ² = 2·cost/(m − n)
  singular,               ///< JᵀJ is singular to working precision (a parameter is not
                          ///< identified by the data); covariance and standard errors are NaN
  no_degrees_of_freedom,  ///< m == n: σ² is undefined; covariance and standard errors are NaN
  not_computed,           ///< LeastSquares::covariance was false
};

/// The name of a covariance status, e.g. "singular".
std::string_view to_string(CovarianceStatus status) noexcept;

/// Options of least_squares(). The defaults fit most curve fits; every tolerance may be 0
/// (the run then stops when nothing changes to rounding).
struct LeastSquares {
  Loss loss = Loss::linear;  ///< robust loss (see Loss)
  double loss_scale = 1;     ///< C in about [1e-154, 1e154]: residuals beyond about C are outliers
  std::vector<double> lower{};  ///< lower bounds, n entries or empty (none); −∞ allowed
  std::vector<double> upper{};  ///< upper bounds, n entries or empty (none); +∞ allowed
  /// Characteristic sizes of the parameters (n entries > 0), or empty: scale from the Jacobian's
  /// column norms as MINPACK does (mode 1).
  std::vector<double> x_scale{};
  double ftol = 1e-10;      ///< relative reduction of the cost, actual and predicted ≤ ftol
  double xtol = 1e-10;      ///< trust radius ≤ xtol·‖D·x‖ (relative change of x)
  double gtol = 1e-10;      ///< max cosine between the residuals and a Jacobian column ≤ gtol
  int max_evaluations = 0;  ///< evaluations of residuals and Jacobian (0: 100·(n + 1))
  /// The initial trust radius is step_bound·‖D·x0‖ (1 as SciPy's trf; MINPACK's factor is 100,
  /// which lets the first step jump farther — and sometimes onto a plateau).
  double step_bound = 1;
  JacobianMode jacobian = JacobianMode::automatic;  ///< how the Jacobian is computed
  bool covariance = true;                           ///< compute Result::covariance (needs m ≥ n)
};

/// What least_squares() returns.
struct LeastSquaresResult {
  std::vector<double> x;          ///< the estimate (inside the bounds)
  double cost = 0;                ///< ½ C² Σ ρ((rᵢ/C)²); ½ Σ rᵢ² for the linear loss
  std::vector<double> residuals;  ///< r(x), m entries
  nabla::Jacobian jacobian;       ///< ∂r/∂x at x, m×n row-major (of the raw residuals)
  double grad_norm = 0;           ///< ‖∇cost‖₂ at x, without the components held by a bound
  std::vector<int> active;  ///< per parameter: −1 at its lower bound, +1 at its upper, 0 free
  int iterations = 0;       ///< accepted steps
  int evaluations = 0;      ///< evaluations of the residuals and their Jacobian
  Status status = Status::max_evaluations;    ///< why the run ended (see docs/optimizers.md)
  JacobianMode mode = JacobianMode::forward;  ///< the mode used (never automatic)
  double sigma2 = 0;               ///< residual variance 2·cost/(m − n) (NaN when m == n)
  std::vector<double> covariance;  ///< σ²(JᵀJ)⁻¹, n×n row-major (NaN unless covariance_status ok)
  std::vector<double> standard_errors;  ///< √diag(covariance), n entries
  CovarianceStatus covariance_status = CovarianceStatus::not_computed;  ///< see CovarianceStatus
  /// Cov(xᵢ, xⱼ)
  [[nodiscard]] double cov(std::size_t i, std::size_t j) const {
    return covariance[i * x.size() + j];
  }
};

namespace detail {
/// The residuals and their Jacobian at x, by forward mode (true) or reverse mode (false).
using Residuals = std::function<nabla::Jacobian(std::span<const double>, bool forward)>;

/// least_squares() without the template: `can_forward`/`can_reverse` say which modes f supports.
LeastSquaresResult run_least_squares(const Residuals& f, std::vector<double> x0,
                                     const LeastSquares& options, bool can_forward,
                                     bool can_reverse,
                                     const std::function<bool(const Iteration&)>& callback);
}  // namespace detail

/// Minimizes ½ Σ ρ(rᵢ(x)²) over x (within the bounds) by Levenberg–Marquardt (Moré 1978: a
/// trust region scaled by the Jacobian's column norms), with the Jacobian of the residuals from
/// nabla's forward or reverse mode, and returns the estimate with its covariance and standard
/// errors. `residuals` maps the parameters to a range of numbers — write it once as a generic
/// lambda taking `const auto& p` and returning a std::vector of p's element type, as for
/// nabla::jacobian. `callback`, if any, sees every accepted step (Iteration::value is the cost,
/// Iteration::lr the trust radius) and may stop the run (return false).
/// Not converging is not an error: the status says why the run ended.
/// @throws nabla::Error for invalid options or bounds, an empty or non-finite x0, residuals
/// that are not finite at x0 or change in number between calls, fewer residuals than
/// parameters with `covariance` on; whatever `residuals` throws (the run's state is dropped).
///
/// Example:
///   auto fit = nabla::optim::least_squares([&](const auto& p) {
///     std::vector<std::decay_t<decltype(p[0])>> r;
///     for (std::size_t i = 0; i < t.size(); ++i) r.push_back(p[0] * exp(-p[1] * t[i]) - y[i]);
///     return r;
///   }, {1.0, 0.1});
///   fmt::print("{}\n", fit);   // with <nabla/optim/format.hpp>: x ± standard errors
template <class F>
LeastSquaresResult least_squares(F&& residuals, std::vector<double> x0, LeastSquares options = {},
                                 std::function<bool(const Iteration&)> callback = {}) {
  using D = Dual<double, nabla::detail::forward_block>;
  constexpr bool can_forward = std::invocable<F&, std::span<const D>>;
  constexpr bool can_reverse = std::invocable<F&, std::span<const Var>>;
  static_assert(can_forward || can_reverse,
                "least_squares: residuals must be callable with std::span<const nabla::Var> or "
                "std::span<const nabla::Dual<double, 4>> (a generic lambda taking const auto& "
                "works) and return a range of that type, e.g. a std::vector");
  const detail::Residuals f = [&residuals](std::span<const double> x, bool forward) {
    if (forward) {
      if constexpr (can_forward) return nabla::jacobian_forward(residuals, x);
    } else {
      if constexpr (can_reverse) return nabla::jacobian(residuals, x);
    }
    return nabla::Jacobian{};  // never reached: run_least_squares picks a supported mode
  };
  return detail::run_least_squares(f, std::move(x0), options, can_forward, can_reverse, callback);
}

/// least_squares() from a braced starting point.
template <class F>
LeastSquaresResult least_squares(F&& residuals, std::initializer_list<double> x0,
                                 LeastSquares options = {},
                                 std::function<bool(const Iteration&)> callback = {}) {
  return least_squares(std::forward<F>(residuals), std::vector<double>(x0), std::move(options),
                       std::move(callback));
}

/// least_squares() from a starting point given as any range of doubles that is not a
/// std::vector: `std::array`, `std::span<const double>`, `Eigen::VectorXd` (nabla::DoubleRange),
/// copied into the run's iterate.
template <class F, DoubleRange R>
requires(!std::convertible_to<const R&, std::vector<double>>) LeastSquaresResult
    least_squares(F&& residuals, const R& x0, LeastSquares options = {},
                  std::function<bool(const Iteration&)> callback = {}) {
  return least_squares(std::forward<F>(residuals),
                       std::vector<double>(std::ranges::begin(x0), std::ranges::end(x0)),
                       std::move(options), std::move(callback));
}

}  // namespace nabla::optim
