#include "nabla/autodiff/parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <new>

#include "nabla/autodiff/error.hpp"

namespace nabla {

Shards::Shards(std::size_t items, std::size_t shard_size)
    : items_(items), shard_size_(shard_size), count_(0) {
  if (items == 0) {
    detail::fail("nabla::Shards", "items = 0: the data is empty (expected at least one item)");
  }
  if (shard_size == 0) {
    detail::fail("nabla::Shards",
                 fmt::format("shard_size = 0 for {} items (expected at least 1)", items));
  }
  // Rounded up without items + shard_size − 1, which wraps around for huge sizes.
  count_ = items / shard_size + (items % shard_size != 0 ? 1 : 0);
}

Shard Shards::operator[](std::size_t k) const {
  if (k >= count_) {
    detail::fail("nabla::Shards",
                 fmt::format("shard {} is out of range (expected below {})", k, count_));
  }
  const std::size_t begin = k * shard_size_;
  return {k, begin, begin + std::min(shard_size_, items_ - begin)};
}

namespace detail {

void wrong_loss_size(const char* function, std::size_t shard, std::size_t size) {
  fail(function, fmt::format("shard {} returned a loss of {} elements (expected a one-element "
                             "tensor, a Var or a scalar expression)",
                             shard, size));
}

void check_parallel_sizes(const char* function, std::size_t theta, std::size_t g) {
  if (theta != g) {
    fail(function, fmt::format("the gradient has {} entries for {} parameters (expected one "
                               "gradient entry per parameter)",
                               g, theta));
  }
}

void check_second_order_size(const char* function, const char* what, std::size_t n, std::size_t got,
                             bool square) {
  if (!square && got != n) {
    fail(function, fmt::format("{} has {} entries for {} parameters (expected one entry per "
                               "parameter)",
                               what, got, n));
  }
  const bool n_squared = n == 0 ? got == 0 : got % n == 0 && got / n == n;
  if (square && !n_squared) {
    fail(function, fmt::format("{} has {} entries for {} parameters (expected {}×{}, row-major)",
                               what, got, n, n, n));
  }
}

ShardSums::ShardSums(ShardSums&& other) noexcept
    : values_(std::move(other.values_)), rows_(std::move(other.rows_)) {}

namespace {
// Below this many additions the reduction runs on the calling thread: handing it to the pool
// costs more than it saves (a wake-up is some microseconds).
constexpr std::size_t parallel_reduction_size = std::size_t{1} << 16;

// Marks a ShardSums as running for the duration of a call (and refuses a second call).
class Running {
 public:
  Running(std::atomic<bool>& flag, const char* function) : flag_(flag) {
    if (flag_.exchange(true)) {
      fail(function,
           "this object is already running (called from one of its own shard functions, or "
           "from two threads at once; expected one call at a time per object: make one "
           "object per thread, or call parallel_sum's objects one after another)");
    }
  }
  ~Running() { flag_.store(false); }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

 private:
  std::atomic<bool>& flag_;
};
}  // namespace

double ShardSums::run(const char* function, ThreadPool& pool, std::size_t shards,
                      std::span<double> g,
                      const std::function<double(std::size_t, std::span<double>)>& shard) {
  const Running running(running_, function);
  if (shards == 0) fail(function, "no shards (expected at least one)");
  const std::size_t n = g.size();
  if (n != 0 && shards > rows_.max_size() / n) {
    fail(function, fmt::format("{} shards × {} doubles per shard (a gradient row, or a Hessian) "
                               "do not fit in memory (expected fewer shards or parameters)",
                               shards, n));
  }
  try {
    values_.resize(shards);
    rows_.resize(shards * n);
  } catch (const std::bad_alloc&) {
    fail(function, fmt::format("out of memory for {} shards × {} doubles per shard (a gradient "
                               "row, or a Hessian) ({:.3g} bytes; expected larger shards: fewer "
                               "of them)",
                               shards, n, 8.0 * static_cast<double>(shards * n)));
  }
  pool.run(shards, [&](std::size_t k) { values_[k] = shard(k, {rows_.data() + k * n, n}); });
  return add_in_shard_order(pool, shards, g);
}

double ShardSums::add_in_shard_order(ThreadPool& pool, std::size_t shards,
                                     std::span<double> g) const {
  // Note [Deterministic parallel sums]: by blocks of coordinates, each coordinate's additions
  // in the same order whatever the blocks.
  const std::size_t n = g.size();
  double value = values_[0];
  for (std::size_t k = 1; k < shards; ++k) value += values_[k];
  const auto add_rows = [&](std::size_t lo, std::size_t hi) {
    std::copy(rows_.data() + lo, rows_.data() + hi, g.data() + lo);
    for (std::size_t k = 1; k < shards; ++k) {
      const double* row = rows_.data() + k * n;
      for (std::size_t j = lo; j < hi; ++j) g[j] += row[j];
    }
  };
  if (shards * n < parallel_reduction_size || pool.size() == 1 || ThreadPool::on_worker()) {
    add_rows(0, n);
  } else {
    const std::size_t blocks = std::min(n, 4 * pool.size());
    pool.run(blocks, [&](std::size_t b) { add_rows(b * n / blocks, (b + 1) * n / blocks); });
  }
  return value;
}

}  // namespace detail

}  // namespace nabla
