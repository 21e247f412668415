// nabla::optim — multistart(): a local method from seeded random starts in a box, in parallel.
#pragma once

#include <concepts>
#include <cstddef>
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
                                const optim::Box& box, int starts, std::uint64_t seed, int threads,
                                const ThreadStarter& start_thread = {});

/// Throws nabla::Error when `bounds` do not fit a box of `n` intervals (as minimize() checks
/// them), so that multistart() reports it once, before any run.
void check_multistart_bounds(const Bounds& bounds, std::size_t n);
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

/// The box as Bounds: lowerᵢ and upperᵢ from each interval, e.g. to keep the local searches of
/// multistart() inside the box the starts are drawn from.
Bounds to_bounds(const Box& box);

/// multistart() with every local search within `bounds`: minimize(f, x0, method, bounds, stop)
/// from each start (LBFGS runs as L-BFGS-B, first-order methods are projected). The starts are
/// drawn in `box` as without bounds (a start outside the bounds is projected onto them); pass
/// `to_bounds(box)` to search within the box itself. NewtonCG and Newton take no Bounds: with
/// them this is a compile error, as for minimize().
/// @throws nabla::Error as multistart() does, and for invalid bounds (checked before any run:
/// a size other than the box's, NaN, lower > upper, lower = +∞ or upper = −∞).
///
/// Example:
///   auto r = multistart(f, box, LBFGS{}, to_bounds(box), 20, 42, 2);
template <class F, class Method, std::same_as<Bounds> B>
MultistartResult multistart(F&& f, const Box& box, Method method, const B& bounds, int starts,
                            std::uint64_t seed, int threads = 1, Stop stop = {}) {
  static_assert(!std::same_as<Method, NewtonCG> && !std::same_as<Method, Newton>,
                "multistart: NewtonCG and Newton take no Bounds (trust regions without a box); "
                "use LBFGS, which runs as L-BFGS-B within bounds");
  if constexpr (std::same_as<Method, NewtonCG> || std::same_as<Method, Newton>) {
    return {};  // not reached: the static_assert above fails
  } else {
    detail::check_multistart_bounds(bounds, box.size());
    return detail::run_multistart(
        [&](std::vector<double> x0) { return minimize(f, std::move(x0), method, bounds, stop); },
        box, starts, seed, threads);
  }
}

}  // namespace nabla::optim
