// The MPI tests' helpers: comparisons of bits, on this rank and across ranks.
#pragma once

#include <mpi.h>

#include <boost/mpi/communicator.hpp>
#include <cstring>
#include <span>
#include <vector>

namespace nabla::test {

inline bool same_bits(std::span<const double> a, std::span<const double> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

inline bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// True on every rank when every rank's `values` are rank 0's, bit for bit (collective).
inline bool same_on_every_rank(std::span<const double> values,
                               const boost::mpi::communicator& comm = {}) {
  std::vector<double> root(values.begin(), values.end());
  MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_DOUBLE, 0, comm);
  int same = same_bits(root, values) ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_LAND, comm);
  return same != 0;
}

}  // namespace nabla::test
