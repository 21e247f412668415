// The standard AD workloads (workloads.hpp) on Stan Math (Debian's r-cran-stanheaders): the
// same templated objectives with T = stan::math::var, the same gradient checks (Stan vs the
// hand-written adjoint vs finite differences) and the same columns as workloads_bench.
// Built with -Dbench_peers=enabled.
#include "stan_policy.hpp"

#include "../workloads.hpp"

int main(int argc, char** argv) { return bench::workloads::run<bench::Stan>(argc, argv); }
