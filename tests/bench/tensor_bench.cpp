// Tensor benchmarks (docs/benchmarks.md, "Tensors"): gradient time over the plain-double time of
// the same computation with the same Eigen kernels; per-op overhead on tiny tensors; an MLP
// training step against the throughput of the same GEMMs run alone. Each gradient is checked
// against its closed form first. Then tensor Hessian-vector products (hessian_vector_product on
// TensorDual) on the logistic regression and the MLP, against the gradient of the same loss,
// each H·v checked against central differences of the gradient first.
// Usage: tensor_bench [small] [--reps=N]   (small: reduced sizes and times, run as a test;
// --reps=N: instruction counts under callgrind instead of times, instructions.hpp)
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/eigen.hpp>
#include <nabla/optim.hpp>

#include "instructions.hpp"
#include "tensor_rows.hpp"

using namespace tensor_rows;

namespace {

std::vector<std::string> hvp_rows;  // printed after the gradient rows

// The flat gradient of a loss of several tensors at `point` (TensorVar backward), as
// hessian_vector_product records its point: variables copied from the tensors, rewound after.
template <class F>
std::vector<double> gradient_at(const F& loss, const std::vector<nabla::Tensor>& point) {
  nabla::Tape& tape = nabla::Tape::active();
  const nabla::Position start = tape.position();
  std::vector<nabla::TensorVar> vars;
  for (const nabla::Tensor& t : point) vars.push_back(nabla::variable(t));
  nabla::backward(loss(std::span<const nabla::TensorVar>(vars)));
  std::vector<double> g;
  for (const nabla::TensorVar& v : vars) {
    const nabla::TensorView a = nabla::adjoint(v);
    for (std::size_t i = 0; i < a.size(); ++i) g.push_back(a[i]);
  }
  tape.rewind(start);
  return g;
}

// One row of the Hessian-vector product table: H·v of `loss` at `point` along `direction` (one
// tensor per parameter), checked against central differences of gradient_at, then the gradient
// and the HVP timed one after the other.
template <class F>
void hvp_row(const std::string& name, const F& loss, const std::vector<nabla::Tensor>& point,
             const std::vector<nabla::Tensor>& direction, double budget) {
  std::vector<double> hv;
  for (const auto& part : nabla::hessian_vector_product(loss, point, direction)) {
    hv.insert(hv.end(), part.begin(), part.end());
  }
  const double h = 1e-5;
  std::vector<nabla::Tensor> plus(point), minus(point);
  for (std::size_t i = 0; i < point.size(); ++i) {
    for (std::size_t k = 0; k < point[i].size(); ++k) {
      plus[i][k] += h * direction[i][k];
      minus[i][k] -= h * direction[i][k];
    }
  }
  const std::vector<double> gp = gradient_at(loss, plus), gm = gradient_at(loss, minus);
  double error = 0, scale = 0;
  for (std::size_t k = 0; k < hv.size(); ++k) {
    const double numeric = (gp[k] - gm[k]) / (2 * h);
    error += (hv[k] - numeric) * (hv[k] - numeric);
    scale += numeric * numeric;
  }
  if (hv.size() != gp.size() || !(std::sqrt(error) <= 1e-6 * (1 + std::sqrt(scale)))) {
    throw std::runtime_error(fmt::format("{}: H·v differs from differences of the gradient by {}",
                                         name, std::sqrt(error)));
  }
  const double grad = seconds_per_call([&] { sink = gradient_at(loss, point)[0]; }, budget);
  const double hvp = seconds_per_call(
      [&] { sink = nabla::hessian_vector_product(loss, point, direction)[0][0]; }, budget);
  hvp_rows.push_back(fmt::format("| {} | {} | {:.1f} | {:.1f} | {:.2f} |", name, hv.size(),
                                 1e6 * grad, 1e6 * hvp, hvp / grad));
}

}  // namespace

