// nabla — gradients of user functions: value_and_gradient, gradient, jacobian.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
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
/// x's elements as a span of E (`const double` or `double`) when they are contiguous in memory
/// (Note [Points as ranges]), else nothing.
template <class E, class R>
std::optional<std::span<E>> in_place(R& x) {
  const auto n = static_cast<std::size_t>(std::ranges::size(x));
  if constexpr (std::ranges::contiguous_range<R&>) {
    return std::span<E>(std::ranges::data(x), n);
  } else {
    if constexpr (requires {
                    { std::ranges::data(x) } -> std::convertible_to<E*>;
                  } &&
                  std::is_lvalue_reference_v<std::ranges::range_reference_t<R&>>) {
      E* data = std::ranges::data(x);
      if (n == 0 || std::addressof(std::ranges::begin(x)[n - 1]) == data + (n - 1)) {
        return std::span<E>(data, n);
      }
    }
    return std::nullopt;
  }
}

/// x as a span: its own memory when its elements are contiguous, else a copy into `copy`.
template <DoubleRange R>
std::span<const double> as_point(const R& x, std::vector<double>& copy) {
  if (const auto view = in_place<const double>(x)) return *view;
  copy.assign(std::ranges::begin(x), std::ranges::end(x));
  return copy;
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
  return in_place<double>(g).value_or(std::span<double>{});
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
  /// Records the inputs of several blocks as consecutive statements, block after block, and
  /// returns them as one span (block k is the subspan at the sum of the sizes before it).
  std::span<const Var> inputs(std::span<const std::span<const double>> blocks);
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
    ensure_inputs();
    tape_.gradient(y, start_, g);
  }
  /// Sweeps from y and writes the gradient with respect to the inputs of inputs(blocks) straight
  /// into the output blocks, block k's into g[k] (sizes checked by the caller: they add up to
  /// the number of inputs, in the order of the input blocks).
  /// @throws nabla::Error when f rewound or cleared the tape below the inputs.
  void gradient(const Var& y, std::span<const std::span<double>> g);
  /// Sweeps from the outputs ys, up to 8 per sweep (Tape::jacobian), and writes row r of the
  /// Jacobian with respect to the inputs into J[r·n …] (n inputs, all blocks in order).
  /// @throws nabla::Error when f rewound or cleared the tape below the inputs.
  void jacobian(std::span<const Var> ys, std::span<double> J) {
    ensure_inputs();
    tape_.jacobian(ys, start_, J);
  }

 private:
  // The inputs are still where they were recorded (the common case, inline), or check_inputs().
  void ensure_inputs() const {
    // The common case inline: the last input is in the tape's current block, at its place.
    if (!inputs_.empty() &&
        !TapeAccess::is_at(tape_, inputs_.back(), start_.statement + inputs_.size() - 1))
      check_inputs();
  }
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
/// Throws nabla::Error (from `function`) when f returned no outputs, or not `expected` of them
/// (when expected ≠ 0); `number` names the type f returns.
void check_outputs(std::size_t got, std::size_t expected, const char* function = "nabla::jacobian",
                   const char* number = "Var");
/// The Jacobian of the outputs ys (a range of Var) with respect to rec's n inputs: the values,
/// then the rows by vector sweeps (Recording::jacobian).
/// @throws nabla::Error when ys is empty, or not `expected` outputs long (when expected > 0).
template <class Ys>
Jacobian jacobian_of(Recording& rec, const Ys& ys, std::size_t n, std::size_t expected) {
  const std::size_t m = static_cast<std::size_t>(std::ranges::size(ys));
  check_outputs(m, expected);
  Jacobian J{m, n, std::vector<double>(m), std::vector<double>(m * n, 0.0)};
  std::vector<Var> outputs;
  outputs.reserve(m);
  for (const Var& y : ys) {
    J.values[outputs.size()] = y.value();
    outputs.push_back(y);
  }
  rec.jacobian(outputs, J.data);
  return J;
}
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
  return detail::jacobian_of(rec, f(xs), x.size(), expected_outputs);
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

// ---- Parameter blocks: gradients with respect to several buffers in place ----

/// Views of N existing buffers of doubles: the *parameter blocks* of the block forms of
/// gradient() and value_and_gradient() (Note [Parameter blocks]). Make them with
/// nabla::blocks(). T is `double` when every buffer is writable (gradient buffers), else
/// `const double`. A Blocks only views the buffers, which must outlive its use.
template <class T, std::size_t N>
struct Blocks {
  std::array<std::span<T>, N> spans;  ///< block k's elements
  /// The number of blocks, N.
  [[nodiscard]] static constexpr std::size_t size() noexcept { return N; }
  /// Block k.
  [[nodiscard]] std::span<T> operator[](std::size_t k) const { return spans[k]; }
};

