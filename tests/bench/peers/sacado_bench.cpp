// The scalar benchmark suite on Sacado's reverse mode (Sacado::Rad, Debian's
// libtrilinos-sacado-dev): the same templated functions with T = Sacado::Rad::ADvar<double>,
// recorded and swept on every call (sacado_policy.hpp).
#include "sacado_policy.hpp"

#include "../harness.hpp"

int main(int argc, char** argv) { return bench::run_suite<bench::SacadoRad>(argc, argv); }
