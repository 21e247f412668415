#include "mpi_check.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <cstring>
#include <limits>
#include <vector>

#include "nabla/autodiff/error.hpp"

namespace nabla::mpi::detail {

std::uint64_t bits_hash(std::span<const double> values) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (const double v : values) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof v);
    for (int byte = 0; byte < 8; ++byte) {
      h = (h ^ ((bits >> (8 * byte)) & 0xff)) * 1099511628211ull;
    }
  }
  return h;
}

void agree(const char* function, const boost::mpi::communicator& comm,
           std::initializer_list<Agreed> sizes, std::uint64_t failed_shard,
           const std::exception_ptr& error) {
  const std::size_t width = sizes.size() + 1;
  std::vector<std::uint64_t> mine;
  for (const Agreed& s : sizes) mine.push_back(s.value);
  mine.push_back(failed_shard);
  std::vector<std::uint64_t> all(width * static_cast<std::size_t>(comm.size()));
  MPI_Allgather(mine.data(), static_cast<int>(width), MPI_UINT64_T, all.data(),
                static_cast<int>(width), MPI_UINT64_T, comm);
  // Every rank reads the same table, so every rank throws the same error (or none).
  for (int r = 1; r < comm.size(); ++r) {
    const std::uint64_t* theirs = all.data() + width * static_cast<std::size_t>(r);
    std::size_t i = 0;
    for (const Agreed& s : sizes) {
      if (theirs[i] != all[i] && s.hash) {
        nabla::detail::fail(function, fmt::format("the ranks disagree on {}: rank {}'s differ from "
                                                  "rank 0's (expected the same on every rank)",
                                                  s.name, r));
      }
      if (theirs[i] != all[i]) {
        nabla::detail::fail(function,
                            fmt::format("the ranks disagree on {}: {} on rank {} (expected {}, "
                                        "as on rank 0; every rank must call with the same sizes)",
                                        s.name, theirs[i], r, all[i]));
      }
      ++i;
    }
  }
  for (int r = 0; r < comm.size(); ++r) {
    const std::uint64_t shard = all[width * static_cast<std::size_t>(r) + width - 1];
    if (shard == std::numeric_limits<std::uint64_t>::max()) continue;
    if (r == comm.rank() && error) std::rethrow_exception(error);
    nabla::detail::fail(function, fmt::format("shard {} threw on rank {} of {} (its exception "
                                              "is rethrown on that rank; expected every "
                                              "shard to succeed)",
                                              shard, r, comm.size()));
  }
}

}  // namespace nabla::mpi::detail