/// The value of f and its gradient with respect to each of N parameter blocks
/// (value_and_gradient() of nabla::blocks()).
template <std::size_t N>
struct ValueAndBlockGradient {
  double value = 0.0;  ///< f(x₀, …, x_{N−1})
  /// ∂f/∂x_k for each block k, with the size of block k.
  std::array<std::vector<double>, N> gradient;
};

namespace detail {
/// A buffer nabla::blocks() can view in place: a range of doubles that is contiguous in memory
/// (a std::vector, std::array, C array, std::span, Eigen vector; a strided view is refused at
/// run time, an expression at compile time).
template <class R>
concept BlockBuffer = DoubleRange<std::remove_cvref_t<R>> &&
    (std::ranges::contiguous_range<const std::remove_cvref_t<R>&> || requires(const R& r) {
      { std::ranges::data(r) } -> std::convertible_to<const double*>;
    });

/// A buffer a block can write into (a gradient buffer): a BlockBuffer of writable doubles that is
/// an lvalue or a view (std::span<double>), not a temporary container.
template <class R>
concept WritableBlockBuffer = BlockBuffer<R> && std::ranges::borrowed_range<R> &&
    GradientRange<std::remove_reference_t<R>> &&
    (std::ranges::contiguous_range<std::remove_reference_t<R>&> ||
     requires(std::remove_reference_t<R> & r) {
       { std::ranges::data(r) } -> std::convertible_to<double*>;
     });

[[noreturn]] void not_contiguous(std::size_t block, std::size_t blocks, std::size_t size);

/// Block k of n viewed in place as a span of E.
/// @throws nabla::Error when its elements are not contiguous in memory.
template <class E, class R>
std::span<E> block_view(R& r, std::size_t k, std::size_t n) {
  if (const auto view = in_place<E>(r)) return *view;
  not_contiguous(k, n, static_cast<std::size_t>(std::ranges::size(r)));
}

/// Checks that block k of g has the size of block k of x for every k, and that no two blocks of
/// g share memory (Note [Parameter blocks]).
/// @throws nabla::Error naming the first block that is wrong.
void check_blocks(const char* function, std::span<const std::span<const double>> x,
                  std::span<const std::span<double>> g);

template <std::size_t>
using BlockArgument = std::span<const Var>;

template <class F, class... A>
concept ReturnsVar =
    std::invocable<F&, A...> && std::convertible_to<std::invoke_result_t<F&, A...>, Var>;

template <class F, class I>
inline constexpr bool block_function = false;
template <class F, std::size_t... I>
inline constexpr bool block_function<F, std::index_sequence<I...>> =
    ReturnsVar<F, BlockArgument<I>...>;

/// Records the blocks of x as the inputs of rec and views them block by block in v (one span
/// per block of x, in order).
inline void record_blocks(Recording& rec, std::span<const std::span<const double>> x,
                          std::span<std::span<const Var>> v) {
  const std::span<const Var> all = rec.inputs(x);
  std::size_t at = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    v[k] = all.subspan(at, x[k].size());
    at += x[k].size();
  }
}

/// Records the blocks of x as the inputs of rec and returns f of them, one span per block.
template <class F, std::size_t N>
decltype(auto) call_with_blocks(F& f, Recording& rec,
                                const std::array<std::span<const double>, N>& x) {
  std::array<std::span<const Var>, N> v{};
  record_blocks(rec, x, v);
  return [&]<std::size_t... I>(std::index_sequence<I...>)->decltype(auto) { return f(v[I]...); }
  (std::make_index_sequence<N>{});
}

/// x's blocks as read-only spans.
template <class T, std::size_t N>
std::array<std::span<const double>, N> read_only(const Blocks<T, N>& x) {
  std::array<std::span<const double>, N> out{};
  for (std::size_t k = 0; k < N; ++k) out[k] = x.spans[k];
  return out;
}
}  // namespace detail

/// A function of N parameter blocks nabla can differentiate: callable with N arguments of type
/// `std::span<const Var>`, returning a Var (a generic lambda taking N `const auto&` does).
template <class F, std::size_t N>
concept BlockFunction = detail::block_function<F, std::make_index_sequence<N>>;

