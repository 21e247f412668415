// The MPI test executable (Boost.Test, shared library), run by meson test through
// scripts/mpirun with 1, 2 and 4 ranks: every rank runs every test case, each its part of the
// collectives. MPI is initialised before the first test and finalised after the last.
//   mpi_test [Boost.Test arguments]   the tests
//   mpi_test --throw-on-last-rank     the failure test (tests/autodiff/mpi_abort.py): the last
//                                     rank throws outside any collective while the others wait
//                                     in one; nabla::mpi::run must end the job with an error.
#define BOOST_TEST_MODULE mpi
#define BOOST_TEST_NO_MAIN
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/mpi.hpp>

#include <boost/mpi/environment.hpp>
#include <boost/test/unit_test.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace {
std::optional<boost::mpi::environment> environment;

struct Finalize {
  ~Finalize() { environment.reset(); }
};
BOOST_TEST_GLOBAL_FIXTURE(Finalize);

int throw_on_last_rank(int argc, char** argv) {
  return nabla::mpi::run(argc, argv, [](const boost::mpi::communicator& world) {
    // The others wait in a collective for the last rank, which never comes.
    auto sum = nabla::mpi::distributed_sum(
        [](std::span<const nabla::Var> w, nabla::Shard) { return w[0] * w[0]; },
        nabla::Shards(8, 1), world);
    if (world.rank() == world.size() - 1) throw std::runtime_error("thrown on purpose");
    std::vector<double> g(1);
    sum(std::vector<double>{1.0}, g);
    return 0;
  });
}
}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--throw-on-last-rank") {
    return throw_on_last_rank(argc, argv);
  }
  environment.emplace(argc, argv, boost::mpi::threading::serialized);
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
