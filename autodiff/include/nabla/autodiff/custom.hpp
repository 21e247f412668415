// nabla — recording a user's own operation with its own partials.
#pragma once

#include <initializer_list>
#include <span>

#include "nabla/autodiff/tape.hpp"

namespace nabla {

/// Records a user-defined operation: its value and the partial derivative of the value with
/// respect to each operand, computed by the caller (a black-box or hand-optimised function).
/// Constant operands are dropped; with no variable operand the result is a constant.
/// @throws nabla::Error when operands and partials differ in size.
///
/// Example (a hand-written x·sin(y)):
///   nabla::Var z = nabla::custom(x.value() * std::sin(y.value()), {x, y},
///                                {std::sin(y.value()), x.value() * std::cos(y.value())});
inline Var custom(double value, std::span<const Var> operands, std::span<const double> partials) {
  return Tape::active().record(Op::custom, value, operands, partials);
}

/// custom() with braced lists: `custom(v, {x, y}, {dv_dx, dv_dy})`.
inline Var custom(double value, std::initializer_list<Var> operands,
                  std::initializer_list<double> partials) {
  return custom(value, std::span<const Var>(operands.begin(), operands.size()),
                std::span<const double>(partials.begin(), partials.size()));
}

}  // namespace nabla
