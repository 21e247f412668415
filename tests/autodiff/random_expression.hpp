// Random expression DAGs (depth ≤ 8, shared sub-expressions) over the supported operations:
// the generator shared by the random-expression test and the graph tests.
#pragma once

#include <nabla/autodiff.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <span>
#include <type_traits>
#include <vector>

namespace random_expr {

using nabla::Var;

enum class Node {
  add,
  sub,
  mul,
  div,
  sin,
  cos,
  tanh,
  exp_tanh,
  log_1px2,
  sqrt_1px2,
  atan,
  sigmoid,
  softplus,
  hypot,
  pow2,
  pow3,
  powr,
  fma,
  erf,
  atan2,
  asinh,
  cbrt,
  lse,
  expm1_t,
  log1p_sq,
  cosh_t,
  custom,
  count
};

struct Step {
  Node op;
  int a, b, c;
};

// A DAG: node i < inputs is input i; node k ≥ inputs applies op to earlier nodes. Operands are
// drawn from all earlier nodes, so sub-expressions are shared; depth is capped at 8.
struct Expression {
  int inputs;
  std::vector<Step> steps;

  template <class T>
  T operator()(std::span<const T> x) const {
    using nabla::sigmoid;
    using nabla::softplus;
    using std::asinh;
    using std::atan;
    using std::atan2;
    using std::cbrt;
    using std::cos;
    using std::cosh;
    using std::erf;
    using std::exp;
    using std::expm1;
    using std::fma;
    using std::hypot;
    using std::log;
    using std::log1p;
    using std::pow;
    using std::sin;
    using std::sqrt;
    using std::tanh;
    std::vector<T> v(x.begin(), x.end());
    for (const Step& s : steps) {
      const T& a = v[static_cast<std::size_t>(s.a)];
      const T& b = v[static_cast<std::size_t>(s.b)];
      const T& c = v[static_cast<std::size_t>(s.c)];
      T r = a;
      // clang-format off  (one operation per row)
      switch (s.op) {
        case Node::add:
          r = a + b;
          break;
        case Node::sub:
          r = a - b;
          break;
        case Node::mul:
          r = a * b;
          break;
        case Node::div:
          r = a / (1.5 + sin(b));
          break;
        case Node::sin:
          r = sin(a);
          break;
        case Node::cos:
          r = cos(a);
          break;
        case Node::tanh:
          r = tanh(a);
          break;
        case Node::exp_tanh:
          r = exp(tanh(a));
          break;
        case Node::log_1px2:
          r = log(1.0 + a * a);
          break;
        case Node::sqrt_1px2:
          r = sqrt(1.0 + a * a);
          break;
        case Node::atan:
          r = atan(a);
          break;
        case Node::sigmoid:
          r = sigmoid(a);
          break;
        case Node::softplus:
          r = softplus(a);
          break;
        case Node::hypot:
          r = hypot(a, b) + 0.0;
          break;
        case Node::pow2:
          r = pow(a, 2);
          break;
        case Node::pow3:
          r = pow(tanh(a), 3);
          break;
        case Node::powr:
          r = pow(1.0 + sigmoid(a), b / (1.0 + b * b));
          break;
        case Node::fma:
          r = fma(a, b, c);
          break;
        case Node::erf:
          r = erf(a);
          break;
        case Node::atan2:
          r = atan2(a, 2.0 + cos(b));
          break;
        case Node::asinh:
          r = asinh(a);
          break;
        case Node::cbrt:
          r = cbrt(2.0 + sin(a));
          break;
        case Node::lse:
          r = lse(a, b, c);
          break;
        case Node::expm1_t:
          r = expm1(tanh(a));
          break;
        case Node::log1p_sq:
          r = log1p(a * a);
          break;
        case Node::cosh_t:
          r = cosh(tanh(a));
          break;
        case Node::custom:
          r = cube(a);
          break;
        case Node::count:
          break;
      }
      // clang-format on
      // Keep magnitudes moderate so finite differences stay meaningful.
      v.push_back(tanh(r * 0.5) * 2.0 + r * 0.01);
    }
    return v.back();
  }

  template <class T>
  static T lse(const T& a, const T& b, const T& c) {
    if constexpr (std::is_same_v<T, double>) {
      const double xs[] = {a, b, c};
      return nabla::log_sum_exp(std::span<const double>(xs));
    } else {
      return nabla::log_sum_exp({a, b, c});
    }
  }
  template <class T>
  static T cube(const T& a) {
    if constexpr (std::is_same_v<T, Var>) {  // a custom operation given by its function
      return nabla::custom([](std::span<const double> v) { return v[0] * v[0] * v[0]; }, {a},
                           {3 * a.value() * a.value()});
    } else {
      return a * a * a;
    }
  }
};

inline Expression random_expression(std::mt19937_64& rng) {
  Expression e;
  e.inputs = 1 + static_cast<int>(rng() % 4);
  std::vector<int> depth(static_cast<std::size_t>(e.inputs), 0);
  const int steps = 1 + static_cast<int>(rng() % 24);
  for (int k = 0; k < steps; ++k) {
    const auto n = depth.size();
    const auto pick = [&] {
      // Prefer recent nodes to build depth, but any earlier node may be shared.
      for (;;) {
        const int i = (rng() % 2) ? static_cast<int>(n - 1 - rng() % std::min<std::size_t>(n, 3))
                                  : static_cast<int>(rng() % n);
        if (depth[static_cast<std::size_t>(i)] < 8) return i;
      }
    };
    Step s{static_cast<Node>(rng() % static_cast<unsigned>(Node::count)), pick(), pick(), pick()};
    e.steps.push_back(s);
    depth.push_back(
        1 + std::max({depth[static_cast<std::size_t>(s.a)], depth[static_cast<std::size_t>(s.b)],
                      depth[static_cast<std::size_t>(s.c)]}));
    if (depth.back() >= 8) break;
  }
  return e;
}

}  // namespace random_expr
