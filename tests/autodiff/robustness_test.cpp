// Misuse and edge cases of the scalar and tensor engine (issue 10): each case failed before its
// fix. Bad input gets a nabla::Error naming what was wrong; nothing crashes or answers wrongly.
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/graph.hpp>
#include <nabla/autodiff/nn.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <csignal>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <vector>
#include "expect_error.hpp"

using nabla::Position;
using nabla::Shape;
using nabla::Tape;
using nabla::Tensor;
using nabla::TensorVar;
using nabla::Var;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double qnan = std::numeric_limits<double>::quiet_NaN();

using nabla::test::expect_error;

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// The gradient of a scalar function of one tensor, through nabla::value_and_gradient.
std::vector<double> tensor_grad(const std::function<TensorVar(const TensorVar&)>& f,
                                const Tensor& x) {
  return nabla::value_and_gradient([&](const TensorVar& t) { return f(t); }, x).gradient;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(robustness)

// ---- Sizes -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(shape_products_never_overflow) {
  expect_error([] { (void)Shape{1ull << 32, 1ull << 32}; }, {"Shape", "2^57"});
  expect_error([] { (void)Tensor(Shape{1ull << 32, 1ull << 32}); }, {"2^57"});
  expect_error([] { (void)Shape{SIZE_MAX, 2}; }, {"2^57"});
  expect_error([] { (void)Shape{0, SIZE_MAX, 2}; }, {"non-zero"});
  BOOST_TEST(Shape({0, 1ull << 40}).size() == 0u);  // empty, and its strides fit
  BOOST_TEST(Shape({1ull << 28, 1ull << 29}).size() == (std::size_t{1} << 57));
  // A claim too large to allocate is an Error, not std::bad_alloc (not under ASan, whose
  // operator new aborts instead of throwing).
#if !defined(__SANITIZE_ADDRESS__)
  expect_error([] { (void)Tensor(Shape{1ull << 56}); }, {"out of memory"});
#endif
}

BOOST_AUTO_TEST_CASE(tape_reserve_past_its_limit_throws) {
  Tape tape;
  expect_error([&] { tape.reserve(SIZE_MAX, 0); }, {"reserve", "2^32"});
  expect_error([&] { tape.reserve(0, SIZE_MAX); }, {"reserve"});
  expect_error([&] { tape.reserve(std::size_t{1} << 32, 0); }, {"reserve"});
  tape.reserve(100, 100);
  BOOST_TEST(tape.statistics().bytes_reserved > 0u);
}

// ---- Positions and handles -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bad_positions_say_what_is_wrong) {
  Tape tape;
  Tape::Scope scope(tape);
  const Var x = tape.variable(1.0);
  (void)Var(x * x);
  expect_error([&] { tape.rewind(Position{0, 0}); }, {"constant slot"});
  expect_error([&] { tape.rewind(Position{99, 0}); }, {"ahead of the recording"});
  expect_error([&] { tape.rewind(Position{3, 0}); }, {"operand count"});
}

BOOST_AUTO_TEST_CASE(stale_vars_are_caught_after_any_number_of_rewinds) {
  // The old tags were 32 bits: after 2^32 rewinds a stale Var passed the check and the sweep
  // wrote out of bounds. Ids are 64-bit and never reused: move the counter on by 2^32 + 1 (the
  // state of a process after that many rewinds) and the stale Var is still caught.
  Tape tape;
  Tape::Scope scope(tape);
  const Var x = tape.variable(2.0);
  const Position p = tape.position();
  Var stale;
  for (int i = 0; i < 50; ++i) (void)Var(x * x);
  stale = Var(x * 3.0);
  tape.rewind(p);
  nabla::detail::advance_ids_for_testing((std::uint64_t{1} << 32) + 1);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) (void)Var(x * x);
    expect_error([&] { (void)Var(stale + 1.0); }, {"rewound away"});
    expect_error([&] { tape.backward(stale); }, {"rewound away"});
    tape.rewind(p);
  }
  // Many real rewinds in a helper loop: the stale Var stays stale.
  for (int i = 0; i < 100000; ++i) {
    const double point[] = {1.0};
    double g[1];
    (void)nabla::gradient([](std::span<const Var> v) { return Var(v[0] * v[0]); },
                          std::span<const double>(point), std::span<double>(g));
  }
  expect_error([&] { (void)Var(stale * 2.0); }, {"rewound away"});
  BOOST_TEST(Var(x * 2.0).value() == 4.0);
}

BOOST_AUTO_TEST_CASE(a_tape_recording_while_another_takes_ids_stays_consistent) {
  // Two tapes of one thread recording in turn: each grows past its block of ids, so blocks
  // interleave; every Var stays valid on its own tape and foreign on the other.
  Tape a, b;
  std::vector<Var> va, vb;
  for (int i = 0; i < 5000; ++i) {
    {
      Tape::Scope s(a);
      va.push_back(va.empty() ? a.variable(1.0) : Var(va.back() * 1.0 + 0.0));
    }
    {
      Tape::Scope s(b);
      vb.push_back(vb.empty() ? b.variable(1.0) : Var(vb.back() * 1.0 + 0.0));
    }
  }
  Tape::Scope s(a);
  a.backward(va.back());
  BOOST_TEST(a.adjoint(va.front()) == 1.0);
  for (std::size_t i = 0; i < va.size(); i += 499) BOOST_TEST(a.index_of(va[i]) == i + 1);
  expect_error([&] { (void)a.index_of(vb[1234]); }, {"not on the active tape"});
}

BOOST_AUTO_TEST_CASE(graph_capture_checks_tensors_against_the_tape_passed) {
  Tape other;
  TensorVar t;
  {
    Tape::Scope s(other);
    t = nabla::sum(nabla::variable(Tensor({2}, {1, 2})));
  }
  // Recorded on `other`, captured from `other` while another tape is active: fine.
  const nabla::graph::Graph g = nabla::graph::capture(other, t);
  BOOST_TEST(boost::num_vertices(g) == 2u);
  Tape mine;
  expect_error([&] { (void)nabla::graph::capture(mine, t); }, {"not on the tape passed"});
}

// ---- Tensor arena: flat memory whatever op comes first ----------------------------------------

