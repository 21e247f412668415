#include "nabla/autodiff/mpi_run.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <boost/mpi/environment.hpp>
#include <cstdio>
#include <exception>

namespace nabla::mpi {

bool is_root(const boost::mpi::communicator& comm) { return comm.rank() == 0; }

int run(int argc, char** argv, const std::function<int(const boost::mpi::communicator&)>& body) {
  // Not boost::mpi::environment's own abort_on_exception: it acts only when the exception
  // unwinds through its destructor, which an uncaught exception need not do.
  // MPI_THREAD_SERIALIZED: the pools' worker threads exist (they never call MPI), and the
  // collectives may be called from any one thread at a time, not only the main thread.
  const boost::mpi::environment environment(argc, argv, boost::mpi::threading::serialized,
                                            /*abort_on_exception=*/false);
  const boost::mpi::communicator world;
  try {
    return body(world);
  } catch (const std::exception& e) {
    fmt::print(stderr, "rank {} of {}: {}\n", world.rank(), world.size(), e.what());
  } catch (...) {
    fmt::print(stderr, "rank {} of {}: an exception that is not a std::exception\n", world.rank(),
               world.size());
  }
  std::fflush(stderr);
  // Note [MPI failure behaviour]: the other ranks may be waiting in a collective.
  MPI_Abort(MPI_COMM_WORLD, 1);
  return 1;  // not reached: MPI_Abort does not return
}

}  // namespace nabla::mpi
