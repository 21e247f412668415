// nabla — parallel_sum: the value and gradient of a sum over data shards, on threads.
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <functional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/autodiff/forward.hpp"
#include "nabla/autodiff/gradient.hpp"
#include "nabla/autodiff/thread_pool.hpp"
#include "nabla/autodiff/var.hpp"

namespace nabla {

// Note [Deterministic parallel sums]
// parallel_sum computes f(θ) = Σₖ fₖ(θ) over the shards k = 0 … S−1 of the data: each shard's
// value and gradient on some worker's own tape (one recording and one reverse sweep per
// shard, the inputs θ recorded again on each), written into row k of an S × n buffer; then
// the rows are added in shard order, g = ((g₀ + g₁) + g₂) + …, and the values likewise.
// Floating-point addition is not associative, so the order is what makes the result
// bit-identical for every thread count: the shards are fixed by the data (Shards), never by
// the number of threads, and which thread ran a shard does not matter. The sum of the rows is
// itself split over the threads by coordinates, each coordinate still added in shard order.
// Cost: S·(recording + sweep of a shard) / threads, plus S·n additions for the reduction
// (and S·n doubles of memory, kept between calls): choose shards much larger than θ.

/// Shard k of a Shards split: the items [begin, end) of the data.
struct Shard {
  std::size_t index = 0;  ///< k, in 0 … count − 1
  std::size_t begin = 0;  ///< first item
  std::size_t end = 0;    ///< one past the last item
  /// Number of items, end − begin.
  [[nodiscard]] std::size_t size() const noexcept { return end - begin; }
};

/// Items 0 … items−1 of a data set split into shards of `shard_size` consecutive items (the
/// last one shorter when shard_size does not divide items): what nabla::parallel_sum sums
/// over. The split depends only on the data, never on the thread count (Note [Deterministic
/// parallel sums]). `Shards(n)` makes n shards of one item each: shard k is data element k.
///
/// Example: `nabla::Shards(1'000'000, 10'000)` — 100 shards; shard 3 is items 30000 … 39999.
class Shards {
 public:
  /// The split of `items` items into shards of `shard_size`.
  /// @throws nabla::Error when items is 0 (empty data) or shard_size is 0.
  explicit Shards(std::size_t items, std::size_t shard_size = 1);
  /// Number of shards, ⌈items / shard_size⌉.
  [[nodiscard]] std::size_t count() const noexcept { return count_; }
  /// Number of items.
  [[nodiscard]] std::size_t items() const noexcept { return items_; }
  /// Items per shard (the last shard may have fewer).
  [[nodiscard]] std::size_t shard_size() const noexcept { return shard_size_; }
  /// Shard k.
  /// @throws nabla::Error when k ≥ count().
  [[nodiscard]] Shard operator[](std::size_t k) const;

