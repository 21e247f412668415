#include "nabla/autodiff/gradient.hpp"
#include "nabla/autodiff/forward.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <functional>
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

std::span<const Var> Recording::inputs(std::span<const std::span<const double>> blocks) {
  std::size_t n = 0;
  for (const std::span<const double> b : blocks) n += b.size();
  inputs_.resize(n);
  // Consecutive statements, block after block: the sweep sees one run of n inputs.
  const std::span<Var> out(inputs_);
  std::size_t at = 0;
  for (const std::span<const double> b : blocks) {
    tape_.variables(b, out.subspan(at, b.size()));
    at += b.size();
  }
  return inputs_;
}

void Recording::gradient(const Var& y, std::span<const std::span<double>> g) {
  ensure_inputs();
  const std::size_t first = start_.statement, n = inputs_.size();
  const std::uint32_t iy = tape_.index_of(y);
  // Tape::gradient's consuming sweep (Note [Clean adjoints]), leaving the inputs' adjoints to
  // be read here: a y recorded before the inputs (a constant, an outer variable) seeds nothing.
  TapeAccess::gradient_node(tape_, iy, start_, n, [this, iy, first] {
    if (iy >= first) TapeAccess::adjoint_data(tape_)[iy] = 1.0;
  });
  double* adjoint = TapeAccess::adjoint_data(tape_) + first;
  for (const std::span<double> block : g) {
    for (double& gi : block) {
      gi = *adjoint;
      *adjoint++ = 0.0;
    }
  }
}

void not_contiguous(std::size_t block, std::size_t blocks, std::size_t size) {
  fail("nabla::blocks",
       fmt::format("block {} of {} ({} entries) is not contiguous in memory (got a strided view; "
                   "expected a buffer whose entries are adjacent, such as a std::vector, a "
                   "std::span or an Eigen vector: copy a strided view into one first)",
                   block, blocks, size));
}

void check_block_count(const char* function, std::size_t x, std::size_t g) {
  if (x != g) {
    fail(function, fmt::format("the number of gradient blocks is wrong (got {} for {} input "
                               "blocks, expected {})",
                               g, x, x));
  }
}

void check_blocks(const char* function, std::span<const std::span<const double>> x,
                  std::span<const std::span<double>> g) {
  for (std::size_t k = 0; k < x.size(); ++k) {
    if (g[k].size() != x[k].size()) {
      fail(function, fmt::format("gradient block {} of {} has the wrong size (got {} entries for "
                                 "an input block of {}, expected {})",
                                 k, x.size(), g[k].size(), x[k].size(), x[k].size()));
    }
  }
  // Two gradient blocks sharing memory would overwrite each other's gradient.
  const std::less<const double*> before;
  const auto overlap = [&](std::size_t j, std::size_t k) {
    return !g[j].empty() && !g[k].empty() && before(g[k].data(), g[j].data() + g[j].size()) &&
           before(g[j].data(), g[k].data() + g[k].size());
  };
  const auto report = [&](std::size_t j, std::size_t k) {
    fail(function, fmt::format("gradient blocks {} and {} of {} overlap in memory (expected a "
                               "buffer of its own for each block's gradient)",
                               std::min(j, k), std::max(j, k), g.size()));
  };
  if (g.size() <= 16) {  // the common case: a few blocks, no allocation
    for (std::size_t k = 0; k < g.size(); ++k)
      for (std::size_t j = 0; j < k; ++j)
        if (overlap(j, k)) report(j, k);
    return;
  }
  // Many blocks (gradient_blocks): by start address, each may overlap only the one before it
  // that reaches furthest.
  std::vector<std::size_t> order;
  for (std::size_t k = 0; k < g.size(); ++k)
    if (!g[k].empty()) order.push_back(k);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return before(g[a].data(), g[b].data()); });
  for (std::size_t i = 1, reach = 0; i < order.size(); ++i) {
    if (overlap(order[reach], order[i])) report(order[reach], order[i]);
    const auto end = [&](std::size_t k) { return g[order[k]].data() + g[order[k]].size(); };
    if (before(end(reach), end(i))) reach = i;
  }
}

void check_sizes(const char* function, std::size_t x, std::size_t g) {
  if (x != g) {
    fail(function, fmt::format("the gradient buffer has the wrong size (got {} entries for {} "
                               "inputs, expected {})",
                               g, x, x));
  }
}

void check_outputs(std::size_t got, std::size_t expected, const char* function,
                   const char* number) {
  if (got == 0) {
    fail(function, fmt::format("f returned no outputs (got 0, expected at least one {})", number));
  }
  if (expected != 0 && got != expected) {
    fail(function, fmt::format("f returned the wrong number of outputs (got {}, expected {})", got,
                               expected));
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

void symmetrize(std::span<double> h, std::size_t n) noexcept {
  // Both triangles are exact second derivatives; they differ only by rounding in the sweeps (or
  // in the order an all-reduce added them). Equal pairs stay as they are (0.5·a + 0.5·a would
  // round a subnormal a).
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      double& a = h[i * n + j];
      double& b = h[j * n + i];
      if (a != b) a = b = 0.5 * a + 0.5 * b;
    }
  }
}

}  // namespace nabla::detail
