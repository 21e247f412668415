// A logistic regression over 200,000 observations fitted with L-BFGS across the ranks of an MPI
// job (nabla::mpi::distributed_sum): each rank makes and holds only the data of its own shards,
// every rank runs the same minimize in lockstep, and the fit is the same, bit for bit, as
// parallel_sum's in one process, which rank 0 checks.
//   scripts/mpirun -np 2 build/examples/distributed_logistic   (or run it alone: one rank)
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/mpi.hpp>
#include <nabla/optim.hpp>

#include <boost/mpi/collectives.hpp>
#include <random>

namespace {

constexpr std::size_t observations = 200'000, shard_size = 10'000;

// Shard k's observations (seed 1 + k): an intercept and two features,
// y ~ Bernoulli(σ(0.5 − x₁ + 2x₂)). Made from the shard's own seed, so a rank makes only its own.
struct ShardData {
  std::vector<double> x1, x2, y;
};
ShardData make_shard(nabla::Shard s) {
  ShardData d{std::vector<double>(s.size()), std::vector<double>(s.size()),
              std::vector<double>(s.size())};
  std::mt19937_64 rng(1 + s.index);
  std::normal_distribution<double> normal;
  for (std::size_t i = 0; i < s.size(); ++i) {
    d.x1[i] = normal(rng);
    d.x2[i] = normal(rng);
    const double p = 1 / (1 + std::exp(-(0.5 - d.x1[i] + 2 * d.x2[i])));
    d.y[i] = std::uniform_real_distribution<double>()(rng) < p ? 1 : 0;
  }
  return d;
}

// One shard's negative log-likelihood: Σ softplus(η) − y η over its observations.
nabla::Var shard_nll(std::span<const nabla::Var> w, const ShardData& d) {
  nabla::Var sum = 0.0;
  for (std::size_t i = 0; i < d.y.size(); ++i) {
    const nabla::Var eta = w[0] + w[1] * d.x1[i] + w[2] * d.x2[i];
    sum += softplus(eta) - d.y[i] * eta;
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::mpi::run(argc, argv, [](const boost::mpi::communicator& world) {
    const nabla::Shards shards(observations, shard_size);  // 20, whatever the number of ranks
    // Ranks on one machine share its cores: one thread each; a lone rank uses them all.
    nabla::ThreadPool pool(world.size() == 1 ? nabla::ThreadPool::default_size() : 1);

    // This rank's shards only.
    std::vector<ShardData> data(shards.count());
    auto nll = nabla::mpi::distributed_sum(
        [&](std::span<const nabla::Var> w, nabla::Shard s) { return shard_nll(w, data[s.index]); },
        shards, world, nabla::mpi::Reduction::shard_order, pool);
    const auto [first, last] = nll.local_shards();
    for (std::size_t k = first; k < last; ++k) data[k] = make_shard(shards[k]);

    const nabla::optim::Stop stop{.grad_tol = 1e-4};
    const auto r = nabla::optim::minimize(nll, {0.0, 0.0, 0.0}, nabla::optim::LBFGS{}, stop);

    // Rank 0 checks against one process: every shard's data, parallel_sum on its threads.
    int same = 1;
    if (nabla::mpi::is_root(world)) {
      fmt::print("w = [{:.4f}, {:.4f}, {:.4f}] after {} iterations ({})\n", r.x[0], r.x[1], r.x[2],
                 r.iterations, nabla::optim::to_string(r.status));
      for (std::size_t k = 0; k < shards.count(); ++k) data[k] = make_shard(shards[k]);
      const auto one = nabla::optim::minimize(
          nabla::parallel_sum([&](std::span<const nabla::Var> w,
                                  nabla::Shard s) { return shard_nll(w, data[s.index]); },
                              shards),
          {0.0, 0.0, 0.0}, nabla::optim::LBFGS{}, stop);
      same = r.x == one.x && r.value == one.value && r.iterations == one.iterations ? 1 : 0;
      fmt::print("{} rank{} and one process: {}\n", world.size(), world.size() == 1 ? "" : "s",
                 same ? "the same bits" : "DIFFERENT");
    }
    boost::mpi::broadcast(world, same, 0);  // every rank ends with the same status
    return same == 1 && r.status == nabla::optim::Status::gradient_converged ? 0 : 1;
  });
}
