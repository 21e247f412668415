// Inference mode (NoGrad, nabla::inference), the training helper that rewinds
// (nn::compute_gradients), the growth warning of a loop that never rewinds, and the tape
// statistics that report all of it.
#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ad_check.hpp"
#include "expect_error.hpp"

using nabla::Tensor;
using nabla::TensorVar;
using nabla::Var;
using nabla::test::expect_error;
using nabla::test::random_tensor;

namespace {

// A two-layer MLP on a fixed batch: 32 rows of 20 features, 10 classes.
struct Model {
  nabla::nn::Parameters params{1};
  nabla::nn::Parameter W1 = params.add("W1", {20, 64});
  nabla::nn::Parameter b1 = params.add("b1", {64}, nabla::nn::Init::zeros);
  nabla::nn::Parameter W2 = params.add("W2", {64, 10});
  Tensor x = random_tensor({32, 20}, 3);
  std::vector<int> labels = std::vector<int>(32);
  Model() {
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int>(i % 10);
  }
  TensorVar logits() const {
    return nabla::matmul(nabla::gelu(nabla::matmul(nabla::constant(x), W1) + b1), W2);
  }
  TensorVar loss() const { return nabla::cross_entropy(logits(), labels); }
  void sgd_step() {
    const auto v = params.values();
    const auto g = params.gradients();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] -= 0.01 * g[i];
  }
};

bool same_use(const nabla::TapeStatistics& a, const nabla::TapeStatistics& b) {
  return a.statements == b.statements && a.operands == b.operands &&
         a.tensor_nodes == b.tensor_nodes && a.bytes_in_use == b.bytes_in_use &&
         a.bytes_reserved == b.bytes_reserved && a.allocations == b.allocations;
}

// Captures nabla's warnings for its lifetime and sets the growth-warning size.
struct CapturedWarnings {
  std::vector<std::string> messages;
  std::size_t previous = nabla::growth_warning();
  explicit CapturedWarnings(std::size_t threshold) {
    nabla::set_growth_warning(threshold);
    nabla::set_warning_handler([this](std::string_view m) { messages.emplace_back(m); });
  }
  ~CapturedWarnings() {
    nabla::set_warning_handler({});
    nabla::set_growth_warning(previous);
  }
  CapturedWarnings(const CapturedWarnings&) = delete;
  CapturedWarnings& operator=(const CapturedWarnings&) = delete;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(no_grad)

BOOST_AUTO_TEST_CASE(a_forward_pass_records_nothing_and_gives_the_same_values) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Model m;
  // The recorded pass (warms the tape's memory), rewound.
  const nabla::Position start = tape.position();
  const TensorVar recorded = m.logits();
  BOOST_TEST(recorded.requires_grad());
  const Tensor expected(recorded.value());
  const std::size_t recorded_bytes = tape.statistics().tensor_bytes;
  tape.rewind(start);
  const nabla::TapeStatistics before = tape.statistics();
  BOOST_TEST(nabla::grad_enabled());
  {
    const nabla::NoGrad no_grad;
    BOOST_TEST(!nabla::grad_enabled());
    const TensorVar y = m.logits();
    BOOST_TEST(!y.requires_grad());  // a constant: nothing to sweep
    const Tensor got(y.value());
    BOOST_TEST_REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) BOOST_TEST(got[i] == expected[i]);
    // No adjoint arrays: less memory than the recorded pass.
    BOOST_TEST(tape.statistics().tensor_bytes < recorded_bytes);
  }
  BOOST_TEST(nabla::grad_enabled());
  BOOST_TEST(same_use(tape.statistics(), before), nabla::to_string(tape.statistics())
                                                      << " vs before " << nabla::to_string(before));
  {
    const nabla::NoGrad no_grad;
    // A parameter is a constant too; scalars made from a constant record nothing.
    BOOST_TEST(!TensorVar(m.W1).requires_grad());
    const Var s = m.logits()(0, 0) * 2.0;
    BOOST_TEST(s.is_constant());
    BOOST_TEST(s.value() == 2.0 * expected[0]);
  }
  BOOST_TEST(tape.statistics().statements == before.statements);
  const nabla::TapeStatistics warm = tape.statistics();  // that scope recorded a little more
  // nabla::inference copies the result out before the scope rewinds.
  const Tensor again = nabla::inference([&] { return m.logits(); });
  for (std::size_t i = 0; i < again.size(); ++i) BOOST_TEST(again[i] == expected[i]);
  const double loss = nabla::inference([&] { return m.loss().item(); });
  BOOST_TEST(loss == nabla::inference([&] { return Tensor(m.loss().value()); })[0]);
  BOOST_TEST(same_use(tape.statistics(), warm));
  // A loop of inference passes keeps the tape flat.
  for (int k = 0; k < 20; ++k) (void)nabla::inference([&] { return m.logits(); });
  BOOST_TEST(same_use(tape.statistics(), warm));
}

