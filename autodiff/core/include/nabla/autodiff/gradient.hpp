// nabla — gradients of user functions: value_and_gradient, gradient, jacobian.
#pragma once

#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <ranges>
#include <span>
#include <utility>
#include <vector>

#include "nabla/autodiff/tape.hpp"

namespace nabla {

/// f's value and its gradient at a point (value_and_gradient()).
struct ValueAndGradient {
  double value = 0.0;            ///< f(x)
  std::vector<double> gradient;  ///< ∇f(x), one entry per input
};

/// A dense m×n Jacobian, row-major: row i is the gradient of output i.
struct Jacobian {
  std::size_t rows = 0;        ///< number of outputs m
  std::size_t cols = 0;        ///< number of inputs n
  std::vector<double> values;  ///< f(x), m entries
  std::vector<double> data;    ///< m·n entries, row-major
  /// ∂fᵢ/∂xⱼ
  [[nodiscard]] double operator()(std::size_t i, std::size_t j) const { return data[i * cols + j]; }
};

/// A function nabla can differentiate: callable with std::span<const Var>, returning a Var.
template <class F>
concept ScalarFunction = std::invocable<F&, std::span<const Var>> &&
    std::convertible_to<std::invoke_result_t<F&, std::span<const Var>>, Var>;

namespace detail {
// Records inputs on the active tape from a saved position and rewinds to it on exit, also when
// f throws, so the helpers never leave anything behind and reuse the tape's memory. The inputs
// live in a per-thread buffer (one per nesting level), so a warm call allocates nothing.
class Recording {
 public:
  Recording() : tape_(Tape::active()), start_(tape_.position()), inputs_(acquire()) {}
  ~Recording() {
    release();
    try {
      tape_.rewind(start_);
    } catch (...) {  // f rewound the tape below our start itself: nothing of ours is left
    }
  }
  Recording(const Recording&) = delete;
  Recording& operator=(const Recording&) = delete;
  /// Records one input per coordinate of x.
  std::span<const Var> inputs(std::span<const double> x) {
    inputs_.resize(x.size());
    tape_.variables(x, inputs_);
    return inputs_;
  }
  /// Sweeps from y and writes the gradient with respect to the inputs into g.
  /// @throws nabla::Error when f rewound or cleared the tape below the inputs.
  void gradient(const Var& y, std::span<double> g) {
    // The common case inline: the last input is in the tape's current block, at its place.
    if (!inputs_.empty() &&
        !TapeAccess::is_at(tape_, inputs_.back(), start_.statement + inputs_.size() - 1))
      check_inputs();
    tape_.gradient(y, start_, g);
  }

 private:
  static std::vector<Var>& acquire();
  static void release();
  // Throws unless the inputs are still the statements recorded at start_ (f may have rewound
  // or cleared the tape and recorded statements of its own in their place).
  void check_inputs() const;
  Tape& tape_;
  Position start_;
  std::vector<Var>& inputs_;
};
void check_sizes(const char* function, std::size_t x, std::size_t g);
void check_outputs(std::size_t got, std::size_t expected);
}  // namespace detail

/// The value and gradient of f at x, from one recording and one reverse sweep.
///
/// f is called once with the inputs as `std::span<const Var>`; a generic lambda taking
/// `const auto& x` works. The recording is made on the active tape and rewound afterwards.
/// @throws whatever f throws; nabla::Error for a Var misused inside f.
///
/// Example:
///   auto r = nabla::value_and_gradient([](const auto& x) { return x[0] * x[1]; },
///                                      std::vector{2.0, 3.0});   // r.value 6, r.gradient {3, 2}
template <class F>
requires ScalarFunction<F> ValueAndGradient value_and_gradient(F&& f, std::span<const double> x) {
  detail::Recording rec;
  const Var y = f(rec.inputs(x));
  ValueAndGradient out{y.value(), std::vector<double>(x.size())};
  rec.gradient(y, out.gradient);
  return out;
}

/// value_and_gradient() for a braced point: `value_and_gradient(f, {1.0, 2.0})`.
template <class F>
requires ScalarFunction<F> ValueAndGradient value_and_gradient(F&& f,
                                                               std::initializer_list<double> x) {
  return value_and_gradient(std::forward<F>(f), std::span<const double>(x.begin(), x.size()));
}

/// Writes ∇f(x) into g and returns f(x) (no allocation but the inputs: for optimizer loops).
/// @throws nabla::Error when g and x differ in size.
template <class F>
requires ScalarFunction<F>
double gradient(F&& f, std::span<const double> x, std::span<double> g) {
  detail::check_sizes("nabla::gradient", x.size(), g.size());
  detail::Recording rec;
  const Var y = f(rec.inputs(x));
  rec.gradient(y, g);
  return y.value();
}

/// The Jacobian of a vector function f (returning a range of Var, e.g. std::vector<Var>) at x:
/// one recording, one reverse sweep per output.
/// @throws nabla::Error when f returns no output, or not `expected_outputs` of them (when given).
///
/// Example:
///   auto J = nabla::jacobian([](const auto& x) { return std::vector{x[0] * x[1], sin(x[0])}; },
///                            std::vector{1.0, 2.0});   // J(0, 1) == 1
template <class F>
Jacobian jacobian(F&& f, std::span<const double> x, std::size_t expected_outputs = 0) {
  detail::Recording rec;
  const std::span<const Var> xs = rec.inputs(x);
  const auto ys = f(xs);
  const std::size_t m = static_cast<std::size_t>(std::ranges::size(ys));
  detail::check_outputs(m, expected_outputs);
  Jacobian J{m, x.size(), std::vector<double>(m), std::vector<double>(m * x.size(), 0.0)};
  std::size_t i = 0;
  for (const Var& y : ys) {
    J.values[i] = y.value();
    rec.gradient(y, std::span<double>(J.data).subspan(i * J.cols, J.cols));
    ++i;
  }
  return J;
}

/// jacobian() at a braced point: `jacobian(f, {1.0, 2.0})`.
template <class F>
Jacobian jacobian(F&& f, std::initializer_list<double> x, std::size_t expected_outputs = 0) {
  return jacobian(std::forward<F>(f), std::span<const double>(x.begin(), x.size()),
                  expected_outputs);
}

}  // namespace nabla
