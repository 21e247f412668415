#include "nabla/optim/multistart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <new>
#include <random>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "nabla/autodiff/error.hpp"

namespace nabla::optim::detail {

namespace {

void check(bool ok, const std::string& what) {
  if (!ok) nabla::detail::fail("nabla::optim::multistart", what);
}

bool same_minimum(const Result& a, const Result& b) {
  double d = 0, scale = 0;
  for (std::size_t i = 0; i < a.x.size(); ++i) {
    d += (a.x[i] - b.x[i]) * (a.x[i] - b.x[i]);
    scale += a.x[i] * a.x[i];
  }
  return std::sqrt(d) <= 1e-4 * (1 + std::sqrt(scale));
}

}  // namespace

MultistartResult run_multistart(const std::function<Result(std::vector<double>)>& local,
                                const Box& box, int starts, std::uint64_t seed, int threads,
                                const ThreadStarter& start_thread) {
  check(!box.empty(), "the box is empty (got 0 intervals, expected one per coordinate)");
  for (std::size_t i = 0; i < box.size(); ++i) {
    const auto [lo, hi] = box[i];
    check(std::isfinite(lo) && std::isfinite(hi),
          fmt::format("interval {} is [{}, {}] (expected finite bounds)", i, lo, hi));
    check(lo <= hi, fmt::format("interval {} is [{}, {}] (expected lower <= upper)", i, lo, hi));
  }
  check(starts >= 1, fmt::format("starts is {} (expected at least 1)", starts));
  check(threads >= 1, fmt::format("threads is {} (expected at least 1)", threads));

  // All starts are drawn up front from one seeded stream: the same for any thread count.
  std::mt19937_64 rng(seed);
  std::vector<std::vector<double>> x0(static_cast<std::size_t>(starts));
  for (auto& x : x0) {
    for (const auto& [lo, hi] : box) {
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // uniform in [0, 1)
      // lo + u·(hi − lo) without forming hi − lo, which overflows for boxes wider than the
      // largest double; clamped, as rounding may leave [lo, hi] by an ulp.
      x.push_back(std::clamp(lo * (1 - u) + hi * u, lo, hi));
    }
  }
  MultistartResult out;
  out.runs.resize(x0.size());
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  const auto worker = [&] {
    for (std::size_t k = next++; k < x0.size(); k = next++) {
      try {
        out.runs[k] = local(x0[k]);
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  // Start the workers; when the system cannot create one (std::system_error, or no memory for
  // it), stop asking: the shared counter hands its starts to the threads that did start and to
  // this thread, so every start still runs. A thread left unjoined would call std::terminate.
  std::vector<std::thread> pool;
  int wanted = std::min(threads, starts) - 1;
  try {  // reserved, so that push_back never reallocates with a started thread in hand
    pool.reserve(static_cast<std::size_t>(wanted));
  } catch (const std::bad_alloc&) {
    wanted = 0;
  } catch (const std::length_error&) {
    wanted = 0;
  }
  for (int t = 0; t < wanted; ++t) {
    try {
      pool.push_back(start_thread ? start_thread(worker) : std::thread(worker));
    } catch (const std::system_error&) {
      break;
    } catch (const std::bad_alloc&) {
      break;
    }
  }
  worker();
  for (auto& t : pool) {
    if (t.joinable()) t.join();
  }
  if (error) std::rethrow_exception(error);

  // Distinct minima, lowest first; ties in value are broken by start order (deterministic).
  // NaN values sort last: `<` alone is not a strict weak ordering with NaN, and stable_sort
  // would then leave finite values out of order.
  std::vector<std::size_t> order(out.runs.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const double va = out.runs[a].value, vb = out.runs[b].value;
    if (std::isnan(va) || std::isnan(vb)) return !std::isnan(va) && std::isnan(vb);
    return va < vb;
  });
  for (std::size_t k : order) {
    const Result& r = out.runs[k];
    if (!std::isfinite(r.value)) continue;
    const bool known = std::any_of(out.minima.begin(), out.minima.end(),
                                   [&](const Result& m) { return same_minimum(m, r); });
    if (!known) out.minima.push_back(r);
  }
  out.best = out.minima.empty() ? out.runs[order.front()] : out.minima.front();
  return out;
}

}  // namespace nabla::optim::detail

namespace nabla::optim {

Bounds to_bounds(const Box& box) {
  Bounds bounds;
  for (const auto& [lo, hi] : box) {
    bounds.lower.push_back(lo);
    bounds.upper.push_back(hi);
  }
  return bounds;
}

}  // namespace nabla::optim
