#include "nabla/autodiff/gradient.hpp"

#include <fmt/format.h>

#include "nabla/autodiff/error.hpp"

namespace nabla::detail {

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
