// The standard AD workloads (workloads.hpp) on ADOL-C (Debian's libadolc-dev): the same
// templated objectives with T = adouble, taped and swept on every call (adolc_policy.hpp), the
// same gradient checks (ADOL-C vs the hand-written adjoint vs finite differences) and the same
// columns as workloads_bench. Built with -Dbench_peers=enabled.
#include "adolc_policy.hpp"

#include "../workloads.hpp"

int main(int argc, char** argv) { return bench::workloads::run<bench::AdolC>(argc, argv); }
