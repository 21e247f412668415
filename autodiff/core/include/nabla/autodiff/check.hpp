// nabla — checking gradients against finite differences.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "nabla/autodiff/forward.hpp"
#include "nabla/autodiff/gradient.hpp"

namespace nabla {

/// Which finite differences check_gradient() takes.
enum class CheckMode {
  automatic,   ///< full up to CheckOptions::full_limit inputs, directional above
  full,        ///< one central difference per coordinate
  directional  ///< k seeded random directions: compares ∇f·d with the difference along d
};

/// Options of check_gradient().
struct CheckOptions {
  double step = 0;     ///< finite-difference step; 0 = automatic per coordinate
  double rtol = 1e-6;  ///< relative tolerance
  double atol = 1e-8;  ///< absolute tolerance
  CheckMode mode = CheckMode::automatic;
  std::size_t directions = 8;    ///< number of random directions in directional mode
  std::uint64_t seed = 42;       ///< seed of the random directions
  std::size_t full_limit = 100;  ///< automatic mode: full check up to this many inputs
};

/// One compared coordinate (or direction) of a gradient check.
struct GradientCheckRow {
  std::size_t index = 0;     ///< the coordinate (full mode) or the direction (directional)
  double analytic = 0;       ///< from the reverse sweep (∂f/∂xᵢ, or ∇f·d)
  double numeric = 0;        ///< from Richardson-extrapolated central differences
  double abs_error = 0;      ///< |analytic − numeric|
  double rel_error = 0;      ///< abs_error / max(|analytic|, |numeric|)  (0 when both are 0)
  double numeric_error = 0;  ///< estimated error of the numeric value itself
  bool ok = true;            ///< within atol + rtol·max(|analytic|, |numeric|) (+ rounding)
  /// The row disagrees, and f is not smooth within the step: the differences at h and h/2
  /// (central and one-sided) do not scale as they do for a smooth f, by enough to explain the
  /// disagreement — f has a kink (relu, abs, max, ...) within h of x along this coordinate or
  /// direction, so the numeric value is unreliable there (Note [Kinks in the step]). Never
  /// set on rows that agree.
  bool kink = false;
  /// How far the differences depart from a smooth f's (max of 2|D(h) − D(h/2)| and
  /// |s(h) − 2·s(h/2)| with s(t) = (f(x+t) − 2f(x) + f(x−t))/t): ≈ 0 for a smooth f, of the
  /// order of the jump in slope at a kink.
  double kink_size = 0;
};

/// The report of check_gradient(); prints as a table with fmt (nabla/autodiff/format.hpp).
struct GradientCheck {
  bool ok = true;  ///< every row agrees
  /// No row gives evidence of a wrong derivative: every row agrees or is a kink row
  /// (GradientCheckRow::kink: the differences are unreliable there). `ok` is false when a
  /// kink row could not be checked; `consistent` is what to assert on a function with kinks.
  bool consistent = true;
  std::size_t kinks = 0;               ///< rows that disagree where f has a kink within the step
  double max_abs_error = 0;            ///< the largest abs_error of any row
  double max_rel_error = 0;            ///< the largest rel_error of any row
  double value = 0;                    ///< f(x)
  bool directional = false;            ///< rows are random directions, not coordinates
  std::uint64_t seed = 0;              ///< seed of the directions (directional mode)
  std::vector<GradientCheckRow> rows;  ///< one row per coordinate or direction
};

/// One compared entry of a Hessian check: component `component` of H·v for direction `index`.
struct HessianCheckRow : GradientCheckRow {
  std::size_t component = 0;  ///< which entry of H·v (the Hessian's row)
};

/// The report of check_hessian(); prints as a table with fmt (nabla/autodiff/format.hpp).
struct HessianCheck {
  bool ok = true;                     ///< every entry agrees
  double max_abs_error = 0;           ///< the largest abs_error of any entry
  double max_rel_error = 0;           ///< the largest rel_error of any entry
  double value = 0;                   ///< f(x)
  bool directional = false;           ///< directions are random, not the coordinates
  std::uint64_t seed = 0;             ///< seed of the directions (directional mode)
  std::vector<HessianCheckRow> rows;  ///< one row per direction and entry of H·v
};

namespace detail {
/// What an unwritten entry of a hand-written gradient reads as.
inline constexpr double check_nan = std::numeric_limits<double>::quiet_NaN();

/// A derivative by finite differences and the estimate of its truncation error.
struct Difference {
  double derivative;  ///< (4·D(h/2) − D(h))/3
  double truncation;  ///< |D(h/2) − D(h)|/3
};
/// g′(0) by central differences D(s) = (g(s) − g(−s))/2s at h and h/2 combined by Richardson
/// extrapolation, which cancels the h² error term (error O(h⁴)). The one finite-difference
/// routine: check_gradient, graph::check_partials and the tests' checker all use it.
Difference richardson_difference(const std::function<double(double)>& g, double h);

/// richardson_difference() of every component of a vector function g (each g(t) once for all
/// components).
std::vector<Difference> richardson_differences(const std::function<std::vector<double>(double)>& g,
                                               double h);

HessianCheck compare_hessian(
    std::span<const double> x,
    const std::function<std::vector<double>(std::span<const double>)>& hvp,
    const std::function<ValueAndGradient(std::span<const double>)>& gradient,
    const CheckOptions& options);

GradientCheck compare_gradient(std::span<const double> x, const ValueAndGradient& analytic,
                               const std::function<double(std::span<const double>)>& f,
                               const CheckOptions& options);
}  // namespace detail

/// A function that writes its own gradient, as minimize() accepts: `f(x, g) -> f(x)` with x a
/// `std::span<const double>` and g a `std::span<double>` of x's size.
template <class F>
concept GradientFunction =
    std::is_invocable_r_v<double, F&, std::span<const double>, std::span<double>>;

/// Compares the reverse-mode gradient of f at x with Richardson-extrapolated central finite
/// differences (error O(h⁴)), coordinate by coordinate, or along seeded random directions for
/// large inputs. f is the same callable value_and_gradient() takes. A row that disagrees where
/// f has a kink within the step (relu, abs, max: the differences are unreliable there) is
/// marked as such, not as a wrong derivative (GradientCheckRow::kink, GradientCheck::consistent).
/// @throws nabla::Error for invalid options (negative step or tolerances, zero directions) or a
/// point that is not finite.
///
/// Example:
///   auto report = nabla::check_gradient(loss, x);
///   if (!report.ok) fmt::print("{}\n", report);
template <class F>
requires ScalarFunction<F> GradientCheck check_gradient(F&& f, std::span<const double> x,
                                                        CheckOptions options = {}) {
  const ValueAndGradient analytic = value_and_gradient(f, x);
  // Finite differences evaluate f on constant Vars: nothing is recorded.
  const std::function<double(std::span<const double>)> evaluate = [&f](std::span<const double> p) {
    detail::Recording rec;
    std::vector<Var> xs(p.begin(), p.end());
    return Var(f(std::span<const Var>(xs))).value();
  };
  return detail::compare_gradient(x, analytic, evaluate, options);
}

/// Checks a hand-written gradient: f(x, g) writes ∇f(x) into g and returns f(x) (the form
/// minimize() accepts). The values f returns are differenced; the g it writes at x is compared.
/// Entries of g that f leaves unwritten read as NaN, so they fail instead of passing as 0.
/// @throws nabla::Error as the other form; whatever f throws.
///
/// Example:
///   auto report = nabla::check_gradient(
///       [](std::span<const double> x, std::span<double> g) {
///         g[0] = 2 * x[0];
///         return x[0] * x[0];
///       },
///       {3.0});
template <class F>
requires(GradientFunction<F> && !ScalarFunction<F>) GradientCheck
    check_gradient(F&& f, std::span<const double> x, CheckOptions options = {}) {
  ValueAndGradient analytic{0.0, std::vector<double>(x.size(), detail::check_nan)};
  analytic.value = f(x, std::span<double>(analytic.gradient));
  std::vector<double> scratch(x.size());
  const std::function<double(std::span<const double>)> evaluate = [&](std::span<const double> p) {
    return static_cast<double>(f(p, std::span<double>(scratch)));
  };
  return detail::compare_gradient(x, analytic, evaluate, options);
}

/// check_gradient() for a braced point.
template <class F>
requires ScalarFunction<F> || GradientFunction<F> GradientCheck
check_gradient(F&& f, std::initializer_list<double> x, CheckOptions options = {}) {
  return check_gradient(std::forward<F>(f), std::span<const double>(x.begin(), x.size()), options);
}

/// check_gradient() at a point given as a range of doubles: std::array, Eigen::VectorXd, ...
/// (nabla::DoubleRange, Note [Points as ranges]).
template <class F, PointRange R>
requires ScalarFunction<F> || GradientFunction<F> GradientCheck
check_gradient(F&& f, const R& x, CheckOptions options = {}) {
  std::vector<double> copy;
  return check_gradient(std::forward<F>(f), detail::as_point(x, copy), options);
}

/// The report as a table (what the fmt formatter prints).
std::string to_string(const GradientCheck& check);

/// Compares Hessian-vector products of f at x (forward over reverse, hessian_vector_product())
/// with Richardson-extrapolated central differences of the reverse-mode gradient along each
/// direction v: every coordinate up to CheckOptions::full_limit inputs (the whole Hessian,
/// column by column), seeded random directions above (or with CheckMode::directional). f is a
/// generic callable, as for hessian(); the options are check_gradient()'s.
/// @throws nabla::Error for invalid options or a non-finite point.
///
/// Example:
///   auto report = nabla::check_hessian([](const auto& x) { return x[0] * x[0] * x[1]; },
///                                      {1.0, 2.0});
///   if (!report.ok) fmt::print("{}\n", report);
template <class F>
HessianCheck check_hessian(F&& f, std::span<const double> x, CheckOptions options = {}) {
  return detail::compare_hessian(
      x, [&](std::span<const double> v) { return hessian_vector_product(f, x, v); },
      [&](std::span<const double> p) { return value_and_gradient(f, p); }, options);
}

/// check_hessian() for a braced point.
template <class F>
HessianCheck check_hessian(F&& f, std::initializer_list<double> x, CheckOptions options = {}) {
  return check_hessian(std::forward<F>(f), std::span<const double>(x.begin(), x.size()), options);
}

/// The report as a table (what the fmt formatter prints).
std::string to_string(const HessianCheck& check);

}  // namespace nabla
