// ADOL-C (Debian's libadolc-dev) as a library policy of the benchmark harness (harness.hpp)
// and the workloads (workloads.hpp): the suite's templated functions with T = adouble, taped
// and swept on every call (trace_on … trace_off, then gradient()), as nabla records and sweeps
// on every call. Shared by adolc_bench and adolc_workloads_bench.
#pragma once

#include <adolc/adolc.h>

#include <cstddef>
#include <span>
#include <vector>

namespace bench {
/// ADOL-C's functions live in the global namespace; softplus is spelled out, declared before
/// the suite so its templates find it.
inline adouble softplus(const adouble& x) { return log(1.0 + exp(x)); }
}  // namespace bench

#include "../suite.hpp"

namespace bench {

/// ADOL-C's reverse mode on a fresh trace per call (tag 1).
struct AdolC {
  static constexpr const char* name = "ADOL-C";
  template <class F>
  void gradient(const F& f, std::span<const double> x, std::span<double> g) const {
    const short tag = 1;
    double y = 0;
    trace_on(tag);
    {
      std::vector<adouble> xs(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) xs[i] <<= x[i];
      adouble out = f(std::span<const adouble>(xs));
      out >>= y;
    }
    trace_off();
    ::gradient(tag, static_cast<int>(x.size()), x.data(), g.data());
  }
  /// ADOL-C's tape is a compressed stream with its own buffers: not compared.
  template <class F>
  double tape_bytes(const F&, std::span<const double>) const {
    return -1;
  }
};

}  // namespace bench
