// Tensors: operations' values and errors, mixed scalar/tensor sweeps, parameters, batches and
// the training loop's memory. Every operation's gradient is checked in tensor_ops_test.cpp.
#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>
#include "ad_check.hpp"
#include "expect_error.hpp"

using nabla::Shape;
using nabla::Tensor;
using nabla::TensorVar;
using nabla::Var;

namespace {

using nabla::test::expect_error;
using nabla::test::random_tensor;

}  // namespace

BOOST_AUTO_TEST_SUITE(tensor)

BOOST_AUTO_TEST_CASE(tensor_values_and_format) {
  Tensor a({2, 3}, {1, 2, 3, 4, 5, 6});
  BOOST_TEST(a(1, 2) == 6.0);
  a(0, 1) = 7;
  BOOST_TEST(a[1] == 7.0);
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(a.data()) % 64 == 0u);
  BOOST_TEST(nabla::to_string(a) == "Tensor[2, 3] [[1, 7, 3], [4, 5, 6]]");
  BOOST_TEST(nabla::to_string(Tensor({10}, 1.0), 2) == "Tensor[10] [1, 1, ..., 1, 1]");
  BOOST_TEST(nabla::to_string(Tensor({0, 3})) == "Tensor[0, 3] []");
  BOOST_TEST(fmt::format("{}", a.shape()) == "[2, 3]");
  Tensor b = a;  // value semantics
  b(0, 0) = -1;
  BOOST_TEST(a(0, 0) == 1.0);
  BOOST_TEST(a.reshaped({3, 2})(2, 1) == 6.0);
  expect_error([&] { (void)a.reshaped({4}); }, {"reshape", "[2, 3]", "[4]"});
  expect_error([] { Tensor({2, 2}, {1, 2, 3}); }, {"3 values", "[2, 2]"});
}

BOOST_AUTO_TEST_CASE(unary_operations) {
  // Values against the scalar functions, far tails included.
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Tensor x({6}, {-800, -30, -1e-3, 0, 2.5, 800});
  const nabla::TensorView sp = nabla::softplus(nabla::constant(x)).value();
  const nabla::TensorView sg = nabla::sigmoid(nabla::constant(x)).value();
  for (std::size_t i = 0; i < x.size(); ++i) {
    BOOST_TEST(std::isfinite(sp[i]));
    BOOST_TEST(sg[i] == Var(nabla::sigmoid(Var(x[i]))).value(),
               boost::test_tools::tolerance(1e-15));
  }
  BOOST_TEST(sp[5] == 800.0);
  // Conventions at the kinks: abs' (0) = relu'(0) = 0.
  const TensorVar z = nabla::variable(Tensor({2}, {0.0, 0.0}));
  nabla::backward(nabla::sum(nabla::abs(z) + nabla::relu(z)));
  BOOST_TEST(nabla::adjoint(z)[0] == 0.0);
  expect_error([&] { (void)nabla::clamp(z, 1.0, 0.0); }, {"clamp", "lo"});
}

BOOST_AUTO_TEST_CASE(binary_operations_broadcast) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const TensorVar a = nabla::constant(Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
  const TensorVar b = nabla::constant(Tensor({3}, {10, 20, 30}));
  BOOST_TEST(Tensor((a + b).value()) == Tensor({2, 3}, {11, 22, 33, 14, 25, 36}));
  BOOST_TEST(Tensor((2.0 * a - 1.0).value()) == Tensor({2, 3}, {1, 3, 5, 7, 9, 11}));
  BOOST_TEST(Tensor((6.0 / b).value())[0] == 0.6);
  expect_error([&] { (void)(a + nabla::constant(Tensor({2}))); }, {"add", "[2, 3]", "[2]"});
  expect_error([&] { (void)(a * nabla::constant(Tensor({4, 1}))); }, {"mul", "[2, 3]", "[4, 1]"});
}

