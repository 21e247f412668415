// Adversarial cases of the public autodiff API (issue 10): misuse of every entry point, options
// at and past their bounds, empty/size-1/huge shapes, NaN/±∞ inputs.
#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(adversarial)
BOOST_AUTO_TEST_SUITE_END()
