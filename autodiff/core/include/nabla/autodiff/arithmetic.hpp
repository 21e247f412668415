// nabla — arithmetic on Var and expressions: + − * / (every mix with double), unary −,
// compound assignment, comparisons and classification (isnan, isinf, isfinite, signbit: on
// values). Each operator returns an expression node
// (Note [Expression templates]); its value and partials sit side by side below.
#pragma once

#include <cmath>
#include <compare>
#include <type_traits>

#include "nabla/autodiff/expression.hpp"

namespace nabla {

namespace detail {
// Value and partials of each operation, one row per operation, generic in the number type T
// (Note [Generic rules] in math.hpp).
// clang-format off  (a table: one row per line)
struct AddFn {  // a + b;  ∂a = 1, ∂b = 1
  static constexpr Op op = Op::add;
  template <class T>
  static T value(const T& a, const T& b) {
    return a + b;
  }
  template <class T>
  static auto partial_a(const T&, const T&, const T&) {
    return T(1.0);
  }
  template <class T>
  static auto partial_b(const T&, const T&, const T&) {
    return T(1.0);
  }
};
struct SubFn {  // a − b;  ∂a = 1, ∂b = −1
  static constexpr Op op = Op::sub;
  template <class T>
  static T value(const T& a, const T& b) {
    return a - b;
  }
  template <class T>
  static auto partial_a(const T&, const T&, const T&) {
    return T(1.0);
  }
  template <class T>
  static auto partial_b(const T&, const T&, const T&) {
    return T(-1.0);
  }
};
struct MulFn {  // a · b;  ∂a = b, ∂b = a
  static constexpr Op op = Op::mul;
  template <class T>
  static T value(const T& a, const T& b) {
    return a * b;
  }
  template <class T>
  static auto partial_a(const T&, const T& b, const T&) {
    return b;
  }
  template <class T>
  static auto partial_b(const T& a, const T&, const T&) {
    return a;
  }
};
struct DivFn {  // a / b;  ∂a = 1/b, ∂b = −(a/b)/b
  static constexpr Op op = Op::div;
  template <class T>
  static T value(const T& a, const T& b) {
    return a / b;
  }
  template <class T>
  static auto partial_a(const T&, const T& b, const T&) {
    return 1.0 / b;
  }
  template <class T>
  static auto partial_b(const T&, const T& b, const T& q) {
    return -q / b;
  }
};
struct NegFn {  // −x;  ∂x = −1
  static constexpr Op op = Op::neg;
  template <class T>
  static T value(const T& x) {
    return -x;
  }
  template <class T>
  static auto partial(const T&, const T&) {
    return T(-1.0);
  }
};
struct AddNumberFn {  // x + c;  ∂x = 1
  static constexpr Op op = Op::add;
  template <class T>
  static T value(const T& x, double c) {
    return x + c;
  }
  template <class T>
  static auto partial(const T&, const T&, double) {
    return T(1.0);
  }
};
struct SubNumberFn {  // x − c;  ∂x = 1
  static constexpr Op op = Op::sub;
  template <class T>
  static T value(const T& x, double c) {
    return x - c;
  }
  template <class T>
  static auto partial(const T&, const T&, double) {
    return T(1.0);
  }
};
struct NumberSubFn {  // c − x;  ∂x = −1
  static constexpr Op op = Op::sub;
  template <class T>
  static T value(const T& x, double c) {
    return c - x;
  }
  template <class T>
  static auto partial(const T&, const T&, double) {
    return T(-1.0);
  }
};
struct MulNumberFn {  // x · c;  ∂x = c
  static constexpr Op op = Op::mul;
  template <class T>
  static T value(const T& x, double c) {
    return x * c;
  }
  template <class T>
  static auto partial(const T&, const T&, double c) {
    return T(c);
  }
};
struct DivNumberFn {  // x / c;  ∂x = 1/c
  static constexpr Op op = Op::div;
  template <class T>
  static T value(const T& x, double c) {
    return x / c;
  }
  template <class T>
  static auto partial(const T&, const T&, double c) {
    return T(1.0 / c);
  }
};
struct NumberDivFn {  // c / x;  ∂x = −(c/x)/x
  static constexpr Op op = Op::div;
  template <class T>
  static T value(const T& x, double c) {
    return c / x;
  }
  template <class T>
  static auto partial(const T& x, const T& q, double) {
    return -q / x;
  }
};
// clang-format on
}  // namespace detail

/// The value of an expression (nothing is recorded).
template <Expression E>
requires(!std::same_as<E, Var>) [[nodiscard]] double value(const E& e) { return e.value(); }

/// a + b
template <Expression L, Expression R>
auto operator+(const L& a, const R& b) {
  return Binary<detail::AddFn, L, R>(a, b);
}
/// a + c
template <Expression E>
auto operator+(const E& a, double c) {
  return WithNumber<detail::AddNumberFn, E>(a, c);
}
/// c + b
template <Expression E>
auto operator+(double c, const E& b) {
  return WithNumber<detail::AddNumberFn, E>(b, c);
}
/// a − b
template <Expression L, Expression R>
auto operator-(const L& a, const R& b) {
  return Binary<detail::SubFn, L, R>(a, b);
}
/// a − c
template <Expression E>
auto operator-(const E& a, double c) {
  return WithNumber<detail::SubNumberFn, E>(a, c);
}
/// c − b
template <Expression E>
auto operator-(double c, const E& b) {
  return WithNumber<detail::NumberSubFn, E>(b, c);
}
/// a · b
template <Expression L, Expression R>
auto operator*(const L& a, const R& b) {
  return Binary<detail::MulFn, L, R>(a, b);
}
/// a · c
template <Expression E>
auto operator*(const E& a, double c) {
  return WithNumber<detail::MulNumberFn, E>(a, c);
}
/// c · b
template <Expression E>
auto operator*(double c, const E& b) {
  return WithNumber<detail::MulNumberFn, E>(b, c);
}
/// a / b
template <Expression L, Expression R>
auto operator/(const L& a, const R& b) {
  return Binary<detail::DivFn, L, R>(a, b);
}
/// a / c
template <Expression E>
auto operator/(const E& a, double c) {
  return WithNumber<detail::DivNumberFn, E>(a, c);
}
/// c / b
template <Expression E>
auto operator/(double c, const E& b) {
  return WithNumber<detail::NumberDivFn, E>(b, c);
}
/// −a
template <Expression E>
auto operator-(const E& a) {
  return Unary<detail::NegFn, E>(a);
}
/// +a: the same value (a Var stays a Var; nothing is recorded)
template <Expression E>
E operator+(const E& a) {
  return a;
}

/// a = a + b, recorded as one statement (with everything b fused into it)
template <class B>
requires Expression<B> || std::is_arithmetic_v<B> NABLA_FORCE_INLINE Var& operator+=(Var& a,
                                                                                     const B& b) {
  return a = a + b;
}
/// a = a − b
template <class B>
requires Expression<B> || std::is_arithmetic_v<B> NABLA_FORCE_INLINE Var& operator-=(Var& a,
                                                                                     const B& b) {
  return a = a - b;
}
/// a = a · b
template <class B>
requires Expression<B> || std::is_arithmetic_v<B> NABLA_FORCE_INLINE Var& operator*=(Var& a,
                                                                                     const B& b) {
  return a = a * b;
}
/// a = a / b
template <class B>
requires Expression<B> || std::is_arithmetic_v<B> NABLA_FORCE_INLINE Var& operator/=(Var& a,
                                                                                     const B& b) {
  return a = a / b;
}

/// Operands that comparisons accept: an expression with an expression or a number.
template <class A, class B>
concept Comparable = (Expression<A> && (Expression<B> || std::is_arithmetic_v<B>)) ||
                     (std::is_arithmetic_v<A> && Expression<B>);

/// Compares values (not differentiable; records nothing).
template <class A, class B>
requires Comparable<A, B>
constexpr bool operator==(const A& a, const B& b) { return value(a) == value(b); }
/// Orders by value (not differentiable; records nothing).
template <class A, class B>
requires Comparable<A, B>
constexpr std::partial_ordering operator<=>(const A& a, const B& b) {
  return value(a) <=> value(b);
}

// Classification reads the value, like the comparisons: nothing is recorded and the result is
// not differentiable. Found by argument-dependent lookup, so generic code that writes
// `using std::isnan; isnan(x)` — Eigen's numext::isnan/isinf/isfinite among others, which its
// eigen-solvers call — is right for double, Var and expressions alike.

/// True when the value of x is NaN (on the value: records nothing, not differentiable).
template <Expression E>
[[nodiscard]] bool isnan(const E& x) {
  return std::isnan(value(x));
}
/// True when the value of x is +∞ or −∞ (on the value: records nothing).
template <Expression E>
[[nodiscard]] bool isinf(const E& x) {
  return std::isinf(value(x));
}
/// True when the value of x is neither NaN nor ±∞ (on the value: records nothing).
template <Expression E>
[[nodiscard]] bool isfinite(const E& x) {
  return std::isfinite(value(x));
}
/// True when the sign bit of the value is set: negative numbers, −0.0, −∞ and NaNs with the
/// sign bit (on the value: records nothing).
template <Expression E>
[[nodiscard]] bool signbit(const E& x) {
  return std::signbit(value(x));
}

}  // namespace nabla