BOOST_AUTO_TEST_CASE(matmul_and_shapes) {
  {
    nabla::Tape tape;
    nabla::Tape::Scope scope(tape);
    const TensorVar a = nabla::constant(Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
    const TensorVar b = nabla::constant(Tensor({3, 2}, {1, 0, 0, 1, 1, 1}));
    BOOST_TEST(Tensor(nabla::matmul(a, b).value()) == Tensor({2, 2}, {4, 5, 10, 11}));
    BOOST_TEST(Tensor(nabla::matmul(a, nabla::constant(Tensor({3, 0}))).value()).shape() ==
               (Shape{2, 0}));
    expect_error([&] { (void)nabla::matmul(a, a); }, {"matmul", "[2, 3]", "inner"});
    expect_error([&] { (void)nabla::matmul(a, nabla::constant(Tensor({3}))); }, {"matmul", "[3]"});
    expect_error(
        [&] {
          (void)nabla::matmul(nabla::constant(Tensor({2, 2, 3})),
                              nabla::constant(Tensor({3, 3, 2})));
        },
        {"matmul", "batch"});
    const TensorVar t = nabla::transpose(a);
    BOOST_TEST(Tensor(t.value()) == Tensor({3, 2}, {1, 4, 2, 5, 3, 6}));
    const std::size_t axes[] = {2, 0, 1};
    const TensorVar p = nabla::permute(nabla::constant(random_tensor({2, 3, 4}, 1)), axes);
    BOOST_TEST(p.shape() == (Shape{4, 2, 3}));
    const std::size_t bad[] = {0, 0, 1};
    expect_error([&] { (void)nabla::permute(p, bad); }, {"permute", "[0, 0, 1]"});
    expect_error([&] { (void)nabla::reshape(a, {4}); }, {"reshape", "[2, 3]", "[4]"});
    expect_error([&] { (void)nabla::slice(a, 1, 2, 4); }, {"slice", "[2, 4)"});
    const std::size_t rows[] = {1, 1, 0};
    BOOST_TEST(Tensor(nabla::index_select(a, 0, rows).value()) ==
               Tensor({3, 3}, {4, 5, 6, 4, 5, 6, 1, 2, 3}));
    const std::size_t out_of_range[] = {2};
    expect_error([&] { (void)nabla::index_select(a, 0, out_of_range); },
                 {"index_select", "index 2"});
    const TensorVar parts[] = {a, a};
    BOOST_TEST(nabla::concat(parts, 1).shape() == (Shape{2, 6}));
    BOOST_TEST(nabla::stack(parts, 1).shape() == (Shape{2, 2, 3}));
    BOOST_TEST(nabla::stack(parts, -1).shape() == (Shape{2, 3, 2}));
    const TensorVar uneven[] = {a, t};
    expect_error([&] { (void)nabla::concat(uneven, 0); }, {"concat", "[3, 2]", "[2, 3]"});
    expect_error([&] { (void)nabla::stack(uneven); }, {"stack", "[3, 2]"});
  }
}

BOOST_AUTO_TEST_CASE(reductions) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const TensorVar m = nabla::constant(Tensor({2, 3}, {1, 5, 3, -4, 2, 0}));
  BOOST_TEST(Tensor(nabla::sum(m, 0).value()) == Tensor({3}, {-3, 7, 3}));
  BOOST_TEST(nabla::sum(m, 1, true).shape() == (Shape{2, 1}));
  BOOST_TEST(Tensor(nabla::max(m, 1).value()) == Tensor({2}, {5, 2}));
  BOOST_TEST(Tensor(nabla::min(m).value())[0] == -4.0);
  BOOST_TEST(Tensor(nabla::mean(m).value())[0] == 7.0 / 6.0, boost::test_tools::tolerance(1e-15));
  const TensorVar big = nabla::constant(Tensor({2}, {1000, 1000}));
  BOOST_TEST(nabla::log_sum_exp(big).value()[0] == 1000 + std::log(2.0),
             boost::test_tools::tolerance(1e-12));
  // An empty axis: sum is 0, max has nothing to pick.
  const TensorVar empty = nabla::constant(Tensor({2, 0}));
  BOOST_TEST(Tensor(nabla::sum(empty, 1).value()) == Tensor({2}, {0, 0}));
  expect_error([&] { (void)nabla::max(empty, 1); }, {"max", "empty", "[2, 0]"});
  expect_error([&] { (void)nabla::sum(m, 2); }, {"sum", "axis 2"});
  expect_error([&] { (void)nabla::sum(m, {1, -1}); }, {"sum", "twice"});
  // max: ties send the gradient to the first maximum only.
  const TensorVar tie = nabla::variable(Tensor({3}, {2, 2, 1}));
  nabla::backward(nabla::max(tie));
  BOOST_TEST(Tensor(nabla::adjoint(tie)) == Tensor({3}, {1, 0, 0}));
}

