// nabla — gradients of user functions: value_and_gradient, gradient, jacobian.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <ranges>
#include <span>
#include <type_traits>
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

/// A point the helpers accept besides `std::span<const double>`: a sized random-access range of
/// doubles — std::vector, std::array, a C array, Eigen::VectorXd and other Eigen vectors of double
/// (and their expressions, e.g. `2 * x`). nabla does not include Eigen for it: Eigen 3.4's vectors
/// are ranges (begin/end/size), and this is all nabla asks of them (Note [Points as ranges]).
template <class R>
concept DoubleRange =
    std::ranges::random_access_range<const R&> && std::ranges::sized_range<const R&> &&
    std::same_as < std::ranges::range_value_t<const R&>,
double > ;

/// A range of doubles that is not already a `std::span<const double>` argument: what the range
/// overloads of the helpers take (the span overloads keep every call that compiled before).
template <class R>
concept PointRange = DoubleRange<R> && !std::convertible_to<const R&, std::span<const double>>;

/// A writable range of doubles for a gradient (std::vector, std::array, Eigen::VectorXd, ...).
template <class R>
concept GradientRange = std::ranges::random_access_range<R&> && std::ranges::sized_range<R&> &&
                        std::same_as < std::ranges::range_reference_t<R&>,
double& > ;

// Note [Points as ranges]
// Eigen 3.4's vectors have begin/end/size and data(), but their iterators are tagged random
// access, not contiguous, so std::span does not take them and std::ranges::contiguous_range is
// false for them. A DoubleRange is therefore viewed in place when it is contiguous in fact: when
// it has data() and its last element sits at data() + size − 1 (a Map or block with a stride
// other than 1 does not); anything else (an expression, a strided block) is copied once per
// call. Only the point is copied, never f's inputs: f still gets std::span<const Var>.

namespace detail {
/// x as a span: its own memory when its elements are contiguous, else a copy into `copy`.
template <DoubleRange R>
std::span<const double> as_point(const R& x, std::vector<double>& copy) {
  const auto n = static_cast<std::size_t>(std::ranges::size(x));
  if constexpr (std::ranges::contiguous_range<const R&>) {
    return {std::ranges::data(x), n};
  } else {
    if constexpr (requires {
                    { std::ranges::data(x) } -> std::convertible_to<const double*>;
                  } &&
                  std::is_lvalue_reference_v<std::ranges::range_reference_t<const R&>>) {
      const double* data = std::ranges::data(x);
      if (n == 0 || std::addressof(std::ranges::begin(x)[n - 1]) == data + (n - 1)) {
        return {data, n};
      }
    }
    copy.assign(std::ranges::begin(x), std::ranges::end(x));
    return copy;
  }
}

/// A point and a gradient buffer that are not both spans already (the span overload of gradient()
/// takes those, so every call that compiled before keeps its overload).
template <class X, class G>
concept NotBothSpans = !std::convertible_to<const X&, std::span<const double>> ||
                       !std::convertible_to<G&, std::span<double>>;

/// g as a writable span when its elements are contiguous (Note [Points as ranges]); else empty,
/// and the caller writes into a buffer and copies it into g.
template <GradientRange G>
std::span<double> contiguous_gradient(G& g) {
  const auto n = static_cast<std::size_t>(std::ranges::size(g));
  if constexpr (std::ranges::contiguous_range<G&>) {
    return {std::ranges::data(g), n};
  } else {
    if constexpr (requires {
                    { std::ranges::data(g) } -> std::convertible_to<double*>;
                  }) {
      double* data = std::ranges::data(g);
      if (n == 0 || std::addressof(std::ranges::begin(g)[n - 1]) == data + (n - 1)) {
        return {data, n};
      }
    }
    return {};
  }
}

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
  /// Rewinds to the start and records the inputs again, for one more evaluation of f: after a
  /// rewind the tape is in a new epoch (Note [Tape epochs]), where inputs recorded before it
  /// would take the slow lookup at every use.
  std::span<const Var> restart(std::span<const double> x) {
    tape_.rewind(start_);
    return inputs(x);
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
  /// Sweeps from the outputs ys, up to 8 per sweep (Tape::jacobian), and writes row r of the
  /// Jacobian with respect to the inputs into J[r·n …] (n inputs).
  /// @throws nabla::Error when f rewound or cleared the tape below the inputs.
  void jacobian(std::span<const Var> ys, std::span<double> J) {
    if (!inputs_.empty() &&
        !TapeAccess::is_at(tape_, inputs_.back(), start_.statement + inputs_.size() - 1))
      check_inputs();
    tape_.jacobian(ys, start_, J);
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

/// value_and_gradient() at a point given as a range of doubles: `std::array`, `Eigen::VectorXd`,
/// ... (DoubleRange; viewed in place when contiguous, Note [Points as ranges]). f still takes
/// `std::span<const Var>` (or `const auto&`).
///
/// Example:
///   Eigen::VectorXd x0(2);  x0 << 2.0, 3.0;
///   auto r = nabla::value_and_gradient([](const auto& x) { return x[0] * x[1]; }, x0);
template <class F, PointRange R>
requires ScalarFunction<F> ValueAndGradient value_and_gradient(F&& f, const R& x) {
  std::vector<double> copy;
  return value_and_gradient(std::forward<F>(f), detail::as_point(x, copy));
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

/// gradient() with the point and the gradient buffer given as ranges of doubles (std::array,
/// Eigen::VectorXd, ...; Note [Points as ranges]); a buffer whose elements are not contiguous
/// is written through a copy.
/// @throws nabla::Error when g and x differ in size.
template <class F, DoubleRange X, GradientRange G>
requires ScalarFunction<F> && detail::NotBothSpans<X, G>
double gradient(F&& f, const X& x, G&& g) {
  std::vector<double> copy;
  const std::span<const double> point = detail::as_point(x, copy);
  detail::check_sizes("nabla::gradient", point.size(),
                      static_cast<std::size_t>(std::ranges::size(g)));
  if (const std::span<double> out = detail::contiguous_gradient(g);
      out.size() == point.size() && (out.data() != nullptr || point.empty())) {
    return gradient(std::forward<F>(f), point, out);
  }
  std::vector<double> buffer(point.size());
  const double value = gradient(std::forward<F>(f), point, std::span<double>(buffer));
  std::ranges::copy(buffer, std::ranges::begin(g));
  return value;
}

/// The Jacobian of a vector function f (returning a range of Var, e.g. std::vector<Var>) at x:
/// one recording, one reverse sweep per 8 outputs (each statement carrying one adjoint per
/// output of its block; Note [Vector sweeps] in tape.cpp).
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
  std::vector<Var> outputs;
  outputs.reserve(m);
  for (const Var& y : ys) {
    J.values[outputs.size()] = y.value();
    outputs.push_back(y);
  }
  rec.jacobian(outputs, J.data);
  return J;
}

/// jacobian() at a point given as a range of doubles (std::array, Eigen::VectorXd, ...;
/// Note [Points as ranges]).
template <class F, PointRange R>
Jacobian jacobian(F&& f, const R& x, std::size_t expected_outputs = 0) {
  std::vector<double> copy;
  return jacobian(std::forward<F>(f), detail::as_point(x, copy), expected_outputs);
}

/// jacobian() at a braced point: `jacobian(f, {1.0, 2.0})`.
template <class F>
Jacobian jacobian(F&& f, std::initializer_list<double> x, std::size_t expected_outputs = 0) {
  return jacobian(std::forward<F>(f), std::span<const double>(x.begin(), x.size()),
                  expected_outputs);
}

}  // namespace nabla
