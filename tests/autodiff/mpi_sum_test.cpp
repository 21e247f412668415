// nabla::mpi::distributed_sum on 1, 2 and 4 ranks: the same bits as parallel_sum in one process
// and on every rank, L-BFGS and first-order trajectories equal to the one-process run, the
// all-reduce variant, ranks without shards, θ of size 0, NaN, mismatched sizes, θ values and
// reductions, a throwing shard.
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/mpi.hpp>
#include <nabla/optim.hpp>

#include <sys/resource.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "expect_error.hpp"
#include "mpi_test_util.hpp"

using nabla::Shard;
using nabla::Shards;
using nabla::Var;
using nabla::test::same_bits;
using nabla::test::same_on_every_rank;

namespace {

// A logistic regression with an intercept and 2 features, 3000 observations (seed 11).
struct Data {
  std::vector<double> x1, x2, y;
  Data() : x1(3000), x2(3000), y(3000) {
    std::mt19937_64 rng(11);
    std::normal_distribution<double> normal;
    for (std::size_t i = 0; i < y.size(); ++i) {
      x1[i] = normal(rng);
      x2[i] = normal(rng);
      const double p = 1 / (1 + std::exp(-(0.5 - x1[i] + 2 * x2[i])));
      y[i] = std::uniform_real_distribution<double>()(rng) < p ? 1 : 0;
    }
  }
};

const Data& data() {
  static const Data d;
  return d;
}

// One shard's negative log-likelihood, generic in its number type (the Newton methods'
// second derivatives).
const auto shard_nll_any = [](const auto& w, Shard s) {
  using T = std::decay_t<decltype(w[0])>;
  const Data& d = data();
  T sum = 0.0;
  for (std::size_t i = s.begin; i < s.end; ++i) {
    const T eta = w[0] + w[1] * d.x1[i] + w[2] * d.x2[i];
    sum += softplus(eta) - d.y[i] * eta;
  }
  return sum;
};

// The same for Var alone (what most shard functions are).
Var shard_nll(std::span<const Var> w, Shard s) { return shard_nll_any(w, s); }

const std::vector<double> theta = {0.1, -0.2, 0.3};
const boost::mpi::communicator world;

// One thread per rank: the tests run up to 4 ranks on 2 cores.
nabla::ThreadPool& pool() {
  static nabla::ThreadPool p(1);
  return p;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_same_bits_as_parallel_sum_and_on_every_rank) {
  // 30 shards; 3 (fewer than 4 ranks: a rank without a shard); 1; 7 of unequal size.
  for (const Shards shards :
       {Shards(3000, 100), Shards(3000, 1000), Shards(3000, 3000), Shards(3000, 450)}) {
    nabla::ThreadPool two(2);
    const auto expected = nabla::parallel_sum(shard_nll, shards, two).value_and_gradient(theta);
    auto sum = nabla::mpi::distributed_sum(shard_nll, shards, world,
                                           nabla::mpi::Reduction::shard_order, pool());
    const auto got = sum.value_and_gradient(theta);
    BOOST_TEST(same_bits(got.value, expected.value), shards.count() << " shards");
    BOOST_TEST(same_bits(got.gradient, expected.gradient), shards.count() << " shards");
    // Again on the same object (buffers reused): the same bits.
    BOOST_TEST(same_bits(sum.value_and_gradient(theta).gradient, expected.gradient));
    const auto [first, last] = sum.local_shards();
    BOOST_TEST(first <= last);
    BOOST_TEST(last <= shards.count());
  }
}

BOOST_AUTO_TEST_CASE(minimize_runs_in_lockstep_with_the_one_process_trajectory) {
  const Shards shards(3000, 250);
  const auto run = [&](auto&& objective, auto method) {
    return nabla::optim::minimize(objective, {0.0, 0.0, 0.0}, method,
                                  {.grad_tol = 1e-9, .max_iterations = 60},
                                  nabla::optim::history());
  };
  const auto check = [&](const nabla::optim::Result& got, const nabla::optim::Result& expected,
                         const char* method) {
    BOOST_TEST(same_bits(got.x, expected.x), method);
    BOOST_TEST(got.iterations == expected.iterations, method);
    BOOST_TEST(got.evaluations == expected.evaluations, method);
    BOOST_TEST(to_string(got.status) == to_string(expected.status), method);
    BOOST_TEST(got.history.iterations.size() == expected.history.iterations.size(), method);
    for (std::size_t i = 0;
         i < std::min(got.history.iterations.size(), expected.history.iterations.size()); ++i) {
      BOOST_TEST(same_bits(got.history.iterations[i].value, expected.history.iterations[i].value),
                 method << " iteration " << i);
    }
    BOOST_TEST(same_on_every_rank(got.x), method);
  };
  nabla::ThreadPool one(1);
  auto serial = nabla::parallel_sum(shard_nll, shards, one);
  auto distributed = nabla::mpi::distributed_sum(shard_nll, shards, world,
                                                 nabla::mpi::Reduction::shard_order, pool());
  const auto lbfgs = run(distributed, nabla::optim::LBFGS{});
  check(lbfgs, run(serial, nabla::optim::LBFGS{}), "LBFGS");
  BOOST_TEST(to_string(lbfgs.status) == "gradient_converged");
  BOOST_TEST(lbfgs.x[1] == -1.0, boost::test_tools::tolerance(0.15));
  check(run(distributed, nabla::optim::Adam{.lr = 0.05}),
        run(serial, nabla::optim::Adam{.lr = 0.05}), "Adam");
  check(run(distributed, nabla::optim::GradientDescent{.lr = 1e-4, .line_search = true}),
        run(serial, nabla::optim::GradientDescent{.lr = 1e-4, .line_search = true}),
        "GradientDescent with line search");
  // L-BFGS-B: w₂ ≤ 1 holds at the end (unbounded, w₂ ≈ 2).
  const nabla::optim::Bounds box{.lower = {}, .upper = {10, 10, 1}};
  const auto boxed = [&](auto&& objective) {
    return nabla::optim::minimize(objective, {0.0, 0.0, 0.0}, nabla::optim::LBFGS{}, box,
                                  {.grad_tol = 1e-9, .max_iterations = 60},
                                  nabla::optim::history());
  };
  const auto bounded = boxed(distributed);
  check(bounded, boxed(serial), "L-BFGS-B");
  BOOST_TEST(bounded.x[2] == 1.0);
}

BOOST_AUTO_TEST_CASE(newton_methods_run_in_lockstep_with_the_one_process_trajectory) {
  // Hessian-vector products and dense Hessians summed across the ranks in shard order: the same
  // bits as parallel_sum in one process, so Newton-CG and Newton take its iterates.
  const Shards shards(3000, 250);
  nabla::ThreadPool one(1);
  auto serial = nabla::parallel_sum(shard_nll_any, shards, one);
  auto distributed = nabla::mpi::distributed_sum(shard_nll_any, shards, world,
                                                 nabla::mpi::Reduction::shard_order, pool());
  const std::vector<double> v = {0.5, 1.0, -2.0};
  std::vector<double> hv(3), expected_hv(3), h(9), expected_h(9);
  distributed.hessian_vector_product(theta, v, hv);
  serial.hessian_vector_product(theta, v, expected_hv);
  distributed.hessian(theta, h);
  serial.hessian(theta, expected_h);
  BOOST_TEST(same_bits(hv, expected_hv));
  BOOST_TEST(same_bits(h, expected_h));
  BOOST_TEST(same_on_every_rank(h));
  for (const bool dense : {false, true}) {
    const auto run = [&](auto& f) {
      return dense ? nabla::optim::minimize(f, {0.0, 0.0, 0.0}, nabla::optim::Newton{},
                                            {.grad_tol = 1e-9}, nabla::optim::history())
                   : nabla::optim::minimize(f, {0.0, 0.0, 0.0}, nabla::optim::NewtonCG{},
                                            {.grad_tol = 1e-9}, nabla::optim::history());
    };
    const auto got = run(distributed), expected = run(serial);
    const char* method = dense ? "Newton" : "NewtonCG";
    BOOST_TEST(to_string(got.status) == "gradient_converged", method);
    BOOST_TEST(same_bits(got.x, expected.x), method);
    BOOST_TEST(got.iterations == expected.iterations, method);
    BOOST_TEST(got.hessian_evaluations == expected.hessian_evaluations, method);
    BOOST_TEST(same_on_every_rank(got.x), method);
    BOOST_TEST(got.x[1] == -1.0, boost::test_tools::tolerance(0.15));
  }
  // Ranks that disagree on the direction all throw (none waits); then the object works again.
  if (world.size() > 1) {
    std::vector<double> other = v;
    if (world.rank() == 1) other[0] = 0.75;
    nabla::test::expect_error(
        [&] { distributed.hessian_vector_product(theta, other, hv); },
        {"nabla::mpi::distributed_sum (hessian_vector_product)",
         "disagree on the direction v's values", "rank 1's differ from rank 0's"});
  }
  // Reduction::allreduce: the Hessian is exactly symmetric on every rank (Newton assumes it).
  auto allreduced = nabla::mpi::distributed_sum(shard_nll_any, shards, world,
                                                nabla::mpi::Reduction::allreduce, pool());
  allreduced.hessian(theta, h);
  BOOST_TEST(same_on_every_rank(h));
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 3; ++j) {
      BOOST_TEST(same_bits(h[i * 3 + j], h[j * 3 + i]));
      BOOST_TEST(h[i * 3 + j] == expected_h[i * 3 + j], boost::test_tools::tolerance(1e-12));
    }
  }
  nabla::test::expect_error([&] { distributed.hessian(theta, hv); },
                            {"the Hessian h has 3 entries for 3 parameters (expected 3×3"});
  distributed.hessian_vector_product(theta, v, hv);
  BOOST_TEST(same_bits(hv, expected_hv));
}

