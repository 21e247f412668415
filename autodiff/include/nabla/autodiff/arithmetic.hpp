// nabla — arithmetic operators on Var: + − * / (Var∘Var, Var∘double, double∘Var), unary −,
// compound assignments. Comparisons are in var.hpp (they compare values).
#pragma once

#include "nabla/autodiff/tape.hpp"

namespace nabla {

// Each operator: value, then the partials with respect to its operands.

/// a + b;  d/da = 1, d/db = 1
inline Var operator+(const Var& a, const Var& b) {
  return Tape::active().record(Op::add, a.value() + b.value(), a, 1.0, b, 1.0);
}
/// a + c;  d/da = 1
inline Var operator+(const Var& a, double c) {
  return Tape::active().record(Op::add, a.value() + c, a, 1.0);
}
/// c + b;  d/db = 1
inline Var operator+(double c, const Var& b) {
  return Tape::active().record(Op::add, c + b.value(), b, 1.0);
}

/// a − b;  d/da = 1, d/db = −1
inline Var operator-(const Var& a, const Var& b) {
  return Tape::active().record(Op::sub, a.value() - b.value(), a, 1.0, b, -1.0);
}
/// a − c;  d/da = 1
inline Var operator-(const Var& a, double c) {
  return Tape::active().record(Op::sub, a.value() - c, a, 1.0);
}
/// c − b;  d/db = −1
inline Var operator-(double c, const Var& b) {
  return Tape::active().record(Op::sub, c - b.value(), b, -1.0);
}

/// a · b;  d/da = b, d/db = a
inline Var operator*(const Var& a, const Var& b) {
  return Tape::active().record(Op::mul, a.value() * b.value(), a, b.value(), b, a.value());
}
/// a · c;  d/da = c
inline Var operator*(const Var& a, double c) {
  return Tape::active().record(Op::mul, a.value() * c, a, c);
}
/// c · b;  d/db = c
inline Var operator*(double c, const Var& b) {
  return Tape::active().record(Op::mul, c * b.value(), b, c);
}

/// a / b;  d/da = 1/b, d/db = −a/b²
inline Var operator/(const Var& a, const Var& b) {
  const double r = 1.0 / b.value();
  const double q = a.value() / b.value();
  return Tape::active().record(Op::div, q, a, r, b, -q * r);
}
/// a / c;  d/da = 1/c
inline Var operator/(const Var& a, double c) {
  return Tape::active().record(Op::div, a.value() / c, a, 1.0 / c);
}
/// c / b;  d/db = −c/b²
inline Var operator/(double c, const Var& b) {
  const double q = c / b.value();
  return Tape::active().record(Op::div, q, b, -q / b.value());
}

/// −a;  d/da = −1
inline Var operator-(const Var& a) { return Tape::active().record(Op::neg, -a.value(), a, -1.0); }
/// +a (the same Var; records nothing)
inline Var operator+(const Var& a) { return a; }

/// a = a + b
inline Var& operator+=(Var& a, const Var& b) { return a = a + b; }
/// a = a + c
inline Var& operator+=(Var& a, double c) { return a = a + c; }
/// a = a − b
inline Var& operator-=(Var& a, const Var& b) { return a = a - b; }
/// a = a − c
inline Var& operator-=(Var& a, double c) { return a = a - c; }
/// a = a · b
inline Var& operator*=(Var& a, const Var& b) { return a = a * b; }
/// a = a · c
inline Var& operator*=(Var& a, double c) { return a = a * c; }
/// a = a / b
inline Var& operator/=(Var& a, const Var& b) { return a = a / b; }
/// a = a / c
inline Var& operator/=(Var& a, double c) { return a = a / c; }

}  // namespace nabla
