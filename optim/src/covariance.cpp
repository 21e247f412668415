#include "nabla/optim/covariance.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "eigen.hpp"
#include "nabla/autodiff/error.hpp"

namespace nabla::optim {

Covariance covariance(const nabla::Hessian& h) {
  constexpr const char* name = "nabla::optim::covariance";
  const std::size_t n = h.n;
  if (n == 0 || h.data.size() != n * n) {
    nabla::detail::fail(name, fmt::format("the Hessian has {} entries for n = {} (expected n·n "
                                          "with n >= 1)",
                                          h.data.size(), n));
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      if (!std::isfinite(h(i, j))) {
        nabla::detail::fail(name, fmt::format("the Hessian entry ({}, {}) is {} (expected a "
                                              "finite Hessian: f twice differentiable at x)",
                                              i, j, h(i, j)));
      }
    }
  }
  // D·H·D with D = diag(1/√Hᵢᵢ): a unit diagonal, so the scales of the parameters drop out.
  std::vector<double> d(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!(h(i, i) > 0)) {
      nabla::detail::fail(
          name, fmt::format("the Hessian is not positive definite: its diagonal entry ({}, {}) is "
                            "{} (expected > 0 at a minimum: is x a minimum of f, and f a "
                            "negative log-likelihood?)",
                            i, i, h(i, i)));
    }
    d[i] = 1 / std::sqrt(h(i, i));
  }
  std::vector<double> s(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) s[i * n + j] = d[i] * h(i, j) * d[j];
  const detail::SymmetricEigen eigen = detail::symmetric_eigen(s, n);
  const double smallest = eigen.values.front(), largest = eigen.values.back();
  const double tiny = static_cast<double>(n) * std::numeric_limits<double>::epsilon() * largest;
  if (smallest < -tiny) {
    nabla::detail::fail(
        name, fmt::format("the Hessian is not positive definite: the eigenvalues of its "
                          "diagonally scaled form range from {:.3g} to {:.3g} (expected all > 0 "
                          "at a minimum: x is a saddle point or a maximum of f)",
                          smallest, largest));
  }
  if (smallest <= tiny) {
    nabla::detail::fail(
        name, fmt::format("the Hessian is singular to rounding: the eigenvalues of its diagonally "
                          "scaled form range from {:.3g} to {:.3g} (expected a condition number "
                          "below 1/(n·ε) = {:.3g}: some combination of the parameters is not "
                          "determined by f)",
                          smallest, largest,
                          1 / (static_cast<double>(n) * std::numeric_limits<double>::epsilon())));
  }
  Covariance c;
  c.n = n;
  c.matrix.assign(n * n, 0.0);
  c.standard_errors.resize(n);
  c.condition = largest / smallest;
  // H⁻¹ = D·(Q Λ⁻¹ Qᵀ)·D;  ln det H⁻¹ = −Σ ln λₖ + 2 Σ ln dᵢ.
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i; j < n; ++j) {
      double sum = 0;
      for (std::size_t k = 0; k < n; ++k)
        sum += eigen.vectors[i * n + k] * eigen.vectors[j * n + k] / eigen.values[k];
      c.matrix[i * n + j] = c.matrix[j * n + i] = d[i] * sum * d[j];
    }
    c.standard_errors[i] = std::sqrt(c.matrix[i * n + i]);
    c.log_det += 2 * std::log(d[i]) - std::log(eigen.values[i]);
  }
  return c;
}

}  // namespace nabla::optim
