#include "nabla/autodiff/error.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace nabla {

Error::Error(std::string_view function, std::string_view what)
    : std::runtime_error(fmt::format("{}: {}", function, what)) {}

void detail::fail(std::string_view function, std::string_view what) { throw Error(function, what); }

void detail::assertion_failed(const char* condition, const char* file, int line,
                              std::string_view message) noexcept {
  fmt::print(stderr,
             "nabla: internal invariant broken at {}:{}: {} ({})\nThis is a bug in nabla; "
             "please report it with the program that triggers it.\n",
             file, line, condition, message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace nabla
