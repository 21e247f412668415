// The scalar benchmark suite (suite.hpp) on nabla: plain-double time vs gradient time
// (nabla::gradient: recording the inputs and the function, the reverse sweep, reading the
// gradient), ns and tape bytes per elementary operation. Prints a Markdown table.
#include <nabla/autodiff.hpp>

#include "nabla_policy.hpp"

#include "harness.hpp"

namespace {

using bench::Nabla;

}  // namespace

int main(int argc, char** argv) { return bench::run_suite<Nabla>(argc, argv); }
