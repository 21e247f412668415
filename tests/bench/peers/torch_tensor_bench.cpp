// The tensor rows on libtorch (Debian's libtorch-dev): eager autograd, float64, one thread.
// Each gradient is checked against the same closed form as nabla's.
#include <torch/torch.h>

#include "../tensor_rows.hpp"

using namespace tensor_rows;

namespace {
torch::Tensor from(const RowMatrix& m) {
  return torch::from_blob(const_cast<double*>(m.data()), {m.rows(), m.cols()}, torch::kFloat64).clone();
}
torch::Tensor from(const Eigen::VectorXd& v) {
  return torch::from_blob(const_cast<double*>(v.data()), {v.size(), 1}, torch::kFloat64).clone();
}
Eigen::VectorXd to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  return Eigen::Map<const Eigen::VectorXd>(c.data_ptr<double>(), c.numel());
}
}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(1);
  const bool small = argc > 1 && std::strcmp(argv[1], "small") == 0;
  const double budget = small ? 0.002 : 0.05;
  print_header();
  {
    const LeastSquares p(small);
    const torch::Tensor a = from(p.a), b = from(p.b), w0 = from(p.w);
    Eigen::VectorXd g;
    const auto grad = [&] {
      const torch::Tensor w = w0.clone().requires_grad_(true);
      (a.mm(w) - b).pow(2).sum().backward();
      g = to_vector(w.grad());
    };
    grad();
    require_close(g, p.gradient(), "least squares");
    print_row(p.name(), seconds_per_call([&] { sink = p.plain(); }, budget), seconds_per_call(grad, budget));
  }
  {
    const Logistic p(small);
    const torch::Tensor x = from(p.x), y = from(p.y), w0 = from(p.w);
    Eigen::VectorXd g;
    const auto grad = [&] {
      const torch::Tensor w = w0.clone().requires_grad_(true);
      torch::binary_cross_entropy_with_logits(x.mm(w), y).backward();
      g = to_vector(w.grad());
    };
    grad();
    require_close(g, p.gradient(), "logistic regression");
    print_row(p.name(), seconds_per_call([&] { sink = p.plain(); }, budget), seconds_per_call(grad, budget));
  }
  {
    const Mlp p;
    const torch::Tensor x = from(p.x);
    torch::Tensor w1 = from(p.w1).requires_grad_(true), b1 = from(p.b1).reshape({Mlp::hidden}).requires_grad_(true),
                  w2 = from(p.w2).requires_grad_(true), b2 = from(p.b2).reshape({Mlp::out}).requires_grad_(true);
    std::vector<std::int64_t> l(p.labels.begin(), p.labels.end());
    const torch::Tensor labels = torch::tensor(l, torch::kInt64);
    const auto grad = [&] {
      for (torch::Tensor* t : {&w1, &b1, &w2, &b2}) t->mutable_grad() = torch::Tensor();
      const torch::Tensor h = torch::relu(x.mm(w1) + b1);
      torch::nn::functional::cross_entropy(h.mm(w2) + b2, labels).backward();
    };
    grad();
    require_close(to_vector(w2.grad().reshape({-1})), to_vector(torch::from_blob(p.gradient_w2().data(), {Mlp::hidden * Mlp::out}, torch::kFloat64)), "MLP");
    print_row(p.name(), seconds_per_call([&] { sink = p.plain(); }, budget), seconds_per_call(grad, budget));
    const torch::Tensor one = torch::ones({1}, torch::kFloat64);
    const double chain = seconds_per_call([&] {
      const torch::Tensor v = one.clone().requires_grad_(true);
      torch::Tensor y = v;
      for (int i = 0; i < 1000; ++i) y = y + v;
      y.sum().backward();
      sink = v.grad().item<double>();
    }, budget);
    torch::optim::Adam adam({w1, b1, w2, b2}, torch::optim::AdamOptions(1e-3));
    const double step = seconds_per_call([&] {
      adam.zero_grad();
      const torch::Tensor h = torch::relu(x.mm(w1) + b1);
      torch::nn::functional::cross_entropy(h.mm(w2) + b2, labels).backward();
      adam.step();
    }, budget);
    fmt::print("\nper-op overhead, 1000 chained adds on a 1-element tensor (record + sweep): {:.0f} ns per op\n",
               chain / 1000 * 1e9);
    fmt::print("MLP training step (batch 64, 784-128-10, forward + backward + Adam, 1 thread): {:.0f} µs, {:.2f} GFLOP/s\n",
               1e6 * step, Mlp::flops() / step / 1e9);
  }
}
