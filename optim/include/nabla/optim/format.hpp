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

/// Prints a result as a short summary: status, counts (with the Hessian evaluations of the
/// Newton methods — Hessian-vector products for NewtonCG — when there are any), value, gradient
/// norm, x (clipped), and for a run within Bounds the coordinates at a bound, when any are:
///   gradient_converged after 10 iterations (11 evaluations): f = 1.84, |grad| = 8.4e-13,
///   x = [2.4736842, 0, 0.89473684]; active: x[1] at lower
template <>
struct fmt::formatter<nabla::optim::Result> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const nabla::optim::Result& r, Context& ctx) const {
    auto out = fmt::format_to(ctx.out(), "{} after {} iterations ({} evaluations",
                              nabla::optim::to_string(r.status), r.iterations, r.evaluations);
    if (r.hessian_evaluations > 0)
      out = fmt::format_to(out, ", {} Hessian evaluations", r.hessian_evaluations);
    out = fmt::format_to(out, "): f = {:.10g}, |grad| = {:.3g}, x = [", r.value, r.grad_norm);
    for (std::size_t i = 0; i < r.x.size() && i < 6; ++i)
      out = fmt::format_to(out, "{}{:.8g}", i ? ", " : "", r.x[i]);
    if (r.x.size() > 6) out = fmt::format_to(out, ", … ({} values)", r.x.size());
    out = fmt::format_to(out, "]");
    // The active set: the first six coordinates at a bound, then how many there are in all.
    std::size_t at_bound = 0;
    for (std::size_t i = 0; i < r.active.size(); ++i) {
      if (r.active[i] == 0) continue;
      if (at_bound < 6) {
        out = fmt::format_to(out, "{}x[{}] at {}", at_bound ? ", " : "; active: ", i,
                             r.active[i] < 0 ? "lower" : "upper");
      }
      ++at_bound;
    }
    if (at_bound > 6) out = fmt::format_to(out, ", … ({} at a bound)", at_bound);
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
