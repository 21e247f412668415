// The point of a JVP (forward.hpp's DualPoint).
#include "nabla/autodiff/forward.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <limits>
#include <new>

#include "nabla/autodiff/error.hpp"

namespace nabla::detail {

// Note [JVP point]
// jvp() evaluates f on a point of Dual<double>s, x[j] with tangent v[j], interleaved as f reads
// them. Building it is stores, 16 bytes per input: on the chained Rosenbrock (n = 100) it took a
// fifth of the whole jvp() call, with the SSE2 stores of the baseline x86-64 build. So on x86-64
// with GCC and glibc the fill is compiled three times (AVX-512, AVX2, baseline) and the loader
// picks the widest the CPU runs (an ifunc, as glibc's memcpy): 64- or 32-byte stores, a third to
// two fifths less time for the fill. The storage of points up to point_limit entries is kept per
// thread (a point per call would be an allocation per call) and aligned to 64 bytes; it is a plain
// struct (no TLS initialisation call on the way), freed at thread exit by an owner made at the
// first allocation. A nested jvp (f calling jvp) and larger points allocate their own.

namespace {
constexpr std::size_t point_limit = 4096;  // entries: 64 KiB of Dual<double>
// On cache lines: a 64-byte store across two of them costs two (16-byte aligned storage made
// the AVX-512 fill slower than the baseline one).
constexpr std::align_val_t point_alignment{64};

Dual<double>* allocate_point(std::size_t n) {
  try {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(Dual<double>)) throw std::bad_alloc();
    return static_cast<Dual<double>*>(::operator new(n * sizeof(Dual<double>), point_alignment));
  } catch (const std::bad_alloc&) {
    fail("nabla::jvp", fmt::format("no memory for the point of {} inputs ({:.3g} bytes of "
                                   "Dual<double>; expected fewer inputs)",
                                   n, 16.0 * static_cast<double>(n)));
  }
}
void free_point(Dual<double>* p) noexcept { ::operator delete(p, point_alignment); }

struct PointStorage {
  Dual<double>* data = nullptr;
  bool busy = false;      // a jvp on this thread uses it (a nested one allocates)
  bool finished = false;  // the thread is ending: its owner has freed it
};
thread_local PointStorage point_storage;

struct PointStorageOwner {
  PointStorageOwner() = default;
  PointStorageOwner(const PointStorageOwner&) = delete;
  PointStorageOwner& operator=(const PointStorageOwner&) = delete;
  ~PointStorageOwner() {
    free_point(point_storage.data);
    point_storage.data = nullptr;
    point_storage.finished = true;
  }
};
}  // namespace

// ThreadSanitizer instruments the clones' ifunc resolver, which the dynamic loader runs before
// TSan's runtime is initialised (a crash at load, as for Adam's loop in optimizer.cpp): one
// version only under TSan.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__) && \
    defined(__GLIBC__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
void fill_dual_point(Dual<double>* __restrict d, const double* __restrict x,
                     const double* __restrict v, std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j) new (d + j) Dual<double>(x[j], v[j]);
}

Dual<double>* DualPoint::acquire(const double* x, const double* v, std::size_t n) {
  PointStorage& s = point_storage;
  Dual<double>* d;
  if (!s.busy && n <= point_limit && !s.finished) {
    if (s.data == nullptr) {
      static thread_local PointStorageOwner owner;  // constructed here, once per thread
      s.data = allocate_point(point_limit);
    }
    s.busy = true;
    d = s.data;
  } else {
    d = allocate_point(n);
  }
  fill_dual_point(d, x, v, n);
  return d;
}

void DualPoint::release(Dual<double>* p) noexcept {
  PointStorage& s = point_storage;
  if (p == s.data && p != nullptr) {
    s.busy = false;
  } else {
    free_point(p);
  }
}

}  // namespace nabla::detail
