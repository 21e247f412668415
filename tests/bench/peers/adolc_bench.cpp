// The scalar benchmark suite on ADOL-C (Debian's libadolc-dev): the same templated functions
// with T = adouble, taped and swept on every call (trace_on … trace_off, then gradient()), as
// nabla records and sweeps on every call. ADOL-C slows down after a large tape in the same
// process, so scripts/bench-peers runs each row in its own process (--row=K).
#include <adolc/adolc.h>

#include <span>
#include <vector>

namespace bench {
// ADOL-C's functions live in the global namespace; softplus is spelled out, declared before
// the suite so its templates find it.
inline adouble softplus(const adouble& x) { return log(1.0 + exp(x)); }
}  // namespace bench

#include "../harness.hpp"

namespace {

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
  template <class F>
  double tape_bytes(const F&, std::span<const double>) const {
    return -1;  // ADOL-C's tape is a compressed stream with its own buffers: not compared
  }
};

}  // namespace

int main(int argc, char** argv) { return bench::run_suite<AdolC>(argc, argv); }
