// nabla::mpi::DataParallel on 1, 2 and 4 ranks: training within summation-order tolerance of
// the one-process nn::DataParallel run, parameters identical on every rank after every step,
// ranks without shards, mismatched sizes and a throwing loss.
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/mpi.hpp>
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "expect_error.hpp"
#include "mpi_test_util.hpp"

using nabla::Shard;
using nabla::Shards;
using nabla::test::same_bits;

namespace {

// A softmax classifier of 3 classes on 6 features, 256 rows drawn with seed 5; the parameters
// drawn with `seed` (different seeds per rank show the broadcast).
struct Problem {
  static constexpr std::size_t rows = 256, features = 6, classes = 3;
  nabla::Tensor x;
  std::vector<int> labels;
  nabla::nn::Parameters params;
  nabla::nn::Parameter W, b;
  explicit Problem(std::uint64_t seed, std::size_t extra = 0)
      : x({rows, features}, std::vector<double>(rows * features)),
        labels(rows),
        params(seed),
        W(params.add("W", {features, classes + extra})),
        b(params.add("b", {classes + extra}, nabla::nn::Init::zeros)) {
    std::mt19937_64 rng(5);
    std::normal_distribution<double> normal;
    const std::span<double> v = x.span();
    for (std::size_t i = 0; i < rows; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < features; ++j) s += (v[i * features + j] = normal(rng));
      labels[i] = s < -1 ? 0 : (s < 1 ? 1 : 2);
    }
  }
  // The summed cross-entropy of a shard's rows.
  nabla::TensorVar loss(Shard s) {
    std::vector<std::size_t> r(s.size());
    std::iota(r.begin(), r.end(), s.begin);
    return nabla::cross_entropy(nabla::matmul(nabla::constant_rows(x, r), W) + b,
                                std::span<const int>(labels).subspan(s.begin, s.size())) *
           static_cast<double>(s.size());
  }
};

const boost::mpi::communicator world;

std::vector<double> copy(std::span<const double> s) { return {s.begin(), s.end()}; }

}  // namespace

BOOST_AUTO_TEST_CASE(training_matches_one_process_and_ranks_stay_identical) {
  // 8 shards of 32 and 2 of 128 (with 4 ranks, two ranks have none).
  for (const std::size_t shard_size : {32u, 128u}) {
    nabla::ThreadPool one(1);
    Problem reference(/*seed=*/1);
    nabla::nn::DataParallel local(reference.params, one);
    Problem p(/*seed=*/1 + static_cast<std::uint64_t>(world.rank()));
    nabla::mpi::DataParallel parallel(p.params, world, one);
    BOOST_TEST(parallel.parameters_agree());
    BOOST_TEST(same_bits(p.params.values(), reference.params.values()));
    auto adam = nabla::optim::make_optimizer(nabla::optim::Adam{.lr = 0.05}, p.params.size());
    auto adam_ref = nabla::optim::make_optimizer(nabla::optim::Adam{.lr = 0.05}, p.params.size());
    const Shards shards(Problem::rows, shard_size);
    double first = 0, loss = 0;
    for (int step = 0; step < 15; ++step) {
      loss = parallel.compute_gradients(shards, [&](Shard s) { return p.loss(s); });
      const double expected =
          local.compute_gradients(shards, [&](Shard s) { return reference.loss(s); });
      if (step == 0) first = loss;
      BOOST_TEST(loss == expected, boost::test_tools::tolerance(1e-12));
      if (world.size() == 1) {
        BOOST_TEST(same_bits(p.params.gradients(), reference.params.gradients()));
      }
      adam->step(p.params.values(), p.params.gradients());
      adam_ref->step(reference.params.values(), reference.params.gradients());
      BOOST_TEST(parallel.parameters_agree(), "step " << step);
    }
    BOOST_TEST(loss < 0.7 * first);
    const std::vector<double> got = copy(p.params.values());
    const std::vector<double> expected = copy(reference.params.values());
    for (std::size_t j = 0; j < got.size(); ++j)
      BOOST_TEST(got[j] == expected[j], boost::test_tools::tolerance(1e-9));
  }
}