BOOST_AUTO_TEST_CASE(allreduce_agrees_to_rounding_and_is_the_same_on_every_rank) {
  const Shards shards(3000, 100);
  nabla::ThreadPool one(1);
  const auto expected = nabla::parallel_sum(shard_nll, shards, one).value_and_gradient(theta);
  auto sum = nabla::mpi::distributed_sum(shard_nll, shards, world, nabla::mpi::Reduction::allreduce,
                                         pool());
  const auto got = sum.value_and_gradient(theta);
  BOOST_TEST(got.value == expected.value, boost::test_tools::tolerance(1e-12));
  for (std::size_t j = 0; j < theta.size(); ++j)
    BOOST_TEST(got.gradient[j] == expected.gradient[j], boost::test_tools::tolerance(1e-10));
  BOOST_TEST(same_on_every_rank(got.gradient));
  BOOST_TEST(same_on_every_rank(std::vector<double>{got.value}));
  // A fixed rank count repeats its bits.
  BOOST_TEST(same_bits(sum.value_and_gradient(theta).gradient, got.gradient));
  // One rank: nothing to reorder, parallel_sum's bits.
  if (world.size() == 1) BOOST_TEST(same_bits(got.gradient, expected.gradient));
}

BOOST_AUTO_TEST_CASE(theta_of_size_zero_and_one_shard_of_one_item) {
  // No parameters: the value alone, summed over the ranks.
  const auto constant = [](std::span<const Var> w, Shard s) {
    return Var(static_cast<double>(s.index + 1)) + static_cast<double>(w.size());
  };
  auto sum = nabla::mpi::distributed_sum(constant, Shards(5), world,
                                         nabla::mpi::Reduction::shard_order, pool());
  const auto r = sum.value_and_gradient({});
  BOOST_TEST(r.value == 15.0);
  BOOST_TEST(r.gradient.empty());
  // One item, one shard: three of four ranks have none.
  auto one = nabla::mpi::distributed_sum(shard_nll, Shards(1), world,
                                         nabla::mpi::Reduction::allreduce, pool());
  const auto expected = nabla::parallel_sum(shard_nll, Shards(1), pool()).value_and_gradient(theta);
  BOOST_TEST(same_bits(one.value_and_gradient(theta).gradient, expected.gradient));
}

