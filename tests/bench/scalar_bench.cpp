// The scalar benchmark suite (suite.hpp) on nabla: plain-double time vs gradient time
// (nabla::gradient: recording the inputs and the function, the reverse sweep, reading the
// gradient), ns and tape bytes per elementary operation. Prints a Markdown table.
#include <nabla/autodiff.hpp>

#include "harness.hpp"

namespace {

struct Nabla {
  static constexpr const char* name = "nabla";
  template <class F>
  static nabla::Var call(const F& f, std::span<const nabla::Var> v) {
    return f(v);
  }
  template <class F>
  void gradient(const F& f, std::span<const double> x, std::span<double> g) const {
    (void)nabla::gradient([&f](std::span<const nabla::Var> v) { return call(f, v); }, x, g);
  }
  // Tape bytes of one recording of the function (inputs excluded).
  template <class F>
  double tape_bytes(const F& f, std::span<const double> x) const {
    nabla::Tape tape;
    nabla::Tape::Scope scope(tape);
    std::vector<nabla::Var> xs(x.size());
    tape.variables(x, xs);
    const auto before = tape.statistics().bytes_used;
    (void)call(f, xs);
    return static_cast<double>(tape.statistics().bytes_used - before);
  }
};

}  // namespace

int main(int argc, char** argv) { return bench::run_suite<Nabla>(argc, argv); }
