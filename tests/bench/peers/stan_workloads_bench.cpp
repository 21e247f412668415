// The standard AD workloads (workloads.hpp) on Stan Math (Debian's r-cran-stanheaders): the
// same templated objectives with T = stan::math::var, the same gradient checks (Stan vs the
// hand-written adjoint vs finite differences) and the same columns as workloads_bench.
// Built with -Dbench_peers=enabled.
#include <stan/math.hpp>

#include <span>
#include <vector>

#include "../workloads.hpp"

namespace {

struct Stan {
  static constexpr const char* name = "Stan Math";
  template <class F>
  void gradient(const F& f, std::span<const double> x, std::span<double> g) const {
    using stan::math::var;
    std::vector<var> xs(x.begin(), x.end());
    var y = f(std::span<const var>(xs));
    y.grad();
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = xs[i].adj();
    stan::math::recover_memory();
  }
  // Stan's arena grows in blocks, so its per-operation bytes are not measured here.
  template <class F>
  double tape_bytes(const F&, std::span<const double>) const {
    return -1;
  }
};

}  // namespace

int main(int argc, char** argv) { return bench::workloads::run<Stan>(argc, argv); }
