// nabla — forward mode and second derivatives of user functions: derivative, jvp,
// jacobian_forward, vjp, hessian_vector_product, hessian, value_gradient_hessian,
// hessian_diagonal, and gradient at any number type (Note [Nesting]).
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <new>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/autodiff/dual.hpp"
#include "nabla/autodiff/gradient.hpp"
#include "nabla/autodiff/reduce.hpp"

namespace nabla {

// Note [Nesting]
// Every helper here is generic in the number type of its point: derivative(f, x) and
// gradient(f, x) take x as double, Var or Dual and return the same type. So a function that
// calls them inside can itself be differentiated by any helper — forward mode (Dual<double>)
// wraps the inner point in one more Dual, reverse mode (Var) records the inner forward
// passes on the tape — to any order. Second derivatives of a double point run forward over
// reverse: the function is evaluated once on Dual<Var> per direction, and the tangent's
// gradient is one reverse sweep (a Hessian-vector product costs about two to four gradients:
// Note [Lazy Dual<Var>] in dual.hpp).

/// f's value and its directional derivative ∇f·v at a point (jvp() of an f with one output).
struct DirectionalDerivative {
  double value = 0.0;    ///< f(x)
  double tangent = 0.0;  ///< ∇f(x)·v
};

/// f's value and J·v of a vector function at a point (jvp() of an f returning a range).
struct JacobianVectorProduct {
  std::vector<double> value;    ///< f(x), m entries
  std::vector<double> tangent;  ///< J(x)·v, m entries
};

/// f's value and wᵀJ of a vector function at a point (vjp()).
struct VectorJacobianProduct {
  std::vector<double> value;    ///< f(x), m entries
  std::vector<double> product;  ///< wᵀJ(x), n entries (the gradient of w·f)
};

/// A dense symmetric n×n matrix of second derivatives, row-major.
struct Hessian {
  std::size_t n = 0;         ///< number of inputs
  std::vector<double> data;  ///< n·n entries, row-major, exactly symmetric
  /// ∂²f/∂xᵢ∂xⱼ
  [[nodiscard]] double operator()(std::size_t i, std::size_t j) const { return data[i * n + j]; }
};

/// f's value, gradient and Hessian at a point (value_gradient_hessian()).
struct ValueGradientHessian {
  double value = 0.0;            ///< f(x)
  std::vector<double> gradient;  ///< ∇f(x)
  Hessian hessian;               ///< ∇²f(x)
};

namespace detail {
/// The number of directions carried at once by jacobian_forward.
inline constexpr std::size_t forward_block = 4;
/// The number of Hessian columns per evaluation of f on Dual<Var, N> (Note [Hessian blocks]).
inline constexpr std::size_t hessian_block = 4;

// Note [Hessian blocks]
// A dense Hessian column is a Hessian-vector product with e_j: f on Dual<Var> (value and one
// tangent) and one sweep of the tangent. Column by column, every column records f's value
// statements again — identical in each, and on a loop such as X·β nearly all of the recording
// (10⁵ value statements and 5 000 tangent statements per column on a 1000×100 logistic
// regression). So hessian() evaluates f on Dual<Var, 4>, four columns per evaluation:
// + − · / build a DualExpression of one value and four tangent expressions (Note [Lazy
// Dual<Var>] in dual.hpp, for any number of tangents), recorded as one value statement and one
// statement per tangent — none where the tangent is a constant, which with seeds e_j is most
// of them: a tangent whose leaves are all constants is a constant (detail::record_tangent), and
// a tangent term ḋ·p whose ḋ is the constant 0 is the constant 0 whatever p is (detail::
// zero_left_absorbs), so a direction records only the terms it moves. One vector sweep
// (Note [Vector sweeps] in tape.cpp) then carries the four tangents' adjoints through the
// block's recording. Recording falls to about a quarter and the sweep reads the recording once
// per four columns (docs/benchmarks.md: 0.53 of Stan's instructions on that regression, was
// 0.92). hessian_vector_product keeps Dual<Var> (one direction), and an f written for
// Dual<Var> only is evaluated column by column.

/// The outputs of f as a vector of T: a single number, or a range of them.
template <class T, class R>
std::vector<T> outputs_of(R&& r) {
  if constexpr (std::convertible_to<R, T>) {
    return {T(std::forward<R>(r))};
  } else {
    std::vector<T> out;
    for (auto&& y : r) out.push_back(T(y));
    return out;
  }
}

void check_direction(const char* function, std::size_t x, std::size_t v);
/// True when what f returned (R) converts to the number type D: f has one output.
template <class R, class D>
inline constexpr bool scalar_output = std::convertible_to<R, D>;

/// The point of a JVP: x[j] with tangent v[j] (Note [JVP point] in forward.cpp: in storage the
/// thread keeps for small points, filled by the widest stores the CPU has).
class DualPoint {
 public:
  DualPoint(std::span<const double> x, std::span<const double> v)
      : data_(acquire(x.data(), v.data(), x.size())), size_(x.size()) {}
  ~DualPoint() { release(data_); }  // Dual<double> is trivially destructible
  DualPoint(const DualPoint&) = delete;
  DualPoint& operator=(const DualPoint&) = delete;
  /// The point as f's argument.
  [[nodiscard]] std::span<const Dual<double>> span() const noexcept { return {data_, size_}; }

