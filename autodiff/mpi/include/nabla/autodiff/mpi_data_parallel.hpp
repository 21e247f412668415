// nabla::mpi — DataParallel: training nn::Parameters with gradients all-reduced across ranks.
#pragma once

#include <algorithm>
#include <boost/mpi/communicator.hpp>
#include <concepts>
#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "nabla/autodiff/data_parallel.hpp"
#include "nabla/autodiff/nn.hpp"
#include "nabla/autodiff/parallel.hpp"
#include "nabla/autodiff/thread_pool.hpp"

namespace nabla::mpi {

// Note [Distributed data-parallel training]
// mpi::DataParallel is PyTorch's DistributedDataParallel for nn::Parameters. Every rank holds
// the whole model; the constructor broadcasts rank 0's parameter values, so all ranks start
// alike. A step's batch is split into Shards (the same on every rank); rank r computes its block
// of shards (Note [Deterministic distributed sums]) with nn::DataParallel on its threads, which
// adds them in shard order; then ONE MPI_Allreduce of one flat buffer — the n gradients, the
// loss, a failure count and the shard count and its square — adds the ranks' partial sums.
// The last three make the step safe without a second collective: a rank whose loss threw, or
// that split the batch into another number of shards (Σ Sᵣ = P·S and Σ Sᵣ² = P·S² only when
// every Sᵣ = S), makes every rank throw. Every rank then holds the same gradient bits (Open
// MPI's all-reduce gives every rank the same result; parameters_agree() checks it), so the
// same optimizer step keeps the parameters identical. The sum is over ranks' partial sums, so
// it matches a one-process run to the rounding of a different summation order, not to the bit.

/// Data-parallel gradients of nn::Parameters across the ranks of a communicator (Note
/// [Distributed data-parallel training]): each rank computes its block of a batch's shards on
/// its threads, and the gradients are all-reduced in one flat buffer, one collective per step.
///
/// Example (every rank runs the same loop, on the same batches):
///   nabla::mpi::DataParallel parallel(params);           // rank 0's values on every rank
///   const double loss = parallel.compute_gradients(nabla::Shards(128, 32), shard_loss);
///   adam->step(params.values(), params.gradients());     // the same step on every rank
class DataParallel {
 public:
  /// Gradients for `params` across `comm` (the world by default), each rank's shards on
  /// `pool`. Collective: broadcasts rank 0's parameter values to every rank. params must
  /// outlive this object.
  /// @throws nabla::Error when the ranks' parameter sets differ in size.
  explicit DataParallel(nn::Parameters& params,
                        const boost::mpi::communicator& comm = boost::mpi::communicator(),
                        ThreadPool& pool = default_thread_pool());

  /// Sets params.gradients() on every rank to the gradient of Σₖ f(shardₖ) over all ranks'
  /// shards and returns that sum; f(shard) records one shard's loss (a one-element TensorVar,
  /// a Var or a scalar expression) and is called for this rank's shards only, concurrently
  /// from the pool's threads. Collective: every rank calls it with the same shards.
  /// @throws nabla::Error when the ranks' shard counts differ, or a loss threw on another
  /// rank; on the rank where it threw, that exception. The gradients are then unspecified.
  template <class F>
  requires std::invocable<const F&, Shard>
  double compute_gradients(const Shards& shards, const F& f) {
    return run(shards, [&](Shard s) { return nabla::detail::shard_loss(function, s.index, f(s)); });
  }

  /// An objective for optim::minimize over the set's values, flat (`params.values()` order):
  /// (x, g) ↦ Σₖ f(shardₖ) over all ranks' shards, with its gradient in g, the same on every
  /// rank — so every rank runs the same minimize (L-BFGS over a network's weights) in lockstep.
  /// x is copied into params.values() first. The object returned holds a copy of f and refers
  /// to this DataParallel, which must outlive it. Collective when called.
  /// @throws nabla::Error (when called) when x or g is not params.size() long; as
  /// compute_gradients().
  ///
  /// Example: `auto r = nabla::optim::minimize(parallel.objective(shards, shard_loss),
  ///                                          params.values(), nabla::optim::LBFGS{});`
  template <class F>
  requires std::invocable<const F&, Shard>
  auto objective(Shards shards, F f) {
    return [this, shards, f = std::move(f)](std::span<const double> x, std::span<double> g) {
      check_sizes(x.size(), g.size());
      return nabla::detail::parameters_objective(*params_, x, g,
                                                 [&] { return compute_gradients(shards, f); });
    };
  }

  /// Sets every rank's parameter values to rank 0's (collective; the constructor does it).
  void broadcast_parameters();

  /// True on every rank when every rank's parameter values are rank 0's, bit for bit
  /// (collective: a broadcast and an all-reduce; for tests and checks, not every step).
  [[nodiscard]] bool parameters_agree();

  /// The communicator.
  [[nodiscard]] const boost::mpi::communicator& communicator() const noexcept { return comm_; }

 private:
  static constexpr const char* function = "nabla::mpi::DataParallel";
  double run(const Shards& shards, const std::function<Var(Shard)>& loss);
  void check_sizes(std::size_t x, std::size_t g) const;
  nn::Parameters* params_;
  boost::mpi::communicator comm_;
  nn::DataParallel local_;
  std::vector<double> buffer_;  // n gradients, loss, failures, S, S²
};

}  // namespace nabla::mpi
