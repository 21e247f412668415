// nabla::mpi — distributed_sum: the value and gradient of a sum over data shards, across the
// ranks of an MPI communicator (and on each rank's threads).
#pragma once

#include <boost/mpi/communicator.hpp>
#include <cstddef>
#include <exception>
#include <functional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/autodiff/gradient.hpp"
#include "nabla/autodiff/parallel.hpp"
#include "nabla/autodiff/thread_pool.hpp"
#include "nabla/autodiff/var.hpp"

namespace nabla::mpi {

// Note [Deterministic distributed sums]
// distributed_sum extends Note [Deterministic parallel sums] across ranks. The S shards are
// fixed by the data (Shards) and dealt to the P ranks in contiguous blocks: rank r computes
// shards ⌊rS/P⌋ … ⌊(r+1)S/P⌋ − 1 (none when P > S and the block is empty), each shard's value
// and gradient row on the rank's thread pool, exactly as parallel_sum computes it. Then:
//  - Reduction::shard_order (the default): the rows are gathered on rank 0 (MPI_Gatherv, in
//    rank order, which is shard order), added there in shard order, g = ((g₀ + g₁) + g₂) + …,
//    and the sum broadcast (MPI_Bcast). The result is the same bits on every rank, for every
//    rank count and thread count, and the same bits as parallel_sum over the same Shards in one
//    process. Cost: rank 0 receives S·(n + 1) doubles and adds them.
//  - Reduction::allreduce: each rank adds its own rows in shard order and one MPI_Allreduce
//    adds the ranks' partial sums (n + 1 doubles per rank, the bandwidth-optimal collective for
//    large n). MPI does not fix the order of that sum, so the result may differ in the last
//    bits from parallel_sum and between rank counts; with Open MPI's algorithms every rank gets
//    the same bits and a fixed rank count repeats them (the tests check both), but the MPI
//    standard only recommends, not promises, this.
// Before the sum, one small MPI_Allgather of (n, S, the reduction, a hash of θ's bits, the
// failing shard) per rank checks that the ranks agree on θ, the shard count and the reduction,
// and tells every rank whether a shard threw (Note [MPI failure behaviour]): every rank then
// throws, none waits for ever.

/// How distributed_sum adds the ranks' results (Note [Deterministic distributed sums]).
enum class Reduction {
  shard_order,  ///< gather the shards' rows on rank 0, add in shard order, broadcast: the same
                ///< bits as parallel_sum in one process
  allreduce,    ///< add each rank's rows, then one MPI_Allreduce: less data, order up to MPI
};

namespace detail {
/// The communication of distributed_sum (Note [Deterministic distributed sums]): computes this
/// rank's block of shards on a pool, checks the ranks agree, and writes the sum over all ranks
/// into g and returns the value. Keeps its buffers between calls.
class ShardExchange {
 public:
  /// shard(k, row) writes shard k's gradient at θ (or its H·v, or its Hessian) into row
  /// (g.size() doubles) and returns its value; it is called for this rank's shards only, on
  /// `pool`. `direction`: the v of a Hessian-vector product (empty otherwise).
  /// @throws nabla::Error when the ranks disagree on θ's size or values, g's size, the
  /// direction, the shard count or the reduction, or a shard threw on another rank; what this
  /// rank's first failing shard threw.
  double run(const char* function, const boost::mpi::communicator& comm, Reduction reduction,
             ThreadPool& pool, std::size_t shards, std::span<const double> theta,
             std::span<double> g,
             const std::function<double(std::size_t, std::span<double>)>& shard,
             std::span<const double> direction = {});

 private:
  std::vector<double> records_;   // this rank's shards, (1 + n) each: value, gradient row
  std::vector<double> gathered_;  // shard_order: all S records (rank 0); allreduce: this rank's sum
  std::vector<int> counts_, offsets_;  // shard_order, rank 0: each rank's part of gathered_
  std::vector<double> sum_;            // 1 + n: value, gradient
};

/// The block of shards of rank `rank` of `ranks`: shards [first, last).
struct Block {
  std::size_t first = 0, last = 0;
};
[[nodiscard]] Block block(std::size_t shards, int rank, int ranks) noexcept;
}  // namespace detail

/// The value and gradient of f(θ) = Σₖ fₖ(θ), a sum over the shards of the data, computed by
/// the ranks of a communicator, each on its own block of shards and its threads: what
/// nabla::mpi::distributed_sum() returns. Callable as `double(std::span<const double> θ,
/// std::span<double> g)`, the form nabla::optim::minimize takes, on every rank at once (a
/// collective call): every rank gets the same value and gradient, so every rank's minimize
/// takes the same iterates (Note [Deterministic distributed sums]).
///
/// f is called as `f(θ, shard)`, as for nabla::parallel_sum, for this rank's shards only.
template <class F>
class DistributedSum {
  static_assert(ShardFunction<F>,
                "nabla::mpi::distributed_sum: f must be callable through a const reference as "
                "f(std::span<const nabla::Var> theta, nabla::Shard shard), returning a Var, a "
                "scalar expression or a one-element TensorVar (not a mutable lambda: shards run "
                "concurrently)");

 public:
  /// The sum of f over `shards` on the ranks of `comm`, each rank's shards on `pool`.
  DistributedSum(F f, Shards shards, const boost::mpi::communicator& comm, Reduction reduction,
                 ThreadPool& pool)
      : f_(std::move(f)), shards_(shards), comm_(comm), reduction_(reduction), pool_(&pool) {}

