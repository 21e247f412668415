// nabla — fmt formatters for nabla's types (the only header that teaches fmt about them).
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string_view>

#include "nabla/autodiff/check.hpp"
#include "nabla/autodiff/tape.hpp"
#include "nabla/autodiff/tensor_var.hpp"
#include "nabla/autodiff/var.hpp"

namespace nabla {
/// Streams a Var's value: `std::cout << x`.
inline std::ostream& operator<<(std::ostream& os, const Var& x) { return os << x.value(); }
/// Streams a shape: "[2, 3]".
inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << to_string(s); }
/// Streams a tensor's shape and (clipped) values.
inline std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  return os << to_string(TensorView(t));
}
}  // namespace nabla

/// Prints a Var's value with the value's format spec: `fmt::format("{:.3f}", x)`.
template <>
struct fmt::formatter<nabla::Var> : fmt::formatter<double> {
  template <class Context>
  auto format(const nabla::Var& x, Context& ctx) const {
    return fmt::formatter<double>::format(x.value(), ctx);
  }
};

/// Prints a gradient check report as a table (see nabla::to_string(const GradientCheck&)).
template <>
struct fmt::formatter<nabla::GradientCheck> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const nabla::GradientCheck& c, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(nabla::to_string(c), ctx);
  }
};

/// Prints tape statistics on one line.
template <>
struct fmt::formatter<nabla::TapeStatistics> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const nabla::TapeStatistics& s, Context& ctx) const {
    return fmt::format_to(ctx.out(),
                          "{} statements, {} operands, {} bytes used (+{} of adjoints), {} bytes "
                          "reserved",
                          s.statements, s.operands, s.bytes_used, s.adjoint_bytes,
                          s.bytes_reserved);
  }
};

/// Prints a shape: "[64, 784]".
template <>
struct fmt::formatter<nabla::Shape> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const nabla::Shape& s, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(nabla::to_string(s), ctx);
  }
};

/// Prints a tensor's shape and values, at most 3 at each end of every dimension.
template <>
struct fmt::formatter<nabla::Tensor> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const nabla::Tensor& t, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(nabla::to_string(nabla::TensorView(t)), ctx);
  }
};

/// Prints a recorded tensor's shape and values (read from the active tape).
template <>
struct fmt::formatter<nabla::TensorVar> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const nabla::TensorVar& t, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(nabla::to_string(t.value()), ctx);
  }
};
