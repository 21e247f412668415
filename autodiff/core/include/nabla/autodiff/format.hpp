// nabla — fmt formatters for nabla's types (the only header, with tensor_format.hpp of the
// tensor component, that teaches fmt about them).
#pragma once

#include <fmt/format.h>

#include <array>
#include <ostream>
#include <string_view>

#include "nabla/autodiff/check.hpp"
#include "nabla/autodiff/dual.hpp"
#include "nabla/autodiff/tape.hpp"
#include "nabla/autodiff/var.hpp"

namespace nabla {
/// Streams a Var's value: `std::cout << x`.
inline std::ostream& operator<<(std::ostream& os, const Var& x) { return os << x.value(); }
}  // namespace nabla

/// Prints a Var's value with the value's format spec: `fmt::format("{:.3f}", x)`.
template <>
struct fmt::formatter<nabla::Var> : fmt::formatter<double> {
  template <class Context>
  auto format(const nabla::Var& x, Context& ctx) const {
    return fmt::formatter<double>::format(x.value(), ctx);
  }
};

/// Prints a Dual as its value and tangents, `1.5 + 2ε` (N = 1) or `1.5 + [2, 0]ε`, nested Duals
/// in parentheses; a number format spec applies to every number: `fmt::format("{:.3f}", x)`.
template <class T, std::size_t N>
struct fmt::formatter<nabla::Dual<T, N>> : fmt::formatter<double> {
  template <class Context>
  auto format(const nabla::Dual<T, N>& x, Context& ctx) const {
    return write_dual(x, ctx);
  }

 private:
  template <class U, std::size_t M, class Context>
  auto write_dual(const nabla::Dual<U, M>& x, Context& ctx) const {
    auto out = write(x.value(), ctx);
    out = fmt::format_to(out, " + ");
    if constexpr (M > 1) out = fmt::format_to(out, "[");
    for (std::size_t i = 0; i < M; ++i) {
      if (i > 0) out = fmt::format_to(out, ", ");
      ctx.advance_to(out);
      out = write(x.tangent(i), ctx);
    }
    if constexpr (M > 1) out = fmt::format_to(out, "]");
    return fmt::format_to(out, "ε");
  }
  template <class U, class Context>
  typename Context::iterator write(const U& u, Context& ctx) const {
    if constexpr (std::is_same_v<U, double>) {
      return fmt::formatter<double>::format(u, ctx);
    } else if constexpr (std::is_same_v<U, nabla::Var>) {
      return fmt::formatter<double>::format(u.value(), ctx);
    } else {
      ctx.advance_to(fmt::format_to(ctx.out(), "("));
      auto out = write_dual(u, ctx);
      return fmt::format_to(out, ")");
    }
  }
};

/// Prints an unrecorded Dual<Var> operation as the Dual<Var> it would become (nothing is
/// recorded).
template <class V, class D, std::size_t N>
struct fmt::formatter<nabla::DualExpression<V, D, N>> : fmt::formatter<nabla::Dual<double, N>> {
  template <class Context>
  auto format(const nabla::DualExpression<V, D, N>& x, Context& ctx) const {
    std::array<double, N> d;
    for (std::size_t i = 0; i < N; ++i) d[i] = x.tangent(i).value();
    return fmt::formatter<nabla::Dual<double, N>>::format(
        nabla::Dual<double, N>(x.value().value(), d), ctx);
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

/// Prints a Hessian check report as a table (see nabla::to_string(const HessianCheck&)).
template <>
struct fmt::formatter<nabla::HessianCheck> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const nabla::HessianCheck& c, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(nabla::to_string(c), ctx);
  }
};

/// Prints tape statistics on one line: memory in use and reserved, scalar and tensor parts
/// (see nabla::to_string(const TapeStatistics&)).
template <>
struct fmt::formatter<nabla::TapeStatistics> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const nabla::TapeStatistics& s, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(nabla::to_string(s), ctx);
  }
};

// The tensor component's formatters, when it is there (it was part of this header before the
// components were split; including them keeps old code compiling).
#if __has_include("nabla/autodiff/tensor_format.hpp")
#include "nabla/autodiff/tensor_format.hpp"
#endif
