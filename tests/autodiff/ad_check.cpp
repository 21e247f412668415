#include "ad_check.hpp"

#include <algorithm>

namespace nabla::test {

double central_difference(const std::function<double(double)>& f, double x, double h) {
  return detail::richardson_difference([&](double t) { return f(x + t); }, h).derivative;
}

double fd_step(double x, double distance_to_singularity, double scale_cap) {
  double h = 1e-3 * std::min(std::max(std::abs(x), 1e-2), scale_cap);
  h = std::min(h, distance_to_singularity / 100);
  return (x + h) - x;  // exactly representable next to x
}

bool close(double a, double b, double rtol, double atol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::abs(a - b) <= atol + rtol * std::max(std::abs(a), std::abs(b));
}

std::vector<double> linspace(double lo, double hi, int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = lo + (hi - lo) * i / (n - 1);
  return v;
}

void expect_same_value(const std::string& what, double got, double expected) {
  BOOST_CHECK_MESSAGE(close(got, expected, 0, 0),
                      what << ": value " << got << ", expected " << expected);
}

void expect_partial(const std::string& what, double analytic, double closed_form,
                    const std::function<double(double)>& f, double x, double h) {
  BOOST_CHECK_MESSAGE(close(analytic, closed_form, 1e-11, 1e-300),
                      what << ": derivative " << analytic << ", closed form " << closed_form);
  if (!std::isfinite(closed_form) || !std::isfinite(f(x)) || !(h > 0)) return;
  const double numeric = central_difference(f, x, h);
  // Finite differences resolve the derivative to about eps·|f|/h: allow for it.
  const double rounding = 1e-13 * (std::abs(f(x)) + 1e-300) / h;
  BOOST_CHECK_MESSAGE(close(analytic, numeric, 2e-6, 1e-10 + rounding),
                      what << ": derivative " << analytic << ", finite differences " << numeric
                           << " (step " << h << ")");
}

void expect_second_order(const std::string& what, double analytic, double other,
                         const std::function<double(double)>& df, double x, double h) {
  // The two ways round differently, and a second derivative near a zero is a difference of
  // larger terms: allow rounding relative to the first derivative.
  const double d = df(x);
  BOOST_CHECK_MESSAGE(close(analytic, other, 1e-10, 1e-14 * (std::isfinite(d) ? std::abs(d) : 0.0) + 1e-300),
                      what << ": " << analytic << " one way, " << other << " the other");
  if (!std::isfinite(d) || !(h > 0) || !std::isfinite(analytic)) return;
  const double left = df(x - h), right = df(x + h);
  if (!std::isfinite(left) || !std::isfinite(right)) return;
  if (std::abs(right - left) > 0.5 * (std::abs(right) + std::abs(left))) return;  // a kink
  const double numeric = central_difference(df, x, h);
  const double rounding = 1e-13 * (std::abs(d) + 1e-300) / h;
  BOOST_CHECK_MESSAGE(close(analytic, numeric, 2e-6, 1e-10 + rounding),
                      what << ": " << analytic << ", finite differences of the derivative "
                           << numeric << " (step " << h << ")");
}

}  // namespace nabla::test
