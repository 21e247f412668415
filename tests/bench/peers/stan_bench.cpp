// The scalar benchmark suite on Stan Math (Debian's r-cran-stanheaders): the same templated
// functions, with T = stan::math::var, i.e. Stan's scalar code; `vectorised` runs the vectorised
// rows instead (stan::math::sum, dot_product, log_sum_exp, normal_lpdf). Built with
// -Dbench_peers=enabled.
#include "stan_policy.hpp"

#include "../harness.hpp"

int main(int argc, char** argv) {
  return bench::wants_vectorised(argc, argv) ? bench::run_vectorised<bench::Stan>(argc, argv)
                                             : bench::run_suite<bench::Stan>(argc, argv);
}
