// The MPI program of the CMake consumer (built when find_package(nabla) defines nabla::mpi,
// run on two ranks by scripts/test-consumers): a sum over shards across the ranks whose value
// and gradient are known, so that nabla::mpi's include directories, library and dependencies
// (Boost.MPI, MPI) are checked. Exits 1 on a mismatch, on every rank alike.
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/mpi.hpp>

#include <fmt/format.h>

#include <span>
#include <vector>

int main(int argc, char** argv) {
  return nabla::mpi::run(argc, argv, [](const boost::mpi::communicator& world) {
    // Σ over shards k = 0 … 11 of (θ₀ − k)² + θ₁·k: at θ = (1, 2) the value is
    // Σ (1 − k)² + 2k = 386 + 132 = 518 and the gradient (Σ 2(1 − k), Σ k) = (−108, 66).
    auto sum = nabla::mpi::distributed_sum(
        [](std::span<const nabla::Var> t, nabla::Shard s) {
          const double k = static_cast<double>(s.index);
          return (t[0] - k) * (t[0] - k) + t[1] * k;
        },
        nabla::Shards(12), world);
    const auto r = sum.value_and_gradient(std::vector<double>{1.0, 2.0});
    const bool ok = r.value == 518.0 && r.gradient == std::vector<double>{-108.0, 66.0};
    if (nabla::mpi::is_root(world)) {
      fmt::print("nabla::mpi on {} ranks: value {}, gradient ({}, {}): {}\n", world.size(), r.value,
                 r.gradient[0], r.gradient[1], ok ? "ok" : "WRONG");
    }
    return ok ? 0 : 1;
  });
}
