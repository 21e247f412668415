// Gradients with respect to several parameter blocks in place: nabla::blocks with gradient and
// value_and_gradient (Note [Parameter blocks] in gradient.hpp).
#include <nabla/autodiff.hpp>

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

using nabla::Var;

namespace {

// A Gaussian-mixture log-likelihood shaped like ADBench's GMM objective: k components in d
// dimensions with weights `alphas` (k), means (k·d) and inverse-covariance factors `icf`
// (k·(d + d(d−1)/2): the log-diagonal, then the strict lower triangle by rows).
constexpr std::size_t k_comp = 3, dim = 3, tri = dim * (dim - 1) / 2;
const std::vector<double> points = {0.5, -1.0, 2.0, 1.5, 0.3, -0.7, -0.2, 0.8, 1.1, 2.0, -0.5, 0.0};

template <class A, class M, class I>
Var gmm(const A& alphas, const M& means, const I& icf) {
  const std::size_t n = points.size() / dim;
  Var total = 0.0;
  for (std::size_t p = 0; p < n; ++p) {
    Var mix = 0.0;
    for (std::size_t c = 0; c < k_comp; ++c) {
      const std::size_t q = c * (dim + tri);
      Var log_det = 0.0, sq = 0.0;
      std::size_t l = q + dim;
      for (std::size_t i = 0; i < dim; ++i) {
        log_det += icf[q + i];
        // Row i of Q·(x − μ): exp(qᵢ)·(xᵢ − μᵢ) + Σ_{j<i} L_ij·(x_j − μ_j).
        Var row = exp(icf[q + i]) * (points[p * dim + i] - means[c * dim + i]);
        for (std::size_t j = 0; j < i; ++j)
          row += icf[l++] * (points[p * dim + j] - means[c * dim + j]);
        sq += row * row;
      }
      mix += exp(alphas[c] + log_det - 0.5 * sq);
    }
    total += log(mix);
  }
  Var norm = 0.0;
  for (std::size_t c = 0; c < k_comp; ++c) norm += exp(alphas[c]);
  Var reg = 0.0;
  for (std::size_t i = 0; i < icf.size(); ++i) reg += icf[i] * icf[i];
  return Var(total - static_cast<double>(n) * log(norm) + 0.5 * reg);
}

const std::vector<double> alphas0 = {-0.6, 0.2, 0.9};
const std::vector<double> means0 = {0.1, -0.4, 1.0, 1.2, 0.5, -0.3, -0.8, 0.7, 0.4};
const std::vector<double> icf0 = {0.1,  -0.2, 0.3, 0.5, -0.4, 0.25, 0.0, 0.2, -0.1,
                                  -0.3, 0.6,  0.1, 0.3, 0.1,  -0.2, 0.4, 0.0, 0.2};

std::string message_of(const auto& call) {
  try {
    call();
  } catch (const nabla::Error& e) {
    return e.what();
  }
  return "(no nabla::Error)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(blocks)

BOOST_AUTO_TEST_CASE(three_blocks_equal_the_one_vector_gradient) {
  BOOST_REQUIRE(icf0.size() == k_comp * (dim + tri));
  std::vector<double> alphas = alphas0, means = means0, icf = icf0;
  std::vector<double> ga(alphas.size(), -1.0), gm(means.size(), -1.0), gi(icf.size(), -1.0);
  const auto f = [](const auto& a, const auto& m, const auto& i) { return gmm(a, m, i); };
  const double value =
      nabla::gradient(f, nabla::blocks(alphas, means, icf), nabla::blocks(ga, gm, gi));

  // The same function of one concatenated vector.
  std::vector<double> x = alphas;
  x.insert(x.end(), means.begin(), means.end());
  x.insert(x.end(), icf.begin(), icf.end());
  const auto flat = [](std::span<const Var> v) {
    return gmm(v.subspan(0, k_comp), v.subspan(k_comp, k_comp * dim),
               v.subspan(k_comp + k_comp * dim));
  };
  const nabla::ValueAndGradient r = nabla::value_and_gradient(flat, x);
  BOOST_TEST(value == r.value);
  // The same statements swept in the same order: the same doubles, bit for bit.
  std::vector<double> joined = ga;
  joined.insert(joined.end(), gm.begin(), gm.end());
  joined.insert(joined.end(), gi.begin(), gi.end());
  BOOST_TEST(joined == r.gradient, boost::test_tools::per_element());
  // And finite differences agree with it.
  const nabla::GradientCheck check = nabla::check_gradient(flat, x);
  BOOST_TEST(check.ok);
  // The inputs are left as they were.
  BOOST_TEST(alphas == alphas0);
  BOOST_TEST(icf == icf0);

  // value_and_gradient over the blocks gives the same numbers.
  const auto [v2, g2] = nabla::value_and_gradient(f, nabla::blocks(alphas, means, icf));
  BOOST_TEST(v2 == value);
  BOOST_TEST(g2[0] == ga, boost::test_tools::per_element());
  BOOST_TEST(g2[1] == gm, boost::test_tools::per_element());
  BOOST_TEST(g2[2] == gi, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(closed_forms_for_one_two_and_five_blocks) {
  // One block: f(x) = Σ xᵢ³, ∂f/∂xᵢ = 3xᵢ².
  std::vector<double> x = {1.0, -2.0, 0.5};
  std::vector<double> g(3);
  const double f1 = nabla::gradient(
      [](const auto& v) {
        Var s = 0.0;
        for (const Var& e : v) s += e * e * e;
        return s;
      },
      nabla::blocks(x), nabla::blocks(g));
  BOOST_TEST(f1 == 1.0 - 8.0 + 0.125);
  BOOST_TEST((g == std::vector<double>{3.0, 12.0, 0.75}));

  // Two blocks: f(w, b) = sin(w·u) · b₀ + b₁² for a fixed u.
  const std::array<double, 3> u = {0.3, -1.0, 2.0};
  std::array<double, 3> w = {0.5, 0.25, -0.125};
  double b[2] = {1.5, -3.0};
  std::array<double, 3> gw{};
  double gb[2] = {};
  const double f2 = nabla::gradient(
      [&](const auto& wv, const auto& bv) {
        Var dot = 0.0;
        for (std::size_t i = 0; i < 3; ++i) dot += wv[i] * u[i];
        return Var(sin(dot) * bv[0] + bv[1] * bv[1]);
      },
      nabla::blocks(w, b), nabla::blocks(gw, gb));
  const double d = 0.5 * 0.3 - 0.25 - 0.125 * 2.0;
  BOOST_TEST(f2 == std::sin(d) * 1.5 + 9.0, boost::test_tools::tolerance(1e-15));
  for (std::size_t i = 0; i < 3; ++i)
    BOOST_TEST(gw[i] == std::cos(d) * u[i] * 1.5, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(gb[0] == std::sin(d), boost::test_tools::tolerance(1e-15));
  BOOST_TEST(gb[1] == -6.0);

  // Five blocks of different kinds (vector, std::array, C array, span over a pointer, Eigen):
  // f = Π over blocks of (Σ of the block), ∂f/∂x_k,i = f / Σ_k.
  std::vector<double> b0 = {1.0, 2.0};
  std::array<double, 1> b1 = {3.0};
  double b2[3] = {0.5, 0.25, 0.25};
  std::vector<double> storage = {4.0, -1.0};
  Eigen::VectorXd b4(2);
  b4 << 0.5, 1.5;
  std::vector<double> g0(2), g2(3), g3(2);
  std::array<double, 1> g1{};
  Eigen::VectorXd g4(2);
  const auto product_of_sums = [](const auto&... blk) {
    const auto sum = [](const auto& v) {
      Var s = 0.0;
      for (const Var& e : v) s += e;
      return s;
    };
    return Var((sum(blk) * ...));
  };
  const double f5 =
      nabla::gradient(product_of_sums, nabla::blocks(b0, b1, b2, std::span(storage.data(), 2), b4),
                      nabla::blocks(g0, g1, g2, std::span(g3.data(), g3.size()), g4));
  const double sums[5] = {3.0, 3.0, 1.0, 3.0, 2.0};
  BOOST_TEST(f5 == 54.0);
  for (double gi : g0) BOOST_TEST(gi == 54.0 / sums[0]);
  BOOST_TEST(g1[0] == 54.0 / sums[1]);
  for (double gi : g2) BOOST_TEST(gi == 54.0 / sums[2]);
  for (double gi : g3) BOOST_TEST(gi == 54.0 / sums[3]);
  for (double gi : g4) BOOST_TEST(gi == 54.0 / sums[4]);
}

BOOST_AUTO_TEST_CASE(finite_differences_of_two_blocks) {
  // f(a, b) = log(1 + Σ a²) · exp(b₀ − b₁) + a₀ b₂, against central differences per entry.
  const auto f = [](const auto& a, const auto& b) {
    using std::exp;
    using std::log;
    using T = std::remove_cvref_t<decltype(a[0])>;
    T s = 1.0 + a[0] * a[0];
    for (std::size_t i = 1; i < a.size(); ++i) s = s + a[i] * a[i];
    return log(s) * exp(b[0] - b[1]) + a[0] * b[2];
  };
  std::vector<double> a = {0.7, -0.3, 1.1, 0.05}, b = {0.2, -0.4, 1.3};
  std::vector<double> ga(4), gb(3);
  const double value =
      nabla::gradient([&](const auto& av, const auto& bv) { return Var(f(av, bv)); },
                      nabla::blocks(a, b), nabla::blocks(ga, gb));
  BOOST_TEST(value == f(a, b), boost::test_tools::tolerance(1e-14));
  const double h = 1e-6;
  const auto central = [&](std::vector<double>& v, std::size_t i) {
    const double saved = v[i];
    v[i] = saved + h;
    const double up = f(a, b);
    v[i] = saved - h;
    const double down = f(a, b);
    v[i] = saved;
    return (up - down) / (2 * h);
  };
  for (std::size_t i = 0; i < a.size(); ++i)
    BOOST_TEST(ga[i] == central(a, i), boost::test_tools::tolerance(1e-8));
  for (std::size_t i = 0; i < b.size(); ++i)
    BOOST_TEST(gb[i] == central(b, i), boost::test_tools::tolerance(1e-8));
}

BOOST_AUTO_TEST_CASE(empty_blocks) {
  // Empty blocks first, in the middle and last: f sees empty spans, their gradients stay empty,
  // the other blocks' gradients are in their places.
  std::vector<double> e0, e1, e2, x = {2.0, 3.0}, y = {5.0};
  std::vector<double> ge0, ge1, ge2, gx(2), gy(1);
  std::size_t sizes[5] = {9, 9, 9, 9, 9};
  const double v = nabla::gradient(
      [&](const auto& a, const auto& b, const auto& c, const auto& d, const auto& e) {
        sizes[0] = a.size(), sizes[1] = b.size(), sizes[2] = c.size(), sizes[3] = d.size(),
        sizes[4] = e.size();
        return Var(b[0] * b[1] * d[0]);
      },
      nabla::blocks(e0, x, e1, y, e2), nabla::blocks(ge0, gx, ge1, gy, ge2));
  BOOST_TEST(v == 30.0);
  BOOST_TEST(
      (std::vector<std::size_t>(sizes, sizes + 5) == std::vector<std::size_t>{0, 2, 0, 1, 0}));
  BOOST_TEST((gx == std::vector<double>{15.0, 10.0}));
  BOOST_TEST(gy[0] == 6.0);
  // Every block empty, and no block at all: a constant.
  BOOST_TEST(nabla::gradient([](const auto&, const auto&) { return Var(4.0); },
                             nabla::blocks(e0, e1), nabla::blocks(ge0, ge1)) == 4.0);
  BOOST_TEST(nabla::gradient([] { return Var(7.0); }, nabla::blocks(), nabla::blocks()) == 7.0);
  const auto r = nabla::value_and_gradient(
      [](const auto& a) { return Var(static_cast<double>(a.size())); }, nabla::blocks(e0));
  BOOST_TEST(r.value == 0.0);
  BOOST_TEST(r.gradient[0].empty());
}

BOOST_AUTO_TEST_CASE(a_huge_block_next_to_small_ones) {
  // f(s, big, t) = s₀ · Σ bigᵢ² + t₀: 2·10⁶ inputs in the middle block.
  const std::size_t n = 2'000'000;
  std::vector<double> big(n), gbig(n, -1.0);
  std::iota(big.begin(), big.end(), 0.0);
  for (double& v : big) v = 1e-6 * v;
  std::vector<double> s = {0.5}, t = {-2.0}, gs(1), gt(1);
  const auto f = [](const auto& sv, const auto& bv, const auto& tv) {
    Var sq = 0.0;
    for (const Var& e : bv) sq += e * e;
    return Var(sv[0] * sq + tv[0]);
  };
  const auto before = nabla::Tape::active().position();
  const double value = nabla::gradient(f, nabla::blocks(s, big, t), nabla::blocks(gs, gbig, gt));
  double sq = 0.0;
  for (double v : big) sq += v * v;
  BOOST_TEST(value == 0.5 * sq - 2.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(gs[0] == sq, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(gt[0] == 1.0);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) wrong += gbig[i] != 2.0 * 0.5 * big[i];  // 2 s₀ bigᵢ, exact
  BOOST_TEST(wrong == 0u);
  BOOST_TEST((nabla::Tape::active().position() == before));
}

BOOST_AUTO_TEST_CASE(non_finite_values) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto product = [](const auto& a, const auto& b) { return Var(a[0] * b[0] + a[1]); };
  // ∞ in one block: ∂(a₀b₀ + a₁)/∂a₀ = b₀ is finite, ∂/∂b₀ = a₀ = ∞.
  std::vector<double> a = {inf, 1.0}, b = {2.0}, ga(2), gb(1);
  BOOST_TEST(nabla::gradient(product, nabla::blocks(a, b), nabla::blocks(ga, gb)) == inf);
  BOOST_TEST(ga[0] == 2.0);
  BOOST_TEST(ga[1] == 1.0);
  BOOST_TEST(gb[0] == inf);
  // NaN in one block reaches only the derivatives it enters.
  b[0] = nan;
  a[0] = 3.0;
  BOOST_TEST(std::isnan(nabla::gradient(product, nabla::blocks(a, b), nabla::blocks(ga, gb))));
  BOOST_TEST(std::isnan(ga[0]));
  BOOST_TEST(ga[1] == 1.0);
  BOOST_TEST(gb[0] == 3.0);
  // And the next call is clean (no NaN adjoint left on the tape).
  b[0] = 2.0;
  BOOST_TEST(nabla::gradient(product, nabla::blocks(a, b), nabla::blocks(ga, gb)) == 7.0);
  BOOST_TEST((ga == std::vector<double>{2.0, 1.0}));
  BOOST_TEST(gb[0] == 3.0);
}

BOOST_AUTO_TEST_CASE(mismatched_sizes_and_overlaps_throw) {
  std::vector<double> a = {1.0, 2.0}, b = {3.0, 4.0, 5.0}, ga(2), gb(2, 42.0);
  const auto f = [](const auto& x, const auto& y) { return Var(x[0] * y[0]); };
  BOOST_TEST(message_of([&] { nabla::gradient(f, nabla::blocks(a, b), nabla::blocks(ga, gb)); }) ==
             "nabla::gradient: gradient block 1 of 2 has the wrong size (got 2 entries for "
             "an input block of 3, expected 3)");
  // Nothing was written, nothing recorded.
  BOOST_TEST((gb == std::vector<double>{42.0, 42.0}));
  BOOST_TEST(nabla::Tape::active().statistics().statements == 0u);

  // Two gradient blocks sharing memory would overwrite each other.
  std::vector<double> shared(4);
  std::vector<double> c = {1.0, 2.0};
  BOOST_TEST(message_of([&] {
               nabla::gradient(
                   f, nabla::blocks(a, b),
                   nabla::blocks(std::span(shared.data(), 2), std::span(shared.data() + 1, 3)));
             }) ==
             "nabla::gradient: gradient blocks 0 and 1 of 2 overlap in memory (expected a "
             "buffer of its own for each block's gradient)");
  // Adjacent but disjoint blocks of one buffer are fine.
  std::vector<double> whole(5);
  BOOST_TEST(nabla::gradient(
                 f, nabla::blocks(a, b),
                 nabla::blocks(std::span(whole.data(), 2), std::span(whole.data() + 2, 3))) == 3.0);
  BOOST_TEST((whole == std::vector<double>{3.0, 0.0, 1.0, 0.0, 0.0}));

  // A strided buffer is refused, not copied.
  Eigen::VectorXd storage(6);
  storage << 1, 2, 3, 4, 5, 6;
  const Eigen::Map<const Eigen::VectorXd, 0, Eigen::InnerStride<2>> strided(storage.data(), 3);
  BOOST_TEST(message_of([&] { (void)nabla::blocks(a, strided); }) ==
             "nabla::blocks: block 1 of 2 (3 entries) is not contiguous in memory (got a strided "
             "view; expected a buffer whose entries are adjacent, such as a std::vector, a "
             "std::span or an Eigen vector: copy a strided view into one first)");

  // Const buffers make read-only blocks (gradient() refuses them for g at compile time).
  const std::vector<double> ca = {1.0};
  static_assert(std::is_same_v<decltype(nabla::blocks(ca, ga)), nabla::Blocks<const double, 2>>);
  static_assert(std::is_same_v<decltype(nabla::blocks(a, ga)), nabla::Blocks<double, 2>>);
  static_assert(std::is_same_v<decltype(nabla::blocks(std::vector<double>{})),
                               nabla::Blocks<const double, 1>>);
  static_assert(std::is_same_v<decltype(nabla::blocks(std::span(ga))), nabla::Blocks<double, 1>>);
}

BOOST_AUTO_TEST_CASE(an_output_block_may_be_its_input_buffer) {
  // The inputs are read when recorded, the gradient written after the sweep: x ← ∇f(x).
  std::vector<double> x = {1.0, 2.0, 3.0}, y = {4.0};
  const double v = nabla::gradient(
      [](const auto& a, const auto& b) { return Var(a[0] * a[1] * a[2] + b[0] * a[0]); },
      nabla::blocks(x, y), nabla::blocks(x, y));
  BOOST_TEST(v == 10.0);
  BOOST_TEST((x == std::vector<double>{6.0 + 4.0, 3.0, 2.0}));
  BOOST_TEST(y[0] == 1.0);
}

BOOST_AUTO_TEST_CASE(a_throwing_f_then_a_good_call) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Var outer = tape.variable(2.0);
  const auto before = tape.position();
  std::vector<double> a = {1.0, 2.0}, b = {3.0}, ga = {-1.0, -1.0}, gb = {-1.0};
  const auto bad = [](const auto& x, const auto& y) -> Var {
    const Var half = x[0] * y[0] + sin(x[1]);  // records, then throws mid-recording
    if (half.value() > 0) throw std::runtime_error("user error");
    return half;
  };
  BOOST_CHECK_THROW(nabla::gradient(bad, nabla::blocks(a, b), nabla::blocks(ga, gb)),
                    std::runtime_error);
  BOOST_TEST((tape.position() == before));
  BOOST_TEST((ga == std::vector<double>{-1.0, -1.0}));  // untouched
  BOOST_TEST(gb[0] == -1.0);
  // The next call is right, and an outer variable f captures is a constant to it.
  const double v =
      nabla::gradient([&](const auto& x, const auto& y) { return Var(outer * x[0] * y[0] + x[1]); },
                      nabla::blocks(a, b), nabla::blocks(ga, gb));
  BOOST_TEST(v == 8.0);
  BOOST_TEST((ga == std::vector<double>{6.0, 1.0}));
  BOOST_TEST(gb[0] == 2.0);
  BOOST_TEST((tape.position() == before));
  BOOST_TEST(Var(outer * 3.0).value() == 6.0);  // still valid
}

BOOST_AUTO_TEST_CASE(repeated_calls_do_not_grow_the_tape) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  std::vector<double> alphas = alphas0, means = means0, icf = icf0;
  std::vector<double> ga(alphas.size()), gm(means.size()), gi(icf.size());
  const auto f = [](const auto& a, const auto& m, const auto& i) { return gmm(a, m, i); };
  const double first =
      nabla::gradient(f, nabla::blocks(alphas, means, icf), nabla::blocks(ga, gm, gi));
  const std::vector<double> ga1 = ga, gi1 = gi;
  const std::size_t reserved = tape.statistics().bytes_reserved;
  for (int i = 0; i < 50; ++i) {
    BOOST_TEST(nabla::gradient(f, nabla::blocks(alphas, means, icf), nabla::blocks(ga, gm, gi)) ==
               first);
    BOOST_TEST(tape.statistics().statements == 0u);
  }
  BOOST_TEST(tape.statistics().bytes_reserved == reserved);
  BOOST_TEST(ga == ga1, boost::test_tools::per_element());
  BOOST_TEST(gi == gi1, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(outputs_that_are_inputs_constants_or_outer_variables) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Var outer = tape.variable(5.0);
  tape.backward(Var(outer * outer));  // an adjoint of the caller's, which no helper may touch
  std::vector<double> a = {1.0, 2.0}, b = {3.0}, ga(2, 9.0), gb(1, 9.0);
  // f returns one of its inputs: a unit gradient.
  BOOST_TEST(nabla::gradient([](const auto& x, const auto&) { return x[1]; }, nabla::blocks(a, b),
                             nabla::blocks(ga, gb)) == 2.0);
  BOOST_TEST((ga == std::vector<double>{0.0, 1.0}));
  BOOST_TEST(gb[0] == 0.0);
  // A constant, and a variable recorded before the inputs: zero gradients.
  ga = {9.0, 9.0};
  gb = {9.0};
  BOOST_TEST(nabla::gradient([](const auto&, const auto&) { return Var(3.0); }, nabla::blocks(a, b),
                             nabla::blocks(ga, gb)) == 3.0);
  BOOST_TEST((ga == std::vector<double>{0.0, 0.0}));
  BOOST_TEST(gb[0] == 0.0);
  ga = {9.0, 9.0};
  BOOST_TEST(nabla::gradient([&](const auto&, const auto&) { return outer; }, nabla::blocks(a, b),
                             nabla::blocks(ga, gb)) == 5.0);
  BOOST_TEST((ga == std::vector<double>{0.0, 0.0}));
  BOOST_TEST(tape.adjoint_value(outer) == 10.0);
  // A backward() inside f dirties the helper's adjoints: the blocks' gradient is still right.
  const double v = nabla::gradient(
      [](const auto& x, const auto& y) {
        const Var inner = x[0] * y[0];
        nabla::backward(inner);
        return Var(inner * x[1]);
      },
      nabla::blocks(a, b), nabla::blocks(ga, gb));
  BOOST_TEST(v == 6.0);
  BOOST_TEST((ga == std::vector<double>{6.0, 3.0}));
  BOOST_TEST(gb[0] == 2.0);
}

BOOST_AUTO_TEST_CASE(f_rewinding_below_its_inputs_throws) {
  std::vector<double> a = {1.0}, b = {2.0}, ga(1), gb(1);
  const std::string what = message_of([&] {
    nabla::gradient(
        [](const auto&, const auto&) {
          nabla::Tape::active().clear();
          return Var(nabla::variable(1.0) * 2.0 + nabla::variable(3.0));
        },
        nabla::blocks(a, b), nabla::blocks(ga, gb));
  });
  BOOST_TEST(what.find("f rewound or cleared the tape below its inputs") != std::string::npos,
             what);
  // And the helpers work afterwards.
  BOOST_TEST(nabla::gradient([](const auto& x, const auto& y) { return Var(x[0] * y[0]); },
                             nabla::blocks(a, b), nabla::blocks(ga, gb)) == 2.0);
  BOOST_TEST(ga[0] == 2.0);
  BOOST_TEST(gb[0] == 1.0);
}

BOOST_AUTO_TEST_CASE(nested_block_gradients) {
  // An inner block gradient inside f of an outer one: d/da of a · (∂/∂b of a·b²) = 2b·a at the
  // inner constant a.
  std::vector<double> a = {3.0}, b = {2.0}, ga(1), gb(1);
  const double v = nabla::gradient(
      [](const auto& x, const auto& y) {
        std::vector<double> inner_a = {x[0].value()}, inner_b = {y[0].value()}, ia(1), ib(1);
        (void)nabla::gradient([](const auto& p, const auto& q) { return Var(p[0] * q[0] * q[0]); },
                              nabla::blocks(inner_a, inner_b), nabla::blocks(ia, ib));
        return Var(x[0] * ib[0] + y[0]);  // ib = 2ab = 12
      },
      nabla::blocks(a, b), nabla::blocks(ga, gb));
  BOOST_TEST(v == 38.0);
  BOOST_TEST(ga[0] == 12.0);
  BOOST_TEST(gb[0] == 1.0);
}

BOOST_AUTO_TEST_CASE(a_run_time_number_of_blocks) {
  // A chain of L layers of run-time count: f = Σ_l Π_i (1 + w_l,i)·l, against the one-vector
  // gradient of the same function.
  for (std::size_t layers : {std::size_t{1}, std::size_t{4}}) {
    std::vector<std::vector<double>> w, g;
    for (std::size_t l = 0; l < layers; ++l) {
      w.push_back(std::vector<double>(l + 1));
      for (std::size_t i = 0; i <= l; ++i) w.back()[i] = 0.1 * static_cast<double>(i + l) - 0.2;
      g.push_back(std::vector<double>(l + 1, -1.0));
    }
    w.insert(w.begin() + 1, std::vector<double>{});  // an empty block too
    g.insert(g.begin() + 1, std::vector<double>{});
    const auto layer = [](const auto& v, std::size_t l) {
      Var p = static_cast<double>(l);
      for (const Var& e : v) p *= 1.0 + e;
      return p;
    };
    const double value = nabla::gradient_blocks(
        [&](std::span<const std::span<const Var>> blocks) {
          Var f = 0.0;
          for (std::size_t l = 0; l < blocks.size(); ++l) f += layer(blocks[l], l);
          return f;
        },
        w, g);
    std::vector<double> x;
    for (const auto& b : w) x.insert(x.end(), b.begin(), b.end());
    const auto r = nabla::value_and_gradient(
        [&](std::span<const Var> v) {
          Var f = 0.0;
          std::size_t at = 0;
          for (std::size_t l = 0; l < w.size(); ++l) {
            f += layer(v.subspan(at, w[l].size()), l);
            at += w[l].size();
          }
          return f;
        },
        x);
    BOOST_TEST(value == r.value);
    std::vector<double> joined;
    for (const auto& b : g) joined.insert(joined.end(), b.begin(), b.end());
    BOOST_TEST(joined == r.gradient, boost::test_tools::per_element());
    BOOST_TEST(joined.size() == x.size());
  }
  // Spans over the caller's arrays work as blocks too, and no block at all is a constant.
  double a[2] = {2.0, 3.0}, ga[2] = {};
  const std::vector<std::span<const double>> xs = {std::span<const double>(a)};
  const std::vector<std::span<double>> gs = {std::span<double>(ga)};
  const auto f = [](std::span<const std::span<const Var>> b) { return Var(b[0][0] * b[0][1]); };
  BOOST_TEST(nabla::gradient_blocks(f, xs, gs) == 6.0);
  BOOST_TEST(ga[0] == 3.0);
  BOOST_TEST(ga[1] == 2.0);
  const std::vector<std::vector<double>> none;
  std::vector<std::vector<double>> no_grads;
  BOOST_TEST(nabla::gradient_blocks([](std::span<const std::span<const Var>>) { return Var(1.5); },
                                    none, no_grads) == 1.5);
  // Wrong counts and sizes.
  std::vector<std::vector<double>> two = {{1.0}, {2.0}}, one = {{0.0}}, bad = {{0.0}, {0.0, 0.0}};
  const auto g2 = [](std::span<const std::span<const Var>> b) { return Var(b[0][0] * b[1][0]); };
  BOOST_TEST(message_of([&] { nabla::gradient_blocks(g2, two, one); }) ==
             "nabla::gradient_blocks: the number of gradient blocks is wrong (got 1 for 2 input "
             "blocks, expected 2)");
  BOOST_TEST(message_of([&] { nabla::gradient_blocks(g2, two, bad); }) ==
             "nabla::gradient_blocks: gradient block 1 of 2 has the wrong size (got 2 entries for "
             "an input block of 1, expected 1)");
  BOOST_TEST(nabla::Tape::active().statistics().statements == 0u);

  // Many blocks over one buffer: disjoint is fine, one overlap among 40 is found.
  std::vector<double> store(200);
  std::vector<std::vector<double>> many(40, std::vector<double>(5, 1.0));
  std::vector<std::span<double>> views;
  for (std::size_t k = 0; k < 40; ++k) views.emplace_back(store.data() + 5 * (39 - k), 5);
  const auto sum_all = [](std::span<const std::span<const Var>> bl) {
    Var s = 0.0;
    for (const auto& v : bl)
      for (const Var& e : v) s += e;
    return s;
  };
  BOOST_TEST(nabla::gradient_blocks(sum_all, many, views) == 200.0);
  BOOST_TEST(std::count(store.begin(), store.end(), 1.0) == 200);
  views[7] = std::span<double>(store.data() + 5 * (39 - 20) + 2, 5);  // into block 20's and 19's
  BOOST_TEST(message_of([&] { nabla::gradient_blocks(sum_all, many, views); }) ==
             "nabla::gradient_blocks: gradient blocks 7 and 20 of 40 overlap in memory (expected "
             "a buffer of its own for each block's gradient)");
  // A long block that covers many short ones.
  views[7] = std::span<double>(store.data() + 5 * (39 - 7), 5);
  views[0] = std::span<double>(store.data() + 1, 150);
  many[0].assign(150, 1.0);
  BOOST_TEST(message_of([&] { nabla::gradient_blocks(sum_all, many, views); }) ==
             "nabla::gradient_blocks: gradient blocks 0 and 39 of 40 overlap in memory (expected "
             "a buffer of its own for each block's gradient)");
}

BOOST_AUTO_TEST_CASE(the_docs_example) {
  // docs/getting-started.md, "Parameters in several buffers".
  std::vector<double> w = {0.5, -1.0, 2.0}, b = {0.1};
  std::vector<double> grad_w(w.size()), grad_b(b.size());
  const std::vector<double> xs = {1, 2, 3, 0, 1, -1}, ys = {4, -2};
  const auto loss = [&](const auto& weights, const auto& bias) {
    Var f = 0.0;
    for (std::size_t p = 0; p < ys.size(); ++p) {
      Var r = bias[0] - ys[p];
      for (std::size_t j = 0; j < weights.size(); ++j) r += weights[j] * xs[3 * p + j];
      f += r * r;
    }
    return f;
  };
  const double value = nabla::gradient(loss, nabla::blocks(w, b), nabla::blocks(grad_w, grad_b));
  const auto tol = boost::test_tools::tolerance(1e-14);
  BOOST_TEST(value == 1.17, tol);
  BOOST_TEST(grad_w[0] == 1.2, tol);
  BOOST_TEST(grad_w[1] == 0.6, tol);
  BOOST_TEST(grad_w[2] == 5.4, tol);
  BOOST_TEST(grad_b[0] == -0.6, tol);
  const auto [f, grad] = nabla::value_and_gradient(loss, nabla::blocks(w, b));
  BOOST_TEST(f == value);
  BOOST_TEST(grad[0] == grad_w, boost::test_tools::per_element());
  BOOST_TEST(grad[1] == grad_b, boost::test_tools::per_element());

  std::vector<std::vector<double>> layers = {{1.0, 2.0}, {}, {3.0}}, grads = {{0, 0}, {}, {0}};
  const double product = nabla::gradient_blocks(
      [](std::span<const std::span<const Var>> blocks) {
        Var p = 1.0;
        for (const std::span<const Var> block : blocks)
          for (const Var& v : block) p *= v;
        return p;
      },
      layers, grads);
  BOOST_TEST(product == 6.0);
  BOOST_TEST((grads == std::vector<std::vector<double>>{{6.0, 3.0}, {}, {2.0}}));
}

BOOST_AUTO_TEST_CASE(jacobian_over_blocks) {
  // Columns in block order; equal to the one-vector Jacobian of the same function.
  std::vector<double> w = {2.0, 3.0}, e, b = {0.5};
  const auto f = [](const auto& wv, const auto& ev, const auto& bv) {
    return std::vector<Var>{wv[0] * bv[0], sin(wv[1]) + bv[0], Var(static_cast<double>(ev.size()))};
  };
  const nabla::Jacobian J = nabla::jacobian(f, nabla::blocks(w, e, b));
  BOOST_TEST(J.rows == 3u);
  BOOST_TEST(J.cols == 3u);
  const double expected[3][3] = {{0.5, 0.0, 2.0}, {0.0, std::cos(3.0), 1.0}, {0.0, 0.0, 0.0}};
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) BOOST_TEST(J(i, j) == expected[i][j]);
  BOOST_TEST(J.values[0] == 1.0);
  const nabla::Jacobian flat = nabla::jacobian(
      [](std::span<const Var> v) {
        return std::vector<Var>{v[0] * v[2], sin(v[1]) + v[2], Var(0.0)};
      },
      std::vector<double>{2.0, 3.0, 0.5});
  BOOST_TEST(J.data == flat.data, boost::test_tools::per_element());
  BOOST_CHECK_THROW(nabla::jacobian(f, nabla::blocks(w, e, b), 2), nabla::Error);
  BOOST_TEST(nabla::Tape::active().statistics().statements == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
