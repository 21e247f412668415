// The optim test executable (Boost.Test, shared library).
#define BOOST_TEST_MODULE optim
#include <boost/test/unit_test.hpp>
