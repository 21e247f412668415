// Gradients across MPI ranks (docs/parallel.md, "Across processes: MPI"): run with
//   scripts/mpirun -np 2 build/tests/bench/mpi_bench
// The gradient of a logistic regression's negative log-likelihood over n = 10⁶ observations (10
// weights) in shards of 10⁴, with nabla::mpi::distributed_sum on 1 rank (rank 0 alone, on
// MPI_COMM_SELF, while rank 1 sleeps) and on 2 ranks, one thread each, interleaved samples; the
// exchange alone (the same 100 shards with no work); and MPI_Allreduce of 11 doubles (this
// gradient) and of 407,050 (the Fashion-MNIST MLP's) per step. Prints a Markdown table, the
// CPU time the 2 ranks got over wall time, and the load average. `small` runs n = 10⁴ briefly
// (the CI test, which also checks that 1 and 2 ranks give the same bits).
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/mpi.hpp>

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <string>

namespace {

constexpr std::size_t d = 10;

struct Logistic {
  std::vector<double> x;  // n × d, row-major, x[i·d] = 1
  std::vector<double> y;  // 0 or 1
  explicit Logistic(std::size_t n) : x(n * d), y(n) {
    std::mt19937_64 rng(1);
    std::normal_distribution<double> normal;
    for (std::size_t i = 0; i < n; ++i) {
      double eta = 0.2;
      x[i * d] = 1;
      for (std::size_t j = 1; j < d; ++j) eta += 0.3 * (x[i * d + j] = normal(rng));
      y[i] = std::uniform_real_distribution<double>()(rng) < 1 / (1 + std::exp(-eta)) ? 1 : 0;
    }
  }
  nabla::Var nll(std::span<const nabla::Var> w, std::size_t begin, std::size_t end) const {
    nabla::Var sum = 0.0;
    for (std::size_t i = begin; i < end; ++i) {
      const nabla::Var eta = nabla::dot(std::span<const double>(&x[i * d], d), w);
      sum += softplus(eta) - y[i] * eta;
    }
    return sum;
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double minimum(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Waits for every rank without spinning (Open MPI's blocking barrier polls a core).
void sleepy_barrier(MPI_Comm comm) {
  MPI_Request request;
  MPI_Ibarrier(comm, &request);
  int done = 0;
  while (MPI_Test(&request, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && done == 0) usleep(100);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::mpi::run(argc, argv, [&](const boost::mpi::communicator& world) {
    const bool small = argc > 1 && std::string(argv[1]) == "small";
    const bool root = nabla::mpi::is_root(world);
    const std::size_t n = small ? 10000 : 1000000, shard = small ? 1000 : 10000;
    const int samples = small ? 3 : 15;
    const Logistic data(n);
    const nabla::Shards shards(n, shard);
    const auto f = [&](std::span<const nabla::Var> w, nabla::Shard s) {
      return data.nll(w, s.begin, s.end);
    };
    nabla::ThreadPool one(1);
    const boost::mpi::communicator self(MPI_COMM_SELF, boost::mpi::comm_attach);
    using nabla::mpi::Reduction;
    auto alone = nabla::mpi::distributed_sum(f, shards, self, Reduction::shard_order, one);
    auto ranks = nabla::mpi::distributed_sum(f, shards, world, Reduction::shard_order, one);
    auto ranks_allreduce = nabla::mpi::distributed_sum(f, shards, world, Reduction::allreduce, one);
    auto no_work = nabla::mpi::distributed_sum(
        [](std::span<const nabla::Var> x, nabla::Shard) { return x[0]; }, shards, world,
        Reduction::shard_order, one);
    const std::vector<double> w(d, 0.05);
    std::vector<double> g1(d), g2(d);

    // Correctness first: 1 and P ranks give the same bits.
    int same = 1;
    const double v2 = ranks(w, g2);
    if (root) {
      const double v1 = alone(w, g1);
      same = std::memcmp(&v1, &v2, sizeof v1) == 0 && std::memcmp(g1.data(), g2.data(), 8 * d) == 0
                 ? 1
                 : 0;
    }
    MPI_Bcast(&same, 1, MPI_INT, 0, world);
    if (same == 0) {
      if (root) fmt::print(stderr, "mpi_bench: 1 and {} ranks disagree\n", world.size());
      return 1;
    }

    std::vector<double> t1, tp, ta, tx, busy, reduce_small, reduce_large;
    std::vector<double> small_buffer(d + 1, 1.0), large_buffer(407'050, 1.0);
    const auto timed = [&](auto&& call) {
      sleepy_barrier(world);
      const double wall = MPI_Wtime();
      call();
      return MPI_Wtime() - wall;
    };
    const auto allreduce_seconds = [&](std::vector<double>& buffer, int reps) {
      return timed([&] {
               for (int r = 0; r < reps; ++r) {
                 MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(buffer.size()),
                               MPI_DOUBLE, MPI_SUM, world);
               }
             }) /
             reps;
    };
    for (int rep = 0; rep < samples; ++rep) {
      // Rank 0 alone; the other ranks sleep in the barrier meanwhile.
      t1.push_back(timed([&] {
        if (root) alone(w, g1);
      }));
      double cpu = cpu_seconds();
      tp.push_back(timed([&] { ranks(w, g2); }));
      cpu = cpu_seconds() - cpu;
      double cpu_all = 0;
      MPI_Reduce(&cpu, &cpu_all, 1, MPI_DOUBLE, MPI_SUM, 0, world);
      busy.push_back(cpu_all / tp.back());
      ta.push_back(timed([&] { ranks_allreduce(w, g2); }));
      tx.push_back(timed([&] {
                     for (int r = 0; r < 20; ++r) no_work(w, g2);
                   }) /
                   20);
      reduce_small.push_back(allreduce_seconds(small_buffer, 200));
      reduce_large.push_back(allreduce_seconds(large_buffer, 5));
    }
    // Every rank's timings differ a little; rank 0's are reported (it ends last: the root of
    // the gather).
    if (root) {
      const double a = median(t1), b = median(tp);
      fmt::print(
          "| observations | shards | ranks | 1 rank (ms) | {} ranks (ms) | speed-up | {} ranks, "
          "allreduce (ms) | CPU / wall, {} ranks | exchange only (ms) | all-reduce of 11 "
          "doubles (µs), median / fastest | all-reduce of 407,050 doubles (ms), median / fastest "
          "|\n|---|---|---|---|---|---|---|---|---|---|---|\n",
          world.size(), world.size(), world.size());
      fmt::print(
          "| {} | {} | {} | {:.2f} | {:.2f} | {:.2f}× | {:.2f} | {:.2f} | {:.3f} | {:.1f} / "
          "{:.1f} | {:.2f} / {:.2f} |\n",
          n, shards.count(), world.size(), a * 1e3, b * 1e3, a / b, median(ta) * 1e3, median(busy),
          median(tx) * 1e3, median(reduce_small) * 1e6, minimum(reduce_small) * 1e6,
          median(reduce_large) * 1e3, minimum(reduce_large) * 1e3);
      fmt::print("load average (1, 5, 15 min) after the run: {}\n", load_average());
    }
    return 0;
  });
}