 private:
  std::size_t items_, shard_size_, count_;
};

/// A shard function nabla::parallel_sum can differentiate: callable with the parameters as
/// `std::span<const Var>` and a Shard, returning a Var (or a scalar expression), or a
/// one-element tensor (anything with `item()`, such as a TensorVar).
template <class F>
concept ShardFunction = std::invocable<const F&, std::span<const Var>, Shard> &&
    (std::convertible_to<std::invoke_result_t<const F&, std::span<const Var>, Shard>, Var> ||
     requires(std::invoke_result_t<const F&, std::span<const Var>, Shard> r) {
       { r.item() } -> std::convertible_to<Var>;
       { r.size() } -> std::convertible_to<std::size_t>;
     });

/// A shard function whose sum the Newton methods can take second derivatives of: a
/// ShardFunction generic in its number type, also callable with θ as
/// `std::span<const Dual<Var>>` (Hessian-vector products, forward over reverse) and returning
/// one number — a lambda taking `const auto& theta` and a Shard.
template <class F>
concept TwiceDifferentiableShardFunction =
    ShardFunction<F> && std::invocable<const F&, std::span<const Dual<Var>>, Shard> &&
    std::convertible_to<std::invoke_result_t<const F&, std::span<const Dual<Var>>, Shard>,
                        Dual<Var>>;

namespace detail {
/// Throws nabla::Error: shard k's loss had `size` elements, not one.
[[noreturn]] void wrong_loss_size(const char* function, std::size_t shard, std::size_t size);

/// A shard's loss as a Var: a Var or scalar expression as it is, a tensor's only element.
/// @throws nabla::Error when a tensor loss does not have exactly one element.
template <class R>
Var shard_loss(const char* function, std::size_t shard, const R& r) {
  if constexpr (std::convertible_to<const R&, Var>) {
    return Var(r);
  } else {
    if (r.size() != 1) wrong_loss_size(function, shard, r.size());
    return r.item();
  }
}

/// Shard k's value, its gradient written into row: f(θ, shards[k]) recorded on this thread's
/// tape and swept (parallel_sum's and mpi::distributed_sum's work per shard).
template <class F>
double shard_gradient(const char* function, const F& f, const Shards& shards, std::size_t k,
                      std::span<const double> theta, std::span<double> row) {
  const Shard s = shards[k];
  return nabla::gradient([&](std::span<const Var> x) { return shard_loss(function, k, f(x, s)); },
                         theta, row);
}

/// Shard k's Hessian-vector product ∇²f_k(θ)·v written into row (forward over reverse on this
/// thread's tape); the Newton-CG step of parallel_sum's and mpi::distributed_sum's sums.
template <class F>
void shard_hessian_vector_product(const F& f, const Shards& shards, std::size_t k,
                                  std::span<const double> theta, std::span<const double> v,
                                  std::span<double> row) {
  const Shard s = shards[k];
  const std::vector<double> hv =
      nabla::hessian_vector_product([&](const auto& x) { return f(x, s); }, theta, v);
  std::copy(hv.begin(), hv.end(), row.begin());
}
/// Shard k's dense Hessian ∇²f_k(θ), n×n row-major, written into row (n² doubles).
template <class F>
void shard_hessian(const F& f, const Shards& shards, std::size_t k, std::span<const double> theta,
                   std::span<double> row) {
  const Shard s = shards[k];
  // Callable with exactly the spans f takes, so that nabla::hessian sees f's own choice: four
  // columns per evaluation when f takes Dual<Var, 4> (a generic f does), else one.
  const Hessian h = nabla::hessian(
      [&]<class T>(
          std::span<const T> x) requires std::invocable<const F&, std::span<const T>, Shard> {
        return f(x, s);
      },
      theta);
  std::copy(h.data.begin(), h.data.end(), row.begin());
}
/// Throws nabla::Error unless `what` (a direction or product: one entry per parameter, or a
/// Hessian: n² entries) has the size it needs for θ of n entries (the second-order members of
/// parallel_sum and mpi::distributed_sum).
void check_second_order_size(const char* function, const char* what, std::size_t n, std::size_t got,
                             bool square);

/// The engine of parallel_sum and nn::DataParallel (Note [Deterministic parallel sums]): one
/// value and one gradient row per shard, computed on a pool, then added in shard order. Keeps
/// its buffers between calls (a loop of calls allocates nothing once warm). One call at a
/// time per object.
class ShardSums {
 public:
  ShardSums() = default;
  ShardSums(ShardSums&& other) noexcept;
  ShardSums& operator=(ShardSums&&) = delete;
  ShardSums(const ShardSums&) = delete;
  ShardSums& operator=(const ShardSums&) = delete;

  /// Runs shard(k, row) for k = 0 … shards−1 on `pool` (row: n doubles, for shard k's
  /// gradient; shard returns its value), then writes the sum of the rows, in shard order, into
  /// g (n = g.size()) and returns the sum of the values in shard order.
  /// @throws nabla::Error when this object is already running (a shard function calling it);
  /// the exception of the first shard, in shard order, whose function threw.
  double run(const char* function, ThreadPool& pool, std::size_t shards, std::span<double> g,
             const std::function<double(std::size_t, std::span<double>)>& shard);

 private:
  // Writes the rows' sum in shard order into g and returns the values' sum in shard order.
  double add_in_shard_order(ThreadPool& pool, std::size_t shards, std::span<double> g) const;
  std::vector<double> values_;  // per shard
  std::vector<double> rows_;    // shards × n, row k for shard k
  std::atomic<bool> running_{false};
};

/// Throws nabla::Error unless g has θ's size.
void check_parallel_sizes(const char* function, std::size_t theta, std::size_t g);
}  // namespace detail

/// The value and gradient of f(θ) = Σₖ fₖ(θ), a sum over the shards of the data, computed on a
/// pool of threads, bit-identical for every thread count (Note [Deterministic parallel sums]):
/// what nabla::parallel_sum() returns. Callable as `double(std::span<const double> θ,
/// std::span<double> g)`, the form nabla::optim::minimize takes, so a run gives the same
/// iterates on 1 thread as on 64. With a shard function generic in its number type it also
/// has Hessian-vector products and dense Hessians (the Newton methods).
///
/// f is called as `f(θ, shard)` with θ as `std::span<const Var>` and a Shard, concurrently
/// from several threads: it must only read what it shares (the data, captured by reference).
/// Each call records on its thread's own tape, which is rewound afterwards (also when f
/// throws). One call of an object at a time; a call from inside a shard function (of another
/// object) runs its shards on the calling thread, with the same result.
template <class F>
class ParallelSum {
  static_assert(ShardFunction<F>,
                "nabla::parallel_sum: f must be callable through a const reference as "
                "f(std::span<const nabla::Var> theta, nabla::Shard shard), returning a Var, a "
                "scalar expression or a one-element TensorVar (not a mutable lambda: shards run "
                "concurrently)");