BOOST_AUTO_TEST_CASE(arena_memory_is_flat_whatever_op_follows_the_rewind_point) {
  using F = std::function<TensorVar(const TensorVar&)>;
  const std::vector<int> labels = {0, 1, 2};
  const Tensor targets({3, 3}, {0, 1, 0, 1, 0, 1, 0, 0, 1});
  const std::size_t rows[] = {2, 0};
  const std::vector<std::pair<std::string, F>> ops = {
      {"transpose", [](const TensorVar& x) { return nabla::sum(nabla::transpose(x)); }},
      {"index_select",
       [&](const TensorVar& x) { return nabla::sum(nabla::index_select(x, 0, rows)); }},
      {"slice", [](const TensorVar& x) { return nabla::sum(nabla::slice(x, 1, 0, 2)); }},
      {"max", [](const TensorVar& x) { return nabla::sum(nabla::max(x, 1)); }},
      {"min", [](const TensorVar& x) { return nabla::sum(nabla::min(x, 0)); }},
      {"cross_entropy", [&](const TensorVar& x) { return nabla::cross_entropy(x, labels); }},
      {"bce",
       [&](const TensorVar& x) { return nabla::binary_cross_entropy_with_logits(x, targets); }},
      {"concat",
       [](const TensorVar& x) {
         const TensorVar parts[] = {x, x};
         return nabla::sum(nabla::concat(parts, 1));
       }},
      {"tensor(vars)",
       [](const TensorVar& x) {
         const Var e[] = {x(0, 0), x(1, 1)};
         return nabla::sum(nabla::tensor(e, Shape{2}));
       }},
  };
  for (const auto& [name, f] : ops) {
    Tape tape;
    Tape::Scope scope(tape);
    const TensorVar X = nabla::variable(Tensor({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
    const Position p = tape.position();
    std::size_t used = 0, reserved = 0;
    for (int i = 0; i < 3000; ++i) {
      nabla::backward(f(X));
      tape.rewind(p);
      if (i == 10) {
        used = tape.statistics().tensor_bytes;
        reserved = tape.statistics().bytes_reserved;
      }
    }
    BOOST_TEST(tape.statistics().tensor_bytes == used, name);
    BOOST_TEST(tape.statistics().bytes_reserved == reserved, name);
  }
}

// ---- Tensor helpers rewind when f throws ------------------------------------------------------

BOOST_AUTO_TEST_CASE(tensor_helpers_rewind_when_f_throws) {
  Tape tape;
  Tape::Scope scope(tape);
  const Tensor x({2}, {1, 2});
  const Position before = tape.position();
  const auto bad = [](const TensorVar& t) -> TensorVar {
    (void)nabla::sum(t * t);
    throw std::runtime_error("user error");
  };
  BOOST_CHECK_THROW((void)nabla::value_and_gradient(bad, x), std::runtime_error);
  BOOST_TEST((tape.position() == before));
  BOOST_CHECK_THROW((void)nabla::check_gradient(bad, x), std::runtime_error);
  BOOST_TEST((tape.position() == before));
  const auto bad_scalar = [](const TensorVar& t) -> Var {
    const Var v = t(0) * t(1);
    if (v.value() > 0) throw std::runtime_error("user error");
    return v;
  };
  BOOST_CHECK_THROW((void)nabla::value_and_gradient(bad_scalar, x), std::runtime_error);
  BOOST_TEST((tape.position() == before));
  BOOST_TEST(tape.statistics().tensor_nodes == 0u);
}

// ---- Silent wrong answers --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(matmul_with_an_empty_inner_dimension_is_zero) {
  Tape tape;
  Tape::Scope scope(tape);
  // Fill the arena with garbage first, so uninitialised memory would show.
  {
    const Position p = tape.position();
    (void)nabla::constant(Tensor(Shape{64, 64}, 7.5));
    tape.rewind(p);
  }
  const TensorVar a = nabla::variable(Tensor(Shape{3, 0}));
  const TensorVar b = nabla::variable(Tensor(Shape{0, 4}));
  const TensorVar c = nabla::matmul(a, b);
  BOOST_TEST((c.shape() == Shape{3, 4}));
  for (double v : c.value().span()) BOOST_TEST(v == 0.0);
  const TensorVar ab = nabla::variable(Tensor(Shape{2, 3, 0}));
  const TensorVar bb = nabla::variable(Tensor(Shape{2, 0, 5}));
  const TensorVar cb = nabla::matmul(ab, bb);
  BOOST_TEST((cb.shape() == Shape{2, 3, 5}));
  for (double v : cb.value().span()) BOOST_TEST(v == 0.0);
  nabla::backward(nabla::sum(c) + nabla::sum(cb));
  BOOST_TEST(nabla::adjoint(a).size() == 0u);
  // An empty batch and empty rows give empty results.
  BOOST_TEST(nabla::matmul(nabla::variable(Tensor(Shape{0, 2, 3})),
                           nabla::variable(Tensor(Shape{0, 3, 4})))
                 .size() == 0u);
}

BOOST_AUTO_TEST_CASE(fused_and_unfused_agree_on_zero_times_infinity) {
  // d/dx [0 · √x] at 0: the unfused statements push a zero adjoint nowhere (0); fused, the
  // chain rule's 0 · ∞ must not turn it into NaN.
  const auto fused =
      nabla::value_and_gradient([](const auto& x) { return Var(0.0 * sqrt(x[0])); }, {0.0});
  const auto split = nabla::value_and_gradient(
      [](const auto& x) {
        const Var r = sqrt(x[0]);
        return Var(0.0 * r);
      },
      {0.0});
  BOOST_TEST(split.gradient[0] == 0.0);
  BOOST_TEST(fused.gradient[0] == 0.0);
  const auto fused2 = nabla::value_and_gradient(
      [](const auto& x) { return Var(x[1] * log(x[0]) + x[0] * 0.0 * sqrt(x[0])); }, {0.0, 0.0});
  BOOST_TEST(same(fused2.gradient[0], nabla::value_and_gradient(
                                          [](const auto& x) {
                                            const Var l = log(x[0]), r = sqrt(x[0]), z = x[0] * 0.0;
                                            return Var(x[1] * l + z * r);
                                          },
                                          {0.0, 0.0})
                                          .gradient[0]));
  // Tensor elementwise rules follow the same convention.
  const auto g = tensor_grad([](const TensorVar& t) { return nabla::sum(nabla::sqrt(t) * 0.0); },
                             Tensor({2}, {0.0, 4.0}));
  BOOST_TEST(g[0] == 0.0);
  BOOST_TEST(g[1] == 0.0);
}

// The tensor backward rules follow the sweep's 0·∞ = 0 and 0·NaN = 0 (detail::chain): where
// the adjoint is 0, nothing is pushed, even through a NaN or infinite partial; where it is
// not, NaN stays NaN.
namespace {
void expect_gradient(const std::string& name, const std::function<TensorVar(const TensorVar&)>& f,
                     const Tensor& x, const std::vector<double>& expected) {
  const std::vector<double> g = tensor_grad(f, x);
  BOOST_TEST_REQUIRE(g.size() == expected.size(), name);
  for (std::size_t i = 0; i < g.size(); ++i) {
    BOOST_TEST(same(g[i], expected[i]),
               name << ": d/dx[" << i << "] = " << g[i] << ", expected " << expected[i]);
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(softmax_backward_pushes_nothing_from_a_zero_adjoint) {
  // Rows [0, 0] (softmax ½, ½), [NaN, 1] (NaN), [∞, 1] (1, 0); only y[0, 0] is read.
  const Tensor x({3, 2}, {0.0, 0.0, qnan, 1.0, inf, 1.0});
  const TensorVar w = nabla::constant(Tensor({3, 2}, {1.0, 0.0, 0.0, 0.0, 0.0, 0.0}));
  const std::vector<double> softmax = {0.25, -0.25, 0.0, 0.0, 0.0, 0.0};
  const std::vector<double> log_softmax = {0.5, -0.5, 0.0, 0.0, 0.0, 0.0};
  expect_gradient(
      "softmax", [&](const TensorVar& t) { return nabla::sum(nabla::softmax(t) * w); }, x, softmax);
  expect_gradient(
      "log_softmax", [&](const TensorVar& t) { return nabla::sum(nabla::log_softmax(t) * w); }, x,
      log_softmax);
  // Along axis 0 (groups strided in memory): the same numbers.
  expect_gradient(
      "softmax axis 0",
      [&](const TensorVar& t) {
        return nabla::sum(nabla::softmax(nabla::transpose(t), 0) * nabla::transpose(w));
      },
      x, softmax);
  expect_gradient(
      "log_softmax axis 0",
      [&](const TensorVar& t) {
        return nabla::sum(nabla::log_softmax(nabla::transpose(t), 0) * nabla::transpose(w));
      },
      x, log_softmax);
  // Added to an adjoint already written (x · 2 is swept first): 2 more everywhere.
  for (bool log : {false, true}) {
    std::vector<double> expected = log ? log_softmax : softmax;
    for (double& e : expected) e += 2.0;
    expect_gradient(
        log ? "log_softmax after x · 2" : "softmax after x · 2",
        [&](const TensorVar& t) {
          const TensorVar y = log ? nabla::log_softmax(t) : nabla::softmax(t);
          const TensorVar twice = t * 2.0;
          return nabla::sum(y * w) + nabla::sum(twice);
        },
        x, expected);
  }
  // A nonzero adjoint on the NaN row: the row's gradient is NaN (nothing is hidden).
  const TensorVar on_nan = nabla::constant(Tensor({3, 2}, {0.0, 0.0, 0.0, 1.0, 0.0, 0.0}));
  expect_gradient("softmax, NaN row read",
                  [&](const TensorVar& t) { return nabla::sum(nabla::softmax(t) * on_nan); }, x,
                  {0.0, 0.0, qnan, qnan, 0.0, 0.0});
  expect_gradient("log_softmax, NaN row read",
                  [&](const TensorVar& t) { return nabla::sum(nabla::log_softmax(t) * on_nan); }, x,
                  {0.0, 0.0, qnan, qnan, 0.0, 0.0});
}

BOOST_AUTO_TEST_CASE(matmul_backward_pushes_nothing_from_a_zero_adjoint) {
  // A = [[1, 2], [∞, NaN]], B = [[∞, 1], [2, 3]]; only C[0, 1] = 1·1 + 2·3 is read:
  // dA = dC·Bᵀ = [[1, 3], [0, 0]], dB = Aᵀ·dC = [[0, 1], [0, 2]] (the plain products give NaN
  // for dA[0, 0], the second row of dA and every entry of dB).
  const std::vector<double> a = {1.0, 2.0, inf, qnan}, b = {inf, 1.0, 2.0, 3.0};
  std::vector<double> packed = a;
  packed.insert(packed.end(), b.begin(), b.end());
  const Tensor x({8}, packed);
  const std::vector<double> expected = {1.0, 3.0, 0.0, 0.0, 0.0, 1.0, 0.0, 2.0};
  const auto product = [](const TensorVar& t, const Shape& sa, const Shape& sb, const Shape& sw) {
    const TensorVar c = nabla::matmul(nabla::reshape(nabla::slice(t, 0, 0, 4), sa),
                                      nabla::reshape(nabla::slice(t, 0, 4, t.size()), sb));
    return nabla::sum(c * nabla::constant(Tensor(sw, {0.0, 1.0, 0.0, 0.0})));
  };
  expect_gradient(
      "matmul",
      [&](const TensorVar& t) {
        return product(t, {2, 2}, {2, 2}, {2, 2});
      },
      x, expected);
  expect_gradient(
      "matmul with a shared right factor",
      [&](const TensorVar& t) {
        return product(t, {2, 1, 2}, {2, 2}, {2, 1, 2});
      },
      x, expected);
  // Batched, B's second batch [[1, 2], [3, 4]] meeting A's NaN row with a zero adjoint; after
  // x · ½ has written the adjoint (½ more everywhere).
  std::vector<double> batched = packed;
  for (double v : {1.0, 2.0, 3.0, 4.0}) batched.push_back(v);
  std::vector<double> batched_expected = expected;
  batched_expected.resize(12, 0.0);
  for (double& e : batched_expected) e += 0.5;
  expect_gradient(
      "batched matmul after x · ½",
      [&](const TensorVar& t) {
        const TensorVar loss = product(t, {2, 1, 2}, {2, 2, 2}, {2, 1, 2});
        const TensorVar half = t * 0.5;
        return loss + nabla::sum(half);
      },
      Tensor({12}, batched), batched_expected);
  // Every entry of C read: the infinite and NaN products stay (dA[0, 0] = ∞ + 1, dB[1, 0] =
  // 2 + NaN).
  const auto all = tensor_grad(
      [](const TensorVar& t) {
        return nabla::sum(nabla::matmul(nabla::reshape(nabla::slice(t, 0, 0, 4), {2, 2}),
                                        nabla::reshape(nabla::slice(t, 0, 4, 8), {2, 2})));
      },
      x);
  BOOST_TEST(all[0] == inf);
  BOOST_TEST(std::isnan(all[6]));
}

BOOST_AUTO_TEST_CASE(loss_backward_pushes_nothing_from_a_zero_adjoint) {
  // 0 · loss + Σ 3x: the loss's partials are NaN at x (a NaN logit, ∞ − ∞ in mse), its
  // adjoint 0: the gradient is 3 everywhere.
  const std::vector<int> labels{0};
  const Tensor targets({2}, {0.0, 1.0});
  using F = std::function<TensorVar(const TensorVar&)>;
  const std::vector<std::tuple<std::string, F, Tensor>> losses = {
      {"cross_entropy",
       [&](const TensorVar& t) {
         return nabla::cross_entropy(nabla::reshape(t, {1, 2}), labels);
       },
       Tensor({2}, {qnan, 1.0})},
      {"binary_cross_entropy_with_logits",
       [&](const TensorVar& t) { return nabla::binary_cross_entropy_with_logits(t, targets); },
       Tensor({2}, {qnan, 1.0})},
      {"mse",
       [](const TensorVar& t) {
         return nabla::mse(nabla::slice(t, 0, 0, 2), nabla::slice(t, 0, 2, 4));
       },
       Tensor({4}, {inf, 1.0, inf, 2.0})},
  };
  for (const auto& [name, loss, x] : losses) {
    const std::vector<double> three(x.size(), 3.0);
    expect_gradient(
        name + " · 0",
        [&](const TensorVar& t) {
          const TensorVar zero = 0.0 * loss(t);
          return zero + nabla::sum(t * 3.0);
        },
        x, three);
    // With a nonzero adjoint the NaN partial arrives.
    BOOST_TEST(std::isnan(tensor_grad(loss, x)[0]), name);
  }
}

BOOST_AUTO_TEST_CASE(log_sum_exp_special_points_agree_in_every_form) {
  struct Case {
    double a, b, value, da, db;
  };
  const Case cases[] = {
      {qnan, 1.0, qnan, qnan, qnan}, {1.0, qnan, qnan, qnan, qnan}, {inf, 1.0, inf, 1.0, 0.0},
      {inf, inf, inf, 0.5, 0.5},     {-inf, -inf, -inf, 0.5, 0.5},  {-inf, 0.0, 0.0, 0.0, 1.0},
      {inf, qnan, qnan, qnan, qnan},
  };
  for (const Case& c : cases) {
    const std::string at = fmt::format("log_sum_exp({}, {})", c.a, c.b);
    const double d[] = {c.a, c.b};
    BOOST_TEST(same(nabla::log_sum_exp(d), c.value), at);
    const auto s = nabla::value_and_gradient(
        [](std::span<const Var> x) { return nabla::log_sum_exp(x); }, {c.a, c.b});
    BOOST_TEST(same(s.value, c.value), at << " scalar");
    BOOST_TEST(same(s.gradient[0], c.da), at << " scalar d/da " << s.gradient[0]);
    BOOST_TEST(same(s.gradient[1], c.db), at << " scalar d/db " << s.gradient[1]);
    const auto t = nabla::value_and_gradient(
        [](const TensorVar& x) { return nabla::log_sum_exp(x); }, Tensor({2}, {c.a, c.b}));
    BOOST_TEST(same(t.value, c.value), at << " tensor");
    BOOST_TEST(same(t.gradient[0], c.da), at << " tensor d/da " << t.gradient[0]);
    BOOST_TEST(same(t.gradient[1], c.db), at << " tensor d/db " << t.gradient[1]);
  }
}

BOOST_AUTO_TEST_CASE(atan2_and_acosh_partials_hold_at_extreme_magnitudes) {
  for (double s : {1e-300, 1e-200, 1e-163, 1e-100, 1.0, 1e100, 1e155, 1e200, 1e300}) {
    const double y = 3 * s, x = 4 * s;  // ∂y = x/(x² + y²) = 4/(25 s), ∂x = −3/(25 s)
    const auto g =
        nabla::value_and_gradient([](const auto& v) { return Var(atan2(v[0], v[1])); }, {y, x});
    BOOST_TEST(g.gradient[0] == 4 / (25 * s), boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g.gradient[1] == -3 / (25 * s), boost::test_tools::tolerance(1e-14));
    const auto gx =
        nabla::value_and_gradient([x](const auto& v) { return Var(atan2(v[0], x)); }, {y});
    const auto gy =
        nabla::value_and_gradient([y](const auto& v) { return Var(atan2(y, v[0])); }, {x});
    BOOST_TEST(gx.gradient[0] == g.gradient[0]);
    BOOST_TEST(gy.gradient[0] == g.gradient[1]);
  }
  for (double x : {1e10, 1e154, 1e155, 1e200, 1e300, 1.7e308}) {
    const auto g = nabla::value_and_gradient([](const auto& v) { return Var(acosh(v[0])); }, {x});
    BOOST_TEST(g.gradient[0] == 1 / x, boost::test_tools::tolerance(1e-14));
  }
}

BOOST_AUTO_TEST_CASE(tensor_and_scalar_rules_agree_at_edge_points) {
  using F = std::function<TensorVar(const TensorVar&)>;
  using S = std::function<Var(const Var&)>;
  const std::vector<std::tuple<std::string, F, S>> rules = {
      {"tanh", [](const TensorVar& t) { return nabla::tanh(t); },
       [](const Var& v) { return Var(tanh(v)); }},
      {"sigmoid", [](const TensorVar& t) { return nabla::sigmoid(t); },
       [](const Var& v) { return nabla::sigmoid(v); }},
      {"softplus", [](const TensorVar& t) { return nabla::softplus(t); },
       [](const Var& v) { return nabla::softplus(v); }},
      {"exp", [](const TensorVar& t) { return nabla::exp(t); },
       [](const Var& v) { return Var(exp(v)); }},
      {"log", [](const TensorVar& t) { return nabla::log(t); },
       [](const Var& v) { return Var(log(v)); }},
      {"log1p", [](const TensorVar& t) { return nabla::log1p(t); },
       [](const Var& v) { return Var(log1p(v)); }},
      {"sqrt", [](const TensorVar& t) { return nabla::sqrt(t); },
       [](const Var& v) { return Var(sqrt(v)); }},
      {"abs", [](const TensorVar& t) { return nabla::abs(t); },
       [](const Var& v) { return Var(abs(v)); }},
      {"relu", [](const TensorVar& t) { return nabla::relu(t); },
       [](const Var& v) { return Var(relu(v)); }},
      {"exp2", [](const TensorVar& t) { return nabla::exp2(t); },
       [](const Var& v) { return Var(exp2(v)); }},
      {"expm1", [](const TensorVar& t) { return nabla::expm1(t); },
       [](const Var& v) { return Var(expm1(v)); }},
      {"log2", [](const TensorVar& t) { return nabla::log2(t); },
       [](const Var& v) { return Var(log2(v)); }},
      {"log10", [](const TensorVar& t) { return nabla::log10(t); },
       [](const Var& v) { return Var(log10(v)); }},
      {"cbrt", [](const TensorVar& t) { return nabla::cbrt(t); },
       [](const Var& v) { return Var(cbrt(v)); }},
      {"sin", [](const TensorVar& t) { return nabla::sin(t); },
       [](const Var& v) { return Var(sin(v)); }},
      {"cos", [](const TensorVar& t) { return nabla::cos(t); },
       [](const Var& v) { return Var(cos(v)); }},
      {"tan", [](const TensorVar& t) { return nabla::tan(t); },
       [](const Var& v) { return Var(tan(v)); }},
      {"asin", [](const TensorVar& t) { return nabla::asin(t); },
       [](const Var& v) { return Var(asin(v)); }},
      {"acos", [](const TensorVar& t) { return nabla::acos(t); },
       [](const Var& v) { return Var(acos(v)); }},
      {"atan", [](const TensorVar& t) { return nabla::atan(t); },
       [](const Var& v) { return Var(atan(v)); }},
      {"sinh", [](const TensorVar& t) { return nabla::sinh(t); },
       [](const Var& v) { return Var(sinh(v)); }},
      {"cosh", [](const TensorVar& t) { return nabla::cosh(t); },
       [](const Var& v) { return Var(cosh(v)); }},
      {"asinh", [](const TensorVar& t) { return nabla::asinh(t); },
       [](const Var& v) { return Var(asinh(v)); }},
      {"acosh", [](const TensorVar& t) { return nabla::acosh(t); },
       [](const Var& v) { return Var(acosh(v)); }},
      {"atanh", [](const TensorVar& t) { return nabla::atanh(t); },
       [](const Var& v) { return Var(atanh(v)); }},
      {"erf", [](const TensorVar& t) { return nabla::erf(t); },
       [](const Var& v) { return Var(erf(v)); }},
      {"erfc", [](const TensorVar& t) { return nabla::erfc(t); },
       [](const Var& v) { return Var(erfc(v)); }},
      {"gelu", [](const TensorVar& t) { return nabla::gelu(t); },
       [](const Var& v) { return Var(gelu(v)); }},
      {"silu", [](const TensorVar& t) { return nabla::silu(t); },
       [](const Var& v) { return Var(silu(v)); }},
      {"leaky_relu", [](const TensorVar& t) { return nabla::leaky_relu(t); },
       [](const Var& v) { return Var(leaky_relu(v)); }},
      {"leaky_relu 0.3", [](const TensorVar& t) { return nabla::leaky_relu(t, 0.3); },
       [](const Var& v) { return Var(leaky_relu(v, 0.3)); }},
      {"elu", [](const TensorVar& t) { return nabla::elu(t); },
       [](const Var& v) { return Var(elu(v)); }},
      {"elu 0.5", [](const TensorVar& t) { return nabla::elu(t, 0.5); },
       [](const Var& v) { return Var(elu(v, 0.5)); }},
      {"pow 2.5", [](const TensorVar& t) { return nabla::pow(t, 2.5); },
       [](const Var& v) { return Var(pow(v, 2.5)); }},
      {"pow 0", [](const TensorVar& t) { return nabla::pow(t, 0.0); },
       [](const Var& v) { return Var(pow(v, 0.0)); }},
  };
  const std::vector<double> points = {0.0,   -0.0,   1e-300, -1e-300, 0.5,   -3.0,
                                      20.0,  40.0,   -40.0,  355.0,   800.0, -800.0,
                                      1e300, -1e300, inf,    -inf,    qnan};
  for (const auto& [name, tensor_f, scalar_f] : rules) {
    for (double x : points) {
      const auto scalar =
          nabla::value_and_gradient([&](const auto& v) { return scalar_f(v[0]); }, {x});
      const auto tensor = nabla::value_and_gradient(
          [&](const TensorVar& t) { return nabla::sum(tensor_f(t)); }, Tensor({1}, {x}));
      BOOST_TEST(same(scalar.value, tensor.value), name << " at " << x);
      BOOST_TEST(same(scalar.gradient[0], tensor.gradient[0]),
                 name << "' at " << x << ": scalar " << scalar.gradient[0] << ", tensor "
                      << tensor.gradient[0]);
    }
  }
  BOOST_TEST(
      nabla::value_and_gradient([](const auto& v) { return Var(tanh(v[0])); }, {20.0}).gradient[0] >
      0.0);
  BOOST_TEST(tensor_grad([](const TensorVar& t) { return nabla::sum(nabla::sigmoid(t)); },
                         Tensor({1}, {40.0}))[0] > 0.0);
  // ∂/∂y x^y at x = 0, for y at and around 0, both forms.
  for (double y : {0.0, 1.0, -1.0, 2.0}) {
    const auto s =
        nabla::value_and_gradient([](const auto& v) { return Var(pow(v[0], v[1])); }, {0.0, y});
    const auto t = nabla::value_and_gradient(
        [](const TensorVar& v) {
          return nabla::sum(nabla::pow(nabla::slice(v, 0, 0, 1), nabla::slice(v, 0, 1, 2)));
        },
        Tensor({2}, {0.0, y}));
    BOOST_TEST(same(s.gradient[0], t.gradient[0]), "d/dx 0^" << y);
    BOOST_TEST(same(s.gradient[1], t.gradient[1]),
               "d/dy 0^" << y << ": " << s.gradient[1] << " vs " << t.gradient[1]);
  }
}

// ---- Helpers change nothing outside their own recording -----------------------------------------

BOOST_AUTO_TEST_CASE(helpers_leave_earlier_adjoints_alone) {
  Tape tape;
  Tape::Scope scope(tape);
  const Var w = tape.variable(3.0);
  const Var y = w * w;
  tape.backward(y);
  BOOST_TEST(tape.adjoint_value(w) == 6.0);
  // An unrelated helper call, and one that uses w from outside (a constant to it).
  (void)nabla::value_and_gradient([](const auto& x) { return Var(x[0] * x[0]); }, {2.0});
  BOOST_TEST(tape.adjoint_value(w) == 6.0);
  const auto r = nabla::value_and_gradient([&](const auto& x) { return Var(x[0] * w); }, {2.0});
  BOOST_TEST(r.gradient[0] == 3.0);
  BOOST_TEST(tape.adjoint_value(w) == 6.0);
  BOOST_TEST(tape.adjoint_value(y) == 1.0);
  // The tensor helper too.
  const TensorVar W = nabla::variable(Tensor({2}, {1, 2}));
  nabla::backward(nabla::sum(W * W) + w * w);  // a new backward: w's adjoint is 2w again
  const auto tr = nabla::value_and_gradient(
      [&](const TensorVar& x) { return nabla::sum(x * W) + Var(w * 0.5); }, Tensor({2}, {5, 7}));
  BOOST_TEST(tr.gradient == std::vector<double>({1.0, 2.0}));
  BOOST_TEST(nabla::adjoint(W)[0] == 2.0);
  BOOST_TEST(nabla::adjoint(W)[1] == 4.0);
  BOOST_TEST(tape.adjoint_value(w) == 6.0);
  // A helper's own inputs made inside f leave nothing behind for the next call.
  for (int i = 0; i < 3; ++i) {
    const auto q = nabla::value_and_gradient(
        [](const auto& x) {
          const Var extra = nabla::variable(2.0);  // an input f records itself
          return Var(x[0] * extra);
        },
        {1.0});
    BOOST_TEST(q.gradient[0] == 2.0);
  }
}

BOOST_AUTO_TEST_CASE(helpers_do_not_write_parameter_gradients) {
  Tape tape;
  Tape::Scope scope(tape);
  nabla::nn::Parameters params(1);
  const auto W = params.add("W", Tensor({2}, {1.5, -2.0}));
  params.zero_grad();
  const auto r = nabla::value_and_gradient([&](const TensorVar& x) { return nabla::sum(x * W); },
                                           Tensor({2}, {3, 4}));
  BOOST_TEST(r.gradient == std::vector<double>({1.5, -2.0}));
  BOOST_TEST(params.gradients()[0] == 0.0);
  BOOST_TEST(params.gradients()[1] == 0.0);
  // A training step's backward does write them.
  nabla::backward(nabla::sum(TensorVar(W) * 2.0));
  BOOST_TEST(params.gradients()[0] == 2.0);
}

// ---- nn::Parameters lifetime ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(parameters_add_from_a_view_of_itself) {
  nabla::nn::Parameters params(1);
  auto W1 = params.add("W1", Shape{300, 300});
  const std::vector<double> expected(W1.value().data(), W1.value().data() + W1.value().size());
  auto W2 = params.add("W2", W1.value());  // the buffer grows while W1's view points into it
  BOOST_TEST(std::vector<double>(W2.value().data(), W2.value().data() + W2.value().size()) ==
             expected);
}

BOOST_AUTO_TEST_CASE(parameters_cannot_move_under_a_recording) {
  Tape tape;
  Tape::Scope scope(tape);
  nabla::nn::Parameters params(1);
  auto W = params.add("W", Shape{4, 4});
  const Position p = tape.position();
  const TensorVar loss = nabla::sum(TensorVar(W) * 2.0);
  expect_error([&] { (void)params.add("b", Shape{4}); }, {"'b'", "recorded", "rewound"});
  nabla::backward(loss);
  BOOST_TEST(params.gradients()[0] == 2.0);
  tape.rewind(p);
  (void)params.add("b", Shape{4});  // fine once the uses are gone
  BOOST_TEST(params.count() == 2u);
}

BOOST_AUTO_TEST_CASE(parameters_destroyed_before_the_tape_is_rewound) {
  Tape tape;
  Tape::Scope scope(tape);
  TensorVar loss;
  {
    auto params = std::make_unique<nabla::nn::Parameters>(1);
    auto W = params->add("W", Shape{8, 8});
    loss = nabla::sum(nabla::tanh(TensorVar(W)));
  }
  // The set is gone; its recorded use keeps the buffers alive, so the sweep is memory-safe.
  nabla::backward(loss);
  BOOST_TEST(std::isfinite(loss.value()[0]));
  tape.clear();
}

// ---- Every elementary derivative at every magnitude, against a long-double reference ------------

namespace {
// Forward mode in long double (15-bit exponent, 64-bit mantissa): x² of 1e300 does not
// overflow, 1e-300² does not underflow, so this reference is right wherever ours might not be.
struct LD {
  long double v, d;
};
LD chain(LD x, long double value, long double derivative) { return {value, x.d * derivative}; }
constexpr long double pi_l = 3.141592653589793238462643383279502884L;
LD exp(LD x) {
  const long double e = expl(x.v);
  return chain(x, e, e);
}
LD exp2(LD x) {
  const long double e = exp2l(x.v);
  return chain(x, e, e * logl(2.0L));
}
LD expm1(LD x) { return chain(x, expm1l(x.v), expl(x.v)); }
LD log(LD x) { return chain(x, logl(x.v), 1 / x.v); }
LD log2(LD x) { return chain(x, log2l(x.v), 1 / (x.v * logl(2.0L))); }
LD log10(LD x) { return chain(x, log10l(x.v), 1 / (x.v * logl(10.0L))); }
LD log1p(LD x) { return chain(x, log1pl(x.v), 1 / (1 + x.v)); }
LD sqrt(LD x) { return chain(x, sqrtl(x.v), 1 / (2 * sqrtl(x.v))); }
LD cbrt(LD x) {
  const long double c = cbrtl(x.v);
  return chain(x, c, 1 / (3 * c * c));
}
LD sin(LD x) { return chain(x, sinl(x.v), cosl(x.v)); }
LD cos(LD x) { return chain(x, cosl(x.v), -sinl(x.v)); }
LD tan(LD x) {
  const long double c = cosl(x.v);
  return chain(x, tanl(x.v), 1 / (c * c));
}
LD asin(LD x) { return chain(x, asinl(x.v), 1 / sqrtl(1 - x.v * x.v)); }
LD acos(LD x) { return chain(x, acosl(x.v), -1 / sqrtl(1 - x.v * x.v)); }
LD atan(LD x) { return chain(x, atanl(x.v), 1 / (1 + x.v * x.v)); }
LD sinh(LD x) { return chain(x, sinhl(x.v), coshl(x.v)); }
LD cosh(LD x) { return chain(x, coshl(x.v), sinhl(x.v)); }
LD tanh(LD x) {
  const long double c = coshl(x.v);
  return chain(x, tanhl(x.v), 1 / (c * c));
}
LD asinh(LD x) { return chain(x, asinhl(x.v), 1 / sqrtl(x.v * x.v + 1)); }
LD acosh(LD x) { return chain(x, acoshl(x.v), 1 / sqrtl(x.v * x.v - 1)); }
LD atanh(LD x) { return chain(x, atanhl(x.v), 1 / (1 - x.v * x.v)); }
LD erf(LD x) { return chain(x, erfl(x.v), 2 / sqrtl(pi_l) * expl(-x.v * x.v)); }
LD erfc(LD x) { return chain(x, erfcl(x.v), -2 / sqrtl(pi_l) * expl(-x.v * x.v)); }
LD abs(LD x) { return chain(x, fabsl(x.v), x.v > 0 ? 1 : x.v < 0 ? -1 : 0); }
LD pow(LD x, double c) { return chain(x, powl(x.v, c), c == 0 ? 0 : c * powl(x.v, c - 1)); }
LD pow(double c, LD y) {
  const long double p = powl(c, y.v);
  return chain(y, p, p * logl(c));
}
LD atan2(LD y, long double x) { return chain(y, atan2l(y.v, x), x / (x * x + y.v * y.v)); }
LD atan2(long double y, LD x) { return chain(x, atan2l(y, x.v), -y / (x.v * x.v + y * y)); }
LD hypot(LD x, long double c) {
  const long double h = sqrtl(x.v * x.v + c * c);
  return chain(x, h, x.v / h);
}
LD sigmoid(LD x) {
  const long double e = expl(-fabsl(x.v));  // σ′ = e^(−|x|)/(1 + e^(−|x|))², exact in the tails
  return chain(x, 1 / (1 + expl(-x.v)), e / ((1 + e) * (1 + e)));
}
LD softplus(LD x) { return chain(x, log1pl(expl(x.v)), 1 / (1 + expl(-x.v))); }
LD gelu(LD x) {
  const long double c = erfcl(-x.v / sqrtl(2.0L));
  return chain(x, 0.5L * x.v * c, 0.5L * c + x.v * expl(-x.v * x.v / 2) / sqrtl(2 * pi_l));
}
LD silu(LD x) {
  const long double s = 1 / (1 + expl(-x.v)), s_minus = 1 / (1 + expl(x.v));  // σ(x), σ(−x)
  return chain(x, x.v * s, s * (1 + x.v * s_minus));
}
LD leaky_relu(LD x) { return x.v > 0 ? chain(x, x.v, 1) : chain(x, 0.01L * x.v, 0.01L); }
LD elu(LD x) { return x.v > 0 ? chain(x, x.v, 1) : chain(x, expm1l(x.v), expl(x.v)); }
}  // namespace

BOOST_AUTO_TEST_CASE(elementary_derivatives_hold_at_every_magnitude) {
  struct Rule {
    std::string name;
    std::function<Var(const Var&)> f;
    std::function<LD(LD)> reference;
    std::function<bool(double)> domain;
    std::function<double(double)> forward;  // the tangent of f at Dual(x, 1)
  };
  const auto all = [](double) { return true; };
  const auto positive = [](double x) { return x > 0; };
  const auto unit = [](double x) { return std::abs(x) < 1; };
  // clang-format off  (one rule per row)
#define NABLA_RULE(name, domain)                                                          \
  Rule {                                                                                  \
#name, [](const Var& x) { return Var(name(x)); }, [](LD x) { return name(x); }, domain, \
       [](double x) { return name(nabla::Dual<double>(x, 1.0)).tangent(); } \
  }
  const std::vector<Rule> rules = {
      NABLA_RULE(exp, all),
      NABLA_RULE(exp2, all),
      NABLA_RULE(expm1, all),
      NABLA_RULE(log, positive),
      NABLA_RULE(log2, positive),
      NABLA_RULE(log10, positive),
      NABLA_RULE(log1p, [](double x) { return x > -1; }),
      NABLA_RULE(sqrt, positive),
      NABLA_RULE(cbrt, all),
      NABLA_RULE(sin, all),
      NABLA_RULE(cos, all),
      NABLA_RULE(tan, all),
      NABLA_RULE(asin, unit),
      NABLA_RULE(acos, unit),
      NABLA_RULE(atan, all),
      NABLA_RULE(sinh, all),
      NABLA_RULE(cosh, all),
      NABLA_RULE(tanh, all),
      NABLA_RULE(asinh, all),
      NABLA_RULE(acosh, [](double x) { return x > 1; }),
      NABLA_RULE(atanh, unit),
      NABLA_RULE(erf, all),
      NABLA_RULE(erfc, all),
      NABLA_RULE(abs, all),
      NABLA_RULE(sigmoid, all),
      NABLA_RULE(softplus, all),
      NABLA_RULE(gelu, all),
      NABLA_RULE(silu, all),
      NABLA_RULE(leaky_relu, all),
      NABLA_RULE(elu, all),
      Rule{"pow(x, 2.5)", [](const Var& x) { return Var(pow(x, 2.5)); },
           [](LD x) { return pow(x, 2.5); }, positive,
           [](double x_) {
             const nabla::Dual<double> x(x_, 1.0);
             return (pow(x, 2.5)).tangent();
           }},
      Rule{"pow(x, -3)", [](const Var& x) { return Var(pow(x, -3.0)); },
           [](LD x) { return pow(x, -3.0); }, all,
           [](double x_) {
             const nabla::Dual<double> x(x_, 1.0);
             return (pow(x, -3.0)).tangent();
           }},
      Rule{"pow(x, 0.5)", [](const Var& x) { return Var(pow(x, 0.5)); },
           [](LD x) { return pow(x, 0.5); }, positive,
           [](double x_) {
             const nabla::Dual<double> x(x_, 1.0);
             return (pow(x, 0.5)).tangent();
           }},
      Rule{"pow(1.5, y)", [](const Var& y) { return Var(pow(1.5, y)); },
           [](LD y) { return pow(1.5, y); }, all,
           [](double y_) {
             const nabla::Dual<double> y(y_, 1.0);
             return (pow(1.5, y)).tangent();
           }},
      Rule{"atan2(y, 2)", [](const Var& y) { return Var(atan2(y, 2.0)); },
           [](LD y) { return atan2(y, 2.0L); }, all,
           [](double y_) {
             const nabla::Dual<double> y(y_, 1.0);
             return (atan2(y, 2.0)).tangent();
           }},
      Rule{"atan2(2, x)", [](const Var& x) { return Var(atan2(2.0, x)); },
           [](LD x) { return atan2(2.0L, x); }, all,
           [](double x_) {
             const nabla::Dual<double> x(x_, 1.0);
             return (atan2(2.0, x)).tangent();
           }},
      Rule{"atan2(y, 1e-300)", [](const Var& y) { return Var(atan2(y, 1e-300)); },
           [](LD y) { return atan2(y, 1e-300L); }, all,
           [](double y_) {
             const nabla::Dual<double> y(y_, 1.0);
             return (atan2(y, 1e-300)).tangent();
           }},
      Rule{"hypot(x, 1e-300)", [](const Var& x) { return Var(hypot(x, 1e-300)); },
           [](LD x) { return hypot(x, 1e-300L); }, all,
           [](double x_) {
             const nabla::Dual<double> x(x_, 1.0);
             return (hypot(x, 1e-300)).tangent();
           }},
      Rule{"hypot(x, 1e300)", [](const Var& x) { return Var(hypot(x, 1e300)); },
           [](LD x) { return hypot(x, 1e300L); }, all,
           [](double x_) {
             const nabla::Dual<double> x(x_, 1.0);
             return (hypot(x, 1e300)).tangent();
           }},
  };
#undef NABLA_RULE
  // clang-format on
  std::vector<double> points;
  for (int k :
       {-300, -200, -150, -100, -20, -5, -1, 0, 1, 2, 5, 20, 100, 150, 154, 155, 200, 300}) {
    for (double m : {1.0, 3.7, -1.0, -3.7}) points.push_back(m * std::pow(10.0, k));
  }
  for (double x :
       {0.5, -0.5, 0.999999, -0.999999, 1 - 1e-15, 1 + 1e-15, 700.0, -700.0, 710.0, -745.0})
    points.push_back(x);
  std::size_t checked = 0;
  for (const Rule& r : rules) {
    for (double x : points) {
      if (!r.domain(x)) continue;
      const LD ref = r.reference(LD{x, 1});
      const double want = static_cast<double>(ref.d);
      if (!std::isnormal(want)) continue;  // compare where the true derivative is a normal double
      const double got =
          nabla::value_and_gradient([&](const auto& v) { return r.f(v[0]); }, {x}).gradient[0];
      // Relative accuracy of a few ulps of the inputs' conditioning; tan and the trigonometric
      // functions at huge arguments are as accurate as libm's argument reduction.
      BOOST_TEST(std::abs(got - want) <= 1e-13 * std::abs(want),
                 r.name << "' at " << x << ": got " << got << ", reference " << want);
      // Forward mode, from the same rows, to the same accuracy.
      const double forward = r.forward(x);
      BOOST_TEST(std::abs(forward - want) <= 1e-13 * std::abs(want),
                 r.name << "' (forward) at " << x << ": got " << forward << ", reference " << want);
      ++checked;
    }
  }
  BOOST_TEST(checked > 800u);
}

// ---- The second error channel: internal invariants ---------------------------------------------

BOOST_AUTO_TEST_CASE(broken_invariants_abort_with_a_message) {
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
  BOOST_TEST(nabla::detail::assertions_enabled);  // on where the tests run under sanitizers
#endif
  int pipe_fds[2];
  BOOST_REQUIRE(pipe(pipe_fds) == 0);
  const pid_t child = fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    dup2(pipe_fds[1], 2);
    std::signal(SIGABRT, SIG_DFL);  // Boost.Test's handler would carry on testing in the child
    nabla::detail::assertion_failed("x < n", "tape.cpp", 42, "an index past the end");
  }
  close(pipe_fds[1]);
  std::string out;
  char buffer[256];
  for (ssize_t k; (k = read(pipe_fds[0], buffer, sizeof buffer)) > 0;)
    out.append(buffer, static_cast<std::size_t>(k));
  close(pipe_fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  BOOST_TEST(WIFSIGNALED(status));
  BOOST_TEST(WTERMSIG(status) == SIGABRT);
  BOOST_TEST(out.find("tape.cpp:42: x < n (an index past the end)") != std::string::npos, out);
}

BOOST_AUTO_TEST_SUITE_END()
