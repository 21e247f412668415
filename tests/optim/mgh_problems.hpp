// Test problems of Moré, Garbow & Hillstrom, "Testing Unconstrained Optimization Software",
// ACM TOMS 7(1), 1981, written from the paper as templated C++: f(x) = Σ fᵢ(x)², with the
// paper's standard starting point and the minimum value it reports.
#pragma once

#include <cmath>
#include <numbers>
#include <span>
#include <string>
#include <vector>

namespace mgh {

struct Problem {
  std::string name;
  std::vector<double> x0;
  double f_min;               // the minimum value reported in the paper (the one L-BFGS reaches)
  double tolerance;           // how close to f_min the test requires
  std::vector<double> x_min;  // the minimiser, when the paper gives it (else empty)
};

template <class T>
auto sq(const T& a) {
  return a * a;
}  // auto: T may be an expression

// Each problem: a template evaluating f, and its Problem record.
struct Rosenbrock {  // (1)
  template <class T>
  T operator()(std::span<const T> x) const {
    return sq(10.0 * (x[1] - x[0] * x[0])) + sq(1.0 - x[0]);
  }
};
struct FreudensteinRoth {  // (2)
  template <class T>
  T operator()(std::span<const T> x) const {
    return sq(-13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1]) +
           sq(-29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1]);
  }
};
struct PowellBadlyScaled {  // (3)
  template <class T>
  T operator()(std::span<const T> x) const {
    using std::exp;
    return sq(1e4 * x[0] * x[1] - 1.0) + sq(exp(-x[0]) + exp(-x[1]) - 1.0001);
  }
};
struct BrownBadlyScaled {  // (4)
  template <class T>
  T operator()(std::span<const T> x) const {
    return sq(x[0] - 1e6) + sq(x[1] - 2e-6) + sq(x[0] * x[1] - 2.0);
  }
};
struct Beale {  // (5)
  template <class T>
  T operator()(std::span<const T> x) const {
    using std::pow;
    const double y[3] = {1.5, 2.25, 2.625};
    T f = 0.0;
    for (int i = 1; i <= 3; ++i) f += sq(y[i - 1] - x[0] * (1.0 - pow(x[1], i)));
    return f;
  }
};
struct HelicalValley {  // (7)
  template <class T>
  T operator()(std::span<const T> x) const {
    using std::atan;
    using std::sqrt;
    const T theta = atan(x[1] / x[0]) / (2 * std::numbers::pi) + (x[0] < 0.0 ? 0.5 : 0.0);
    return sq(10.0 * (x[2] - 10.0 * theta)) + sq(10.0 * (sqrt(x[0] * x[0] + x[1] * x[1]) - 1.0)) +
           sq(x[2]);
  }
};
struct Bard {  // (8)
  template <class T>
  T operator()(std::span<const T> x) const {
    const double y[15] = {0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39,
                          0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39};
    T f = 0.0;
    for (int i = 1; i <= 15; ++i) {
      const double u = i, v = 16 - i, w = std::min(u, v);
      f += sq(y[i - 1] - (x[0] + u / (v * x[1] + w * x[2])));
    }
    return f;
  }
};
struct Gaussian {  // (9)
  template <class T>
  T operator()(std::span<const T> x) const {
    using std::exp;
    const double y[15] = {0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
                          0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009};
    T f = 0.0;
    for (int i = 1; i <= 15; ++i) {
      const double t = (8.0 - i) / 2.0;
      f += sq(x[0] * exp(-x[1] * sq(t - x[2]) / 2.0) - y[i - 1]);
    }
    return f;
  }
};
struct Box3D {  // (12)
  template <class T>
  T operator()(std::span<const T> x) const {
    using std::exp;
    T f = 0.0;
    for (int i = 1; i <= 10; ++i) {
      const double t = 0.1 * i;
      f += sq(exp(-t * x[0]) - exp(-t * x[1]) - x[2] * (std::exp(-t) - std::exp(-10 * t)));
    }
    return f;
  }
};
struct PowellSingular {  // (13)
  template <class T>
  T operator()(std::span<const T> x) const {
    return sq(x[0] + 10.0 * x[1]) + 5.0 * sq(x[2] - x[3]) + sq(sq(x[1] - 2.0 * x[2])) +
           10.0 * sq(sq(x[0] - x[3]));
  }
};
struct Wood {  // (14)
  template <class T>
  T operator()(std::span<const T> x) const {
    return 100.0 * sq(x[1] - x[0] * x[0]) + sq(1.0 - x[0]) + 90.0 * sq(x[3] - x[2] * x[2]) +
           sq(1.0 - x[2]) + 10.1 * (sq(x[1] - 1.0) + sq(x[3] - 1.0)) +
           19.8 * (x[1] - 1.0) * (x[3] - 1.0);
  }
};
struct KowalikOsborne {  // (15)
  template <class T>
  T operator()(std::span<const T> x) const {
    const double y[11] = {0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627,
                          0.0456, 0.0342, 0.0323, 0.0235, 0.0246};
    const double u[11] = {4, 2, 1, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625};
    T f = 0.0;
    for (int i = 0; i < 11; ++i)
      f += sq(y[i] - x[0] * (u[i] * u[i] + u[i] * x[1]) / (u[i] * u[i] + u[i] * x[2] + x[3]));
    return f;
  }
};
struct ExtendedRosenbrock {  // (21)
  template <class T>
  T operator()(std::span<const T> x) const {
    T f = 0.0;
    for (std::size_t i = 0; i + 1 < x.size(); i += 2)
      f += sq(10.0 * (x[i + 1] - x[i] * x[i])) + sq(1.0 - x[i]);
    return f;
  }
};
struct PenaltyI {  // (23)
  template <class T>
  T operator()(std::span<const T> x) const {
    const double a = 1e-5;
    T f = 0.0, s = 0.0;
    for (const T& xi : x) {
      f += a * sq(xi - 1.0);
      s += xi * xi;
    }
    return f + sq(s - 0.25);
  }
};
struct Trigonometric {  // (26)
  template <class T>
  T operator()(std::span<const T> x) const {
    using std::cos;
    using std::sin;
    const double n = static_cast<double>(x.size());
    T c = 0.0;
    for (const T& xi : x) c += cos(xi);
    T f = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i)
      f += sq(n - c + static_cast<double>(i + 1) * (1.0 - cos(x[i])) - sin(x[i]));
    return f;
  }
};
struct BroydenTridiagonal {  // (30)
  template <class T>
  T operator()(std::span<const T> x) const {
    T f = 0.0;
    const std::size_t n = x.size();
    for (std::size_t i = 0; i < n; ++i) {
      T r = (3.0 - 2.0 * x[i]) * x[i] + 1.0;
      if (i > 0) r -= x[i - 1];
      if (i + 1 < n) r -= 2.0 * x[i + 1];
      f += sq(r);
    }
    return f;
  }
};

}  // namespace mgh