BOOST_AUTO_TEST_CASE(mismatched_sizes_and_a_throwing_loss_make_every_rank_throw) {
  nabla::ThreadPool one(1);
  if (world.size() > 1) {
    // A parameter set one class wider on rank 1.
    Problem wider(1, world.rank() == 1 ? 1 : 0);
    nabla::test::expect_error([&] { nabla::mpi::DataParallel(wider.params, world, one); },
                              {"nabla::mpi::DataParallel", "disagree on the number of parameters",
                               "28 on rank 1", "expected 21"});
  }
  Problem p(1);
  nabla::mpi::DataParallel parallel(p.params, world, one);
  if (world.size() > 1) {
    // Another split of the batch on rank 1.
    const Shards shards(Problem::rows, world.rank() == 1 ? 64 : 32);
    nabla::test::expect_error(
        [&] { (void)parallel.compute_gradients(shards, [&](Shard s) { return p.loss(s); }); },
        {"disagree on the shard count", "expected the same Shards on every rank"});
  }
  // Shard 0 (on rank 0) throws after recording its loss.
  try {
    (void)parallel.compute_gradients(Shards(Problem::rows, 32), [&](Shard s) {
      const nabla::TensorVar l = p.loss(s);
      if (s.index == 0) throw std::runtime_error("loss fails on purpose");
      return l;
    });
    BOOST_ERROR("no exception");
  } catch (const nabla::Error& e) {
    BOOST_TEST(world.rank() != 0, e.what());
    BOOST_TEST(std::string(e.what()).find("a loss threw on 1 of the") != std::string::npos,
               e.what());
  } catch (const std::runtime_error& e) {
    BOOST_TEST(world.rank() == 0, e.what());
  }
  // A NaN loss on one shard: the same NaN on every rank, no error; then usable again.
  const double nan_loss = parallel.compute_gradients(Shards(Problem::rows, 32), [&](Shard s) {
    return s.index == 7 ? p.loss(s) * std::numeric_limits<double>::quiet_NaN() : p.loss(s);
  });
  BOOST_TEST(std::isnan(nan_loss));
  const double loss =
      parallel.compute_gradients(Shards(Problem::rows, 32), [&](Shard s) { return p.loss(s); });
  BOOST_TEST(std::isfinite(loss));
  BOOST_TEST(nabla::test::same_on_every_rank(p.params.gradients()));
}

BOOST_AUTO_TEST_CASE(lbfgs_over_the_weights_in_lockstep) {
  // 20 iterations of L-BFGS over the classifier's weights, 8 shards of 32: every rank the same
  // bits, the one-process run to the rounding of the all-reduce's order.
  nabla::ThreadPool one(1);
  const Shards shards(Problem::rows, 32);
  const nabla::optim::Stop stop{.grad_tol = 0, .max_iterations = 20};
  Problem reference(1);
  nabla::nn::DataParallel local(reference.params, one);
  const double initial =
      local.compute_gradients(shards, [&](Shard s) { return reference.loss(s); });
  const auto expected =
      nabla::optim::minimize(local.objective(shards, [&](Shard s) { return reference.loss(s); }),
                             copy(reference.params.values()), nabla::optim::LBFGS{}, stop);
  Problem p(1);
  nabla::mpi::DataParallel parallel(p.params, world, one);
  const auto got =
      nabla::optim::minimize(parallel.objective(shards, [&](Shard s) { return p.loss(s); }),
                             copy(p.params.values()), nabla::optim::LBFGS{}, stop);
  BOOST_TEST(got.iterations == 20);
  BOOST_TEST(nabla::test::same_on_every_rank(got.x));
  BOOST_TEST(got.value == expected.value, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(got.value < 0.7 * initial);
  std::vector<double> g(3);
  nabla::test::expect_error(
      [&] { (void)parallel.objective(shards, [&](Shard s) { return p.loss(s); })(got.x, g); },
      {"nabla::mpi::DataParallel", "g 3 for a set of 21 parameters"});
}