 private:
  /// n entries (x[j], v[j]): the thread's cached storage when it is free and large enough, else
  /// a new allocation.
  static Dual<double>* acquire(const double* x, const double* v, std::size_t n);
  /// Gives back what acquire() returned.
  static void release(Dual<double>* p) noexcept;

  Dual<double>* data_;
  std::size_t size_;
};
static_assert(std::is_trivially_destructible_v<Dual<double>>);

/// True when T is double or a Dual over double, at any depth (no Var inside): the number types
/// whose evaluation forward_evaluate may repeat.
template <class T>
inline constexpr bool double_based = std::same_as<T, double>;
template <class T, std::size_t N>
inline constexpr bool double_based<Dual<T, N>> = double_based<T>;
/// True when some double component of x (value or tangent, at any depth) is NaN.
inline bool has_nan(double x) noexcept { return x != x; }
template <class T, std::size_t N>
bool has_nan(const Dual<T, N>& x) noexcept {
  if (has_nan(x.value())) return true;
  for (const T& t : x.tangents())
    if (has_nan(t)) return true;
  return false;
}
template <class T>
bool has_nan(const std::vector<T>& xs) noexcept {
  for (const T& x : xs)
    if (has_nan(x)) return true;
  return false;
}
inline bool has_nan(const JacobianVectorProduct& r) noexcept {
  return has_nan(r.value) || has_nan(r.tangent);
}
/// eval() (an evaluation of f on Dual<double…> numbers, returning Duals or a vector of them)
/// with unchecked tangents, and again checked when the result has a NaN (Note [Unchecked
/// tangents] in dual.hpp). Other number types (Var inside) are evaluated once, as they are.
template <class T, class Eval>
NABLA_FORCE_INLINE auto forward_evaluate(Eval&& eval) {
  if constexpr (double_based<T>) {
    {
      const TangentCheckScope unchecked(true);
      auto r = eval();
      if (!has_nan(r)) return r;
    }
    const TangentCheckScope checked(false);
    return eval();
  } else {
    return eval();
  }
}

/// Records the inputs of f and evaluates f on Dual<Var, N> over them as many times as the
/// caller asks, rewinding between evaluations (second derivatives). Each evaluation after the
/// first records the inputs again (Recording::restart: n statements, and every use of an input
/// stays on the tape's fast lookup).
template <std::size_t N>
class DualRecording {
 public:
  explicit DualRecording(std::span<const double> x)
      : x_(x), vars_(rec_.inputs(x)), after_(Tape::active().position()), points_(x.size()) {}
  /// The point with tangent i of input j set from seed(i, j).
  template <class Seed>
  std::span<const Dual<Var, N>> point(Seed&& seed) {
    if (Tape::active().position() != after_) {
      vars_ = rec_.restart(x_);
      after_ = Tape::active().position();
    }
    for (std::size_t j = 0; j < vars_.size(); ++j) {
      std::array<Var, N> d;
      for (std::size_t i = 0; i < N; ++i) d[i] = Var(seed(i, j));
      points_[j] = Dual<Var, N>(vars_[j], d);
    }
    return points_;
  }
  /// The gradient of y with respect to the inputs, written into g.
  void gradient(const Var& y, std::span<double> g) { rec_.gradient(y, g); }
  /// The gradients of the ys with respect to the inputs, row after row into J (one vector
  /// sweep).
  void jacobian(std::span<const Var> ys, std::span<double> J) { rec_.jacobian(ys, J); }