  /// Writes ∇f(θ) into g and returns f(θ), the same on every rank. Collective: every rank of
  /// the communicator must call it.
  /// @throws nabla::Error when g and θ differ in size, the ranks disagree on θ (its size or
  /// its values), the shard count or the Reduction, or a shard threw on another rank; what this
  /// rank's first failing shard threw.
  double operator()(std::span<const double> theta, std::span<double> g) {
    static constexpr const char* function = "nabla::mpi::distributed_sum";
    nabla::detail::check_parallel_sizes(function, theta.size(), g.size());
    const F& f = f_;
    return exchange_.run(function, comm_, reduction_, *pool_, shards_.count(), theta, g,
                         [&](std::size_t k, std::span<double> row) {
                           return nabla::detail::shard_gradient(function, f, shards_, k, theta,
                                                                row);
                         });
  }

  /// f(θ) and ∇f(θ) as a ValueAndGradient (collective).
  /// @throws as operator().
  ValueAndGradient value_and_gradient(std::span<const double> theta) {
    ValueAndGradient out{0.0, std::vector<double>(theta.size())};
    out.value = (*this)(theta, out.gradient);
    return out;
  }

  /// ∇²f(θ)·v written into hv, the same on every rank (collective): each of this rank's shards'
  /// Hessian-vector products by forward over reverse, summed over the ranks as operator() sums
  /// gradients. Only for a shard function generic in its number type
  /// (TwiceDifferentiableShardFunction); what nabla::optim::minimize's NewtonCG calls.
  /// @throws nabla::Error when v or hv does not have θ's size, the ranks disagree on θ or v
  /// (every rank throws); as operator().
  void hessian_vector_product(std::span<const double> theta, std::span<const double> v,
                              std::span<double> hv) requires TwiceDifferentiableShardFunction<F> {
    static constexpr const char* function = "nabla::mpi::distributed_sum (hessian_vector_product)";
    nabla::detail::check_second_order_size(function, "the direction v", theta.size(), v.size(),
                                           false);
    nabla::detail::check_second_order_size(function, "the product hv", theta.size(), hv.size(),
                                           false);
    const F& f = f_;
    (void)exchange_.run(
        function, comm_, reduction_, *pool_, shards_.count(), theta, hv,
        [&](std::size_t k, std::span<double> row) {
          nabla::detail::shard_hessian_vector_product(f, shards_, k, theta, v, row);
          return 0.0;
        },
        v);
  }

  /// ∇²f(θ), n×n row-major, written into h, the same on every rank (collective): each shard's
  /// dense Hessian (nabla::hessian), summed over the ranks as operator() sums gradients (n²
  /// doubles per shard sent). Only for a shard function generic in its number type; what
  /// nabla::optim::minimize's Newton calls.
  /// @throws nabla::Error when h does not have n² entries; as nabla::hessian and operator().
  void hessian(std::span<const double> theta,
               std::span<double> h) requires TwiceDifferentiableShardFunction<F> {
    static constexpr const char* function = "nabla::mpi::distributed_sum (hessian)";
    nabla::detail::check_second_order_size(function, "the Hessian h", theta.size(), h.size(), true);
    const F& f = f_;
    (void)exchange_.run(function, comm_, reduction_, *pool_, shards_.count(), theta, h,
                        [&](std::size_t k, std::span<double> row) {
                          nabla::detail::shard_hessian(f, shards_, k, theta, row);
                          return 0.0;
                        });
    // Reduction::allreduce adds each entry in MPI's order, which may differ between h_ij and
    // h_ji: the pair becomes its mean, as the Newton methods assume (shard_order sums
    // symmetric matrices in one order: nothing changes).
    nabla::detail::symmetrize(h, theta.size());
  }

  /// The shards summed over (all ranks').
  [[nodiscard]] const Shards& shards() const noexcept { return shards_; }
  /// This rank's shards: [first, last) of shards().
  [[nodiscard]] std::pair<std::size_t, std::size_t> local_shards() const noexcept {
    const detail::Block b = detail::block(shards_.count(), comm_.rank(), comm_.size());
    return {b.first, b.last};
  }
  /// The communicator.
  [[nodiscard]] const boost::mpi::communicator& communicator() const noexcept { return comm_; }

 private:
  F f_;
  Shards shards_;
  boost::mpi::communicator comm_;
  Reduction reduction_;
  ThreadPool* pool_;
  detail::ShardExchange exchange_;
};

/// The value and gradient of a sum over data shards, Σₖ f(θ, shardₖ), computed across the ranks
/// of `comm` (the world by default), each rank on its block of shards and its threads: an
/// objective for nabla::optim::minimize that every rank runs in lockstep (every method; the
/// Newton methods when f is generic in its number type). With Reduction::shard_order the result is
/// the same bits on every rank and as nabla::parallel_sum over the same Shards in one process (Note
/// [Deterministic distributed sums]). Modelled on Stan's map_rect. Every rank holds (or can
/// read) the data of its own shards; f is only called for them.
/// @throws nabla::Error (when called) as DistributedSum::operator().
///
/// Example (every rank runs the same lines; the result is the same on every rank):
///   auto nll = nabla::mpi::distributed_sum(
///       [&](std::span<const nabla::Var> w, nabla::Shard s) { return shard_nll(w, s); },
///       nabla::Shards(x.size(), 10'000));
///   auto r = nabla::optim::minimize(nll, {0.0, 0.0}, nabla::optim::LBFGS{});
template <class F>
DistributedSum<std::decay_t<F>> distributed_sum(
    F&& f, Shards shards, const boost::mpi::communicator& comm = boost::mpi::communicator(),
    Reduction reduction = Reduction::shard_order, ThreadPool& pool = default_thread_pool()) {
  return DistributedSum<std::decay_t<F>>(std::forward<F>(f), shards, comm, reduction, pool);
}

}  // namespace nabla::mpi
