// nabla as a library policy of the benchmark harness (harness.hpp): its gradient, the tape
// bytes of one recording and its vectorised reductions (the vectorised rows), shared by
// scalar_bench, workloads_bench and reduction_bench.
#pragma once

#include <nabla/autodiff.hpp>

#include <span>
#include <vector>

#include "suite.hpp"

namespace bench {

struct Nabla {
  static constexpr const char* name = "nabla";
  template <class F>
  void gradient(const F& f, std::span<const double> x, std::span<double> g) const {
    (void)nabla::gradient([&f](std::span<const nabla::Var> v) { return f(v); }, x, g);
  }
  // Tape bytes of one recording of the function (inputs excluded): scalar statements plus what
  // nodes keep in the arena (tensor operations, reductions recorded as runs).
  template <class F>
  double tape_bytes(const F& f, std::span<const double> x) const {
    nabla::Tape tape;
    nabla::Tape::Scope scope(tape);
    std::vector<nabla::Var> xs(x.size());
    tape.variables(x, xs);
    const nabla::TapeStatistics before = tape.statistics();
    (void)f(std::span<const nabla::Var>(xs));
    const nabla::TapeStatistics after = tape.statistics();
    return static_cast<double>(after.bytes_used + after.tensor_bytes - before.bytes_used -
                               before.tensor_bytes);
  }
  // nabla's one-statement reductions for the vectorised rows (harness.hpp's Vectorised).
  static nabla::Var vectorised(const Sum&, std::span<const nabla::Var> x) { return nabla::sum(x); }
  static nabla::Var vectorised(const Product&, std::span<const nabla::Var> x) {
    return nabla::prod(x);
  }
  static nabla::Var vectorised(const Dot&, std::span<const nabla::Var> x) {
    const std::size_t n = x.size() / 2;
    return nabla::dot(x.first(n), x.last(n));
  }
  static nabla::Var vectorised(const LogSumExp&, std::span<const nabla::Var> x) {
    return nabla::log_sum_exp(x);
  }
  static nabla::Var vectorised(const NormalDensity& f, std::span<const nabla::Var> x) {
    return nabla::normal_log_density(std::span<const double>(f.y), x[0], x[1]);
  }
};

}  // namespace bench
