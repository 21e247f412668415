#include "nabla/autodiff/gradient.hpp"

#include <fmt/format.h>

#include <deque>

#include "nabla/autodiff/error.hpp"

namespace nabla::detail {

namespace {
// Input buffers of the gradient helpers, one per nesting level of this thread.
thread_local std::deque<std::vector<Var>> input_buffers;  // deque: references stay valid
thread_local std::size_t input_depth = 0;
}  // namespace

std::vector<Var>& Recording::acquire() {
  if (input_depth == input_buffers.size()) input_buffers.emplace_back();
  return input_buffers[input_depth++];
}

void Recording::release() { --input_depth; }

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
    fail("nabla::jacobian",
         fmt::format("f returned the wrong number of outputs (got {}, expected {})", got,
                     expected));
  }
}

}  // namespace nabla::detail
