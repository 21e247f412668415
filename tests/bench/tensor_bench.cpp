// Tensor benchmarks: gradient time over the plain-double time of the same computation with the
// same Eigen kernels; per-op overhead on tiny tensors; an MLP training step against the GEMM's
// own throughput. Each gradient is checked against its closed form first.
// Usage: tensor_bench [small]   (small: reduced sizes, run as a test)
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/eigen.hpp>
#include <nabla/optim.hpp>

#include <fmt/format.h>

#include <Eigen/Dense>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Best of 5 runs of the mean time per call over ≥ `budget` seconds.
double seconds_per_call(const std::function<void()>& f, double budget) {
  f();
  double best = 1e300;
  for (int run = 0; run < 5; ++run) {
    long calls = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
      f();
      ++calls;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < budget);
    best = std::min(best, elapsed / static_cast<double>(calls));
  }
  return best;
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("gradient check failed: " + what);
}

double volatile sink = 0;

struct Row {
  std::string name;
  double plain, gradient;
};

}  // namespace

int main(int argc, char** argv) {
  const bool small = argc > 1 && std::strcmp(argv[1], "small") == 0;
  const double budget = small ? 0.002 : 0.05;
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  std::vector<Row> rows;

  {  // Least squares: f(w) = ‖A w − b‖², ∇f = 2 Aᵀ(A w − b).
    const std::size_t n = small ? 50 : 1000;
    const nabla::RowMatrix a = nabla::RowMatrix::Random(static_cast<long>(n), static_cast<long>(n));
    const Eigen::VectorXd b = Eigen::VectorXd::Random(static_cast<long>(n));
    const Eigen::VectorXd w = Eigen::VectorXd::Random(static_cast<long>(n));
    const nabla::Tensor at = nabla::to_tensor(a), bt({n, 1}, std::span<const double>(b.data(), n)),
                        wt({n, 1}, std::span<const double>(w.data(), n));
    const double plain = seconds_per_call([&] { sink = (a * w - b).squaredNorm(); }, budget);
    std::vector<double> g(n);
    const auto grad = [&] {
      const nabla::Position start = tape.position();
      const nabla::TensorVar wv = nabla::variable(wt);
      const nabla::TensorVar r = nabla::matmul(nabla::constant_view(at), wv) - nabla::constant_view(bt);
      nabla::backward(nabla::sum(r * r));
      const nabla::TensorView gw = nabla::adjoint(wv);
      std::copy_n(gw.data(), n, g.data());
      tape.rewind(start);
    };
    grad();
    const Eigen::VectorXd expected = 2 * a.transpose() * (a * w - b);
    require((Eigen::Map<Eigen::VectorXd>(g.data(), static_cast<long>(n)) - expected).norm() <= 1e-9 * expected.norm(), "least squares");
    rows.push_back({fmt::format("least squares {}×{}", n, n), plain, seconds_per_call(grad, budget)});
  }

  {  // Logistic regression: mean BCE of X w against y.
    const std::size_t m = small ? 200 : 10000, d = small ? 20 : 100;
    const nabla::RowMatrix x = nabla::RowMatrix::Random(static_cast<long>(m), static_cast<long>(d));
    const Eigen::VectorXd w = 0.3 * Eigen::VectorXd::Random(static_cast<long>(d));
    Eigen::VectorXd y(static_cast<long>(m));
    for (long i = 0; i < y.size(); ++i) y(i) = (i % 3 == 0) ? 1.0 : 0.0;
    const nabla::Tensor xt = nabla::to_tensor(x), yt({m, 1}, std::span<const double>(y.data(), m)),
                        wt({d, 1}, std::span<const double>(w.data(), d));
    const double plain = seconds_per_call([&] {
      const Eigen::VectorXd z = x * w;
      double s = 0;
      for (long i = 0; i < z.size(); ++i) s += std::max(z(i), 0.0) - z(i) * y(i) + std::log1p(std::exp(-std::abs(z(i))));
      sink = s / static_cast<double>(m);
    }, budget);
    std::vector<double> g(d);
    const auto grad = [&] {
      const nabla::Position start = tape.position();
      const nabla::TensorVar wv = nabla::variable(wt);
      nabla::backward(nabla::binary_cross_entropy_with_logits(nabla::matmul(nabla::constant_view(xt), wv), yt));
      std::copy_n(nabla::adjoint(wv).data(), d, g.data());
      tape.rewind(start);
    };
    grad();
    const Eigen::VectorXd z = x * w;
    const Eigen::VectorXd s = z.unaryExpr([](double v) { return 1 / (1 + std::exp(-v)); });
    const Eigen::VectorXd expected = x.transpose() * (s - y) / static_cast<double>(m);
    require((Eigen::Map<Eigen::VectorXd>(g.data(), static_cast<long>(d)) - expected).norm() <= 1e-9 * expected.norm(), "logistic");
    rows.push_back({fmt::format("logistic regression {}×{}", m, d), plain, seconds_per_call(grad, budget)});
  }

  // MLP 784-128-10 on a batch of 64: loss, training step, GEMM throughput.
  const std::size_t batch = 64, in = 784, hidden = 128, out = 10;
  nabla::nn::Parameters params(1);
  const auto w1 = params.add("W1", {in, hidden}, nabla::nn::Init::he_uniform);
  const auto b1 = params.add("b1", {hidden}, nabla::nn::Init::zeros);
  const auto w2 = params.add("W2", {hidden, out});
  const auto b2 = params.add("b2", {out}, nabla::nn::Init::zeros);
  const nabla::RowMatrix xb = nabla::RowMatrix::Random(static_cast<long>(batch), static_cast<long>(in));
  const nabla::Tensor xt = nabla::to_tensor(xb);
  std::vector<int> labels(batch);
  for (std::size_t i = 0; i < batch; ++i) labels[i] = static_cast<int>(i % out);
  double mlp_plain = 0;
  {
    const auto W1 = nabla::as_eigen(w1.value()), W2 = nabla::as_eigen(w2.value());
    const auto B1 = nabla::as_eigen(b1.value()), B2 = nabla::as_eigen(b2.value());
    nabla::RowMatrix h, z;
    mlp_plain = seconds_per_call([&] {
      h.noalias() = xb * W1;
      h = (h.rowwise() + B1.transpose().row(0)).cwiseMax(0.0);
      z.noalias() = h * W2;
      z.rowwise() += B2.transpose().row(0);
      double loss = 0;
      for (long r = 0; r < z.rows(); ++r) {
        const double mx = z.row(r).maxCoeff();
        loss += mx + std::log((z.row(r).array() - mx).exp().sum()) - z(r, labels[static_cast<std::size_t>(r)]);
      }
      sink = loss / static_cast<double>(batch);
    }, budget);
  }
  const auto mlp_loss = [&] {
    return nabla::cross_entropy(nabla::matmul(nabla::relu(nabla::matmul(nabla::constant_view(xt), w1) + b1), w2) + b2, labels);
  };
  const auto mlp_grad = [&] {
    const nabla::Position start = tape.position();
    params.zero_grad();
    nabla::backward(mlp_loss());
    tape.rewind(start);
  };
  {  // check: the gradient of W2 against finite differences on a few entries
    mlp_grad();
    const std::vector<double> g(w2.gradient().span().begin(), w2.gradient().span().end());
    for (std::size_t i : {0u, 7u, 300u}) {
      double& v = w2.value()[i];
      const double keep = v, h = 1e-6;
      const nabla::Position start = tape.position();
      v = keep + h;
      const double up = mlp_loss().value()[0];
      v = keep - h;
      const double down = mlp_loss().value()[0];
      v = keep;
      tape.rewind(start);
      require(std::abs((up - down) / (2 * h) - g[i]) <= 1e-6 * (1 + std::abs(g[i])), "mlp");
    }
  }
  rows.push_back({"MLP loss 64×784-128-10", mlp_plain, seconds_per_call(mlp_grad, budget)});

  // Per-op overhead: 1000 chained adds on a 1-element tensor, recorded and swept.
  const nabla::Tensor one({1}, 1.0);
  const double chain = seconds_per_call([&] {
    const nabla::Position start = tape.position();
    const nabla::TensorVar x = nabla::variable(one);
    nabla::TensorVar y = x;
    for (int i = 0; i < 1000; ++i) y = y + x;
    nabla::backward(y);
    sink = nabla::adjoint(x)[0];
    tape.rewind(start);
  }, budget);

  // Training step with Adam, and the GEMM's own throughput in the same run.
  auto adam = nabla::optim::make_optimizer(nabla::optim::Adam{}, params.size());
  const double step = seconds_per_call([&] {
    mlp_grad();
    adam->step(params.values(), params.gradients());
  }, budget);
  const double flops = 6.0 * static_cast<double>(batch) * static_cast<double>(in * hidden + hidden * out);
  nabla::RowMatrix c(static_cast<long>(batch), static_cast<long>(hidden));
  const auto W1 = nabla::as_eigen(w1.value());
  const double gemm = seconds_per_call([&] { c.noalias() = xb * W1; }, budget);
  const double gemm_rate = 2.0 * static_cast<double>(batch * in * hidden) / gemm;

  fmt::print("| row | plain double (same kernels) | nabla gradient | ratio |\n|---|---|---|---|\n");
  for (const Row& r : rows) {
    fmt::print("| {} | {:.1f} µs | {:.1f} µs | {:.2f} |\n", r.name, 1e6 * r.plain, 1e6 * r.gradient, r.gradient / r.plain);
  }
  fmt::print("\nper-op overhead, 1000 chained adds on a 1-element tensor (record + sweep): {:.0f} ns per op\n", chain / 1000 * 1e9);
  fmt::print("MLP training step (batch 64, 784-128-10, forward + backward + Adam, 1 thread): {:.0f} µs, "
             "{:.2f} GFLOP/s; the GEMM alone (64×784 · 784×128): {:.2f} GFLOP/s; step / GEMM = {:.0f}%\n",
             1e6 * step, flops / step / 1e9, gemm_rate / 1e9, 100 * flops / step / gemm_rate);
}
