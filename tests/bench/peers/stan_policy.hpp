// Stan Math (Debian's r-cran-stanheaders) as a library policy of the benchmark harness
// (harness.hpp) and the workloads (workloads.hpp): the gradient of the suite's templated
// functions with T = stan::math::var (Stan's scalar code, as stan::math::gradient runs it) and
// Stan's vectorised functions for the vectorised rows. Shared by stan_bench and
// stan_workloads_bench, as ../nabla_policy.hpp is by nabla's programs.
#pragma once

#include <stan/math.hpp>

#include <cstddef>
#include <span>
#include <vector>

namespace bench {
/// Stan's name for softplus, declared before the suite so its templates find it.
inline stan::math::var softplus(const stan::math::var& x) { return stan::math::log1p_exp(x); }
}  // namespace bench

#include "../suite.hpp"

namespace bench {

/// Stan Math's reverse mode: the inputs as `var`s, the function, `grad()`, the adjoints read,
/// then `recover_memory()` — on every call.
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
  /// Stan's arena grows in blocks, so its per-operation bytes are not measured here.
  template <class F>
  double tape_bytes(const F&, std::span<const double>) const {
    return -1;
  }

  // Stan's vectorised functions for the vectorised rows (harness.hpp's Vectorised). `sum`,
  // `prod` (Eigen's product of vars) and `log_sum_exp` take a std::vector<var>: the span's n vars (pointers) are copied into a
  // reused buffer first, a cost inside the timed gradient; `dot_product` takes the pointers.
  static stan::math::var vectorised(const Sum&, std::span<const stan::math::var> x) {
    return stan::math::sum(as_vector(x));
  }
  static stan::math::var vectorised(const Product&, std::span<const stan::math::var> x) {
    return stan::math::prod(as_vector(x));
  }
  static stan::math::var vectorised(const Dot&, std::span<const stan::math::var> x) {
    const std::size_t n = x.size() / 2;
    return stan::math::dot_product(x.data(), x.data() + n, n);
  }
  static stan::math::var vectorised(const LogSumExp&, std::span<const stan::math::var> x) {
    return stan::math::log_sum_exp(as_vector(x));
  }
  static stan::math::var vectorised(const NormalDensity& f, std::span<const stan::math::var> x) {
    return stan::math::normal_lpdf<false>(f.y, x[0], x[1]);
  }

 private:
  static const std::vector<stan::math::var>& as_vector(std::span<const stan::math::var> x) {
    thread_local std::vector<stan::math::var> buffer;
    buffer.assign(x.begin(), x.end());
    return buffer;
  }
};

}  // namespace bench
