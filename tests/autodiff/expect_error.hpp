// The tests' check that a call throws nabla::Error with a message naming what was wrong.
#pragma once

#include <nabla/autodiff/error.hpp>

#include <boost/test/unit_test.hpp>
#include <exception>
#include <initializer_list>
#include <string>
#include <typeinfo>

namespace nabla::test {

/// Calling f throws nabla::Error whose message contains every part (a bare std:: exception, or
/// none at all, fails the test).
template <class F>
void expect_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    BOOST_ERROR("no nabla::Error thrown (expected one mentioning " << *parts.begin() << ")");
  } catch (const nabla::Error& e) {
    const std::string message = e.what();
    for (const std::string& p : parts) BOOST_TEST(message.find(p) != std::string::npos, message);
  } catch (const std::exception& e) {
    BOOST_ERROR("a bare " << typeid(e).name() << " was thrown: " << e.what());
  }
}

}  // namespace nabla::test
