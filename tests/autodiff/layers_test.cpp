// nn layers (nabla/autodiff/layers.hpp): forward values against closed forms and numbers
// computed by hand, gradients against finite differences (the shared tensor checker for the
// functional forms, central differences of the parameters for the modules), train/eval, misuse.
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/layers.hpp>
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "ad_check.hpp"
#include "expect_error.hpp"

namespace nn = nabla::nn;
using nabla::Shape;
using nabla::Tensor;
using nabla::TensorVar;
using nabla::test::expect_error;
using nabla::test::random_tensor;

namespace {

// Σ c ⊙ module(x) for a fixed random c: a scalar loss whose gradient reaches every output.
double weighted_sum(const Tensor& y, const Tensor& c) {
  double s = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) s += y[i] * c[i];
  return s;
}

// The gradient the module's backward sweep writes into the set's buffers, against central
// differences of Σ c ⊙ module(x) in each parameter value (the forward run on constants).
void expect_parameter_gradients(nn::Module& module, nn::Parameters& params, const Tensor& x) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  Tensor c;
  {
    const nabla::Position start = tape.position();
    c = random_tensor(module(nabla::constant(x)).value().shape(), 11, 0.5, 1.5);
    tape.rewind(start);
  }
  params.zero_grad();
  {
    const nabla::Position start = tape.position();
    nabla::backward(nabla::sum(module(nabla::constant(x)) * nabla::constant(c)));
    tape.rewind(start);
  }
  const std::vector<double> analytic(params.gradients().begin(), params.gradients().end());
  const auto f = [&]() {
    const nabla::Position start = tape.position();
    const double v = weighted_sum(Tensor(module(nabla::constant(x)).value()), c);
    tape.rewind(start);
    return v;
  };
  const std::span<double> values = params.values();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v0 = values[i], h = 1e-4 * std::max(1.0, std::abs(v0));
    // Richardson: (4 D(h/2) − D(h)) / 3, error O(h⁴).
    const auto d = [&](double step) {
      values[i] = v0 + step;
      const double up = f();
      values[i] = v0 - step;
      const double down = f();
      values[i] = v0;
      return (up - down) / (2 * step);
    };
    const double fd = (4 * d(h / 2) - d(h)) / 3;
    BOOST_TEST(std::abs(analytic[i] - fd) <= 1e-7 * (1 + std::abs(fd)),
               "parameter value " << i << ": backward " << analytic[i] << ", differences " << fd);
  }
}

// y = x·Wᵀ + b by loops: x [n, in], W [out, in], b [out].
Tensor linear_by_hand(const Tensor& x, const Tensor& w, const Tensor& b) {
  const std::size_t n = x.shape()[0], in = x.shape()[1], out = w.shape()[0];
  Tensor y({n, out});
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t o = 0; o < out; ++o) {
      double s = b[o];
      for (std::size_t k = 0; k < in; ++k) s += x(i, k) * w(o, k);
      y(i, o) = s;
    }
  }
  return y;
}

