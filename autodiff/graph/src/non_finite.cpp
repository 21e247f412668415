// The expression graph: where a NaN or ±∞ was born, forward and in the reverse sweep.
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

// ---- NaN / Inf origin ----

namespace {

void describe(NonFinite& r, const Tape& tape, const char* what, const char* joiner = " from ") {
  r.label = std::string(Diag::label_of(tape, r.statement));
  std::string ops;
  for (std::size_t k = 0; k < r.operands.size(); ++k) {
    const auto name = Diag::label_of(tape, r.operands[k]);
    ops += fmt::format("{}statement {}{} = {}", k ? ", " : "", r.operands[k],
                       name.empty() ? std::string() : fmt::format(" '{}'", name),
                       std::isnan(r.operand_values[k]) && !Diag::diagnosing(tape)
                           ? std::string("?")
                           : number(r.operand_values[k]));
  }
  r.message = fmt::format("{} (statement {}{}) {}{}{}", r.op, r.statement,
                          r.label.empty() ? std::string() : fmt::format(" '{}'", r.label), what,
                          ops.empty() ? "" : joiner, ops);
}

}  // namespace

NonFinite first_non_finite(const Tape& tape) {
  NonFinite r;
  r.scalars_checked = Diag::diagnosing(tape);
  const auto statements = tape.position().statement;
  std::vector<std::uint32_t> inputs;
  std::unordered_map<std::uint32_t, bool> tensor_finite;  // tensor node statements
  const auto finite_operand = [&](std::uint32_t i) {
    const auto it = tensor_finite.find(i);
    if (it != tensor_finite.end()) return it->second;
    return !Diag::diagnosing(tape) || std::isfinite(Diag::recorded_value(tape, i));
  };
  for (std::uint32_t s = 1; s < statements; ++s) {
    if (const detail::Node* node = detail::TapeAccess::node_at(tape, s)) {
      const auto* t = dynamic_cast<const detail::TensorNode*>(node);
      inputs.clear();
      node->inputs(inputs);
      if (t == nullptr) {  // an element read: its Var value is the statement's value
        continue;
      }
      const std::size_t bad = count_non_finite(t->value, t->shape.size());
      tensor_finite[s] = bad == 0;
      if (bad == 0 || !std::all_of(inputs.begin(), inputs.end(), finite_operand)) continue;
      r.found = true;
      r.statement = s;
      r.op = std::string(node->name());
      r.value = nan;
      for (std::uint32_t i : inputs) {
        r.operands.push_back(i);
        r.operand_values.push_back(nan);
      }
      describe(
          r, tape,
          fmt::format("created {} non-finite element(s) of its {} result", bad, to_string(t->shape))
              .c_str());
      r.operand_values.assign(r.operands.size(), nan);
      return r;
    }
    if (!Diag::diagnosing(tape)) continue;
    const double value = Diag::recorded_value(tape, s);
    const auto partials = Inspect::partials(tape, s);
    const bool bad_value = !std::isfinite(value);
    const bool bad_partial =
        std::any_of(partials.begin(), partials.end(), [](double p) { return !std::isfinite(p); });
    if (!bad_value && !bad_partial) continue;
    const auto ops = Inspect::operands(tape, s);
    if (!std::all_of(ops.begin(), ops.end(), finite_operand)) continue;
    // Constant arguments count too (kept by the evaluation).
    if (const detail::Evaluation* e = Diag::evaluation(tape, s)) {
      if (!std::all_of(e->arguments.begin(), e->arguments.end(),
                       [](double x) { return std::isfinite(x); }))
        continue;
    }
    r.found = true;
    r.statement = s;
    r.op = std::string(op_name(Inspect::op(tape, s)));
    r.value = value;
    r.in_partial = !bad_value;
    r.operands.assign(ops.begin(), ops.end());
    for (std::uint32_t i : ops) r.operand_values.push_back(Diag::recorded_value(tape, i));
    r.partials.assign(partials.begin(), partials.end());
    describe(r, tape,
             bad_value ? fmt::format("created the non-finite value {}", value).c_str()
                       : fmt::format("has the finite value {} but a non-finite partial "
                                     "[{}]",
                                     value, fmt::join(r.partials, ", "))
                             .c_str());
    return r;
  }
  return r;
}

