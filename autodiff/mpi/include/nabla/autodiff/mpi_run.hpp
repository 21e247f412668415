// nabla::mpi — running a program on MPI ranks: the root rank, and ending the run on an error.
#pragma once

#include <boost/mpi/communicator.hpp>
#include <functional>

namespace nabla::mpi {

// Note [MPI failure behaviour]
// MPI collectives wait for every rank. A rank that throws while the others wait in a
// collective would leave them waiting for ever, so nabla's collectives never do that: a shard
// function or loss that throws inside distributed_sum or mpi::DataParallel is caught, every
// rank learns of it in the same collective, and every rank throws (the failing rank its own
// exception, the others a nabla::Error naming the rank and shard). An exception anywhere else
// — reading the data, a user's own collective — is the program's: run() catches whatever
// escapes the program's body, prints it with the rank, and calls MPI_Abort on the world
// communicator, which makes mpirun kill every rank and exit with an error. An uncaught
// exception without run() ends in std::terminate, which mpirun also sees (a rank killed by a
// signal ends the job); what must not happen is a rank that catches, returns from main and
// calls MPI_Finalize while the others wait: that hangs.

/// True on rank 0 of `comm` (the world by default): the rank that prints progress and writes
/// files.
///
/// Example: `if (nabla::mpi::is_root()) fmt::print("loss {}\n", loss);`
[[nodiscard]] bool is_root(const boost::mpi::communicator& comm = boost::mpi::communicator());

/// Runs `body(world)` as the program on every rank, between MPI's initialisation and
/// finalisation, and returns its exit status. Whatever body throws is printed on stderr as
/// "rank r of P: <what>" and ends the whole run with MPI_Abort (status 1): the other ranks do
/// not wait for ever (Note [MPI failure behaviour]). A program started without mpirun runs as
/// rank 0 of 1. MPI is initialised with MPI_THREAD_SERIALIZED: nabla's collectives may be called
/// from any thread, one at a time (a program that initialises MPI itself must ask for at least
/// MPI_THREAD_FUNNELED, since the thread pools exist, and call them from its main thread).
///
/// Example:
///   int main(int argc, char** argv) {
///     return nabla::mpi::run(argc, argv, [&](const boost::mpi::communicator& world) {
///       ...;
///       return 0;
///     });
///   }
int run(int argc, char** argv, const std::function<int(const boost::mpi::communicator&)>& body);

}  // namespace nabla::mpi
