// Sacado's reverse mode (Sacado::Rad, Debian's libtrilinos-sacado-dev) as a library policy of
// the benchmark harness (harness.hpp) and the workloads (workloads.hpp): the suite's templated
// functions with T = Sacado::Rad::ADvar<double>, recorded and swept on every call
// (ADvar::Gradcomp()). Shared by sacado_bench and sacado_workloads_bench.
#pragma once

#include <Sacado_trad.hpp>

#include <cstddef>
#include <span>
#include <vector>

/// Sacado's recorded scalar.
using SacadoVar = Sacado::Rad::ADvar<double>;

namespace bench {
/// Sacado's functions are found by argument-dependent lookup; softplus is spelled out, declared
/// before the suite so its templates find it.
inline SacadoVar softplus(const SacadoVar& x) { return log(1.0 + exp(x)); }
}  // namespace bench

#include "../suite.hpp"

namespace bench {

/// Sacado::Rad: the inputs as ADvars, the function, Gradcomp(), the adjoints read.
struct SacadoRad {
  static constexpr const char* name = "Sacado";
  template <class F>
  void gradient(const F& f, std::span<const double> x, std::span<double> g) const {
    std::vector<SacadoVar> xs(x.begin(), x.end());
    SacadoVar y = f(std::span<const SacadoVar>(xs));
    SacadoVar::Gradcomp();
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = xs[i].adj();
  }
  /// Sacado's tape is a chain of memory blocks: not compared.
  template <class F>
  double tape_bytes(const F&, std::span<const double>) const {
    return -1;
  }
};

}  // namespace bench
