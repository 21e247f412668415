// The benchmark suite: each function once, templated on the scalar type (double for the plain
// time, bench::Counted for the operation count, a library's recorded scalar for its gradient),
// with its analytic gradient for the correctness check before timing.
//
// Every library runs identical code: the reductions (sum, dot, log_sum_exp, normal log
// density) are the loops below, called qualified (bench::sum, ...) so that no library's own
// reduction (nabla::sum, found by argument-dependent lookup) replaces them. Libraries' own
// vectorised reductions are compared in separate rows (harness.hpp, run_vectorised).
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>
#include <random>
#include <span>
#include <vector>

namespace bench {

using std::exp;
using std::log;
using std::sin;
using std::tanh;

// ---- Generic reductions (loops) --------------------------------------------------------------

template <class T>
T sum(std::span<const T> x) {
  T s = 0.0;
  for (const T& xi : x) s += xi;
  return s;
}
template <class T>
T dot(std::span<const T> a, std::span<const T> b) {
  T s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
inline double dot(std::span<const double> a, std::span<const double> b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
template <class T>
T dot(std::span<const double> a, std::span<const T> b) {
  T s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
template <class T>
T dot(std::span<const T> a, std::span<const double> b) {
  return bench::dot(b, a);
}
template <class T>
T log_sum_exp(std::span<const T> x) {
  T m = x[0];
  for (const T& xi : x) m = xi < m ? m : xi;
  T s = 0.0;
  for (const T& xi : x) s += exp(xi - m);
  return m + log(s);
}
template <class T>
T normal_log_density(std::span<const double> y, const T& mu, const T& sigma) {
  T lp = 0.0;
  for (double yi : y) {
    const T z = (yi - mu) / sigma;
    lp += -0.5 * z * z;
  }
  const double n = static_cast<double>(y.size());
  return lp - n * log(sigma) - n * 0.5 * std::log(2 * std::numbers::pi);
}
inline double softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
inline double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

inline std::vector<double> random_vector(std::size_t n, std::uint64_t seed, double lo, double hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = u(rng);
  return v;
}

// ---- The functions ---------------------------------------------------------------------------

struct Sum {
  template <class T>
  T operator()(std::span<const T> x) const {
    return bench::sum(x);
  }
  void gradient(std::span<const double>, std::span<double> g) const {
    for (double& gi : g) gi = 1;
  }
};

struct Product {
  template <class T>
  T operator()(std::span<const T> x) const {
    T p = 1.0;
    for (const T& xi : x) p *= xi;
    return p;
  }
  void gradient(std::span<const double> x, std::span<double> g) const {
    double p = 1;
    for (double xi : x) p *= xi;
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = p / x[i];
  }
};

struct LogSumExp {
  template <class T>
  T operator()(std::span<const T> x) const {
    return bench::log_sum_exp(x);
  }
  void gradient(std::span<const double> x, std::span<double> g) const {
    double m = x[0], s = 0;
    for (double xi : x) m = std::max(m, xi);
    for (double xi : x) s += std::exp(xi - m);
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = std::exp(x[i] - m) / s;
  }
};

struct Dot {  // x = [a, b], two variable vectors of n each
  template <class T>
  T operator()(std::span<const T> x) const {
    const std::size_t n = x.size() / 2;
    return bench::dot(x.first(n), x.last(n));
  }
  void gradient(std::span<const double> x, std::span<double> g) const {
    const std::size_t n = x.size() / 2;
    for (std::size_t i = 0; i < n; ++i) {
      g[i] = x[n + i];
      g[n + i] = x[i];
    }
  }
};

struct LeastSquares {  // ‖Ax − b‖², A m×n
  std::size_t m, n;
  std::vector<double> A, b;
  LeastSquares(std::size_t m_, std::size_t n_)
      : m(m_), n(n_), A(random_vector(m_ * n_, 3, -1, 1)), b(random_vector(m_, 4, -1, 1)) {}
  template <class T>
  T operator()(std::span<const T> x) const {
    T f = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
      const T r = bench::dot(std::span<const double>(A).subspan(i * n, n), x) - b[i];
      f += r * r;
    }
    return f;
  }
  void gradient(std::span<const double> x, std::span<double> g) const {
    std::fill(g.begin(), g.end(), 0.0);
    for (std::size_t i = 0; i < m; ++i) {
      double r = -b[i];
      for (std::size_t j = 0; j < n; ++j) r += A[i * n + j] * x[j];
      for (std::size_t j = 0; j < n; ++j) g[j] += 2 * r * A[i * n + j];
    }
  }
};

struct NormalDensity {  // log density of n observations in (μ, σ); x = [μ, σ]
  std::vector<double> y;
  explicit NormalDensity(std::size_t n) : y(random_vector(n, 5, -2, 4)) {}
  template <class T>
  T operator()(std::span<const T> x) const {
    return bench::normal_log_density(std::span<const double>(y), x[0], x[1]);
  }
  void gradient(std::span<const double> x, std::span<double> g) const {
    const double mu = x[0], s = x[1];
    g[0] = g[1] = 0;
    for (double yi : y) {
      const double z = (yi - mu) / s;
      g[0] += z / s;
      g[1] += z * z / s - 1 / s;
    }
  }
};

struct Rosenbrock {  // Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)²
  template <class T>
  T operator()(std::span<const T> x) const {
    T f = 0.0;
    for (std::size_t i = 0; i + 1 < x.size(); ++i) {
      const T t = x[i + 1] - x[i] * x[i];
      const T u = 1.0 - x[i];
      f += 100.0 * (t * t) + u * u;
    }
    return f;
  }
  void gradient(std::span<const double> x, std::span<double> g) const {
    std::fill(g.begin(), g.end(), 0.0);
    for (std::size_t i = 0; i + 1 < x.size(); ++i) {
      const double t = x[i + 1] - x[i] * x[i];
      g[i] += -400 * t * x[i] - 2 * (1 - x[i]);
      g[i + 1] += 200 * t;
    }
  }
};

struct Logistic {  // Σ softplus(η_i) − y_i η_i, η = X β, X n×d
  std::size_t n, d;
  std::vector<double> X, y;
  Logistic(std::size_t n_, std::size_t d_)
      : n(n_), d(d_), X(random_vector(n_ * d_, 6, -1, 1)), y(n_) {
    const auto u = random_vector(n_, 7, 0, 1);
    for (std::size_t i = 0; i < n; ++i) y[i] = u[i] > 0.5 ? 1.0 : 0.0;
  }
  template <class T>
  T operator()(std::span<const T> beta) const {
    T f = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const T eta = bench::dot(std::span<const double>(X).subspan(i * d, d), beta);
      f += softplus(eta) - y[i] * eta;
    }
    return f;
  }
  void gradient(std::span<const double> beta, std::span<double> g) const {
    std::fill(g.begin(), g.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      double eta = 0;
      for (std::size_t j = 0; j < d; ++j) eta += X[i * d + j] * beta[j];
      const double r = sigmoid(eta) - y[i];
      for (std::size_t j = 0; j < d; ++j) g[j] += r * X[i * d + j];
    }
  }
};

// A one-hidden-layer MLP: h = tanh(W1 x + b1), z = W2 h + b2, mean softmax cross-entropy.
// Parameters x = [W1 (H×D), b1 (H), W2 (K×H), b2 (K)].
struct Mlp {
  std::size_t batch, D, H, K;
  std::vector<double> inputs;
  std::vector<std::size_t> labels;
  Mlp(std::size_t b, std::size_t d, std::size_t h, std::size_t k)
      : batch(b), D(d), H(h), K(k), inputs(random_vector(b * d, 8, 0, 1)), labels(b) {
    for (std::size_t i = 0; i < b; ++i) labels[i] = (i * 7) % k;
  }
  std::size_t parameters() const { return H * D + H + K * H + K; }
  template <class T>
  T operator()(std::span<const T> p) const {
    const auto W1 = p.subspan(0, H * D), b1 = p.subspan(H * D, H);
    const auto W2 = p.subspan(H * D + H, K * H), b2 = p.subspan(H * D + H + K * H, K);
    std::vector<T> h(H), z(K);
    T loss = 0.0;
    for (std::size_t s = 0; s < batch; ++s) {
      const std::span<const double> x(inputs.data() + s * D, D);
      for (std::size_t j = 0; j < H; ++j) h[j] = tanh(bench::dot(W1.subspan(j * D, D), x) + b1[j]);
      for (std::size_t k = 0; k < K; ++k)
        z[k] = bench::dot(W2.subspan(k * H, H), std::span<const T>(h)) + b2[k];
      loss += bench::log_sum_exp(std::span<const T>(z)) - z[labels[s]];
    }
    return loss / static_cast<double>(batch);
  }
  void gradient(std::span<const double> p, std::span<double> g) const {
    std::fill(g.begin(), g.end(), 0.0);
    const double* W1 = p.data();
    const double* b1 = W1 + H * D;
    const double* W2 = b1 + H;
    const double* b2 = W2 + K * H;
    double* gW1 = g.data();
    double* gb1 = gW1 + H * D;
    double* gW2 = gb1 + H;
    double* gb2 = gW2 + K * H;
    std::vector<double> h(H), z(K), dz(K), dh(H);
    for (std::size_t s = 0; s < batch; ++s) {
      const double* x = inputs.data() + s * D;
      for (std::size_t j = 0; j < H; ++j) {
        double a = b1[j];
        for (std::size_t d = 0; d < D; ++d) a += W1[j * D + d] * x[d];
        h[j] = std::tanh(a);
      }
      double m = -1e300;
      for (std::size_t k = 0; k < K; ++k) {
        double a = b2[k];
        for (std::size_t j = 0; j < H; ++j) a += W2[k * H + j] * h[j];
        z[k] = a;
        m = std::max(m, a);
      }
      double sum = 0;
      for (std::size_t k = 0; k < K; ++k) sum += std::exp(z[k] - m);
      for (std::size_t k = 0; k < K; ++k)
        dz[k] =
            (std::exp(z[k] - m) / sum - (k == labels[s] ? 1.0 : 0.0)) / static_cast<double>(batch);
      std::fill(dh.begin(), dh.end(), 0.0);
      for (std::size_t k = 0; k < K; ++k) {
        gb2[k] += dz[k];
        for (std::size_t j = 0; j < H; ++j) {
          gW2[k * H + j] += dz[k] * h[j];
          dh[j] += dz[k] * W2[k * H + j];
        }
      }
      for (std::size_t j = 0; j < H; ++j) {
        const double da = dh[j] * (1 - h[j] * h[j]);
        gb1[j] += da;
        for (std::size_t d = 0; d < D; ++d) gW1[j * D + d] += da * x[d];
      }
    }
  }
};

struct OneVariable {  // f(x) = x² sin x + exp(x): the cost of a tiny gradient
  template <class T>
  T operator()(std::span<const T> x) const {
    return x[0] * x[0] * sin(x[0]) + exp(x[0]);
  }
  void gradient(std::span<const double> x, std::span<double> g) const {
    g[0] = 2 * x[0] * std::sin(x[0]) + x[0] * x[0] * std::cos(x[0]) + std::exp(x[0]);
  }
};

}  // namespace bench
