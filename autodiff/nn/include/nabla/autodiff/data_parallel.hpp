// nabla::nn — DataParallel: one training step's gradients over data shards, on threads.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

#include "nabla/autodiff/nn.hpp"
#include "nabla/autodiff/parallel.hpp"
#include "nabla/autodiff/tensor_var.hpp"
#include "nabla/autodiff/thread_pool.hpp"

namespace nabla::detail {
/// One evaluation of a data-parallel objective over a Parameters set (DataParallel::objective,
/// mpi::DataParallel::objective): x copied into params' values, compute() setting params'
/// gradients and returning the loss, the gradients copied into g (the caller checks sizes).
template <class Compute>
double parameters_objective(nn::Parameters& params, std::span<const double> x, std::span<double> g,
                            Compute&& compute) {
  const std::span<double> values = params.values();
  if (x.data() != values.data()) std::copy(x.begin(), x.end(), values.begin());
  const double loss = compute();
  const std::span<const double> gradients = params.gradients();
  std::copy(gradients.begin(), gradients.end(), g.begin());
  return loss;
}
}  // namespace nabla::detail

namespace nabla::nn {

// Note [Data-parallel gradients]
// DataParallel is nn::compute_gradients over shards of a batch, as PyTorch's
// DistributedDataParallel on one machine: every shard's loss is recorded on a worker's own
// tape with the same parameters, and the gradients are added. A Parameter recorded on a
// worker during a shard adds its gradient into that shard's own buffer instead of the set's
// (a thread-local redirect, detail::GradientRedirect, set for the shard's duration), so the
// threads never write the same memory; the buffers are then added in shard order into
// params.gradients() (Note [Deterministic parallel sums]): the same gradients, bit for bit,
// for any thread count. Stateful layers (Dropout's generator, BatchNorm1d's running
// statistics in training) are shared by all shards: use them only in evaluation mode here.

/// Data-parallel gradients of a loss that is a sum over shards of the data, for the parameters
/// of one nn::Parameters set, on a pool of threads (Note [Data-parallel gradients]). Keeps one
/// gradient buffer per shard between steps: a training loop allocates nothing once warm.
///
/// Example (one step on a batch of 512 rows, shards of 128):
///   nabla::nn::DataParallel parallel(params);
///   const double loss = parallel.compute_gradients(nabla::Shards(512, 128), [&](nabla::Shard s) {
///     const auto rows = batch.subspan(s.begin, s.size());
///     return nabla::sum(per_row_loss(nabla::constant_rows(x, rows), W, b));
///   });
///   adam->step(params.values(), params.gradients());
class DataParallel {
 public:
  /// Gradients for `params` computed on `pool` (the process-wide pool by default). params
  /// must outlive this object.
  explicit DataParallel(Parameters& params, ThreadPool& pool = default_thread_pool())
      : params_(&params), pool_(&pool) {}

  /// Sets params.gradients() to the gradient of Σₖ f(shardₖ) and returns that sum; f(shard)
  /// records the loss of one shard — a one-element TensorVar, a Var or a scalar expression —
  /// and is called concurrently from the pool's threads (it must only read what it shares).
  /// Each shard's recording is rewound (also when f throws).
  /// @throws nabla::Error when a loss has more than one element, or this object is already
  /// running; the exception of the first shard (in shard order) whose f threw. The gradients
  /// are then unspecified.
  template <class F>
  requires std::invocable<const F&, Shard>
  double compute_gradients(const Shards& shards, const F& f) {
    return run(shards, [&](Shard s) { return nabla::detail::shard_loss(function, s.index, f(s)); });
  }

  /// An objective for optim::minimize over the set's values, flat (`params.values()` order):
  /// (x, g) ↦ Σₖ f(shardₖ) with its gradient in g. x is copied into params.values() first.
  /// The object returned holds a copy of f and refers to this DataParallel, which must outlive
  /// it.
  /// @throws nabla::Error (when called) when x or g is not params.size() long; as
  /// compute_gradients().
  template <class F>
  requires std::invocable<const F&, Shard>
  auto objective(Shards shards, F f) {
    return [this, shards, f = std::move(f)](std::span<const double> x, std::span<double> g) {
      check_sizes(x.size(), g.size());
      return nabla::detail::parameters_objective(*params_, x, g,
                                                 [&] { return compute_gradients(shards, f); });
    };
  }

  /// The pool the shards run on.
  [[nodiscard]] ThreadPool& pool() const noexcept { return *pool_; }

 private:
  static constexpr const char* function = "nabla::nn::DataParallel";
  // Runs loss(shard) for every shard with this shard's redirect, sweeps, sums in order.
  double run(const Shards& shards, const std::function<Var(Shard)>& loss);
  void check_sizes(std::size_t x, std::size_t g) const;
  Parameters* params_;
  ThreadPool* pool_;
  nabla::detail::ShardSums sums_;
};

}  // namespace nabla::nn