BOOST_AUTO_TEST_CASE(softmax_and_losses) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  // Stable for huge logits; equals −log softmax at the label.
  const TensorVar logits = nabla::constant(Tensor({2, 3}, {1000, 0, -1000, 1, 2, 3}));
  const int two[] = {0, 2};
  const double expected = (0.0 + (3 - (3 + std::log(1 + std::exp(-1.0) + std::exp(-2.0))))) / 2;
  BOOST_TEST(nabla::cross_entropy(logits, two).value()[0] == -expected,
             boost::test_tools::tolerance(1e-12));
  const nabla::TensorView s = nabla::softmax(logits).value();
  BOOST_TEST(s(0, 0) == 1.0);
  BOOST_TEST(s(1, 0) + s(1, 1) + s(1, 2) == 1.0, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(std::isfinite(
      nabla::binary_cross_entropy_with_logits(logits, Tensor({2, 3}, 0.5)).value()[0]));
  const int bad[] = {0, 3};
  expect_error([&] { (void)nabla::cross_entropy(logits, bad); },
               {"cross_entropy", "label 3", "row 1"});
  expect_error([&] { (void)nabla::cross_entropy(logits, std::span<const int>(bad, 1)); },
               {"1 labels", "[2, 3]"});
  expect_error(
      [&] {
        (void)nabla::mse(logits, nabla::constant(Tensor({3, 2})));
      },
      {"mse", "[2, 3]", "[3, 2]"});
}

BOOST_AUTO_TEST_CASE(check_gradient_modes) {
  // Large inputs are checked along random directions (automatic mode), small ones fully.
  const auto f = [](const TensorVar& w) {
    return nabla::log_sum_exp(
        nabla::matmul(nabla::reshape(w, {20, 15}), nabla::constant(random_tensor({15, 4}, 2))));
  };
  const nabla::GradientCheck large = nabla::check_gradient(f, random_tensor({300}, 1));
  BOOST_TEST(large.ok, nabla::to_string(large));
  BOOST_TEST(large.directional);
  BOOST_TEST(large.rows.size() == 8u);
  const nabla::GradientCheck small = nabla::check_gradient(
      [](const TensorVar& w) { return nabla::sum(nabla::exp(w)).item() * 2.0; },
      random_tensor({3}, 1));
  BOOST_TEST(small.ok);
  BOOST_TEST(!small.directional);
  // A wrong gradient is caught: a node whose value is x² but whose recorded derivative is 1.
  const auto wrong = [](const TensorVar& w) {
    const Tensor v(w.value());
    Tensor squared = v;
    for (double& x : squared.span()) x *= x;
    return nabla::sum(w - nabla::constant(v) + nabla::constant(squared));  // value x², slope 1
  };
  BOOST_TEST(!nabla::check_gradient(wrong, Tensor({2}, {3.0, -1.0})).ok);
  const auto r = nabla::value_and_gradient([](const TensorVar& w) { return nabla::sum(w * w); },
                                           Tensor({2}, {3.0, -1.0}));
  BOOST_TEST(r.value == 10.0);
  BOOST_TEST(r.gradient == std::vector<double>({6.0, -2.0}));
}

