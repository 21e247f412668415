// nabla::optim — fmt formatters for the optimizer's types.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <string_view>

#include "nabla/optim/least_squares.hpp"
#include "nabla/optim/minimize.hpp"

/// Prints a status by name: "gradient_converged".
template <>
struct fmt::formatter<nabla::optim::Status> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(nabla::optim::Status s, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(nabla::optim::to_string(s), ctx);
  }
};

/// Prints a result as a short summary: status, counts, value, gradient norm and x (clipped).
template <>
struct fmt::formatter<nabla::optim::Result> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const nabla::optim::Result& r, Context& ctx) const {
    auto out = fmt::format_to(ctx.out(),
                              "{} after {} iterations ({} evaluations): f = {:.10g}, |grad| = "
                              "{:.3g}, x = [",
                              nabla::optim::to_string(r.status), r.iterations, r.evaluations,
                              r.value, r.grad_norm);
    for (std::size_t i = 0; i < r.x.size() && i < 6; ++i)
      out = fmt::format_to(out, "{}{:.8g}", i ? ", " : "", r.x[i]);
    if (r.x.size() > 6) out = fmt::format_to(out, ", … ({} values)", r.x.size());
    out = fmt::format_to(out, "]");
    if (r.best_value < r.value - 1e-9 * std::abs(r.value))
      out = fmt::format_to(out, "; best f = {:.10g} seen on the way", r.best_value);
    return out;
  }
};

/// Prints a least-squares result: status, counts, cost, and each parameter ± its standard error
/// (or the covariance status when there are none).
template <>
struct fmt::formatter<nabla::optim::LeastSquaresResult> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const nabla::optim::LeastSquaresResult& r, Context& ctx) const {
    using nabla::optim::CovarianceStatus;
    auto out = fmt::format_to(ctx.out(),
                              "{} after {} iterations ({} evaluations): cost = {:.10g}, |grad| = "
                              "{:.3g}, x = [",
                              nabla::optim::to_string(r.status), r.iterations, r.evaluations,
                              r.cost, r.grad_norm);
    const bool errors = r.covariance_status == CovarianceStatus::ok;
    for (std::size_t i = 0; i < r.x.size() && i < 6; ++i) {
      out = fmt::format_to(out, "{}{:.8g}", i ? ", " : "", r.x[i]);
      if (errors) out = fmt::format_to(out, " ± {:.3g}", r.standard_errors[i]);
    }
    if (r.x.size() > 6) out = fmt::format_to(out, ", … ({} values)", r.x.size());
    out = fmt::format_to(out, "]");
    if (!errors && r.covariance_status != CovarianceStatus::not_computed)
      out = fmt::format_to(out, "; covariance {}", nabla::optim::to_string(r.covariance_status));
    return out;
  }
};
