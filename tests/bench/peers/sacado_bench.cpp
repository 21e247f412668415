// The scalar benchmark suite on Sacado's reverse mode (Sacado::Rad, Debian's
// libtrilinos-sacado-dev): the same templated functions with T = Sacado::Rad::ADvar<double>,
// recorded and swept on every call (ADvar::Gradcomp()).
#include <Sacado_trad.hpp>

#include <span>
#include <vector>

using SacadoVar = Sacado::Rad::ADvar<double>;

namespace bench {
// Sacado's functions are found by argument-dependent lookup; softplus is spelled out, declared
// before the suite so its templates find it.
inline SacadoVar softplus(const SacadoVar& x) { return log(1.0 + exp(x)); }
}  // namespace bench

#include "../harness.hpp"

namespace {

struct SacadoRad {
  static constexpr const char* name = "Sacado";
  template <class F>
  void gradient(const F& f, std::span<const double> x, std::span<double> g) const {
    std::vector<SacadoVar> xs(x.begin(), x.end());
    SacadoVar y = f(std::span<const SacadoVar>(xs));
    SacadoVar::Gradcomp();
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = xs[i].adj();
  }
  template <class F>
  double tape_bytes(const F&, std::span<const double>) const {
    return -1;  // Sacado's tape is a chain of memory blocks: not compared
  }
};

}  // namespace

int main(int argc, char** argv) { return bench::run_suite<SacadoRad>(argc, argv); }
