// Internal to the graph component: what its source files share.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "nabla/autodiff/graph.hpp"

namespace nabla::graph::internal {

inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();
using VertexId = Graph::vertex_descriptor;

// What the graph reads of a tape beyond its public interface: the recording statement by
// statement and the diagnostic records (Note [Narrow tape interfaces] in tape.hpp).
using Inspect = nabla::detail::TapeInspect;
using Diag = nabla::detail::TapeDiagnostics;

/// The Euclidean norm of n values.
inline double norm(const double* v, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += v[i] * v[i];
  return std::sqrt(s);
}

/// A number as the reports and pictures show it (4 significant digits).
inline std::string number(double x) { return fmt::format("{:.4g}", x); }

/// How many of n values are NaN or ±∞.
inline std::size_t count_non_finite(const double* v, std::size_t n) {
  std::size_t c = 0;
  for (std::size_t i = 0; i < n; ++i) c += !std::isfinite(v[i]);
  return c;
}

}  // namespace nabla::graph::internal