void expect_close(const Tensor& got, const Tensor& expected, double tol, const char* what) {
  BOOST_TEST_REQUIRE((got.shape() == expected.shape()), what << ": shape " << to_string(got.shape())
                                                             << " vs "
                                                             << to_string(expected.shape()));
  for (std::size_t i = 0; i < got.size(); ++i) {
    BOOST_TEST(std::abs(got[i] - expected[i]) <= tol * (1 + std::abs(expected[i])),
               what << " [" << i << "]: " << got[i] << " vs " << expected[i]);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(layers)

BOOST_AUTO_TEST_CASE(linear_init_is_pytorchs_and_forward_is_x_wt_plus_b) {
  nn::Parameters params(5);
  nn::Linear fc(params, "fc", 400, 30);
  BOOST_TEST(params.count() == 2u);
  BOOST_TEST(fc.weight().name() == "fc.weight");
  BOOST_TEST((fc.weight().shape() == Shape{30, 400}));
  BOOST_TEST((fc.bias().shape() == Shape{30}));
  // U(−1/√in, 1/√in): inside the bound, reaching near it, variance bound²/3.
  const double bound = 1 / std::sqrt(400.0);
  double largest = 0, squares = 0;
  for (double v : fc.weight().value().span()) {
    largest = std::max(largest, std::abs(v));
    squares += v * v;
  }
  BOOST_TEST(largest <= bound * (1 + 1e-12));
  BOOST_TEST(largest >= 0.99 * bound);
  BOOST_TEST(squares / 12000.0 == bound * bound / 3, boost::test_tools::tolerance(0.05));
  for (double v : fc.bias().value().span()) BOOST_TEST(std::abs(v) <= bound * (1 + 1e-12));

  nn::Parameters small(1);
  nn::Linear f2(small, "f", 3, 2);
  nn::Linear nobias(small, "g", 3, 2, /*bias=*/false);
  const Tensor w({2, 3}, {1, -2, 0.5, 0, 3, -1}), b({2}, {0.25, -4});
  std::copy(w.span().begin(), w.span().end(), f2.weight().value().data());
  std::copy(b.span().begin(), b.span().end(), f2.bias().value().data());
  const Tensor x({4, 3}, {1, 2, 3, -1, 0, 2, 0.5, 0.5, 0.5, 0, 0, 0});
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  expect_close(Tensor(f2(nabla::constant(x)).value()), linear_by_hand(x, w, b), 1e-15, "linear");
  // Rank 1: [in] → [out]; rank 3: [2, 2, in] → [2, 2, out].
  const Tensor row = Tensor(f2(nabla::constant(Tensor({3}, {1, 2, 3}))).value());
  BOOST_TEST((row.shape() == Shape{2}));
  BOOST_TEST(row[0] == 1 - 4 + 1.5 + 0.25);
  BOOST_TEST(row[1] == 6 - 3 - 4);
  const Tensor batched =
      Tensor(f2(nabla::constant(x.reshaped({2, 2, 3}))).value()).reshaped({4, 2});
  expect_close(batched, linear_by_hand(x, w, b), 1e-15, "linear, rank 3");
  BOOST_TEST(!nobias.has_bias());
  BOOST_TEST(small.count() == 3u);
  const Tensor no_b = Tensor(nobias(nabla::constant(x)).value());
  expect_close(no_b, linear_by_hand(x, Tensor(nobias.weight().value()), Tensor({2}, {0.0, 0.0})),
               1e-15, "linear without a bias");
  expect_error([&] { (void)nobias.bias(); }, {"without a bias"});
}

BOOST_AUTO_TEST_CASE(functional_forms_match_finite_differences) {
  const Tensor x = random_tensor({4, 3}, 1), w = random_tensor({2, 3}, 2),
               b = random_tensor({2}, 3);
  nabla::test::expect_tensor_op(
      "linear", [](std::span<const TensorVar> in) { return nn::linear(in[0], in[1], in[2]); },
      {x, w, b});
  nabla::test::expect_tensor_op(
      "linear rank 1",
      [](std::span<const TensorVar> in) { return nn::linear(in[0], in[1], in[2]); },
      {random_tensor({3}, 4), w, b});
  nabla::test::expect_tensor_op(
      "layer_norm",
      [](std::span<const TensorVar> in) { return nn::layer_norm(in[0], in[1], in[2]); },
      {random_tensor({3, 2, 4}, 5), random_tensor({2, 4}, 6), random_tensor({2, 4}, 7)});
  nabla::test::expect_tensor_op(
      "batch_norm [N, C]",
      [](std::span<const TensorVar> in) { return nn::batch_norm(in[0], in[1], in[2]); },
      {random_tensor({5, 3}, 8), random_tensor({3}, 9), random_tensor({3}, 10)});
  nabla::test::expect_tensor_op(
      "batch_norm [N, C, L]",
      [](std::span<const TensorVar> in) { return nn::batch_norm(in[0], in[1], in[2]); },
      {random_tensor({3, 2, 4}, 11), random_tensor({2}, 12), random_tensor({2}, 13)});
}

BOOST_AUTO_TEST_CASE(module_parameter_gradients_match_finite_differences) {
  nn::Parameters params(3);
  nn::Sequential model(nn::Linear(params, "0", 3, 4), nn::Tanh(), nn::LayerNorm(params, "2", {4}),
                       nn::BatchNorm1d(params, "3", 4), nn::Sigmoid(),
                       nn::Linear(params, "5", 4, 2), nn::ReLU());
  // LayerNorm and BatchNorm start at weight 1, bias 0: move them so that they matter.
  for (double& v : params.values()) v += 0.1;
  const Tensor x = random_tensor({6, 3}, 21);
  expect_parameter_gradients(model, params, x);  // training: batch statistics
  model.eval();
  expect_parameter_gradients(model, params, x);  // evaluation: running statistics
  nn::Parameters table(4);
  nn::Embedding embedding(table, "e", 5, 3);
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  // Row 2 picked twice, row 0 once: Σ c ⊙ rows has gradient c's rows added into those rows.
  const std::vector<std::size_t> rows{2, 0, 2};
  const Tensor c = random_tensor({3, 3}, 5);
  nabla::backward(nabla::sum(embedding.forward(rows) * nabla::constant(c)));
  const nabla::MutableTensorView g = embedding.weight().gradient();
  for (std::size_t j = 0; j < 3; ++j) {
    BOOST_TEST(g(2, j) == c(0, j) + c(2, j));
    BOOST_TEST(g(0, j) == c(1, j));
    BOOST_TEST(g(1, j) == 0.0);
  }
}

BOOST_AUTO_TEST_CASE(activations_and_sequential) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Tensor x({5}, {-2, -0.5, 0, 0.5, 3});
  nn::ReLU relu;
  nn::Tanh tanh;
  nn::Sigmoid sigmoid;
  const TensorVar xv = nabla::constant(x);
  for (std::size_t i = 0; i < 5; ++i) {
    BOOST_TEST(relu(xv).value()[i] == std::max(x[i], 0.0));
    BOOST_TEST(tanh(xv).value()[i] == std::tanh(x[i]), boost::test_tools::tolerance(1e-15));
    BOOST_TEST(sigmoid(xv).value()[i] == 1 / (1 + std::exp(-x[i])),
               boost::test_tools::tolerance(1e-15));
  }
  // Sequential = the layers applied by hand; an empty one is the identity.
  nn::Parameters params(9);
  nn::Sequential model;
  nn::Linear& first = model.add(nn::Linear(params, "0", 3, 4));
  model.add(nn::ReLU());
  nn::Linear& last = model.add(nn::Linear(params, "2", 4, 2));
  BOOST_TEST(model.size() == 3u);
  BOOST_TEST(params.count() == 4u);
  const Tensor in = random_tensor({5, 3}, 2);
  const Tensor hidden =
      linear_by_hand(in, Tensor(first.weight().value()), Tensor(first.bias().value()));
  Tensor relu_hidden = hidden;
  for (double& v : relu_hidden.span()) v = std::max(v, 0.0);
  expect_close(
      Tensor(model(nabla::constant(in)).value()),
      linear_by_hand(relu_hidden, Tensor(last.weight().value()), Tensor(last.bias().value())),
      1e-14, "sequential");
  nn::Sequential empty;
  BOOST_TEST(empty(xv).value()[4] == 3.0);
  expect_error([&] { (void)model[3]; }, {"module 3", "below 3"});
  // train()/eval() reach modules inside nested Sequentials.
  nn::Sequential outer(nn::Sequential(nn::Dropout(0.5), nn::ReLU()), nn::Dropout(0.5));
  BOOST_TEST(outer[0].is_training());
  outer.eval();
  BOOST_TEST(!outer.is_training());
  BOOST_TEST(!dynamic_cast<nn::Sequential&>(outer[0])[0].is_training());
  BOOST_TEST(!outer[1].is_training());
  const Tensor ones({1000}, 1.0);
  const Tensor evaluated(outer(nabla::constant(ones)).value());
  for (double v : evaluated.span()) BOOST_TEST_REQUIRE(v == 1.0);
  outer.train();
  BOOST_TEST(dynamic_cast<nn::Sequential&>(outer[0])[0].is_training());
  // In training, some of 1000 elements are dropped (all kept: probability 2⁻¹⁰⁰⁰).
  const Tensor trained(outer(nabla::constant(ones)).value());
  BOOST_TEST(std::count(trained.span().begin(), trained.span().end(), 0.0) > 0);
}

BOOST_AUTO_TEST_CASE(dropout_scales_in_training_and_is_the_identity_in_evaluation) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const double p = 0.3;
  nn::Dropout dropout(p, 42);
  const std::size_t n = 200000;
  const TensorVar x = nabla::variable(Tensor({n}, 1.0));
  const TensorVar y = dropout(x);
  std::size_t kept = 0;
  double total = 0;
  for (double v : y.value().span()) {
    BOOST_TEST_REQUIRE((v == 0.0 || v == 1.0 / (1.0 - p)), "an output of " << v);
    kept += v != 0.0;
    total += v;
  }
  // Kept with probability 1 − p: the fraction's standard deviation is √(p(1−p)/n) ≈ 0.001.
  BOOST_TEST(std::abs(static_cast<double>(kept) / n - (1 - p)) < 0.006);
  BOOST_TEST(std::abs(total / n - 1.0) < 0.01);  // the expected output is x
  // The gradient is the mask.
  nabla::backward(nabla::sum(y));
  for (std::size_t i = 0; i < n; i += 997) BOOST_TEST(nabla::adjoint(x)[i] == y.value()[i]);
  // A fresh mask per call; the same masks for the same seed.
  nn::Dropout again(p, 42);
  const Tensor second(dropout(x).value()), replay(again(x).value());
  BOOST_TEST(!std::equal(second.span().begin(), second.span().end(), y.value().span().begin()));
  BOOST_TEST(std::equal(replay.span().begin(), replay.span().end(), y.value().span().begin()));
  // Evaluation and p = 0: the identity.
  dropout.eval();
  const Tensor x2 = random_tensor({3, 4}, 1);
  const Tensor e(dropout(nabla::constant(x2)).value());
  BOOST_TEST(std::equal(e.span().begin(), e.span().end(), x2.span().begin()));
  nn::Dropout none(0.0);
  const Tensor z(none(nabla::constant(x2)).value());
  BOOST_TEST(std::equal(z.span().begin(), z.span().end(), x2.span().begin()));
  for (double bad : {1.0, -0.1, 1.5, std::numeric_limits<double>::quiet_NaN()})
    expect_error([&] { nn::Dropout d(bad); }, {"nabla::nn::Dropout", "[0, 1)"});
}

