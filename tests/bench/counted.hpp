// A double that counts the elementary operations done on it: the benchmark's op counts come
// from running each function once on this type, so "ns per op" does not depend on how many
// statements a tape happens to record.
#pragma once

#include <cmath>
#include <cstddef>

namespace bench {

struct Counted {
  double v = 0;
  static inline std::size_t ops = 0;
  Counted() = default;
  Counted(double x) : v(x) {}  // NOLINT: implicit, like a Var from a number
};

inline double value(const Counted& a) { return a.v; }
inline Counted operator+(Counted a, Counted b) {
  ++Counted::ops;
  return a.v + b.v;
}
inline Counted operator-(Counted a, Counted b) {
  ++Counted::ops;
  return a.v - b.v;
}
inline Counted operator*(Counted a, Counted b) {
  ++Counted::ops;
  return a.v * b.v;
}
inline Counted operator/(Counted a, Counted b) {
  ++Counted::ops;
  return a.v / b.v;
}
inline Counted operator-(Counted a) {
  ++Counted::ops;
  return -a.v;
}
inline Counted& operator+=(Counted& a, Counted b) { return a = a + b; }
inline Counted& operator-=(Counted& a, Counted b) { return a = a - b; }
inline Counted& operator*=(Counted& a, Counted b) { return a = a * b; }
inline bool operator<(Counted a, Counted b) { return a.v < b.v; }
inline Counted exp(Counted a) {
  ++Counted::ops;
  return std::exp(a.v);
}
inline Counted log(Counted a) {
  ++Counted::ops;
  return std::log(a.v);
}
inline Counted sin(Counted a) {
  ++Counted::ops;
  return std::sin(a.v);
}
inline Counted tanh(Counted a) {
  ++Counted::ops;
  return std::tanh(a.v);
}
inline Counted softplus(Counted a) {
  ++Counted::ops;
  return std::log1p(std::exp(a.v));
}
inline Counted max(Counted a, Counted b) {
  ++Counted::ops;
  return a.v > b.v ? a : b;
}

}  // namespace bench
