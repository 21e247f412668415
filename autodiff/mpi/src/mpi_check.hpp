// nabla::mpi — internal: the ranks' agreement on sizes and failures, in one collective.
#pragma once

#include <boost/mpi/communicator.hpp>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <span>
#include <string_view>

namespace nabla::mpi::detail {

/// A size every rank must agree on, with its name for the error message.
struct Agreed {
  std::string_view name;  ///< e.g. "θ's size"
  std::uint64_t value;
  bool hash = false;  ///< a hash of values (the message says they differ, not the numbers)
};

/// A 64-bit hash (FNV-1a) of the bits of `values`: whether the ranks were given the same θ.
[[nodiscard]] std::uint64_t bits_hash(std::span<const double> values) noexcept;

/// Collective (one MPI_Allgather): checks that every rank has the same `sizes`, then whether
/// some rank failed (`failed_shard`: the shard that threw on this rank, or UINT64_MAX). On
/// every rank alike: throws nabla::Error naming the first rank that differs from rank 0;
/// rethrows `error` on the first failing rank and throws nabla::Error naming it on the others
/// (Note [MPI failure behaviour]).
void agree(const char* function, const boost::mpi::communicator& comm,
           std::initializer_list<Agreed> sizes, std::uint64_t failed_shard,
           const std::exception_ptr& error);

}  // namespace nabla::mpi::detail