BOOST_AUTO_TEST_CASE(layer_norm_by_hand) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  nn::Parameters params(1);
  nn::LayerNorm norm(params, "ln", {3});
  BOOST_TEST(params.count() == 2u);
  // Row [1, 2, 3]: mean 2, biased variance 2/3. Row [4, 4, 10]: mean 6, variance (4+4+16)/3 = 8.
  const Tensor x({2, 3}, {1, 2, 3, 4, 4, 10});
  const double eps = 1e-5, s1 = std::sqrt(2.0 / 3 + eps), s2 = std::sqrt(8 + eps);
  const Tensor expected({2, 3}, {-1 / s1, 0, 1 / s1, -2 / s2, -2 / s2, 4 / s2});
  expect_close(Tensor(norm(nabla::constant(x)).value()), expected, 1e-15, "layer_norm");
  // weight and bias: y·w + b per position.
  const Tensor w({3}, {2, -1, 0.5}), b({3}, {1, 0, -1});
  std::copy(w.span().begin(), w.span().end(), params["ln.weight"].value().data());
  std::copy(b.span().begin(), b.span().end(), params["ln.bias"].value().data());
  Tensor affine = expected;
  for (std::size_t i = 0; i < 6; ++i) affine[i] = expected[i] * w[i % 3] + b[i % 3];
  expect_close(Tensor(norm(nabla::constant(x)).value()), affine, 1e-15, "layer_norm, affine");
  // Two normalised dimensions: every [2, 2] block of a [3, 2, 2] input has mean 0, variance ≈ 1.
  nn::Parameters other(2);  // (params cannot grow while its parameters are on the tape)
  nn::LayerNorm block(other, "block", {2, 2}, 0.0, false);
  BOOST_TEST(other.count() == 0u);  // no parameters without the affine part
  const Tensor y(block(nabla::constant(random_tensor({3, 2, 2}, 4))).value());
  for (std::size_t g = 0; g < 3; ++g) {
    double m = 0, v = 0;
    for (std::size_t k = 0; k < 4; ++k) m += y[4 * g + k] / 4;
    for (std::size_t k = 0; k < 4; ++k) v += (y[4 * g + k] - m) * (y[4 * g + k] - m) / 4;
    BOOST_TEST(std::abs(m) < 1e-15);
    BOOST_TEST(v == 1.0, boost::test_tools::tolerance(1e-14));
  }
  expect_error(
      [&] {
        (void)norm(nabla::constant(Tensor({2, 4})));
      },
      {"nabla::nn::LayerNorm", "[2, 4]", "[3]"});
  expect_error([&] { nn::LayerNorm bad(other, "bad", Shape{}); }, {"normalized_shape"});
  expect_error([&] { nn::LayerNorm bad(other, "bad", {3, 0}); }, {"normalized_shape = [3, 0]"});
  expect_error([&] { nn::LayerNorm bad(other, "bad", {3}, -1.0); }, {"eps = -1"});
}

