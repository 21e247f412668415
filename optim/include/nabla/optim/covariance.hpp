// nabla::optim — covariance(): the inverse Hessian at a minimum, for standard errors of a
// maximum-likelihood estimate and the Laplace approximation.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <utility>
#include <vector>

#include "nabla/autodiff/forward.hpp"

namespace nabla::optim {

/// The inverse of the Hessian of f at a minimum x. When f is a negative log-likelihood, this is
/// the asymptotic covariance of the estimate x (the inverse observed information), and
/// N(x, matrix) is the Laplace approximation of the density ∝ e^(−f).
struct Covariance {
  std::size_t n = 0;                    ///< number of parameters
  std::vector<double> matrix;           ///< (∇²f(x))⁻¹, n×n row-major, symmetric
  std::vector<double> standard_errors;  ///< √diag(matrix), n entries
  double log_det = 0;  ///< ln det(matrix): ln ∫e^(−f) ≈ −f(x) + (n/2)·ln 2π + ½·log_det
  double condition = 0;  ///< the condition number of ∇²f after scaling its diagonal to 1
  /// (∇²f(x))⁻¹ at (i, j).
  [[nodiscard]] double operator()(std::size_t i, std::size_t j) const { return matrix[i * n + j]; }
};

/// The inverse of a Hessian, e.g. one from nabla::hessian(). The matrix is scaled to a unit
/// diagonal, D·H·D, and inverted through its eigendecomposition (O(n³): meant for n up to a few
/// hundred), so parameters of very different scales are fine.
/// @throws nabla::Error when h is empty or has a NaN or infinite entry, is not positive definite
/// (x is not a minimum: a saddle, a maximum — or f is a log-likelihood that was not negated), or
/// is singular to rounding (condition number of D·H·D above 1/(n·ε): some combination of the
/// parameters is not determined by f).
Covariance covariance(const nabla::Hessian& h);

/// The inverse Hessian of f at x, with the Hessian by nabla::hessian() (forward over reverse, so
/// f must be generic in its number type). x should be a minimum of f, e.g. minimize()'s result.
/// @throws nabla::Error as covariance(const Hessian&).
///
/// Example:
///   auto fit = nabla::optim::minimize(nll, {0.0, 0.0}, nabla::optim::Newton{});
///   auto cov = nabla::optim::covariance(nll, fit.x);   // cov.standard_errors
template <class F>
Covariance covariance(F&& f, std::span<const double> x) {
  return covariance(nabla::hessian(std::forward<F>(f), x));
}
/// covariance() at a braced point.
template <class F>
Covariance covariance(F&& f, std::initializer_list<double> x) {
  return covariance(std::forward<F>(f), std::span<const double>(x.begin(), x.size()));
}

}  // namespace nabla::optim
