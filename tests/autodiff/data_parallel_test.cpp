// nn::DataParallel: a data-parallel training step gives the gradients of the whole batch, the
// same bits for any thread count, with Adam and with L-BFGS.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

using nabla::Shard;
using nabla::Shards;
using nabla::ThreadPool;

namespace {

// A two-layer classifier of 3 classes on 8 features, 600 rows drawn with seed 7.
struct Problem {
  static constexpr std::size_t rows = 600, features = 8, hidden = 16, classes = 3;
  nabla::Tensor x;
  std::vector<int> labels;
  nabla::nn::Parameters params{/*seed=*/3};
  nabla::nn::Parameter W1 = params.add("W1", {features, hidden});
  nabla::nn::Parameter b1 = params.add("b1", {hidden}, nabla::nn::Init::zeros);
  nabla::nn::Parameter W2 = params.add("W2", {hidden, classes});
  nabla::nn::Parameter b2 = params.add("b2", {classes}, nabla::nn::Init::zeros);
  Problem() : x({rows, features}, std::vector<double>(rows * features)), labels(rows) {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal;
    const std::span<double> v = x.span();
    for (std::size_t i = 0; i < rows; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < features; ++j) s += (v[i * features + j] = normal(rng));
      labels[i] = s < -1 ? 0 : (s < 1 ? 1 : 2);
    }
  }
  // The summed cross-entropy of rows [begin, end) (the mean times the row count).
  nabla::TensorVar loss(std::size_t begin, std::size_t end) {
    std::vector<std::size_t> rows_of(end - begin);
    std::iota(rows_of.begin(), rows_of.end(), begin);
    const nabla::TensorVar h =
        nabla::relu(nabla::matmul(nabla::constant_rows(x, rows_of), W1) + b1);
    const std::span<const int> l(labels);
    return nabla::cross_entropy(nabla::matmul(h, W2) + b2, l.subspan(begin, end - begin)) *
           static_cast<double>(end - begin);
  }
};

std::vector<double> copy(std::span<const double> s) { return {s.begin(), s.end()}; }

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), 8 * a.size()) == 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(gradients_are_the_batch_gradients_for_any_thread_count) {
  Problem p;
  const double whole = nabla::nn::compute_gradients(p.params, [&] { return p.loss(0, p.rows); });
  const std::vector<double> expected = copy(p.params.gradients());
  std::vector<std::vector<double>> got;
  std::vector<double> losses;
  for (std::size_t threads : {1u, 2u, 4u}) {
    ThreadPool pool(threads);
    nabla::nn::DataParallel parallel(p.params, pool);
    losses.push_back(parallel.compute_gradients(Shards(p.rows, 64),
                                                [&](Shard s) { return p.loss(s.begin, s.end); }));
    got.push_back(copy(p.params.gradients()));
  }
  BOOST_TEST(std::memcmp(&losses[0], &losses[1], 8) == 0);
  BOOST_TEST(std::memcmp(&losses[0], &losses[2], 8) == 0);
  BOOST_TEST(same_bits(got[0], got[1]));
  BOOST_TEST(same_bits(got[0], got[2]));
  BOOST_TEST(losses[0] == whole, boost::test_tools::tolerance(1e-12));
  for (std::size_t j = 0; j < expected.size(); ++j)
    BOOST_TEST(got[0][j] == expected[j], boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(adam_training_is_identical_for_1_and_4_threads) {
  auto train = [](std::size_t threads) {
    Problem p;
    ThreadPool pool(threads);
    nabla::nn::DataParallel parallel(p.params, pool);
    auto adam = nabla::optim::make_optimizer(nabla::optim::Adam{.lr = 0.01}, p.params.size());
    std::vector<double> losses;
    for (int step = 0; step < 30; ++step) {
      losses.push_back(parallel.compute_gradients(Shards(p.rows, 100),
                                                  [&](Shard s) { return p.loss(s.begin, s.end); }));
      adam->step(p.params.values(), p.params.gradients());
    }
    losses.push_back(0);
    const auto v = copy(p.params.values());
    losses.insert(losses.end(), v.begin(), v.end());
    return losses;
  };
  const auto a = train(1), b = train(4);
  BOOST_TEST(same_bits(a, b));
  BOOST_TEST(a[29] < a[0]);  // it learns
}

BOOST_AUTO_TEST_CASE(lbfgs_over_parameters_is_identical_for_1_and_4_threads) {
  auto fit = [](std::size_t threads) {
    Problem p;
    ThreadPool pool(threads);
    nabla::nn::DataParallel parallel(p.params, pool);
    const auto shard = [&](Shard s) { return p.loss(s.begin, s.end); };
    const auto x0 = copy(p.params.values());
    return nabla::optim::minimize(parallel.objective(Shards(p.rows, 150), shard), x0,
                                  nabla::optim::LBFGS{}, {.max_iterations = 25});
  };
  const auto a = fit(1), b = fit(4);
  BOOST_TEST(a.iterations == 25);
  BOOST_TEST(a.evaluations == b.evaluations);
  BOOST_TEST(same_bits(a.x, b.x));
  BOOST_TEST(std::memcmp(&a.value, &b.value, 8) == 0);
}

BOOST_AUTO_TEST_CASE(errors_and_a_throwing_shard) {
  Problem p;
  ThreadPool pool(3);
  nabla::nn::DataParallel parallel(p.params, pool);
  try {
    parallel.compute_gradients(Shards(p.rows, 50), [&](Shard s) {
      const nabla::TensorVar l = p.loss(s.begin, s.end);
      if (s.index == 4 || s.index == 9) throw std::runtime_error(fmt::format("shard {}", s.index));
      return l;
    });
    BOOST_FAIL("no exception");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()) == "shard 4");
  }
  // A loss of one value per row is not a loss.
  try {
    parallel.compute_gradients(Shards(p.rows, 50), [&](Shard s) {
      std::vector<std::size_t> r(s.size());
      std::iota(r.begin(), r.end(), s.begin);
      return nabla::matmul(nabla::constant_rows(p.x, r), p.W1);
    });
    BOOST_FAIL("no exception");
  } catch (const nabla::Error& e) {
    BOOST_TEST(std::string(e.what()) ==
               "nabla::nn::DataParallel: shard 0 returned a loss of 800 elements (expected a "
               "one-element tensor, a Var or a scalar expression)");
  }
  std::vector<double> x(p.params.size() + 1), g(p.params.size());
  const auto shard = [&](Shard s) { return p.loss(s.begin, s.end); };
  auto objective = parallel.objective(Shards(p.rows, 100), shard);
  BOOST_CHECK_THROW(objective(x, g), nabla::Error);
  // After the errors: nothing left on a tape (the set accepts a new parameter), same result.
  const double a = parallel.compute_gradients(Shards(p.rows, 100), shard);
  const auto ga = copy(p.params.gradients());
  const double b = nabla::nn::compute_gradients(p.params, [&] { return p.loss(0, p.rows); });
  BOOST_TEST(a == b, boost::test_tools::tolerance(1e-12));
  BOOST_CHECK_NO_THROW(p.params.add("extra", {1}));
  (void)ga;
}