BOOST_AUTO_TEST_CASE(batch_norm_by_hand) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  nn::Parameters params(1);
  nn::BatchNorm1d bn(params, "bn", 2);
  BOOST_TEST(params.count() == 2u);
  // Channel 0: 1, 3, 5, 7 — mean 4, squared deviations 9 + 1 + 1 + 9 = 20: biased variance 5,
  // unbiased 20/3. Channel 1: 2, 6, 4, 0 — mean 3, squared deviations 1 + 9 + 1 + 9 = 20: the
  // same variances.
  const Tensor x({4, 2}, {1, 2, 3, 6, 5, 4, 7, 0});
  const double s = std::sqrt(5 + 1e-5);
  const Tensor expected({4, 2}, {-3 / s, -1 / s, -1 / s, 3 / s, 1 / s, 1 / s, 3 / s, -3 / s});
  expect_close(Tensor(bn(nabla::constant(x)).value()), expected, 1e-15, "batch_norm, training");
  BOOST_TEST(bn.running_mean()[0] == 0.1 * 4, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(bn.running_mean()[1] == 0.1 * 3, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(bn.running_var()[0] == 0.9 + 0.1 * 20 / 3, boost::test_tools::tolerance(1e-15));
  // Second batch. Channel 0: 0, 2 — mean 1, unbiased variance 2. Channel 1: 1, 1 — mean 1,
  // variance 0.
  (void)bn(nabla::constant(Tensor({2, 2}, {0, 1, 2, 1})));
  BOOST_TEST(bn.batches_tracked() == 2u);
  const double m0 = 0.9 * 0.4 + 0.1 * 1, m1 = 0.9 * 0.3 + 0.1 * 1;
  const double v0 = 0.9 * (0.9 + 0.1 * 20 / 3) + 0.1 * 2, v1 = 0.9 * (0.9 + 0.1 * 20 / 3);
  BOOST_TEST(bn.running_mean()[0] == m0, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(bn.running_mean()[1] == m1, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(bn.running_var()[0] == v0, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(bn.running_var()[1] == v1, boost::test_tools::tolerance(1e-14));
  // Evaluation: the running statistics, then weight and bias; a batch of 1 is fine.
  params["bn.weight"].value()[1] = 3;
  params["bn.bias"].value()[0] = -2;
  bn.eval();
  const Tensor one({1, 2}, {5, -1});
  const Tensor y(bn(nabla::constant(one)).value());
  BOOST_TEST(y[0] == (5 - m0) / std::sqrt(v0 + 1e-5) - 2, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(y[1] == 3 * (-1 - m1) / std::sqrt(v1 + 1e-5), boost::test_tools::tolerance(1e-14));
  BOOST_TEST(bn.batches_tracked() == 2u);  // evaluation leaves the statistics alone
  BOOST_TEST(bn.running_mean()[0] == m0, boost::test_tools::tolerance(1e-14));
  // [N, C, L]: statistics over N and L (n = 4 values per channel).
  nn::Parameters other(2);  // (params cannot grow while its parameters are on the tape)
  nn::BatchNorm1d seq(other, "seq", 1, 1e-5, 0.5);
  (void)seq(nabla::constant(Tensor({2, 1, 2}, {1, 3, 5, 7})));
  BOOST_TEST(seq.running_mean()[0] == 0.5 * 4, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(seq.running_var()[0] == 0.5 + 0.5 * 20 / 3, boost::test_tools::tolerance(1e-15));
  // Misuse.
  bn.train();
  expect_error(
      [&] {
        (void)bn(nabla::constant(Tensor({1, 2})));
      },
      {"1 value(s) per channel", "more than 1"});
  expect_error([&] { (void)bn(nabla::constant(Tensor({0, 2}))); }, {"0 value(s) per channel"});
  expect_error([&] { (void)bn(nabla::constant(Tensor({4, 3}))); }, {"[4, 3]", "2 channels"});
  expect_error([&] { (void)bn(nabla::constant(Tensor({4}))); }, {"[4]", "[N, C]"});
  expect_error([&] { nn::BatchNorm1d bad(other, "bad", 0); }, {"features = 0"});
  expect_error([&] { nn::BatchNorm1d bad(other, "bad", 2, 1e-5, 1.5); }, {"momentum = 1.5"});
  std::vector<std::pair<std::string, nabla::MutableTensorView>> buffers;
  bn.buffers(buffers);
  BOOST_TEST(buffers.size() == 2u);
  BOOST_TEST(buffers[0].first == "bn.running_mean");
  BOOST_TEST(buffers[1].first == "bn.running_var");
}

BOOST_AUTO_TEST_CASE(embedding_rows_and_init) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  nn::Parameters params(2);
  nn::Embedding embedding(params, "emb", 2000, 10);
  BOOST_TEST((embedding.weight().shape() == Shape{2000, 10}));
  // N(0, 1): over 20000 values the mean is within 0.03 of 0 and the variance within 0.05 of 1.
  double m = 0, v = 0;
  for (double w : embedding.weight().value().span()) m += w / 20000;
  for (double w : embedding.weight().value().span()) v += (w - m) * (w - m) / 20000;
  BOOST_TEST(std::abs(m) < 0.03);
  BOOST_TEST(std::abs(v - 1) < 0.05);
  const std::vector<std::size_t> rows{7, 1999, 7};
  const Tensor y(embedding.forward(rows).value());
  BOOST_TEST((y.shape() == Shape{3, 10}));
  for (std::size_t j = 0; j < 10; ++j) {
    BOOST_TEST(y(0, j) == embedding.weight().value()(7, j));
    BOOST_TEST(y(1, j) == embedding.weight().value()(1999, j));
    BOOST_TEST(y(2, j) == embedding.weight().value()(7, j));
  }
  // Integer-valued tensors of any shape: [2, 2] → [2, 2, 10].
  const Tensor z(embedding(nabla::constant(Tensor({2, 2}, {0, 1, 2, 3}))).value());
  BOOST_TEST((z.shape() == Shape{2, 2, 10}));
  BOOST_TEST(z[3 * 10 + 4] == embedding.weight().value()(3, 4));
  expect_error(
      [&] {
        (void)embedding.forward(std::vector<std::size_t>{3, 2000});
      },
      {"index 2000 at position 1", "below 2000"});
  expect_error(
      [&] {
        (void)embedding(nabla::constant(Tensor({2}, {1, 1.5})));
      },
      {"index 1.5 at position 1"});
  expect_error([&] { (void)embedding(nabla::constant(Tensor({1}, {-1}))); }, {"index -1"});
  nn::Parameters other(2);
  expect_error([&] { nn::Embedding bad(other, "bad", 0, 3); }, {"num = 0"});
}

BOOST_AUTO_TEST_CASE(misuse_names_what_was_wrong) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  nn::Parameters params(1);
  nn::Linear fc(params, "fc", 3, 2);
  expect_error([&] { nn::Linear bad(params, "zero", 0, 2); }, {"in = 0"});
  expect_error([&] { nn::Linear again(params, "fc", 3, 2); }, {"'fc.weight' exists already"});
  expect_error(
      [&] {
        (void)fc(nabla::constant(Tensor({4, 5})));
      },
      {"nabla::nn::linear", "[4, 5]", "[..., 3]"});
  // Adding while a parameter is on the tape is refused (Parameters::add's rule).
  expect_error([&] { nn::Linear late(params, "late", 3, 2); }, {"recorded use"});
  expect_error(
      [&] {
        (void)nn::linear(nabla::constant(Tensor({2, 3})), fc.weight(),
                         nabla::constant(Tensor({3})));
      },
      {"bias has shape [3]", "[2]"});
  expect_error(
      [&] {
        (void)nn::layer_norm(nabla::constant(Tensor({2, 3})), 3);
      },
      {"last 3 dimensions", "[2, 3]"});
  expect_error(
      [&] {
        (void)nn::batch_norm(nabla::constant(Tensor({4, 3})), fc.bias(), fc.bias());
      },
      {"[4, 3]", "[3]"});
}

BOOST_AUTO_TEST_CASE(an_optimizer_trains_a_sequential_model) {
  // y = sin(x₀) + x₁/2 on 64 points, a 2-16-1 tanh network with LayerNorm, Adam: the loss falls
  // below a tenth of its start (the parameters live in the set, stepped in one flat update).
  nn::Parameters params(7);
  nn::Sequential model(nn::Linear(params, "0", 2, 16), nn::LayerNorm(params, "1", {16}), nn::Tanh(),
                       nn::Linear(params, "3", 16, 1));
  const Tensor x = random_tensor({64, 2}, 3);
  Tensor y({64, 1});
  for (std::size_t i = 0; i < 64; ++i) y[i] = std::sin(x(i, 0)) + x(i, 1) / 2;
  auto adam = nabla::optim::make_optimizer(nabla::optim::Adam{.lr = 1e-2}, params.size());
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    const nabla::Position start = tape.position();
    params.zero_grad();
    const TensorVar loss = nabla::mse(model(nabla::constant(x)), nabla::constant(y));
    nabla::backward(loss);
    adam->step(params.values(), params.gradients());
    (step == 0 ? first : last) = loss.value()[0];
    tape.rewind(start);
  }
  BOOST_TEST(last < first / 10, "loss " << first << " → " << last);
}

BOOST_AUTO_TEST_SUITE_END()
