#include "nabla/autodiff/gradient.hpp"
#include "nabla/autodiff/forward.hpp"

#include <fmt/format.h>

#include <deque>
#include <new>

#include "nabla/autodiff/error.hpp"

namespace nabla::detail {

namespace {
// Input buffers of the gradient helpers, one per nesting level of this thread. A plain struct
// of trivially constructible members is reached without a TLS initialisation call; levels past
// deeper levels (rare) look their buffer up.
struct InputBuffers {
  std::vector<Var>* level[8] = {};
  std::size_t depth = 0;
};
thread_local InputBuffers buffers;

std::vector<Var>& buffer_at(std::size_t depth) {
  static thread_local std::deque<std::vector<Var>> owned;  // deque: references stay valid
  while (owned.size() <= depth) owned.emplace_back();
  return owned[depth];
}
}  // namespace

std::vector<Var>& Recording::acquire() {
  const std::size_t d = buffers.depth++;
  if (d >= 8) return buffer_at(d);
  if (buffers.level[d] == nullptr) buffers.level[d] = &buffer_at(d);
  return *buffers.level[d];
}

void Recording::release() { --buffers.depth; }

void Recording::check_inputs() const {
  // A rewind drops a suffix of the tape, and ids are never reused (Note [Tape epochs]): the
  // last input still resolving to its statement means every input is still there.
  const std::size_t n = inputs_.size();
  try {
    if (tape_.index_of(inputs_.back()) == start_.statement + n - 1) return;
  } catch (const Error&) {  // rewound away: reported below, with what f did
  }
  fail("nabla::gradient",
       fmt::format("f rewound or cleared the tape below its inputs (got {} input(s) recorded at "
                   "statement {} that are no longer on the tape; expected f to leave what was "
                   "recorded before it in place, and to rewind at most to positions it took "
                   "itself)",
                   n, start_.statement));
}

void check_sizes(const char* function, std::size_t x, std::size_t g) {
  if (x != g) {
    fail(function, fmt::format("the gradient buffer has the wrong size (got {} entries for {} "
                               "inputs, expected {})",
                               g, x, x));
  }
}

void check_outputs(std::size_t got, std::size_t expected) {
  if (got == 0) {
    fail("nabla::jacobian", "f returned no outputs (got 0, expected at least one Var)");
  }
  if (expected != 0 && got != expected) {
    fail(
        "nabla::jacobian",
        fmt::format("f returned the wrong number of outputs (got {}, expected {})", got, expected));
  }
}

void check_direction(const char* function, std::size_t x, std::size_t v) {
  if (x != v) {
    fail(function, fmt::format("the direction has the wrong size (got {} entries for {} inputs, "
                               "expected {})",
                               v, x, x));
  }
}

std::vector<double> square_matrix(const char* function, std::size_t n) {
  const std::size_t limit = std::size_t{1} << 28;  // 2 GiB of doubles
  if (n > 0 && (n > limit / n)) {
    fail(function, fmt::format("the dense Hessian of {} inputs is too large ({:.3g} GiB; expected "
                               "at most 2^28 entries: use hessian_vector_product or "
                               "hessian_diagonal for this many inputs)",
                               n, static_cast<double>(n) * static_cast<double>(n) * 8 / (1 << 30)));
  }
  try {
    return std::vector<double>(n * n, 0.0);
  } catch (const std::bad_alloc&) {
    fail(function, fmt::format("no memory for the dense Hessian of {} inputs ({:.3g} GiB; use "
                               "hessian_vector_product or hessian_diagonal)",
                               n, static_cast<double>(n) * static_cast<double>(n) * 8 / (1 << 30)));
  }
}

void symmetrize(Hessian& h) {
  // Both triangles are exact second derivatives; they differ only by rounding in the sweeps.
  for (std::size_t i = 0; i < h.n; ++i) {
    for (std::size_t j = i + 1; j < h.n; ++j) {
      const double m = 0.5 * h.data[i * h.n + j] + 0.5 * h.data[j * h.n + i];
      h.data[i * h.n + j] = h.data[j * h.n + i] = m;
    }
  }
}

}  // namespace nabla::detail
