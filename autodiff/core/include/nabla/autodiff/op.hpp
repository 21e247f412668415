// nabla — operation codes stored on the tape, one byte per statement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace nabla {

// The operation codes, in one list: the enum and the names are both generated from it.
// clang-format off
#define NABLA_OPS(X)                                                                          \
  X(constant) /* the reserved slot 0: constants, never recorded */                            \
  X(input)    /* an independent variable */                                                   \
  X(custom)   /* a user operation recorded with nabla::custom */                              \
  X(add) X(sub) X(mul) X(div) X(neg)                                                          \
  X(pow) X(exp) X(exp2) X(expm1) X(log) X(log2) X(log10) X(log1p) X(sqrt) X(cbrt) X(hypot)   \
  X(sin) X(cos) X(tan) X(asin) X(acos) X(atan) X(atan2)                                       \
  X(sinh) X(cosh) X(tanh) X(asinh) X(acosh) X(atanh)                                          \
  X(erf) X(erfc) X(tgamma) X(lgamma) X(digamma) X(polygamma)                                  \
  X(abs) X(fmin) X(fmax) X(fma)                                                               \
  X(sigmoid) X(softplus) X(relu) X(gelu) X(silu) X(leaky_relu) X(elu) X(log_sum_exp)            \
  X(sum) X(prod) X(squared_norm) X(dot) X(normal_log_density)                                 \
  X(tensor)   /* a tensor node (tensor_var.hpp): the node names its operation */
// clang-format on

/// What a recorded statement computed. Stored as one byte per statement so that diagnostics
/// and the graph export can name every node; the reverse sweep never looks at it.
enum class Op : std::uint8_t {
#define NABLA_OP_ENUM(name) name,
  NABLA_OPS(NABLA_OP_ENUM)
#undef NABLA_OP_ENUM
      count_  // number of operation codes (not an operation)
};

/// The name of an operation, e.g. "mul" or "log_sum_exp" ("unknown" for a byte that is none).
constexpr std::string_view op_name(Op op) noexcept {
  constexpr std::string_view names[] = {
#define NABLA_OP_NAME(name) #name,
      NABLA_OPS(NABLA_OP_NAME)
#undef NABLA_OP_NAME
  };
  const auto i = static_cast<std::size_t>(op);
  return i < std::size(names) ? names[i] : std::string_view("unknown");
}

}  // namespace nabla
