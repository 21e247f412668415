// The parallel test executable (Boost.Test, shared library): parallel_sum, ThreadPool and
// nn::DataParallel.
#define BOOST_TEST_MODULE parallel
#include <boost/test/unit_test.hpp>