BOOST_AUTO_TEST_CASE(nan_in_one_shard_diverges_alike_on_every_rank) {
  // The last shard's loss is NaN (on the last rank that has shards).
  const Shards shards(3000, 500);
  const auto nan_last = [&](std::span<const Var> w, Shard s) {
    return s.index + 1 == shards.count()
               ? shard_nll(w, s) * std::numeric_limits<double>::quiet_NaN()
               : shard_nll(w, s);
  };
  auto sum = nabla::mpi::distributed_sum(nan_last, shards, world,
                                         nabla::mpi::Reduction::shard_order, pool());
  const auto r = nabla::optim::minimize(sum, theta, nabla::optim::LBFGS{});
  BOOST_TEST(to_string(r.status) == "diverged");
  BOOST_TEST(same_on_every_rank(r.x));
  BOOST_TEST(std::isnan(sum.value_and_gradient(theta).value));
}

BOOST_AUTO_TEST_CASE(ranks_that_disagree_on_sizes_all_throw) {
  auto sum = nabla::mpi::distributed_sum(shard_nll, Shards(3000, 500), world,
                                         nabla::mpi::Reduction::shard_order, pool());
  if (world.size() == 1) {
    // Nothing to disagree with: the one rank's call succeeds; a gradient of the wrong size is
    // still an error.
    BOOST_TEST(std::isfinite(sum.value_and_gradient(theta).value));
  } else {
    // θ of 4 on the last rank, 3 on the others.
    std::vector<double> t = theta;
    if (world.rank() == world.size() - 1) t.push_back(0.0);
    nabla::test::expect_error([&] { (void)sum.value_and_gradient(t); },
                              {"nabla::mpi::distributed_sum", "disagree on θ's size",
                               "4 on rank " + std::to_string(world.size() - 1), "expected 3"});
    // Another shard count on rank 1.
    auto other = nabla::mpi::distributed_sum(
        shard_nll, world.rank() == 1 ? Shards(3000, 300) : Shards(3000, 500), world,
        nabla::mpi::Reduction::shard_order, pool());
    nabla::test::expect_error([&] { (void)other.value_and_gradient(theta); },
                              {"disagree on the shard count", "10 on rank 1", "expected 6"});
    // Another θ on rank 1 (ranks started from different points): no silent mix of gradients.
    std::vector<double> moved = theta;
    if (world.rank() == 1) moved[2] = std::nextafter(moved[2], 1.0);
    nabla::test::expect_error([&] { (void)sum.value_and_gradient(moved); },
                              {"disagree on θ's values", "rank 1's differ from rank 0's"});
    // Another reduction on rank 1: a gather would meet an all-reduce.
    auto mixed = nabla::mpi::distributed_sum(
        shard_nll, Shards(3000, 500), world,
        world.rank() == 1 ? nabla::mpi::Reduction::allreduce : nabla::mpi::Reduction::shard_order,
        pool());
    nabla::test::expect_error([&] { (void)mixed.value_and_gradient(theta); },
                              {"disagree on the reduction", "1 on rank 1", "expected 0"});
  }
  std::vector<double> g(2);
  nabla::test::expect_error([&] { (void)sum(theta, g); }, {"2 entries for 3 parameters"});
  // After the errors the object still works, the same bits on every rank.
  BOOST_TEST(same_on_every_rank(sum.value_and_gradient(theta).gradient));
}