BOOST_AUTO_TEST_CASE(sweeps_inside_the_scope_are_errors) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  Model m;
  const Var a = nabla::variable(2.0);
  const Var outer = a * a;
  const nabla::NoGrad no_grad;
  const TensorVar loss = m.loss();
  expect_error([&] { nabla::backward(loss); }, {"nabla::backward", "NoGrad"});
  expect_error([&] { nabla::backward(outer); }, {"nabla::backward", "NoGrad"});
  expect_error([&] { tape.reverse(); }, {"nabla::Tape::reverse", "NoGrad"});
  expect_error(
      [&] {
        (void)nabla::value_and_gradient([](const auto& v) { return Var(v[0] * v[0]); }, {1.0});
      },
      {"nabla::gradient", "NoGrad"});
  expect_error(
      [&] {
        (void)nabla::value_and_gradient(
            [](const TensorVar& t) { return nabla::sum(nabla::sin(t)); }, Tensor({2}, {1, 2}));
      },
      {"NoGrad"});
  expect_error(
      [&] {
        (void)nabla::hessian_vector_product(
            [](const nabla::TensorDual& t) { return nabla::sum(nabla::sin(t)); },
            Tensor({2}, {1, 2}), Tensor({2}, {1, 0}));
      },
      {"NoGrad"});
  expect_error([&] { (void)nabla::nn::compute_gradients(m.params, [&] { return m.loss(); }); },
               {"NoGrad"});
  // Forward mode needs no sweep: a JVP works in the scope.
  const auto j = nabla::jvp([](const nabla::TensorDual& t) { return nabla::sin(t); },
                            Tensor({1}, {0.5}), Tensor({1}, {2.0}));
  BOOST_TEST(j.tangent[0] == 2.0 * std::cos(0.5));
}

BOOST_AUTO_TEST_CASE(scopes_nest_and_end_on_exceptions) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Model m;
  const nabla::Position start = tape.position();
  {
    const nabla::NoGrad outer;
    const TensorVar first = m.logits();
    const nabla::Position middle = tape.position();
    {
      const nabla::NoGrad inner;
      (void)m.logits();
      BOOST_TEST(!nabla::grad_enabled());
    }
    BOOST_TEST(!nabla::grad_enabled());       // the outer scope is still open
    BOOST_TEST((tape.position() == middle));  // the inner one dropped only its own part
    BOOST_TEST(first.value().size() == 320u);
  }
  BOOST_TEST(nabla::grad_enabled());
  BOOST_TEST((tape.position() == start));
  // An exception leaving the scope ends it: gradients are back, the tape is rewound.
  TensorVar kept;
  try {
    const nabla::NoGrad no_grad;
    kept = m.logits();
    throw std::runtime_error("inside");
  } catch (const std::runtime_error&) {
  }
  BOOST_TEST(nabla::grad_enabled());
  BOOST_TEST((tape.position() == start));
  expect_error([&] { (void)kept.value(); }, {"rewound away"});
  // Recording works normally again.
  Model trained;
  const double loss = nabla::nn::compute_gradients(trained.params, [&] { return trained.loss(); });
  BOOST_TEST(std::isfinite(loss));
  double norm = 0;
  for (double g : trained.params.gradients()) norm += g * g;
  BOOST_TEST(norm > 0.0);
}

BOOST_AUTO_TEST_CASE(statistics_report_every_byte) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  Model m;
  nabla::backward(m.loss());
  const nabla::TapeStatistics s = tape.statistics();
  BOOST_TEST(s.bytes_reserved == s.scalar_bytes_reserved + s.tensor_bytes_reserved);
  BOOST_TEST(s.bytes_in_use == s.bytes_used + s.adjoint_bytes + s.tensor_bytes);
  BOOST_TEST(s.tensor_bytes > 10 * s.bytes_used);  // the tensor data is most of it
  BOOST_TEST(s.bytes_in_use <= s.bytes_reserved);
  const std::string line = fmt::format("{}", s);
  BOOST_TEST(line == nabla::to_string(s));
  for (const char* part : {"in use", "tensors", "reserved", "tensor nodes"})
    BOOST_TEST(line.find(part) != std::string::npos, line);
}

