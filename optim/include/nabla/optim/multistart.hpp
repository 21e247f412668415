// nabla::optim — multistart(): a local method from seeded random starts in a box, in parallel.
#pragma once

#include <cstdint>
#include <functional>
#include <thread>
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
/// Starts a worker thread for run_multistart(); std::thread by default. Tests pass one that
/// throws std::system_error, as the system does when it cannot create a thread.
using ThreadStarter = std::function<std::thread(std::function<void()>)>;

/// multistart() without the template: `local` runs one start. Workers that cannot be started
/// are not an error: their share runs on the threads that did start and the calling thread.
MultistartResult run_multistart(const std::function<Result(std::vector<double>)>& local,
                                const Box& box, int starts, std::uint64_t seed, int threads,
                                const ThreadStarter& start_thread = {});
}  // namespace detail

/// Runs minimize(f, x0, method, stop) from `starts` random points drawn uniformly in `box`
/// (seeded: the same seed gives the same starts) on `threads` threads (each with its own tape),
/// and returns every run, the distinct local minima (points within 1e-4·(1 + ‖x‖) of each other
/// count as one) and the best. The results do not depend on the number of threads — not even
/// when the system cannot create them all: the calling thread and the threads that did start
/// share the remaining work. f is called from several threads at once, so it must not modify
/// shared state. Any finite box works, even one wider than the largest double (±1e308):
/// starts are drawn as lower·(1 − u) + upper·u, which cannot overflow.
/// @throws nabla::Error for an empty box, a NaN or infinite bound, lower > upper, starts < 1
/// or threads < 1; the first exception of a run (e.g. invalid options), after all runs ended.
///
/// Example:
///   auto r = nabla::optim::multistart(f, {{-3, 3}}, nabla::optim::LBFGS{}, 20, 42, 2);
template <class F, class Method>
MultistartResult multistart(F&& f, const Box& box, Method method, int starts, std::uint64_t seed,
                            int threads = 1, Stop stop = {}) {
  return detail::run_multistart(
      [&](std::vector<double> x0) { return minimize(f, std::move(x0), method, stop); }, box, starts,
      seed, threads);
}

}  // namespace nabla::optim
