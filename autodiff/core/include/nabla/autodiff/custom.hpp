// nabla — recording a user's own operation with its own partials.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

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

/// Records a user-defined operation given by its function: the value is f(operand values), the
/// partials are the caller's. With diagnostics on (Tape::set_diagnostics), the tape keeps f,
/// so graph::check_partials can compare the partials with finite differences of f — a wrong
/// hand-written derivative is then pointed to directly.
/// @throws nabla::Error when operands and partials differ in size.
///
/// Example:
///   auto f = [](std::span<const double> v) { return v[0] * std::sin(v[1]); };
///   nabla::Var z = nabla::custom(f, {x, y}, {std::sin(y.value()), x.value() *
///   std::cos(y.value())});
template <class F>
requires std::is_invocable_r_v<double, F&, std::span<const double>> Var
custom(F&& f, std::span<const Var> operands, std::span<const double> partials) {
  std::vector<double> values(operands.size());
  for (std::size_t i = 0; i < operands.size(); ++i) values[i] = operands[i].value();
  const double value = f(std::span<const double>(values));
  Tape& tape = Tape::active();
  if (!detail::TapeDiagnostics::diagnosing(tape))
    return tape.record(Op::custom, value, operands, partials);
  return detail::TapeDiagnostics::record_evaluated(tape, Op::custom, value, operands, partials,
                                                   std::forward<F>(f));
}

/// custom() with a function and braced lists: `custom(f, {x, y}, {df_dx, df_dy})`.
template <class F>
requires std::is_invocable_r_v<double, F&, std::span<const double>> Var
custom(F&& f, std::initializer_list<Var> operands, std::initializer_list<double> partials) {
  return custom(std::forward<F>(f), std::span<const Var>(operands.begin(), operands.size()),
                std::span<const double>(partials.begin(), partials.size()));
}

/// Names x in graphs and reports (graph::capture, gradient-flow reports, NaN reports); records
/// nothing. Constants are ignored. Returns x, so `auto w = nabla::label(x * 2, "w");` works.
inline Var label(const Var& x, std::string name) {
  detail::TapeDiagnostics::label(Tape::active(), x, std::move(name));
  return x;
}

}  // namespace nabla