BOOST_AUTO_TEST_CASE(a_loop_that_never_rewinds_is_warned_about_once) {
  const CapturedWarnings warnings(std::size_t{1} << 20);  // 1 MiB: this model passes it early
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  Model m;
  std::size_t first_in_use = 0;
  for (int step = 0; step < 300; ++step) {  // PyTorch's habit: no rewind
    m.params.zero_grad();
    nabla::backward(m.loss());
    m.sgd_step();
    if (step == 0) first_in_use = tape.statistics().bytes_in_use;
  }
  const nabla::TapeStatistics s = tape.statistics();
  BOOST_TEST(s.sweeps_without_rewind == 300u);
  BOOST_TEST(s.bytes_in_use > 200 * first_in_use);  // every step is kept
  BOOST_TEST_REQUIRE(warnings.messages.size() == 1u);
  const std::string& w = warnings.messages[0];
  BOOST_TEST_MESSAGE(w);
  BOOST_TEST_MESSAGE(nabla::to_string(s));
  for (const char* part : {"nabla: warning", "backward() calls without a rewind", "tape.rewind",
                           "nn::compute_gradients", "set_growth_warning(0)"})
    BOOST_TEST(w.find(part) != std::string::npos, w);
  BOOST_TEST(nabla::to_string(s).find("300 backward() calls without a rewind") !=
             std::string::npos);
  // Rewinding below the last output forgets the count; release() lets the tape warn again.
  tape.clear();
  BOOST_TEST(tape.statistics().sweeps_without_rewind == 0u);
}

BOOST_AUTO_TEST_CASE(loops_that_rewind_stay_flat_and_silent) {
  const CapturedWarnings warnings(std::size_t{1} << 20);
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  Model m;
  // The training helper rewinds for the user.
  nabla::TapeStatistics warm;
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    last = nabla::nn::compute_gradients(m.params, [&] { return m.loss(); });
    m.sgd_step();
    if (step == 0) first = last;
    if (step == 1) warm = tape.statistics();
  }
  BOOST_TEST(last < first);  // it trains
  const nabla::TapeStatistics s = tape.statistics();
  BOOST_TEST(s.bytes_reserved == warm.bytes_reserved);
  BOOST_TEST(s.allocations == warm.allocations);
  BOOST_TEST(s.statements == 0u);
  BOOST_TEST(s.sweeps_without_rewind == 0u);
  // A scalar loss, and a loss that throws (the tape is rewound all the same).
  const double scalar =
      nabla::nn::compute_gradients(m.params, [&] { return m.loss().item() * 2.0; });
  BOOST_TEST(scalar == 2.0 * nabla::inference([&] { return m.loss().item(); }),
             boost::test_tools::tolerance(1e-15));
  BOOST_CHECK_THROW((void)nabla::nn::compute_gradients(m.params,
                                                       [&]() -> TensorVar {
                                                         (void)m.loss();
                                                         throw std::runtime_error("in the loss");
                                                       }),
                    std::runtime_error);
  BOOST_TEST(tape.statistics().statements == 0u);
  expect_error([&] { (void)nabla::nn::compute_gradients(m.params, [&] { return m.logits(); }); },
               {"nabla::backward", "expected one element"});
  // By hand: rewind each step, with a gradient helper inside (its own rewind does not count).
  for (int step = 0; step < 50; ++step) {
    const nabla::Position start = tape.position();
    m.params.zero_grad();
    nabla::backward(m.loss());
    (void)nabla::value_and_gradient([](const auto& v) { return Var(v[0] * v[0]); }, {1.0});
    nabla::backward(m.loss());  // a second loss of the same step
    tape.rewind(start);
  }
  BOOST_TEST(warnings.messages.empty());
}

BOOST_AUTO_TEST_CASE(the_warning_can_be_turned_off) {
  BOOST_TEST(nabla::growth_warning() == std::size_t{64} << 20);  // the default: 64 MiB in use
  const CapturedWarnings warnings(0);
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  Model m;
  for (int step = 0; step < 40; ++step) nabla::backward(m.loss());
  BOOST_TEST(tape.statistics().sweeps_without_rewind == 40u);
  BOOST_TEST(warnings.messages.empty());
  BOOST_TEST(nabla::growth_warning() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