int main(int argc, char** argv) {
  const bool small = argc > 1 && std::strcmp(argv[1], "small") == 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--reps=", 7) == 0) bench::reps = std::atol(argv[i] + 7);
  }
  // --reps=N: each row's gradient counted under callgrind (one dump per row), nothing timed.
  const auto row = [](const std::string& name, const auto& plain, const auto& grad, double budget) {
    if (bench::reps > 0) {
      bench::count_instructions(name, grad);
      fmt::print("| {} | {} gradients counted |\n", name, bench::reps);
    } else {
      print_row(name, seconds_per_call(plain, budget), seconds_per_call(grad, budget));
    }
  };
  const double budget = small ? 0.002 : 0.05;
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  print_header();

  {
    const LeastSquares p(small);
    const nabla::Tensor a = nabla::to_tensor(p.a), b = nabla::to_tensor(p.b),
                        w = nabla::to_tensor(p.w);
    Eigen::VectorXd g(p.n);
    const auto grad = [&] {
      const nabla::Position start = tape.position();
      const nabla::TensorVar wv = nabla::variable(w);
      const nabla::TensorVar r =
          nabla::matmul(nabla::constant_view(a), wv) - nabla::constant_view(b);
      nabla::backward(nabla::sum(r * r));
      g = nabla::as_eigen(nabla::adjoint(wv));
      tape.rewind(start);
    };
    grad();
    require_close(g, p.gradient(), "least squares");
    row(
        p.name(), [&] { sink = p.plain(); }, grad, budget);
  }
  {
    const Logistic p(small);
    const nabla::Tensor x = nabla::to_tensor(p.x), y = nabla::to_tensor(p.y),
                        w = nabla::to_tensor(p.w);
    Eigen::VectorXd g(p.d);
    const auto grad = [&] {
      const nabla::Position start = tape.position();
      const nabla::TensorVar wv = nabla::variable(w);
      nabla::backward(
          nabla::binary_cross_entropy_with_logits(nabla::matmul(nabla::constant_view(x), wv), y));
      g = nabla::as_eigen(nabla::adjoint(wv));
      tape.rewind(start);
    };
    grad();
    require_close(g, p.gradient(), "logistic regression");
    row(
        p.name(), [&] { sink = p.plain(); }, grad, budget);
    if (bench::reps == 0) {
      const auto loss = [&](auto w) {
        return nabla::binary_cross_entropy_with_logits(nabla::matmul(nabla::constant_view(x), w[0]),
                                                       y);
      };
      std::srand(4);
      hvp_row(p.name(), loss, {w}, {nabla::to_tensor(Eigen::VectorXd::Random(p.d).eval())}, budget);
    }
  }

  if (bench::reps == 0) {
    // The chained Rosenbrock as one tensor expression (Σ 100 (x[1:] − x[:−1]²)² + (1 − x[:−1])²),
    // the scalar suite's row in tensor form.
    for (const std::size_t n :
         {std::size_t{100}, small ? std::size_t{1000} : std::size_t{100000}}) {
      const auto loss = [n](auto q) {
        const auto a = nabla::slice(q[0], 0, 0, n - 1);
        const auto b = nabla::slice(q[0], 0, 1, n);
        const auto t = b - a * a;
        const auto u = 1.0 - a;
        return nabla::sum(100.0 * (t * t) + u * u);
      };
      std::srand(6);
      const Eigen::VectorXd x0 = Eigen::VectorXd::Random(static_cast<Eigen::Index>(n));
      const Eigen::VectorXd v0 = Eigen::VectorXd::Random(static_cast<Eigen::Index>(n));
      hvp_row(fmt::format("chained Rosenbrock, n = {}", n), loss, {nabla::to_tensor(x0)},
              {nabla::to_tensor(v0)}, budget);
    }
  }

  const Mlp p;
  nabla::nn::Parameters params;
  const auto w1 = params.add("W1", nabla::to_tensor(p.w1));
  const auto b1 = params.add("b1", nabla::to_tensor(p.b1).reshaped({Mlp::hidden}));
  const auto w2 = params.add("W2", nabla::to_tensor(p.w2));
  const auto b2 = params.add("b2", nabla::to_tensor(p.b2).reshaped({Mlp::out}));
  const nabla::Tensor x = nabla::to_tensor(p.x);
  const auto mlp_grad = [&] {
    const nabla::Position start = tape.position();
    params.zero_grad();
    const nabla::TensorVar h = nabla::relu(nabla::matmul(nabla::constant_view(x), w1) + b1);
    nabla::backward(nabla::cross_entropy(nabla::matmul(h, w2) + b2, p.labels));
    tape.rewind(start);
  };
  mlp_grad();
  require_close(nabla::as_eigen(w2.gradient()).reshaped<Eigen::RowMajor>(),
                p.gradient_w2().reshaped<Eigen::RowMajor>(), "MLP");
  row(
      p.name(), [&] { sink = p.plain(); }, mlp_grad, budget);
  if (bench::reps == 0) {
    // The four parameters apart; the direction has norm 1, so the differences of the gradient
    // (steps of 1e-5 along it) do not cross the ReLU kinks.
    const auto loss = [&](auto q) {
      const auto h = nabla::relu(nabla::matmul(nabla::constant_view(x), q[0]) + q[1]);
      return nabla::cross_entropy(nabla::matmul(h, q[2]) + q[3], p.labels);
    };
    std::srand(5);
    std::vector<Eigen::VectorXd> dirs{
        Eigen::VectorXd::Random(Mlp::in * Mlp::hidden), Eigen::VectorXd::Random(Mlp::hidden),
        Eigen::VectorXd::Random(Mlp::hidden * Mlp::out), Eigen::VectorXd::Random(Mlp::out)};
    double norm = 0;
    for (const auto& d : dirs) norm += d.squaredNorm();
    for (auto& d : dirs) d /= std::sqrt(norm);
    const std::vector<nabla::Tensor> point{
        nabla::to_tensor(p.w1), nabla::to_tensor(p.b1).reshaped({Mlp::hidden}),
        nabla::to_tensor(p.w2), nabla::to_tensor(p.b2).reshaped({Mlp::out})};
    std::vector<nabla::Tensor> direction;
    for (std::size_t i = 0; i < point.size(); ++i) {
      direction.emplace_back(point[i].shape(),
                             std::span<const double>(dirs[i].data(), point[i].size()));
    }
    hvp_row(p.name(), loss, point, direction, budget);
  }

  // Per-op overhead: 1000 chained adds on a 1-element tensor, recorded and swept.
  const nabla::Tensor one({1}, 1.0);
  const auto chained_adds = [&] {
    const nabla::Position start = tape.position();
    const nabla::TensorVar v = nabla::variable(one);
    nabla::TensorVar y = v;
    for (int i = 0; i < 1000; ++i) y = y + v;
    nabla::backward(y);
    sink = nabla::adjoint(v)[0];
    tape.rewind(start);
  };
  if (bench::reps > 0) {
    bench::count_instructions("1000 chained adds on a 1-element tensor", chained_adds);
    fmt::print("| 1000 chained adds on a 1-element tensor | {} gradients counted |\n", bench::reps);
    return 0;
  }
  const double chain = seconds_per_call(chained_adds, budget);

  // Training step with Adam, against the same GEMMs run alone: X·W1, Xᵀ·G (∂W1), H·W2, Hᵀ·G
  // (∂W2), G·W2ᵀ (∂H), with plain Eigen in the same run.
  auto adam = nabla::optim::make_optimizer(nabla::optim::Adam{}, params.size());
  const double step = seconds_per_call(
      [&] {
        mlp_grad();
        adam->step(params.values(), params.gradients());
      },
      budget);
  RowMatrix h(Mlp::batch, Mlp::hidden), gh(Mlp::batch, Mlp::hidden), z(Mlp::batch, Mlp::out),
      gw1(Mlp::in, Mlp::hidden), gw2(Mlp::hidden, Mlp::out);
  const RowMatrix gz = RowMatrix::Random(Mlp::batch, Mlp::out);
  const double gemms = seconds_per_call(
      [&] {
        h.noalias() = p.x * p.w1;
        z.noalias() = h * p.w2;
        gw2.noalias() = h.transpose() * gz;
        gh.noalias() = gz * p.w2.transpose();
        gw1.noalias() = p.x.transpose() * gh;
        sink = gw1(0, 0) + gw2(0, 0);
      },
      budget);
  fmt::print(
      "\nper-op overhead, 1000 chained adds on a 1-element tensor (record + sweep): {:.0f} ns per "
      "op\n",
      chain / 1000 * 1e9);
  fmt::print(
      "MLP training step (batch 64, 784-128-10, forward + backward + Adam, 1 thread): {:.0f} µs, "
      "{:.2f} GFLOP/s; the same GEMMs alone: {:.0f} µs, {:.2f} GFLOP/s; GEMM time / step time = "
      "{:.0f}%\n",
      1e6 * step, Mlp::flops() / step / 1e9, 1e6 * gemms, Mlp::flops() / gemms / 1e9,
      100 * gemms / step);

  // After the gradient rows and their two summary lines (scripts/compare-tensor-peers.py reads
  // only the first table).
  fmt::print(
      "\nTensor Hessian-vector products (hessian_vector_product on TensorDual, reverse over "
      "forward) against the gradient of the same loss (TensorVar backward), both from the "
      "parameters as tensors to flat results:\n\n| row | inputs | gradient (µs) | HVP (µs) | HVP "
      "/ gradient |\n|---|---|---|---|---|\n");
  for (const std::string& r : hvp_rows) fmt::print("{}\n", r);
}
