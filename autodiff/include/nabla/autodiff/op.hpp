// nabla — operation codes stored on the tape, one byte per statement.
#pragma once

#include <cstdint>
#include <string_view>

namespace nabla {

/// What a recorded statement computed. Stored as one byte per statement so that diagnostics
/// and the graph export can name every node; the reverse sweep never looks at it.
enum class Op : std::uint8_t {
  constant,  // the reserved slot 0: constants, never recorded
  input,     // an independent variable
  custom,    // a user operation recorded with nabla::custom
  add, sub, mul, div, neg,
  pow, exp, exp2, expm1, log, log2, log10, log1p, sqrt, cbrt, hypot,
  sin, cos, tan, asin, acos, atan, atan2,
  sinh, cosh, tanh, asinh, acosh, atanh,
  erf, erfc, tgamma, lgamma,
  abs, fmin, fmax, fma,
  sigmoid, softplus, relu, log_sum_exp,
  sum, squared_norm, dot, normal_log_density,
  tensor,  // a tensor node (tensor_var.hpp): the node names its operation
  count_  // number of operation codes (not an operation)
};

/// The name of an operation, e.g. "mul" or "log_sum_exp".
std::string_view op_name(Op op) noexcept;

}  // namespace nabla
