// The standard AD workloads (workloads.hpp) on Sacado's reverse mode (Sacado::Rad, Debian's
// libtrilinos-sacado-dev): the same templated objectives with T = Sacado::Rad::ADvar<double>,
// recorded and swept on every call (sacado_policy.hpp), the same gradient checks and columns
// as workloads_bench. Built with -Dbench_peers=enabled.
#include "sacado_policy.hpp"

#include "../workloads.hpp"

int main(int argc, char** argv) { return bench::workloads::run<bench::SacadoRad>(argc, argv); }