BOOST_AUTO_TEST_CASE(a_shard_that_throws_mid_recording_makes_every_rank_throw) {
  const Shards shards(3000, 500);  // 6 shards; shard 4 throws after recording half its sum
  const auto throwing = [&](std::span<const Var> w, Shard s) {
    if (s.index == 4) {
      const Var half = shard_nll(w, Shard{s.index, s.begin, s.begin + s.size() / 2});
      if (half.value() > -1) throw std::runtime_error("shard 4 fails on purpose");
    }
    return shard_nll(w, s);
  };
  auto sum = nabla::mpi::distributed_sum(throwing, shards, world,
                                         nabla::mpi::Reduction::shard_order, pool());
  const auto [first, last] = sum.local_shards();
  const bool mine = first <= 4 && 4 < last;
  try {
    (void)sum.value_and_gradient(theta);
    BOOST_ERROR("no exception");
  } catch (const nabla::Error& e) {
    BOOST_TEST(!mine, e.what());
    BOOST_TEST(std::string(e.what()).find("shard 4 threw on rank") != std::string::npos, e.what());
  } catch (const std::runtime_error& e) {
    BOOST_TEST(mine, e.what());
    BOOST_TEST(std::string(e.what()) == "shard 4 fails on purpose");
  }
  // The object and the tapes are left usable: the next call gives parallel_sum's bits.
  auto fine = nabla::mpi::distributed_sum(shard_nll, shards, world,
                                          nabla::mpi::Reduction::shard_order, pool());
  const auto expected = nabla::parallel_sum(shard_nll, shards, pool()).value_and_gradient(theta);
  BOOST_TEST(same_bits(fine.value_and_gradient(theta).gradient, expected.gradient));
  std::size_t left = 1;
  pool().run(1, [&](std::size_t) { left = nabla::active_tape().statistics().statements; });
  BOOST_TEST(left == 0u);
  BOOST_TEST(nabla::mpi::is_root(world) == (world.rank() == 0));
}

BOOST_AUTO_TEST_CASE(a_loop_of_calls_does_not_grow_memory) {
  // 2000 calls on 40 shards (θ of 50): the exchange's buffers and the tapes are reused.
  const std::vector<double> wide(50, 0.01);
  auto sum = nabla::mpi::distributed_sum(
      [](std::span<const Var> w, Shard s) { return w[s.index] * w[s.index + 1]; }, Shards(40),
      world, nabla::mpi::Reduction::shard_order, pool());
  std::vector<double> g(wide.size());
  const auto peak_kib = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
  };
  for (int i = 0; i < 100; ++i) sum(wide, g);
  const long warm = peak_kib();
  for (int i = 0; i < 2000; ++i) sum(wide, g);
  BOOST_TEST(peak_kib() - warm < 1024, "peak RSS grew by " << peak_kib() - warm << " KiB");
  BOOST_TEST(g[1] == 0.02, boost::test_tools::tolerance(1e-12));  // w₀ + w₂
}
