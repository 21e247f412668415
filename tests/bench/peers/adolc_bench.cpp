// The scalar benchmark suite on ADOL-C (Debian's libadolc-dev): the same templated functions
// with T = adouble, taped and swept on every call (adolc_policy.hpp). ADOL-C slows down after a
// large tape in the same process, so scripts/bench-peers runs each row in its own process
// (--row=K).
#include "adolc_policy.hpp"

#include "../harness.hpp"

int main(int argc, char** argv) { return bench::run_suite<bench::AdolC>(argc, argv); }
