#include "nabla/autodiff/mpi_sum.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <limits>

#include "mpi_check.hpp"
#include "nabla/autodiff/error.hpp"

namespace nabla::mpi::detail {

Block block(std::size_t shards, int rank, int ranks) noexcept {
  // ⌊rS/P⌋ = r·⌊S/P⌋ + ⌊r·(S mod P)/P⌋, which does not wrap for any shard count.
  const auto p = static_cast<std::size_t>(ranks);
  const auto edge = [&](int r) {
    const auto rr = static_cast<std::size_t>(r);
    return rr * (shards / p) + rr * (shards % p) / p;
  };
  return {edge(rank), edge(rank + 1)};
}

double ShardExchange::run(const char* function, const boost::mpi::communicator& comm,
                          Reduction reduction, ThreadPool& pool, std::size_t shards,
                          std::span<const double> theta, std::span<double> g,
                          const std::function<double(std::size_t, std::span<double>)>& shard,
                          std::span<const double> direction) {
  const std::size_t n = g.size();
  const std::size_t width = n + 1;  // a record: the value, then the gradient row
  const Block mine = block(shards, comm.rank(), comm.size());
  const std::size_t count = mine.last - mine.first;

  // This rank's shards; a failure is remembered (the lowest failing shard, as ThreadPool::run
  // rethrows) and reported to every rank below instead of leaving them waiting.
  constexpr std::uint64_t none = std::numeric_limits<std::uint64_t>::max();
  std::atomic<std::uint64_t> failed{none};
  std::exception_ptr error;
  try {
    records_.resize(count * width);
    pool.run(count, [&](std::size_t i) {
      double* record = records_.data() + i * width;
      try {
        record[0] = shard(mine.first + i, {record + 1, n});
      } catch (...) {
        std::uint64_t seen = failed.load();
        const std::uint64_t k = mine.first + i;
        while (k < seen && !failed.compare_exchange_weak(seen, k)) {
        }
        throw;
      }
    });
  } catch (...) {
    error = std::current_exception();
    if (failed.load() == none) failed = mine.first;  // resize's bad_alloc: blame the block
  }
  // θ's values too: ranks started from different points would silently sum gradients taken
  // at different θ (Reduction as a number: a mix would pair a gather with an all-reduce).
  agree(function, comm,
        {{"θ's size", theta.size()},
         {"the doubles per shard (n: a gradient or H·v, n²: a Hessian)", n},
         {"the shard count", shards},
         {"the reduction (0: shard_order, 1: allreduce)", static_cast<std::uint64_t>(reduction)},
         {"θ's values", bits_hash(theta), true},
         {"the direction v's values", bits_hash(direction), true}},
        failed.load(), error);

  // MPI counts are ints.
  if (shards > static_cast<std::size_t>(INT_MAX) / width) {
    nabla::detail::fail(function, fmt::format("{} shards × {} doubles per shard exceed MPI's "
                                              "count limit (expected at most {} doubles)",
                                              shards, width, INT_MAX));
  }
  sum_.assign(width, 0.0);
  if (reduction == Reduction::allreduce) {
    // This rank's records in shard order, then the ranks' partial sums in MPI's order.
    std::vector<double>& partial = gathered_;
    partial.assign(width, 0.0);
    for (std::size_t i = 0; i < count; ++i) {
      const double* record = records_.data() + i * width;
      if (i == 0) {
        std::copy(record, record + width, partial.begin());
      } else {
        for (std::size_t j = 0; j < width; ++j) partial[j] += record[j];
      }
    }
    MPI_Allreduce(partial.data(), sum_.data(), static_cast<int>(width), MPI_DOUBLE, MPI_SUM, comm);
  } else {
    // Every rank's records on rank 0, in rank order = shard order (Note [Deterministic
    // distributed sums]), added there in shard order as parallel_sum adds its rows.
    const bool root = comm.rank() == 0;
    std::vector<int>& counts = counts_;
    std::vector<int>& offsets = offsets_;
    counts.clear();
    offsets.clear();
    if (root) {
      gathered_.resize(shards * width);
      for (int r = 0; r < comm.size(); ++r) {
        const Block b = block(shards, r, comm.size());
        counts.push_back(static_cast<int>((b.last - b.first) * width));
        offsets.push_back(static_cast<int>(b.first * width));
      }
    }
    MPI_Gatherv(records_.data(), static_cast<int>(count * width), MPI_DOUBLE, gathered_.data(),
                counts.data(), offsets.data(), MPI_DOUBLE, 0, comm);
    if (root) {
      std::copy(gathered_.begin(), gathered_.begin() + static_cast<std::ptrdiff_t>(width),
                sum_.begin());
      for (std::size_t k = 1; k < shards; ++k) {
        const double* record = gathered_.data() + k * width;
        for (std::size_t j = 0; j < width; ++j) sum_[j] += record[j];
      }
    }
    MPI_Bcast(sum_.data(), static_cast<int>(width), MPI_DOUBLE, 0, comm);
  }
  std::copy(sum_.begin() + 1, sum_.end(), g.begin());
  return sum_[0];
}

}  // namespace nabla::mpi::detail
