// Where did the NaN come from? Two classic cases, found by the graph module:
//  1. the log of a softmax probability that underflowed to 0 (computed naively), and
//  2. the square root of a variance that rounding made a tiny negative number, and the
//     infinite slope of √ at 0 once it is clamped.
// The report names the operation that *created* the non-finite number, not the ones that
// passed it on; then the same loss written stably has no NaN.
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/graph.hpp>

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <vector>

using nabla::Var;

namespace {

// −log softmax(z)[0], naively: exp overflows/underflows for large logits.
Var naive_cross_entropy(const std::vector<Var>& z) {
  Var total = 0.0;
  for (const Var& zi : z) total += exp(zi);
  const Var p0 = nabla::label(exp(z[0]) / total, "p0");
  const Var log_p0 = log(p0);  // its own statement: reports name single operations
  return nabla::label(-log_p0, "naive loss");
}

// The same loss with log-sum-exp: no overflow, no log(0).
Var stable_cross_entropy(const std::vector<Var>& z) {
  return nabla::label(nabla::log_sum_exp(z) - z[0], "stable loss");
}

}  // namespace

int main() {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  tape.set_diagnostics({.enabled = true});
  int found = 0;

  // Case 1: the true class has a logit 800 below another one.
  std::vector<Var> z = {nabla::variable(-400.0), nabla::variable(400.0), nabla::variable(1.0)};
  nabla::label(z[0], "z0");
  const Var naive = naive_cross_entropy(z);
  fmt::print("naive loss = {}\n", naive.value());
  const nabla::graph::NonFinite first = nabla::graph::first_non_finite(tape);
  fmt::print("first non-finite: {}\n\n", first.message);
  std::ofstream dot("find_the_nan.dot");  // the culprit and what it fed are drawn in red
  nabla::graph::write_dot(nabla::graph::capture(tape), dot, {.adjoints = false});
  found += first.found && first.op == "log" && first.operand_values.at(0) == 0.0;

  tape.clear();
  z = {nabla::variable(-400.0), nabla::variable(400.0), nabla::variable(1.0)};
  const Var stable = stable_cross_entropy(z);
  tape.backward(stable);
  fmt::print("stable loss = {} (d/dz0 = {}); non-finite anywhere: {}\n\n", stable.value(),
             tape.adjoint(z[0]), nabla::graph::first_non_finite(tape).found);
  found += std::isfinite(stable.value()) && !nabla::graph::first_non_finite(tape).found;

  // Case 2: the standard deviation of three equal numbers, as sqrt(E[x²] − E[x]²).
  tape.clear();
  const double v = 0.1;
  std::vector<Var> x = {nabla::variable(v), nabla::variable(v), nabla::variable(v)};
  Var s = 0.0, s2 = 0.0;
  for (const Var& xi : x) {
    s += xi;
    s2 += xi * xi;
  }
  const Var variance = nabla::label(s2 / 3.0 - (s / 3.0) * (s / 3.0), "variance");
  const Var sd = nabla::label(sqrt(variance), "sd");
  fmt::print("variance = {:.3g} (a rounding error), sd = {}\n", variance.value(), sd.value());
  const nabla::graph::NonFinite nan_sd = nabla::graph::first_non_finite(tape);
  fmt::print("first non-finite: {}\n", nan_sd.message);
  found += nan_sd.found && nan_sd.op == "sqrt" && nan_sd.label == "sd";

  // Clamping at 0 fixes the value but not the derivative: √ has an infinite slope at 0, which
  // the reverse sweep turns into an infinite gradient.
  const Var clamped = nabla::label(sqrt(nabla::fmax(variance, 0.0)), "clamped sd");
  const nabla::graph::NonFinite back = nabla::graph::first_non_finite_adjoint(tape, clamped);
  fmt::print("clamped sd = {}; reverse sweep: {}\n", clamped.value(), back.message);
  found += back.found && back.op == "sqrt" && back.label == "clamped sd";
  return found == 4 ? 0 : 1;
}
