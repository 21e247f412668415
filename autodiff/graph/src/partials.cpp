// The expression graph: the per-rule derivative check (graph::check_partials).
#include "nabla/autodiff/graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "graph_internal.hpp"
#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/math.hpp"

namespace nabla::graph {

using namespace internal;

// ---- Per-rule derivative check ----

namespace {

// Re-evaluates a single (unfused) operation from the values of its operand statements, by its
// op code; nullopt when the operation is not a function of those values alone (a constant
// operand was dropped, x·x kept one operand) — the caller also checks that the value is
// reproduced.
std::optional<double> evaluate(Op op, std::span<const double> a) {
  const std::size_t n = a.size();
  const auto unary = [&](auto f) { return n == 1 ? std::optional(f(a[0])) : std::nullopt; };
  const auto binary = [&](auto f) { return n == 2 ? std::optional(f(a[0], a[1])) : std::nullopt; };
  switch (op) {
    // Note [The rule table]: the value of every elementary rule, from its row.
#define NABLA_EVALUATE_UNARY(F, name) \
  case detail::F::op:                 \
    return unary([](double x) { return detail::F::value(x); });
#define NABLA_EVALUATE_BINARY(F) \
  case detail::F::op:            \
    return binary([](double x, double y) { return detail::F::value(x, y); });
    NABLA_UNARY_RULES(NABLA_EVALUATE_UNARY)
    NABLA_BINARY_RULES(NABLA_EVALUATE_BINARY)
#undef NABLA_EVALUATE_UNARY
#undef NABLA_EVALUATE_BINARY
    case Op::fmin:
      return binary([](double x, double y) { return std::fmin(x, y); });
    case Op::fmax:
      return binary([](double x, double y) { return std::fmax(x, y); });
    case Op::fma:
      return n == 3 ? std::optional(std::fma(a[0], a[1], a[2])) : std::nullopt;
    case Op::sum: {
      double t = 0;
      for (double x : a) t += x;
      return t;
    }
    case Op::prod: {
      double t = 1;
      for (double x : a) t *= x;
      // A constant factor is not an operand: a product of 0 reproduces the value whatever it
      // was, and the partials would be checked against the wrong function.
      return t == 0 ? std::nullopt : std::optional(t);
    }
    case Op::squared_norm: {
      double t = 0;
      for (double x : a) t += x * x;
      return t;
    }
    case Op::log_sum_exp:
      return n == 0 ? std::nullopt : std::optional(log_sum_exp(a));
    default:
      return std::nullopt;
  }
}

}  // namespace

PartialsReport check_partials(const Tape& tape, const PartialsOptions& options) {
  if (!Diag::diagnosing(tape)) {
    detail::fail("nabla::graph::check_partials",
                 "the tape did not record with diagnostics (expected "
                 "tape.set_diagnostics({.enabled = true}) before recording: it keeps each "
                 "operation's values and function)");
  }
  // A NaN tolerance made every comparison false: nothing was ever reported wrong.
  for (const auto& [name, v] : {std::pair{"rtol", options.rtol}, std::pair{"atol", options.atol}}) {
    if (!(v >= 0) || !std::isfinite(v)) {
      detail::fail(
          "nabla::graph::check_partials",
          fmt::format("invalid option {} (got {}, expected a finite value >= 0)", name, v));
    }
  }
  PartialsReport report;
  const auto statements = tape.position().statement;
  std::vector<double> args;
  std::vector<std::uint32_t> arg_statements;
  for (std::uint32_t s = 1; s < statements; ++s) {
    if (detail::TapeAccess::node_at(tape, s) != nullptr || Inspect::op(tape, s) == Op::input)
      continue;
    const auto ops = Inspect::operands(tape, s);
    const auto partials = Inspect::partials(tape, s);
    std::function<double(std::span<const double>)> f;
    const detail::Evaluation* e = Diag::evaluation(tape, s);
    if (e != nullptr) {
      f = e->function;
      args = e->arguments;
      arg_statements = e->statements;
    } else {
      if (Inspect::fused(tape, s)) {  // a fused expression keeps no evaluation
        ++report.skipped;
        continue;
      }
      args.clear();
      arg_statements.assign(ops.begin(), ops.end());
      for (std::uint32_t i : ops) args.push_back(Diag::recorded_value(tape, i));
      const Op op = Inspect::op(tape, s);
      if (!evaluate(op, args)) {
        ++report.skipped;
        continue;
      }
      f = [op](std::span<const double> a) { return *evaluate(op, a); };
    }
    // The evaluation must reproduce the recorded value (else constants were dropped, or the
    // operation is not a function of what was kept).
    const double value = Diag::recorded_value(tape, s);
    const double again = f(args);
    if (!(std::abs(again - value) <= 1e-12 * (1 + std::abs(value))) || !std::isfinite(value)) {
      ++report.skipped;
      continue;
    }
    // One check per distinct operand statement (x·x has one, with the summed partial).
    std::vector<std::uint32_t> distinct(ops.begin(), ops.end());
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    bool smooth = true;
    std::vector<PartialMismatch> found;
    for (std::uint32_t j : distinct) {
      double recorded = 0;
      for (std::size_t k = 0; k < ops.size(); ++k) recorded += ops[k] == j ? partials[k] : 0.0;
      double x0 = nan;
      for (std::size_t k = 0; k < args.size(); ++k)
        if (arg_statements[k] == j) x0 = args[k];
      const auto shifted = [&](double h) {
        std::vector<double> a = args;
        for (std::size_t k = 0; k < a.size(); ++k)
          if (arg_statements[k] == j) a[k] += h;
        return f(a);
      };
      const double h = 1e-3 * std::max(1.0, std::abs(x0));
      const detail::Difference difference = detail::richardson_difference(shifted, h);
      const double numeric = difference.derivative;
      const double estimate = difference.truncation;
      if (!std::isfinite(numeric) || estimate > 1e-4 * (1 + std::abs(numeric))) {
        smooth = false;  // a kink or a pole nearby: finite differences cannot judge
        break;
      }
      if (std::abs(numeric - recorded) >
          options.atol + options.rtol * std::max(std::abs(numeric), std::abs(recorded)) +
              10 * estimate) {
        found.push_back({s, std::string(op_name(Inspect::op(tape, s))),
                         std::string(Diag::label_of(tape, s)), j, recorded, numeric});
      }
    }
    if (!smooth) {
      ++report.skipped;
      continue;
    }
    ++report.checked;
    report.mismatches.insert(report.mismatches.end(), found.begin(), found.end());
  }
  return report;
}

std::string to_string(const PartialsReport& r) {
  std::string s = fmt::format("{} operations checked, {} skipped, {} wrong partial(s)\n", r.checked,
                              r.skipped, r.mismatches.size());
  for (const PartialMismatch& m : r.mismatches) {
    s += fmt::format(
        "  {} (statement {}{}): ∂/∂(statement {}) recorded {:.10g}, finite "
        "differences {:.10g}\n",
        m.op, m.statement, m.label.empty() ? std::string() : fmt::format(" '{}'", m.label),
        m.operand, m.recorded, m.numeric);
  }
  return s;
}

}  // namespace nabla::graph
