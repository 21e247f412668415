// Shared by the optim tests: the message of the nabla::Error a call throws.
#pragma once

#include <nabla/autodiff/error.hpp>

#include <string>

namespace testing {

/// The message of the nabla::Error that `f` throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const nabla::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace testing