BOOST_AUTO_TEST_CASE(mixed_scalar_and_tensor) {
  // f(x) = Σ tanh(s·W)·c + s² + W(1,0)·s with s a scalar Var and W a tensor: compare the
  // tensor version with the same function written with scalars only.
  const std::vector<double> x0 = {0.7, 0.3, -1.2, 0.5, 2.0};  // s, then W (2×2)
  const std::vector<double> c = {1.0, -2.0, 0.5, 3.0};
  const auto scalar = [&](std::span<const Var> x) {
    Var r = x[0] * x[0] + x[3] * x[0];
    for (std::size_t i = 0; i < 4; ++i) r += nabla::tanh(x[0] * x[1 + i]) * c[i];
    return r;
  };
  const auto expected = nabla::value_and_gradient(scalar, x0);
  const auto mixed = [&](std::span<const Var> x) {
    const TensorVar w = nabla::tensor(x.subspan(1), Shape{2, 2});
    const TensorVar t =
        nabla::tanh(x[0] * w) * nabla::constant(Tensor({2, 2}, std::span<const double>(c)));
    return nabla::sum(t).item() + x[0] * x[0] + w(1, 0) * x[0];
  };
  const auto got = nabla::value_and_gradient(mixed, x0);
  BOOST_TEST(got.value == expected.value, boost::test_tools::tolerance(1e-14));
  for (std::size_t i = 0; i < x0.size(); ++i)
    BOOST_TEST(got.gradient[i] == expected.gradient[i], boost::test_tools::tolerance(1e-13));
  BOOST_TEST(nabla::check_gradient(mixed, x0).ok);
  // Twice in a row: the consuming sweep leaves clean adjoints behind.
  const auto again = nabla::value_and_gradient(mixed, x0);
  BOOST_TEST(again.gradient == got.gradient);

  // A tensor loss with a scalar penalty, swept with backward(Var).
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const TensorVar w = nabla::variable(Tensor({3}, {1, 2, 3}));
  const Var penalty = 0.5 * w(0) * w(0);
  const Var loss = nabla::sum(w * w).item() + penalty;
  nabla::backward(loss);
  BOOST_TEST(Tensor(nabla::adjoint(w)) == Tensor({3}, {3, 4, 6}));
  // Sweeping again gives the same (adjoints restart from zero).
  nabla::backward(loss);
  BOOST_TEST(Tensor(nabla::adjoint(w)) == Tensor({3}, {3, 4, 6}));
  // constant_view refers to the caller's data; constant copies it.
  const Tensor data({2}, {4, 5});
  BOOST_TEST(nabla::constant_view(data).value().data() == data.data());
  BOOST_TEST(nabla::constant(data).value().data() != data.data());
  BOOST_TEST(Tensor((nabla::constant_view(data) * w(0)).value()) == Tensor({2}, {4, 5}));
  // Constants record no gradient; a constant tensor has no adjoint.
  const TensorVar k = nabla::constant(Tensor({2}));
  BOOST_TEST(!(k * 2.0).requires_grad());
  BOOST_TEST(k(1).is_constant());
  expect_error([&] { (void)nabla::adjoint(k); }, {"adjoint", "constant"});
  expect_error([&] { (void)w(3); }, {"element", "[3]", "[3]"});
  expect_error([&] { nabla::backward(w); }, {"backward", "[3]", "one element"});
}

BOOST_AUTO_TEST_CASE(stale_and_foreign_tensors) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const nabla::Position start = tape.position();
  const TensorVar w = nabla::variable(Tensor({2}, {1, 2}));
  tape.rewind(start);
  expect_error([&] { (void)nabla::exp(w); }, {"TensorVar", "rewound away"});
  const TensorVar v = nabla::variable(Tensor({2}, {1, 2}));
  {
    nabla::Tape other;
    nabla::Tape::Scope inner(other);
    expect_error([&] { (void)(v + v); }, {"TensorVar", "not on the active tape"});
  }
  expect_error([] { (void)nabla::exp(TensorVar()); }, {"TensorVar", "empty"});
  BOOST_TEST(tape.statistics().tensor_nodes == 1u);
  tape.clear();
  BOOST_TEST(tape.statistics().tensor_nodes == 0u);
}

