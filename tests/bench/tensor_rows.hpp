// The tensor benchmark rows, shared by nabla's tensor_bench and the peers' programs: the data,
// the plain-double computation with Eigen's kernels, the closed-form gradients, the timer and
// the row format. Every program prints "| row | plain (µs) | gradient (µs) | gradient / plain |".
#pragma once

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tensor_rows {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline double volatile sink = 0;

/// Best of 5 runs of the mean time per call over at least `budget` seconds each.
inline double seconds_per_call(const std::function<void()>& f, double budget) {
  f();
  double best = 1e300;
  for (int run = 0; run < 5; ++run) {
    long calls = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    do {
      f();
      ++calls;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < budget);
    best = std::min(best, elapsed / static_cast<double>(calls));
  }
  return best;
}

/// Throws unless g is within a relative 1e-8 of the expected gradient.
inline void require_close(const Eigen::VectorXd& g, const Eigen::VectorXd& expected,
                          const char* row) {
  if (!((g - expected).norm() <= 1e-8 * (1 + expected.norm()))) {
    throw std::runtime_error(
        fmt::format("{}: gradient differs from the closed form by {}", row, (g - expected).norm()));
  }
}

inline void print_header() {
  fmt::print("| row | plain (µs) | gradient (µs) | gradient / plain |\n|---|---|---|---|\n");
}
inline void print_row(const std::string& name, double plain, double gradient) {
  fmt::print("| {} | {:.1f} | {:.1f} | {:.2f} |\n", name, 1e6 * plain, 1e6 * gradient,
             gradient / plain);
  std::fflush(stdout);
}

/// f(w) = ‖A w − b‖², ∇f = 2 Aᵀ(A w − b).
struct LeastSquares {
  explicit LeastSquares(bool small) : n(small ? 50 : 1000) {
    std::srand(1);
    a = RowMatrix::Random(n, n);
    b = Eigen::VectorXd::Random(n);
    w = Eigen::VectorXd::Random(n);
  }
  std::string name() const { return fmt::format("least squares {}×{}", n, n); }
  double plain() const { return (a * w - b).squaredNorm(); }
  Eigen::VectorXd gradient() const { return 2 * a.transpose() * (a * w - b); }
  long n;
  RowMatrix a;
  Eigen::VectorXd b, w;
};

/// Mean binary cross-entropy of the logits X w against 0/1 labels y.
struct Logistic {
  explicit Logistic(bool small) : m(small ? 200 : 10000), d(small ? 20 : 100) {
    std::srand(2);
    x = RowMatrix::Random(m, d);
    w = 0.3 * Eigen::VectorXd::Random(d);
    y.resize(m);
    for (long i = 0; i < m; ++i) y(i) = i % 3 == 0 ? 1.0 : 0.0;
  }
  std::string name() const { return fmt::format("logistic regression {}×{}", m, d); }
  double plain() const {  // with Eigen's vectorised exp and log1p, as nabla's loss node
    const Eigen::ArrayXd z = (x * w).array();
    return (z.max(0.0) - z * y.array() + (-z.abs()).exp().log1p()).sum() / static_cast<double>(m);
  }
  Eigen::VectorXd gradient() const {
    const Eigen::VectorXd s = (x * w).unaryExpr([](double v) { return 1 / (1 + std::exp(-v)); });
    return x.transpose() * (s - y) / static_cast<double>(m);
  }
  long m, d;
  RowMatrix x;
  Eigen::VectorXd w, y;
};

/// Softmax cross-entropy of a 784-128-10 ReLU network on a batch of 64.
struct Mlp {
  static constexpr long batch = 64, in = 784, hidden = 128, out = 10;
  Mlp() {
    std::srand(3);
    x = RowMatrix::Random(batch, in);
    w1 = RowMatrix::Random(in, hidden) * std::sqrt(6.0 / in);
    b1 = Eigen::VectorXd::Zero(hidden);
    w2 = RowMatrix::Random(hidden, out) * std::sqrt(6.0 / (hidden + out));
    b2 = Eigen::VectorXd::Zero(out);
    labels.resize(batch);
    for (long i = 0; i < batch; ++i)
      labels[static_cast<std::size_t>(i)] = static_cast<int>(i % out);
  }
  std::string name() const { return "MLP loss 64×784-128-10"; }
  double plain() const {
    RowMatrix h = x * w1;
    h = (h.rowwise() + b1.transpose()).cwiseMax(0.0);
    RowMatrix z = h * w2;
    z.rowwise() += b2.transpose();
    double loss = 0;
    for (long r = 0; r < batch; ++r) {
      const double mx = z.row(r).maxCoeff();
      loss += mx + std::log((z.row(r).array() - mx).exp().sum()) -
              z(r, labels[static_cast<std::size_t>(r)]);
    }
    return loss / static_cast<double>(batch);
  }
  /// ∂loss/∂W2 in closed form (the row checks this block of the gradient).
  RowMatrix gradient_w2() const {
    RowMatrix h = x * w1;
    h = (h.rowwise() + b1.transpose()).cwiseMax(0.0);
    RowMatrix z = h * w2;
    z.rowwise() += b2.transpose();
    for (long r = 0; r < batch; ++r) {
      const double mx = z.row(r).maxCoeff();
      z.row(r) = (z.row(r).array() - mx).exp();
      z.row(r) /= z.row(r).sum();
      z(r, labels[static_cast<std::size_t>(r)]) -= 1;
    }
    return h.transpose() * z / static_cast<double>(batch);
  }
  /// Floating-point operations of forward + backward (three GEMM-sized passes).
  static constexpr double flops() { return 6.0 * batch * (in * hidden + hidden * out); }
  RowMatrix x, w1, w2;
  Eigen::VectorXd b1, b2;
  std::vector<int> labels;
};

}  // namespace tensor_rows
