// IDX data files (nabla::data::read_idx): valid files, and corrupt or hostile ones.
#include <nabla/autodiff/idx.hpp>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(idx)
BOOST_AUTO_TEST_SUITE_END()
