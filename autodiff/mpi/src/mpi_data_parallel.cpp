#include "nabla/autodiff/mpi_data_parallel.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <limits>

#include "mpi_check.hpp"
#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/mpi_sum.hpp"

namespace nabla::mpi {

DataParallel::DataParallel(nn::Parameters& params, const boost::mpi::communicator& comm,
                           ThreadPool& pool)
    : params_(&params), comm_(comm), local_(params, pool) {
  detail::agree(function, comm_, {{"the number of parameters", params.size()}},
                std::numeric_limits<std::uint64_t>::max(), nullptr);
  if (params.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) - 4) {
    nabla::detail::fail(function, fmt::format("{} parameters exceed MPI's count limit "
                                              "(expected at most {})",
                                              params.size(), std::numeric_limits<int>::max() - 4));
  }
  buffer_.resize(params.size() + 4);
  broadcast_parameters();
}

void DataParallel::check_sizes(std::size_t x, std::size_t g) const {
  if (x != params_->size() || g != params_->size()) {
    nabla::detail::fail(function, fmt::format("x has {} entries and g {} for a set of {} "
                                              "parameters (expected {} each)",
                                              x, g, params_->size(), params_->size()));
  }
}

void DataParallel::broadcast_parameters() {
  const std::span<double> values = params_->values();
  MPI_Bcast(values.data(), static_cast<int>(values.size()), MPI_DOUBLE, 0, comm_);
}

bool DataParallel::parameters_agree() {
  const std::span<const double> values = params_->values();
  std::vector<double> root(values.begin(), values.end());
  MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_DOUBLE, 0, comm_);
  int same = std::memcmp(root.data(), values.data(), values.size_bytes()) == 0 ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_LAND, comm_);
  return same != 0;
}

double DataParallel::run(const Shards& shards, const std::function<Var(Shard)>& loss) {
  const std::size_t n = params_->size();
  const detail::Block mine = detail::block(shards.count(), comm_.rank(), comm_.size());
  std::exception_ptr error;
  double value = 0;
  std::fill(buffer_.begin(), buffer_.end(), 0.0);
  if (mine.first < mine.last) {
    // This rank's block is items [begin, end) split as the whole batch is: a Shards of its own,
    // whose shard i is the batch's shard first + i.
    const std::size_t begin = shards[mine.first].begin, end = shards[mine.last - 1].end;
    try {
      value = local_.compute_gradients(Shards(end - begin, shards.shard_size()), [&](Shard s) {
        return loss(Shard{mine.first + s.index, begin + s.begin, begin + s.end});
      });
      const std::span<const double> g = params_->gradients();
      std::copy(g.begin(), g.end(), buffer_.begin());
    } catch (...) {
      error = std::current_exception();
    }
  }
  const double count = static_cast<double>(shards.count());
  buffer_[n] = value;
  buffer_[n + 1] = error ? 1.0 : 0.0;
  buffer_[n + 2] = count;
  buffer_[n + 3] = count * count;
  // Note [Distributed data-parallel training]: the one collective of a step.
  MPI_Allreduce(MPI_IN_PLACE, buffer_.data(), static_cast<int>(buffer_.size()), MPI_DOUBLE, MPI_SUM,
                comm_);
  const double ranks = comm_.size();
  if (buffer_[n + 2] != ranks * count || buffer_[n + 3] != ranks * count * count) {
    nabla::detail::fail(function,
                        fmt::format("the ranks disagree on the shard count: {} on "
                                    "this rank (rank {}), {:.6g} on average (expected "
                                    "the same Shards on every rank)",
                                    shards.count(), comm_.rank(), buffer_[n + 2] / ranks));
  }
  if (buffer_[n + 1] != 0) {
    if (error) std::rethrow_exception(error);
    nabla::detail::fail(function, fmt::format("a loss threw on {:.0f} of the {} ranks (its "
                                              "exception is rethrown there; expected every "
                                              "shard to succeed)",
                                              buffer_[n + 1], comm_.size()));
  }
  const std::span<double> g = params_->gradients();
  std::copy(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n), g.begin());
  return buffer_[n];
}

}  // namespace nabla::mpi