 private:
  std::span<const double> x_;
  Recording rec_;
  std::span<const Var> vars_;
  Position after_;
  std::vector<Dual<Var, N>> points_;
};

/// Columns [first, first + N) of the Hessian of f at x (tangent i seeded with e_{first+i}) into
/// the row-major n×n buffer h (by symmetry: the rows); the value and gradient when asked.
template <std::size_t N, class F>
void hessian_columns(F& f, DualRecording<N>& rec, std::size_t first, std::span<double> h,
                     double* value, std::span<double> gradient) {
  const auto xs =
      rec.point([&](std::size_t i, std::size_t j) { return j == first + i ? 1.0 : 0.0; });
  static_assert(scalar_output<decltype(f(xs)), Dual<Var, N>>,
                "nabla::hessian (and value_gradient_hessian): f must return one number; for a "
                "vector function take the Hessian of each output (or jacobian of a gradient)");
  const Dual<Var, N> y = f(xs);
  const std::size_t cols = xs.size();
  if (value != nullptr) {
    *value = y.value().value();
    rec.gradient(y.value(), gradient);
  }
  const std::size_t rows = std::min(N, cols - first);
  rec.jacobian(std::span<const Var>(y.tangents().data(), rows),
               h.subspan(first * cols, rows * cols));
}

/// Makes the n×n row-major h exactly symmetric: each pair h_ij ≠ h_ji becomes its mean (both
/// triangles are exact second derivatives that differ only by rounding).
void symmetrize(std::span<double> h, std::size_t n) noexcept;
/// symmetrize() of a Hessian.
inline void symmetrize(Hessian& h) noexcept { symmetrize(h.data, h.n); }
/// An n×n zero matrix; throws nabla::Error (not std::bad_alloc) when it cannot be had.
std::vector<double> square_matrix(const char* function, std::size_t n);
}  // namespace detail

/// df/dx of f: ℝ → ℝ at x, by forward mode (one evaluation of f on Dual<T>). x may be a double,
/// a Var or a Dual (Note [Nesting]); the result has its type.
///
/// Example:
///   double d = nabla::derivative([](auto x) { return x * sin(x); }, 2.0);  // sin 2 + 2 cos 2
template <class F, class T>
requires detail::ForwardNumber<T> T derivative(F&& f, const T& x) {
  const Dual<T> y = detail::forward_evaluate<T>(
      [&]() NABLA_FORCE_INLINE_LAMBDA { return Dual<T>(f(Dual<T>(x, T(1.0)))); });
  return y.tangent();
}
/// derivative() at an unrecorded Dual<Var> operation (`derivative(f, x[0] * x[1])` inside a
/// function evaluated on Dual<Var>): at the Dual<Var> it records.
template <class F, class V, class D, std::size_t N>
Dual<Var, N> derivative(F&& f, const DualExpression<V, D, N>& x) {
  return derivative(std::forward<F>(f), Dual<Var, N>(x));
}
/// derivative() at an integer or float point (`derivative(f, 2)`): taken at it as a double.
template <class F, class A>
requires(std::is_arithmetic_v<A> && !std::same_as<A, double>) double derivative(F&& f, A x) {
  return derivative(std::forward<F>(f), static_cast<double>(x));
}

/// The gradient of f at a point of any number type (Note [Nesting]): by one reverse sweep for
/// doubles, by forward passes (one per input) for Var and Dual points, so that it can be used
/// inside a function that is itself differentiated.
template <class F, class T>
std::vector<T> gradient(F&& f, std::span<const T> x) {
  if constexpr (std::same_as<T, double>) {
    return value_and_gradient(f, x).gradient;
  } else {
    std::vector<Dual<T>> p(x.begin(), x.end());
    std::vector<T> g(x.size());
    for (std::size_t j = 0; j < x.size(); ++j) {
      p[j].tangent() = T(1.0);
      const Dual<T> y = detail::forward_evaluate<T>(
          [&]() NABLA_FORCE_INLINE_LAMBDA { return Dual<T>(f(std::span<const Dual<T>>(p))); });
      g[j] = y.tangent();
      p[j].tangent() = T(0.0);
    }
    return g;
  }
}
/// gradient() of a std::vector point.
template <class F, class T>
std::vector<T> gradient(F&& f, const std::vector<T>& x) {
  return gradient(std::forward<F>(f), std::span<const T>(x));
}

/// f(x) and J(x)·v by one forward evaluation on Dual<double>, shaped as f's output (as JAX's
/// and torch.func's jvp): a DirectionalDerivative (two doubles, no allocation) when f returns one
/// number, a JacobianVectorProduct (two vectors) when it returns a range of them. f takes
/// `std::span<const Dual<double>>` (a generic lambda works).
/// @throws nabla::Error when v and x differ in size.
///
/// Example:
///   auto [y, dy] = nabla::jvp([](const auto& x) { return x[0] * x[1]; }, x, v);  // dy = ∇f·v
template <class F>
auto jvp(F&& f, std::span<const double> x, std::span<const double> v) {
  detail::check_direction("nabla::jvp", x.size(), v.size());
  const detail::DualPoint p(x, v);
  using R = decltype(f(p.span()));
  if constexpr (std::convertible_to<R, Dual<double>>) {
    const Dual<double> y = detail::forward_evaluate<double>(
        [&]() NABLA_FORCE_INLINE_LAMBDA { return Dual<double>(f(p.span())); });
    return DirectionalDerivative{y.value(), y.tangent()};
  } else {
    return detail::forward_evaluate<double>([&]() NABLA_FORCE_INLINE_LAMBDA {
      JacobianVectorProduct out;
      for (auto&& y : f(p.span())) {
        const Dual<double> d(y);
        out.value.push_back(d.value());
        out.tangent.push_back(d.tangent());
      }
      return out;
    });
  }
}

/// The Jacobian of a vector function by forward mode: ⌈n/4⌉ evaluations of f on Dual<double, 4>
/// (four columns at a time) — the choice when there are few inputs and many outputs (jacobian()
/// takes one reverse sweep per output instead).
/// @throws nabla::Error when f returns no output, or not `expected_outputs` of them (when given).
template <class F>
Jacobian jacobian_forward(F&& f, std::span<const double> x, std::size_t expected_outputs = 0) {
  constexpr std::size_t N = detail::forward_block;
  using D = Dual<double, N>;
  const std::size_t n = x.size();
  std::vector<D> p(n);
  Jacobian J;
  J.cols = n;
  for (std::size_t first = 0; first < std::max<std::size_t>(n, 1); first += N) {
    for (std::size_t j = 0; j < n; ++j) {
      std::array<double, N> d{};
      if (j >= first && j < first + N) d[j - first] = 1.0;
      p[j] = D(x[j], d);
    }
    const auto ys = detail::forward_evaluate<double>([&]() NABLA_FORCE_INLINE_LAMBDA {
      return detail::outputs_of<D>(f(std::span<const D>(p)));
    });
    if (first == 0) {
      detail::check_outputs(ys.size(), expected_outputs, "nabla::jacobian_forward", "Dual");
      J.rows = ys.size();
      J.data.assign(J.rows * n, 0.0);
      for (const auto& y : ys) J.values.push_back(y.value());
    } else if (ys.size() != J.rows) {
      detail::check_outputs(ys.size(), J.rows, "nabla::jacobian_forward", "Dual");
    }
    for (std::size_t i = 0; i < J.rows; ++i) {
      for (std::size_t k = 0; k < N && first + k < n; ++k)
        J.data[i * n + first + k] = ys[i].tangent(k);
    }
  }
  return J;
}

/// f(x) and wᵀJ(x) of a vector function by one recording and one reverse sweep (of w·f).
/// f takes `std::span<const Var>` and returns a Var or a range of them, as jacobian()'s does.
/// @throws nabla::Error when w does not have one entry per output.
template <class F>
VectorJacobianProduct vjp(F&& f, std::span<const double> x, std::span<const double> w) {
  detail::Recording rec;
  const auto ys = detail::outputs_of<Var>(f(rec.inputs(x)));
  detail::check_direction("nabla::vjp (w against the outputs)", ys.size(), w.size());
  VectorJacobianProduct out{std::vector<double>(ys.size()), std::vector<double>(x.size())};
  for (std::size_t i = 0; i < ys.size(); ++i) out.value[i] = ys[i].value();
  const Var s = dot(std::span<const Var>(ys), w);
  rec.gradient(s, out.product);
  return out;
}

/// ∇²f(x)·v by forward over reverse: f evaluated once on Dual<Var> (value x, tangent v), then
/// one reverse sweep of the tangent. f takes `std::span<const Dual<Var>>` (a generic lambda
/// written for Var works) and returns a Dual<Var>.
/// @throws nabla::Error when v and x differ in size.
template <class F>
std::vector<double> hessian_vector_product(F&& f, std::span<const double> x,
                                           std::span<const double> v) {
  detail::check_direction("nabla::hessian_vector_product", x.size(), v.size());
  detail::DualRecording<1> rec(x);
  const auto xs = rec.point([&](std::size_t, std::size_t j) { return v[j]; });
  static_assert(detail::scalar_output<decltype(f(xs)), Dual<Var>>,
                "nabla::hessian_vector_product: f must return one number");
  const Dual<Var> y = f(xs);
  std::vector<double> hv(x.size());
  rec.gradient(y.tangent(), hv);
  return hv;
}

/// f(x), ∇f(x) and the dense symmetric ∇²f(x): f evaluated on Dual<Var, 4> seeded with four
/// columns e_j at a time and one vector sweep per block (Note [Hessian blocks]), plus one sweep
/// for the gradient. f takes `std::span<const Dual<Var, 4>>` (a generic lambda written for Var
/// works); an f that takes only `std::span<const Dual<Var>>` is evaluated once per column.
template <class F>
ValueGradientHessian value_gradient_hessian(F&& f, std::span<const double> x) {
  constexpr std::size_t N = std::invocable<F&, std::span<const Dual<Var, detail::hessian_block>>>
                                ? detail::hessian_block
                                : 1;
  const std::size_t n = x.size();
  ValueGradientHessian out{0.0, std::vector<double>(n),
                           Hessian{n, detail::square_matrix("nabla::hessian", n)}};
  detail::DualRecording<N> rec(x);
  for (std::size_t first = 0; first < std::max<std::size_t>(n, 1); first += N) {
    detail::hessian_columns<N>(f, rec, first, out.hessian.data, first == 0 ? &out.value : nullptr,
                               out.gradient);
  }
  detail::symmetrize(out.hessian);
  return out;
}

/// The dense symmetric Hessian ∇²f(x) (value_gradient_hessian() without the rest).
template <class F>
Hessian hessian(F&& f, std::span<const double> x) {
  return value_gradient_hessian(std::forward<F>(f), x).hessian;
}

/// The diagonal of ∇²f(x), ∂²f/∂xᵢ², by forward over forward: n evaluations of f on
/// Dual<Dual<double>>, no tape.
template <class F>
std::vector<double> hessian_diagonal(F&& f, std::span<const double> x) {
  using D = Dual<Dual<double>>;
  std::vector<D> p(x.size());
  for (std::size_t j = 0; j < x.size(); ++j) p[j] = D(Dual<double>(x[j]));
  std::vector<double> out(x.size());
  for (std::size_t j = 0; j < x.size(); ++j) {
    p[j] = D(Dual<double>(x[j], 1.0), Dual<double>(1.0, 0.0));
    static_assert(detail::scalar_output<decltype(f(std::span<const D>(p))), D>,
                  "nabla::hessian_diagonal: f must return one number");
    const D y = detail::forward_evaluate<D>(
        [&]() NABLA_FORCE_INLINE_LAMBDA { return D(f(std::span<const D>(p))); });
    out[j] = y.tangent().tangent();
    p[j] = D(Dual<double>(x[j]));
  }
  return out;
}

#define NABLA_BRACED_POINT(name)                                                   \
  /** name() at a braced point. */                                                 \
  template <class F>                                                               \
  auto name(F&& f, std::initializer_list<double> x) {                              \
    return name(std::forward<F>(f), std::span<const double>(x.begin(), x.size())); \
  }
NABLA_BRACED_POINT(value_gradient_hessian)
NABLA_BRACED_POINT(hessian)
NABLA_BRACED_POINT(hessian_diagonal)
NABLA_BRACED_POINT(jacobian_forward)
#undef NABLA_BRACED_POINT

}  // namespace nabla
