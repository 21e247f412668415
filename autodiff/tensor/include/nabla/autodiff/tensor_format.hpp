// nabla — fmt formatters and streams for tensors (Shape, Tensor, TensorVar).
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string_view>

#include "nabla/autodiff/tensor.hpp"
#include "nabla/autodiff/tensor_var.hpp"

namespace nabla {
/// Streams a shape: "[2, 3]".
inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << to_string(s); }
/// Streams a tensor's shape and (clipped) values.
inline std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  return os << to_string(TensorView(t));
}
}  // namespace nabla

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