/// Views existing buffers of doubles as parameter blocks, without copying them
/// (Note [Parameter blocks]): `nabla::blocks(alphas, means, icf)` for the point and
/// `nabla::blocks(g_alphas, g_means, g_icf)` for the gradient. Each buffer is any contiguous
/// range of doubles: std::vector, std::array, a C array, std::span (over a raw pointer:
/// `std::span(p, n)`), Eigen::VectorXd (a matrix: `std::span(m.data(), m.size())`); blocks
/// may be empty. The result is writable (usable for gradients) when every buffer is.
/// @throws nabla::Error when a buffer's elements are not contiguous (a strided Eigen view).
///
/// Example:
///   std::vector<double> w = {1.0, 2.0}, b = {0.5}, gw(2), gb(1);
///   double f = nabla::gradient([](const auto& w, const auto& b) { return w[0] * w[1] + b[0]; },
///                              nabla::blocks(w, b), nabla::blocks(gw, gb));
///   // f == 2.5, gw == {2, 1}, gb == {1}
template <class... R>
requires(detail::BlockBuffer<R>&&...) auto blocks(R&&... buffers) {
  constexpr std::size_t n = sizeof...(R);
  using T = std::conditional_t<(detail::WritableBlockBuffer<R> && ...), double, const double>;
  std::size_t k = 0;
  // A braced list evaluates its elements in order: k counts the blocks for the error message.
  return Blocks<T, n>{{detail::block_view<T>(buffers, k++, n)...}};
}

/// Writes the gradient of f with respect to each parameter block of x straight into the block
/// of g at its place (block k's into g[k]), and returns f's value: one recording, one reverse
/// sweep, no copy of the blocks into one vector (Note [Parameter blocks]).
///
/// f is called once with one `std::span<const Var>` per block, in order; a generic lambda
/// taking `const auto&` per block works. Blocks may be empty. A gradient block may be an input
/// block's own buffer: the inputs are read before f runs and the gradient is written after.
/// @throws nabla::Error when a block of g differs in size from its block of x, or two blocks of
/// g overlap in memory (their gradients would overwrite each other); whatever f throws (the
/// tape is rewound as by gradient(), and g is left unchanged).
///
/// Example (ADBench's GMM: three parameter arrays, three gradient arrays):
///   double f = nabla::gradient(gmm_objective, nabla::blocks(alphas, means, icf),
///                              nabla::blocks(g_alphas, g_means, g_icf));
template <class F, class TX, class TG, std::size_t N, std::size_t M>
requires BlockFunction<F, N>
double gradient(F&& f, const Blocks<TX, N>& x, const Blocks<TG, M>& g) {
  static_assert(N == M, "nabla::gradient: give one gradient block per input block");
  static_assert(!std::is_const_v<TG>,
                "nabla::gradient: the gradient blocks must be writable (nabla::blocks was given "
                "a const buffer or a temporary)");
  const std::array<std::span<const double>, N> xs = detail::read_only(x);
  detail::check_blocks("nabla::gradient", xs, g.spans);
  detail::Recording rec;
  const Var y = Var(detail::call_with_blocks(f, rec, xs));
  rec.gradient(y, g.spans);
  return y.value();
}

/// The value of f and its gradient with respect to each parameter block of x (a vector per
/// block), from one recording and one reverse sweep; gradient() writes into your buffers
/// instead. f is called as by gradient(f, x, g).
/// @throws whatever f throws; nabla::Error for a Var misused inside f.
///
/// Example:
///   auto [value, grad] = nabla::value_and_gradient(
///       [](const auto& w, const auto& b) { return w[0] * w[1] + b[0]; }, nabla::blocks(w, b));
///   // grad[0] == {2, 1} (∂f/∂w), grad[1] == {1} (∂f/∂b)
template <class F, class TX, std::size_t N>
requires BlockFunction<F, N> ValueAndBlockGradient<N> value_and_gradient(F&& f,
                                                                         const Blocks<TX, N>& x) {
  ValueAndBlockGradient<N> out;
  Blocks<double, N> g{};
  for (std::size_t k = 0; k < N; ++k) {
    out.gradient[k].resize(x.spans[k].size());
    g.spans[k] = out.gradient[k];
  }
  out.value = gradient(std::forward<F>(f), x, g);
  return out;
}

/// The Jacobian of a vector function f of N parameter blocks (f called as by gradient(f, x, g),
/// returning a range of Var): one recording, one reverse sweep per output. Its columns are the
/// blocks' entries in order, block 0 first: ∂fᵢ/∂(block k, entry j) is column
/// (size of blocks 0 … k−1) + j.
/// @throws nabla::Error when f returns no output, or not `expected_outputs` of them (when given).
///
/// Example:
///   auto J = nabla::jacobian([](const auto& w, const auto& b) {
///     return std::vector<nabla::Var>{w[0] * b[0], w[1] + b[0]};
///   }, nabla::blocks(w, b));   // w of size 2, b of size 1: J is 2×3
template <class F, class TX, std::size_t N>
Jacobian jacobian(F&& f, const Blocks<TX, N>& x, std::size_t expected_outputs = 0) {
  const std::array<std::span<const double>, N> xs = detail::read_only(x);
  detail::Recording rec;
  const auto ys = detail::call_with_blocks(f, rec, xs);
  std::size_t n = 0;
  for (const std::span<const double> b : xs) n += b.size();
  // The blocks are consecutive inputs: the rows are sweeps over all of them, as for one point.
  return detail::jacobian_of(rec, ys, n, expected_outputs);
}

