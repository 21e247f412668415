// nabla — errors.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace nabla {

/// The exception every nabla function throws for a user mistake (bad shapes, sizes, options,
/// a variable used on the wrong tape...). The message reads "<function>: <what was wrong>".
class Error : public std::runtime_error {
 public:
  /// Builds the message "<function>: <what>".
  Error(std::string_view function, std::string_view what);
};

namespace detail {
/// Throws nabla::Error with the message "<function>: <what>" (the central helper; callers
/// build `what` with fmt::format).
[[noreturn]] void fail(std::string_view function, std::string_view what);
}  // namespace detail

}  // namespace nabla