BOOST_AUTO_TEST_CASE(parameters_and_batches) {
  nabla::nn::Parameters params(3);
  const auto w = params.add("W", {200, 100}, nabla::nn::Init::glorot_uniform);
  const auto b = params.add("b", {100}, nabla::nn::Init::zeros);
  const auto h = params.add("H", {400, 50}, nabla::nn::Init::he_normal);
  BOOST_TEST(params.size() == 20000u + 100u + 20000u);
  BOOST_TEST(params["b"].shape() == (Shape{100}));
  const double limit = std::sqrt(6.0 / 300.0);
  double m = 0, sq = 0;
  for (double v : w.value().span()) {
    BOOST_TEST(std::abs(v) <= limit);
    m += v;
  }
  BOOST_TEST(std::abs(m / 20000) < 0.01);
  for (double v : b.value().span()) BOOST_TEST(v == 0.0);
  for (double v : h.value().span()) sq += v * v;
  BOOST_TEST(std::sqrt(sq / 20000) == std::sqrt(2.0 / 400), boost::test_tools::tolerance(0.03));
  expect_error([&] { params.add("W", {1}); }, {"'W'", "exists"});
  expect_error([&] { (void)params["nope"]; }, {"'nope'"});
  // Same seed, same values.
  nabla::nn::Parameters again(3);
  const auto w2 = again.add("W", {200, 100}, nabla::nn::Init::glorot_uniform);
  BOOST_TEST(Tensor(w2.value()) == Tensor(w.value()));

  // Gradients accumulate into the flat buffer until zero_grad().
  {
    nabla::Tape tape;
    nabla::Tape::Scope scope(tape);
    nabla::backward(nabla::sum(b * 2.0));
    nabla::backward(nabla::sum(b * 3.0));
    for (double g : b.gradient().span()) BOOST_TEST(g == 5.0);
    params.zero_grad();
    for (double g : params.gradients()) BOOST_TEST(g == 0.0);
  }

  nabla::nn::BatchSampler sampler(10, 4, 1);
  BOOST_TEST(sampler.count() == 3u);
  std::vector<std::vector<std::size_t>> epochs;
  for (int e = 0; e < 2; ++e) {
    sampler.shuffle();
    std::vector<std::size_t> all;
    for (std::size_t k = 0; k < sampler.count(); ++k)
      all.insert(all.end(), sampler[k].begin(), sampler[k].end());
    BOOST_TEST(sampler[2].size() == 2u);
    epochs.push_back(all);
    std::sort(all.begin(), all.end());
    for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(all[i] == i);
  }
  BOOST_TEST(epochs[0] != epochs[1]);  // reshuffled every epoch
  BOOST_TEST(nabla::nn::BatchSampler(10, 4, 1, true).count() == 2u);
  expect_error([] { nabla::nn::BatchSampler(10, 0, 1); }, {"batch_size"});
}

namespace {
// A small network trained for a few steps with plain gradient descent on fixed data; returns
// the parameters and the tape statistics after each step.
std::pair<std::vector<double>, std::vector<nabla::TapeStatistics>> train(std::uint64_t seed) {
  nabla::nn::Parameters params(seed);
  const auto w1 = params.add("W1", {8, 16});
  const auto b1 = params.add("b1", {16}, nabla::nn::Init::zeros);
  const auto w2 = params.add("W2", {16, 3});
  const Tensor x = random_tensor({32, 8}, 1);
  std::vector<int> y(32);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int>(i % 3);
  nabla::nn::BatchSampler batches(32, 8, seed);
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  std::vector<nabla::TapeStatistics> stats;
  std::vector<int> labels;
  for (int epoch = 0; epoch < 3; ++epoch) {
    batches.shuffle();
    for (std::size_t k = 0; k < batches.count(); ++k) {
      labels.clear();
      for (std::size_t r : batches[k]) labels.push_back(y[r]);
      const nabla::Position start = tape.position();
      params.zero_grad();
      const TensorVar h = nabla::tanh(nabla::matmul(nabla::constant_rows(x, batches[k]), w1) + b1);
      nabla::backward(nabla::cross_entropy(nabla::matmul(h, w2), labels));
      for (std::size_t i = 0; i < params.size(); ++i)
        params.values()[i] -= 0.1 * params.gradients()[i];
      tape.rewind(start);
      stats.push_back(tape.statistics());
    }
  }
  return {std::vector<double>(params.values().begin(), params.values().end()), stats};
}
}  // namespace

BOOST_AUTO_TEST_CASE(training_loop_memory_and_determinism) {
  const auto [a, stats] = train(4);
  const auto [b, unused] = train(4);
  BOOST_TEST(a == b);  // bit for bit
  const auto [c, other] = train(5);
  BOOST_TEST(a != c);
  // After the first step, nothing grows.
  for (std::size_t s = 1; s < stats.size(); ++s) {
    BOOST_TEST(stats[s].allocations == stats[0].allocations);
    BOOST_TEST(stats[s].bytes_reserved == stats[0].bytes_reserved);
    BOOST_TEST(stats[s].tensor_nodes == 0u);
  }
}

BOOST_AUTO_TEST_SUITE_END()
