#include "nabla/autodiff/error.hpp"

#include <fmt/format.h>

namespace nabla {

Error::Error(std::string_view function, std::string_view what)
    : std::runtime_error(fmt::format("{}: {}", function, what)) {}

void detail::fail(std::string_view function, std::string_view what) {
  throw Error(function, what);
}

}  // namespace nabla
