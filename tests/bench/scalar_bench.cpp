// The scalar benchmark suite (suite.hpp) on nabla: plain-double time vs gradient time
// (nabla::gradient: recording the inputs and the function, the reverse sweep, reading the
// gradient), ns and tape bytes per elementary operation. Prints a Markdown table. Every row
// runs the same code as in the peers; `vectorised` runs the vectorised rows instead (nabla's
// one-statement sum, dot, log_sum_exp and normal_log_density).
#include <nabla/autodiff.hpp>

#include "nabla_policy.hpp"

#include "harness.hpp"

namespace {

using bench::Nabla;

}  // namespace

int main(int argc, char** argv) {
  return bench::wants_vectorised(argc, argv) ? bench::run_vectorised<Nabla>(argc, argv)
                                             : bench::run_suite<Nabla>(argc, argv);
}