namespace {

NonFinite reverse_origin(Tape& tape, std::uint32_t last, const detail::TensorNode* seed_node) {
  NonFinite r;
  tape.zero_adjoints();
  double* adjoint = detail::TapeAccess::adjoint_data(tape);
  detail::TapeAccess::each_node(tape, [](std::uint32_t, detail::Node* n) { n->reset_adjoint(); });
  if (seed_node != nullptr) {
    if (seed_node->adjoint == nullptr) return r;
    auto* mutable_node = const_cast<detail::TensorNode*>(seed_node);
    mutable_node->adjoint[0] = 1.0;
    mutable_node->written = true;
  } else {
    adjoint[last] = 1.0;
  }
  // The tape's own sweep, one statement or node at a time (TapeAccess::sweep_statements), with
  // the adjoints looked at before and after each step: no second copy of the sweep.
  std::vector<std::uint32_t> inputs;
  const auto finite_tensor_adjoint = [](const detail::TensorNode* t) {
    return t->adjoint == nullptr || !t->written ||
           count_non_finite(t->adjoint, t->shape.size()) == 0;
  };
  for (std::uint32_t s = last; s >= 1; --s) {
    if (detail::Node* node = detail::TapeAccess::node_at(tape, s)) {
      const auto* t = dynamic_cast<const detail::TensorNode*>(node);
      const bool own_finite = t != nullptr ? finite_tensor_adjoint(t) : std::isfinite(adjoint[s]);
      inputs.clear();
      node->inputs(inputs);
      detail::TapeAccess::sweep_statements(tape, s, s);
      if (!own_finite) continue;
      for (std::uint32_t i : inputs) {
        const auto* in =
            dynamic_cast<const detail::TensorNode*>(detail::TapeAccess::node_at(tape, i));
        const bool ok = in != nullptr ? finite_tensor_adjoint(in) : std::isfinite(adjoint[i]);
        if (ok) continue;
        r.found = true;
        r.statement = s;
        r.op = std::string(node->name());
        r.value = t != nullptr && t->adjoint != nullptr && t->written
                      ? norm(t->adjoint, t->shape.size())
                      : adjoint[s];
        r.operands.push_back(i);
        r.operand_values.push_back(Diag::recorded_value(tape, i));
        describe(r, tape,
                 fmt::format("made the adjoint of its operand (statement {}) non-finite "
                             "in the reverse sweep",
                             i)
                     .c_str(),
                 "; operand ");
        return r;
      }
      continue;
    }
    const double a = adjoint[s];
    if (a == 0.0) continue;
    const auto ops = Inspect::operands(tape, s);
    const auto partials = Inspect::partials(tape, s);
    std::vector<double> before(ops.size());
    for (std::size_t k = 0; k < ops.size(); ++k) before[k] = adjoint[ops[k]];
    detail::TapeAccess::sweep_statements(tape, s, s);
    for (std::size_t k = 0; k < ops.size(); ++k) {
      if (std::isfinite(a) && std::isfinite(before[k]) && !std::isfinite(adjoint[ops[k]])) {
        r.found = true;
        r.statement = s;
        r.op = std::string(op_name(Inspect::op(tape, s)));
        r.value = a;
        r.operands.assign(ops.begin(), ops.end());
        for (std::uint32_t i : ops) r.operand_values.push_back(Diag::recorded_value(tape, i));
        r.partials.assign(partials.begin(), partials.end());
        r.in_partial = true;
        describe(r, tape,
                 fmt::format("pushed a non-finite adjoint ({} × partial {}) into "
                             "statement {} in the reverse sweep",
                             a, partials[k], ops[k])
                     .c_str(),
                 "; operands: ");
        return r;
      }
    }
  }
  return r;
}

}  // namespace

NonFinite first_non_finite_adjoint(Tape& tape, const Var& y) {
  const std::uint32_t s = tape.index_of(y);
  if (s == 0) return {};
  return reverse_origin(tape, s, nullptr);
}

NonFinite first_non_finite_adjoint(Tape& tape, const TensorVar& y) {
  const detail::TensorNode* n = y.node(tape);
  if (n->shape.size() != 1) {
    detail::fail(
        "nabla::graph::first_non_finite_adjoint",
        fmt::format("the output has shape {} (expected one element)", to_string(n->shape)));
  }
  return reverse_origin(tape, n->statement, n);
}

}  // namespace nabla::graph