 public:
  /// The sum of f over `shards` on `pool` (the process-wide pool by default).
  ParallelSum(F f, Shards shards, ThreadPool& pool = default_thread_pool())
      : f_(std::move(f)), shards_(shards), pool_(&pool) {}

  /// Writes ∇f(θ) into g and returns f(θ).
  /// @throws nabla::Error when g and θ differ in size, or this object is already running;
  /// the exception of the first shard (in shard order) whose f threw.
  double operator()(std::span<const double> theta, std::span<double> g) {
    detail::check_parallel_sizes("nabla::parallel_sum", theta.size(), g.size());
    const F& f = f_;  // called concurrently: only through const (ShardFunction)
    return sums_.run("nabla::parallel_sum", *pool_, shards_.count(), g,
                     [&](std::size_t k, std::span<double> row) {
                       return detail::shard_gradient("nabla::parallel_sum", f, shards_, k, theta,
                                                     row);
                     });
  }

  /// f(θ) and ∇f(θ) as a ValueAndGradient.
  /// @throws as operator().
  ValueAndGradient value_and_gradient(std::span<const double> theta) {
    ValueAndGradient out{0.0, std::vector<double>(theta.size())};
    out.value = (*this)(theta, out.gradient);
    return out;
  }

  /// ∇²f(θ)·v written into hv: each shard's Hessian-vector product by forward over reverse,
  /// added in shard order (the same bits for any thread count). Only for a shard function
  /// generic in its number type (TwiceDifferentiableShardFunction); what
  /// nabla::optim::minimize's NewtonCG calls.
  /// @throws nabla::Error when v or hv does not have θ's size; as operator().
  void hessian_vector_product(std::span<const double> theta, std::span<const double> v,
                              std::span<double> hv) requires TwiceDifferentiableShardFunction<F> {
    static constexpr const char* function = "nabla::parallel_sum (hessian_vector_product)";
    detail::check_second_order_size(function, "the direction v", theta.size(), v.size(), false);
    detail::check_second_order_size(function, "the product hv", theta.size(), hv.size(), false);
    const F& f = f_;
    (void)sums_.run(function, *pool_, shards_.count(), hv,
                    [&](std::size_t k, std::span<double> row) {
                      detail::shard_hessian_vector_product(f, shards_, k, theta, v, row);
                      return 0.0;
                    });
  }

  /// ∇²f(θ), n×n row-major, written into h: each shard's dense Hessian (nabla::hessian), added
  /// in shard order. Needs shards × n² doubles while it runs. Only for a shard function generic
  /// in its number type; what nabla::optim::minimize's Newton calls.
  /// @throws nabla::Error when h does not have n² entries; as nabla::hessian and operator().
  void hessian(std::span<const double> theta,
               std::span<double> h) requires TwiceDifferentiableShardFunction<F> {
    static constexpr const char* function = "nabla::parallel_sum (hessian)";
    detail::check_second_order_size(function, "the Hessian h", theta.size(), h.size(), true);
    const F& f = f_;
    (void)sums_.run(function, *pool_, shards_.count(), h,
                    [&](std::size_t k, std::span<double> row) {
                      detail::shard_hessian(f, shards_, k, theta, row);
                      return 0.0;
                    });
  }

  /// The shards summed over.
  [[nodiscard]] const Shards& shards() const noexcept { return shards_; }
  /// The pool the shards run on.
  [[nodiscard]] ThreadPool& pool() const noexcept { return *pool_; }

 private:
  F f_;
  Shards shards_;
  ThreadPool* pool_;
  detail::ShardSums sums_;
};

/// The value and gradient of a sum over data shards, Σₖ f(θ, shardₖ), on a pool of threads:
/// an objective for nabla::optim::minimize, or call it as `sum(θ, g)` or
/// `sum.value_and_gradient(θ)`. The result is the same, bit for bit, for any number of threads
/// (Note [Deterministic parallel sums]). Modelled on Stan's reduce_sum.
/// @throws nabla::Error (when called) for a gradient of the wrong size, a tensor loss of more
/// than one element; what f throws, the first in shard order.
///
/// Example (a logistic regression's negative log-likelihood over 10⁶ observations):
///   auto nll = nabla::parallel_sum(
///       [&](std::span<const nabla::Var> w, nabla::Shard s) {
///         nabla::Var sum = 0.0;
///         for (std::size_t i = s.begin; i < s.end; ++i)
///           sum += softplus(w[0] + w[1] * x[i]) - y[i] * (w[0] + w[1] * x[i]);
///         return sum;
///       },
///       nabla::Shards(x.size(), 10'000));
///   auto r = nabla::optim::minimize(nll, {0.0, 0.0}, nabla::optim::LBFGS{});
template <class F>
ParallelSum<std::decay_t<F>> parallel_sum(F&& f, Shards shards,
                                          ThreadPool& pool = default_thread_pool()) {
  return ParallelSum<std::decay_t<F>>(std::forward<F>(f), shards, pool);
}

}  // namespace nabla
