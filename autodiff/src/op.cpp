#include "nabla/autodiff/op.hpp"

#include <array>

namespace nabla {

namespace {
constexpr std::array<std::string_view, static_cast<std::size_t>(Op::count_)> names = {
    "constant", "input", "custom", "add", "sub", "mul", "div", "neg",
    "pow", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "hypot",
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
    "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
    "erf", "erfc", "tgamma", "lgamma",
    "abs", "fmin", "fmax", "fma",
    "sigmoid", "softplus", "relu", "log_sum_exp",
    "sum", "squared_norm", "dot", "normal_log_density", "tensor"};
static_assert(names.back() == "tensor", "op names out of step with enum Op");
}  // namespace

std::string_view op_name(Op op) noexcept {
  const auto i = static_cast<std::size_t>(op);
  return i < names.size() ? names[i] : std::string_view("unknown");
}

}  // namespace nabla