/// A function of a number of parameter blocks known at run time (gradient_blocks()): callable
/// with `std::span<const std::span<const Var>>`, one span per block, returning a Var.
template <class F>
concept BlockListFunction = detail::ReturnsVar<F, std::span<const std::span<const Var>>>;

namespace detail {
void check_block_count(const char* function, std::size_t x, std::size_t g);

/// A list of blocks as spans of E (`const double` for points, `double` for gradients): each
/// element of r must convert to std::span<E> (a std::vector<double>, a span, ...).
template <class E, class R>
std::vector<std::span<E>> block_list(R&& r) {
  std::vector<std::span<E>> out;
  out.reserve(static_cast<std::size_t>(std::ranges::size(r)));
  for (auto&& b : r) out.emplace_back(b);
  return out;
}
}  // namespace detail

/// gradient() over a number of parameter blocks known only at run time (the weight matrices of
/// a model with a run-time number of layers): x and g are ranges with one block each (a
/// `std::vector<std::vector<double>>`, a `std::vector<std::span<double>>`, ...), and f takes
/// them as one `std::span<const std::span<const Var>>`, block k as `blocks[k]`. Block k's
/// gradient is written straight into g[k]; f's value is returned (Note [Parameter blocks]).
/// Besides the recording, a call allocates three vectors of one span per block.
/// A name of its own: a generic f of a list of blocks cannot be tried as a function of one
/// span, which GCC 12 does for every gradient() overload before it looks at the arguments.
/// @throws nabla::Error when x and g differ in their number of blocks, a block of g differs
/// in size from its block of x, or two blocks of g overlap in memory.
///
/// Example:
///   std::vector<std::vector<double>> layers = {{1.0, 2.0}, {3.0}}, grads = {{0, 0}, {0}};
///   double f = nabla::gradient_blocks(
///       [](std::span<const std::span<const nabla::Var>> w) { return w[0][1] * w[1][0]; },
///       layers, grads);   // f == 6, grads == {{0, 3}, {2}}
template <class F, std::ranges::sized_range X, std::ranges::sized_range G>
requires BlockListFunction<F>
double gradient_blocks(F&& f, const X& x, G&& g) {
  const std::vector<std::span<const double>> xs = detail::block_list<const double>(x);
  const std::vector<std::span<double>> gs = detail::block_list<double>(g);
  detail::check_block_count("nabla::gradient_blocks", xs.size(), gs.size());
  detail::check_blocks("nabla::gradient_blocks", xs, gs);
  std::vector<std::span<const Var>> vars(xs.size());
  detail::Recording rec;
  detail::record_blocks(rec, xs, vars);
  const Var y = f(std::span<const std::span<const Var>>(vars));
  rec.gradient(y, gs);
  return y.value();
}

// Note [Parameter blocks]
// A model's parameters often live in several buffers (ADBench GMM's alphas, means and icf; an
// LSTM's main and extra parameters; a network's weight matrices). The block forms take them
// where they are: nabla::blocks() makes spans over the buffers (no copy), the helper records
// block after block as consecutive input statements (what recording needs in any case, as for
// one vector), calls f with one std::span<const Var> per block, and after the sweep reads the
// inputs' adjoints straight into each gradient block (Recording::gradient over the blocks, the
// same consuming sweep as Tape::gradient, through TapeAccess::gradient_node). The number of
// blocks is a template parameter (Ceres' AutoDiffCostFunction, JAX's argnums, a tuple of
// tensors in torch.autograd.grad): f names each block as a parameter, a wrong count or a
// const gradient buffer fails to compile, and nothing is allocated per block. A number of
// blocks known only at run time (Ceres' DynamicAutoDiffCostFunction, a list of tensors) goes
// through gradient_blocks() to the same machinery, f taking a span of spans. That form has a
// name of its own rather than a gradient() overload: GCC 12 checks an overload's constraints
// before the conversions of its other arguments, so gradient(f, span<const double>, ...)
// would instantiate a generic f of a list of blocks with one span of Var, a hard error.
// Aliasing: an output block may be an input block's buffer (the inputs are read when recorded,
// the gradient is written after the sweep); two output blocks that overlap throw, since one
// block's gradient would overwrite the other's.

}  // namespace nabla
