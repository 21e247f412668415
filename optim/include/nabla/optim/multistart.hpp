// nabla::optim — multistart(): a local method from seeded random starts in a box, in parallel.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "nabla/optim/minimize.hpp"

namespace nabla::optim {

/// A box: one [lower, upper] interval per coordinate.
using Box = std::vector<std::pair<double, double>>;

/// What multistart() returns.
struct MultistartResult {
  std::vector<Result> runs;    ///< one per start, in start order
  std::vector<Result> minima;  ///< the distinct local minima found, lowest first
  Result best;                 ///< the lowest of them
};

namespace detail {
MultistartResult run_multistart(const std::function<Result(std::vector<double>)>& local,
                                const Box& box, int starts, std::uint64_t seed, int threads);
}

/// Runs minimize(f, x0, method, stop) from `starts` random points drawn uniformly in `box`
/// (seeded: the same seed gives the same starts) on `threads` threads (each with its own tape),
/// and returns every run, the distinct local minima (points within 1e-4·(1 + ‖x‖) of each other
/// count as one) and the best. The results do not depend on the number of threads. f is called
/// from several threads at once, so it must not modify shared state.
/// @throws nabla::Error for an empty or inverted box, starts < 1 or threads < 1.
///
/// Example:
///   auto r = nabla::optim::multistart(f, {{-3, 3}}, nabla::optim::LBFGS{}, 20, 42, 2);
template <class F, class Method>
MultistartResult multistart(F&& f, const Box& box, Method method, int starts, std::uint64_t seed,
                            int threads = 1, Stop stop = {}) {
  return detail::run_multistart(
      [&](std::vector<double> x0) { return minimize(f, std::move(x0), method, stop); }, box,
      starts, seed, threads);
}

}  // namespace nabla::optim
