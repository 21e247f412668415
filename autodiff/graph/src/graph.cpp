// The expression graph: capture, DOT export, analyses, gradient flow, NaN origin, partials.
#include "nabla/autodiff/graph.hpp"

#include <fmt/format.h>

#include <algorithm>
// Boost.Graph trips GCC 12's (maybe-)uninitialized warnings in its own code (false positives).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/graphviz.hpp>
#include <boost/graph/reverse_graph.hpp>
#include <boost/graph/topological_sort.hpp>
#pragma GCC diagnostic pop
#include <cmath>
#include <functional>
#include <optional>
#include <limits>
#include <map>
#include <ostream>
#include <unordered_map>

#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/math.hpp"

namespace nabla::graph {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
using VertexId = Graph::vertex_descriptor;

double norm(const double* v, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += v[i] * v[i];
  return std::sqrt(s);
}

std::size_t count_non_finite(const double* v, std::size_t n) {
  std::size_t c = 0;
  for (std::size_t i = 0; i < n; ++i) c += !std::isfinite(v[i]);
  return c;
}

}  // namespace

Graph capture(const Tape& tape, std::span<const Var> outputs) {
  Graph g;
  const auto statements = static_cast<std::uint32_t>(tape.size());
  const std::span<const double> adjoints = tape.adjoints();
  std::vector<VertexId> vertex_of(statements, Graph::null_vertex());
  std::vector<std::uint32_t> inputs;
  for (std::uint32_t s = 1; s < statements; ++s) {
    Vertex v;
    v.statement = s;
    v.label = std::string(tape.label_of(s));
    v.adjoint = s < adjoints.size() ? adjoints[s] : 0.0;
    v.value = tape.recorded_value(s);
    if (const detail::Node* node = detail::TapeAccess::node_at(tape, s)) {
      v.op = std::string(node->name());
      if (const auto* t = dynamic_cast<const detail::TensorNode*>(node)) {
        v.tensor = true;
        v.shape = to_string(t->shape);
        v.elements = t->shape.size();
        v.value = norm(t->value, v.elements);
        v.non_finite_count = count_non_finite(t->value, v.elements);
        v.adjoint = t->adjoint != nullptr && t->written ? norm(t->adjoint, v.elements) : 0.0;
        v.constant = t->adjoint == nullptr;
        inputs.clear();
        node->inputs(inputs);
        v.input = inputs.empty() && !v.constant;
      }
    } else {
      const Op op = tape.op(s);
      v.op = std::string(op_name(op));
      v.fused = tape.fused(s);
      v.input = op == Op::input;
    }
    // Scalar values are known only when recorded with diagnostics.
    v.non_finite = v.tensor ? v.non_finite_count > 0 : tape.diagnosing() && !std::isfinite(v.value);
    vertex_of[s] = boost::add_vertex(v, g);
  }
  // Edges: operands → result.
  for (std::uint32_t s = 1; s < statements; ++s) {
    if (const detail::Node* node = detail::TapeAccess::node_at(tape, s)) {
      inputs.clear();
      node->inputs(inputs);
      for (std::uint32_t i : inputs) {
        if (i != 0 && i < statements) boost::add_edge(vertex_of[i], vertex_of[s], Edge{nan}, g);
      }
      continue;
    }
    const auto ops = tape.operands(s);
    const auto partials = tape.partials(s);
    for (std::size_t k = 0; k < ops.size(); ++k) {
      boost::add_edge(vertex_of[ops[k]], vertex_of[s], Edge{partials[k]}, g);
    }
    // Constants an operation used (kept only with diagnostics).
    if (const Evaluation* e = tape.evaluation(s)) {
      for (std::size_t k = 0; k < e->statements.size(); ++k) {
        if (e->statements[k] != 0) continue;
        Vertex c;
        c.op = "constant";
        c.constant = true;
        c.value = e->arguments[k];
        c.non_finite = !std::isfinite(c.value);
        boost::add_edge(boost::add_vertex(c, g), vertex_of[s], Edge{nan}, g);
      }
    }
  }
  if (outputs.empty()) {
    if (statements > 1) g[vertex_of[statements - 1]].output = true;
  } else {
    for (const Var& y : outputs) {
      const std::uint32_t s = tape.index_of(y);
      if (s != 0) g[vertex_of[s]].output = true;
    }
  }
  return g;
}

Graph capture(const Tape& tape, const TensorVar& output) {
  Graph g = capture(tape, std::span<const Var>());
  const std::uint32_t s = output.node(tape)->statement;
  for (auto v : boost::make_iterator_range(boost::vertices(g))) g[v].output = g[v].statement == s;
  return g;
}

// ---- DOT ----

namespace {

std::string number(double x) { return fmt::format("{:.4g}", x); }

std::string vertex_text(const Vertex& v, const DotOptions& o) {
  std::string text = v.label.empty() ? v.op : fmt::format("{}\\n{}", v.label, v.op);
  if (v.fused) text += " (fused)";
  if (v.tensor) {
    text += "\\n" + v.shape;
    if (o.values) text += "\\n‖v‖ " + number(v.value);
    if (v.non_finite_count > 0) text += fmt::format("\\n{} non-finite", v.non_finite_count);
    if (o.adjoints && !v.constant) text += "\\n‖adj‖ " + number(v.adjoint);
  } else {
    if (o.values && !std::isnan(v.value)) text += "\\n= " + number(v.value);
    if (v.non_finite && std::isnan(v.value)) text += "\\n= nan";
    if (o.adjoints && !v.constant) text += "\\nadj " + number(v.adjoint);
  }
  return text;
}

void style(DotVertex& d, const Vertex& v) {
  d.shape = v.tensor ? "box3d" : v.constant ? "box" : v.input ? "ellipse" : "box";
  d.style = "filled";
  d.fillcolor = v.non_finite ? "#f5b7b1" : v.output ? "#aed6f1" : v.input ? "#abebc6"
              : v.constant ? "#eaeded" : "#ffffff";
  d.color = v.non_finite ? "#c0392b" : v.output ? "#1f618d" : "#555555";
}

}  // namespace

DotGraph to_dot(const Graph& g, const DotOptions& options) {
  DotGraph d;
  const std::size_t n = boost::num_vertices(g);
  // Chains: one-in-one-out operations whose single consumer is also one (collapse ≥ 2).
  std::vector<std::size_t> chain_head(n);
  for (std::size_t v = 0; v < n; ++v) chain_head[v] = v;
  const auto linkable = [&](VertexId v) {
    return !g[v].input && !g[v].output && !g[v].constant && boost::in_degree(v, g) == 1 &&
           boost::out_degree(v, g) == 1;
  };
  std::vector<std::vector<VertexId>> chains;
  std::vector<bool> in_chain(n, false);
  if (options.collapse >= 2) {
    for (VertexId v = 0; v < n; ++v) {
      if (!linkable(v) || in_chain[v]) continue;
      const VertexId prev = boost::source(*boost::in_edges(v, g).first, g);
      if (linkable(prev)) continue;  // not the head of a chain
      std::vector<VertexId> chain{v};
      VertexId cur = v;
      while (true) {
        const VertexId next = boost::target(*boost::out_edges(cur, g).first, g);
        if (!linkable(next)) break;
        chain.push_back(next);
        cur = next;
      }
      if (chain.size() >= options.collapse) {
        for (VertexId c : chain) {
          in_chain[c] = true;
          chain_head[c] = chain.front();
        }
        chains.push_back(chain);
      }
    }
  }
  std::vector<DotGraph::vertex_descriptor> dv(n, DotGraph::null_vertex());
  for (VertexId v = 0; v < n; ++v) {
    if (in_chain[v] && chain_head[v] != v) continue;
    DotVertex x;
    x.id = g[v].statement != 0 ? fmt::format("s{}", g[v].statement) : fmt::format("c{}", v);
    x.label = vertex_text(g[v], options);
    style(x, g[v]);
    dv[v] = boost::add_vertex(x, d);
  }
  for (const auto& chain : chains) {
    DotVertex& x = d[dv[chain.front()]];
    std::string ops;
    for (VertexId c : chain) ops += (ops.empty() ? "" : " → ") + g[c].op;
    const Vertex& last = g[chain.back()];
    x.label = fmt::format("{}\\n({} operations)", ops, chain.size());
    if (!last.tensor && options.values && !std::isnan(last.value)) x.label += "\\n= " + number(last.value);
    if (std::any_of(chain.begin(), chain.end(), [&](VertexId c) { return g[c].non_finite; })) {
      x.fillcolor = "#f5b7b1";
      x.color = "#c0392b";
    }
  }
  for (auto e : boost::make_iterator_range(boost::edges(g))) {
    const VertexId s = chain_head[boost::source(e, g)], t = chain_head[boost::target(e, g)];
    if (s == t) continue;  // inside a collapsed chain
    // An edge leaving a chain starts at the chain's box (its head stands for the whole chain).
    const double p = g[e].partial;
    DotEdge x;
    if (options.partials && !std::isnan(p) && !in_chain[boost::target(e, g)]) x.label = number(p);
    boost::add_edge(dv[s], dv[t], x, d);
  }
  return d;
}

boost::dynamic_properties dot_properties(DotGraph& g) {
  boost::dynamic_properties dp(boost::ignore_other_properties);
  dp.property("node_id", boost::get(&DotVertex::id, g));
  dp.property("label", boost::get(&DotVertex::label, g));
  dp.property("shape", boost::get(&DotVertex::shape, g));
  dp.property("style", boost::get(&DotVertex::style, g));
  dp.property("fillcolor", boost::get(&DotVertex::fillcolor, g));
  dp.property("color", boost::get(&DotVertex::color, g));
  dp.property("label", boost::get(&DotEdge::label, g));
  return dp;
}

void write_dot(const Graph& g, std::ostream& out, const DotOptions& options) {
  DotGraph d = to_dot(g, options);
  boost::write_graphviz_dp(out, d, dot_properties(d), "node_id");
}

// ---- Analyses ----

Analysis analyze(const Graph& g) {
  Analysis a;
  const std::size_t n = boost::num_vertices(g);
  std::vector<VertexId> order;
  try {
    boost::topological_sort(g, std::back_inserter(order));  // reverse topological order
  } catch (const boost::not_a_dag&) {
    a.acyclic = false;
    return a;
  }
  std::reverse(order.begin(), order.end());
  for (auto e : boost::make_iterator_range(boost::edges(g))) {
    const auto& s = g[boost::source(e, g)];
    const auto& t = g[boost::target(e, g)];
    if (s.statement != 0 && s.statement >= t.statement) a.recorded_in_order = false;
  }
  // Reaching an output: a search backwards from the outputs.
  std::vector<bool> reaches(n, false);
  const auto rg = boost::make_reverse_graph(g);
  std::vector<boost::default_color_type> colour(n, boost::white_color);
  for (VertexId v = 0; v < n; ++v) {
    if (!g[v].output || reaches[v]) continue;
    std::fill(colour.begin(), colour.end(), boost::white_color);
    boost::breadth_first_search(rg, v, boost::visitor(boost::default_bfs_visitor())
        .color_map(boost::make_iterator_property_map(colour.begin(), boost::get(boost::vertex_index, rg))));
    for (VertexId u = 0; u < n; ++u) reaches[u] = reaches[u] || colour[u] != boost::white_color;
  }
  for (VertexId v = 0; v < n; ++v) {
    if (reaches[v] || g[v].statement == 0) continue;
    (g[v].input ? a.unused_inputs : a.dead).push_back(g[v].statement);
  }
  // Longest path (in edges) from any input to each vertex, in topological order.
  std::vector<std::size_t> depth(n, 0);
  for (VertexId v : order) {
    for (auto e : boost::make_iterator_range(boost::in_edges(v, g)))
      depth[v] = std::max(depth[v], depth[boost::source(e, g)] + 1);
    if (g[v].output) a.depth = std::max(a.depth, depth[v]);
  }
  std::size_t operations = 0, fan_in = 0, fan_out = 0;
  for (VertexId v = 0; v < n; ++v) {
    const std::size_t in = boost::in_degree(v, g), out = boost::out_degree(v, g);
    if (in > 0) {
      ++operations;
      fan_in += in;
    }
    fan_out += out;
    a.max_fan_in = std::max(a.max_fan_in, in);
    if (out > a.max_fan_out) {
      a.max_fan_out = out;
      a.widest = g[v].statement;
    }
  }
  a.mean_fan_in = operations ? static_cast<double>(fan_in) / static_cast<double>(operations) : 0;
  a.mean_fan_out = n ? static_cast<double>(fan_out) / static_cast<double>(n) : 0;
  return a;
}

std::string to_string(const Analysis& a) {
  if (!a.acyclic) return "the graph has a cycle (not a recording of a computation)";
  return fmt::format(
      "{}; depth {}; fan-in max {} (mean {:.2f}), fan-out max {} (mean {:.2f}, widest: statement "
      "{}); {} unused input(s){}{}; {} dead operation(s){}{}",
      a.recorded_in_order ? "recorded in topological order" : "NOT recorded in topological order",
      a.depth, a.max_fan_in, a.mean_fan_in, a.max_fan_out, a.mean_fan_out, a.widest,
      a.unused_inputs.size(), a.unused_inputs.empty() ? "" : ": statements ",
      fmt::join(a.unused_inputs, ", "), a.dead.size(), a.dead.empty() ? "" : ": statements ",
      fmt::join(a.dead, ", "));
}

// ---- Gradient flow ----

FlowReport gradient_flow(const Graph& g, const FlowOptions& options) {
  // NaN or negative thresholds flag nothing, silently; +∞ is a way to switch a flag off.
  for (const auto& [name, v] : {std::pair{"vanishing", options.vanishing},
                                std::pair{"exploding", options.exploding}}) {
    if (!(v >= 0)) {
      detail::fail("nabla::graph::gradient_flow",
                   fmt::format("invalid option {} (got {}, expected a number >= 0)", name, v));
    }
  }
  FlowReport r;
  std::map<std::string, std::size_t> index;
  std::vector<double> adjoint_sq, parameter_sq;
  double output_sq = 0;
  for (auto v : boost::make_iterator_range(boost::vertices(g))) {
    const Vertex& x = g[v];
    if (x.output) output_sq += x.adjoint * x.adjoint;
    if (x.label.empty()) continue;
    const std::string group = x.label.substr(0, x.label.find(options.separator));
    auto [it, inserted] = index.try_emplace(group, r.rows.size());
    if (inserted) {
      r.rows.push_back({group});
      adjoint_sq.push_back(0);
      parameter_sq.push_back(0);
    }
    FlowRow& row = r.rows[it->second];
    row.values += x.elements;
    (x.input ? parameter_sq : adjoint_sq)[it->second] += x.adjoint * x.adjoint;
  }
  r.output_adjoint = std::sqrt(output_sq);
  for (std::size_t k = 0; k < r.rows.size(); ++k) {
    FlowRow& row = r.rows[k];
    row.adjoint_norm = std::sqrt(adjoint_sq[k]);
    row.parameter_norm = std::sqrt(parameter_sq[k]);
    const double n = std::max(row.adjoint_norm, row.parameter_norm);
    row.vanishing = n < options.vanishing * r.output_adjoint;
    row.exploding = n > options.exploding * r.output_adjoint;
  }
  return r;
}

std::string to_string(const FlowReport& r) {
  std::string s = fmt::format("{:<16} {:>9} {:>14} {:>14}  {}\n", "group", "values",
                              "‖adjoints‖", "‖gradients‖", "flag");
  for (const FlowRow& row : r.rows) {
    s += fmt::format("{:<16} {:>9} {:>14.4e} {:>14.4e}  {}\n", row.group, row.values,
                     row.adjoint_norm, row.parameter_norm,
                     row.vanishing ? "VANISHING" : row.exploding ? "EXPLODING" : "");
  }
  s += fmt::format("(relative to the output's adjoint, {:.4g})\n", r.output_adjoint);
  return s;
}

// ---- NaN / Inf origin ----

namespace {

void describe(NonFinite& r, const Tape& tape, const char* what, const char* joiner = " from ") {
  r.label = std::string(tape.label_of(r.statement));
  std::string ops;
  for (std::size_t k = 0; k < r.operands.size(); ++k) {
    const auto name = tape.label_of(r.operands[k]);
    ops += fmt::format("{}statement {}{} = {}", k ? ", " : "", r.operands[k],
                       name.empty() ? std::string() : fmt::format(" '{}'", name),
                       std::isnan(r.operand_values[k]) && !tape.diagnosing() ? std::string("?")
                                                                            : number(r.operand_values[k]));
  }
  r.message = fmt::format("{} (statement {}{}) {}{}{}", r.op, r.statement,
                          r.label.empty() ? std::string() : fmt::format(" '{}'", r.label), what,
                          ops.empty() ? "" : joiner, ops);
}

}  // namespace

NonFinite first_non_finite(const Tape& tape) {
  NonFinite r;
  r.scalars_checked = tape.diagnosing();
  const auto statements = static_cast<std::uint32_t>(tape.size());
  std::vector<std::uint32_t> inputs;
  std::unordered_map<std::uint32_t, bool> tensor_finite;  // tensor node statements
  const auto finite_operand = [&](std::uint32_t i) {
    const auto it = tensor_finite.find(i);
    if (it != tensor_finite.end()) return it->second;
    return !tape.diagnosing() || std::isfinite(tape.recorded_value(i));
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
      describe(r, tape, fmt::format("created {} non-finite element(s) of its {} result", bad,
                                    to_string(t->shape)).c_str());
      r.operand_values.assign(r.operands.size(), nan);
      return r;
    }
    if (!tape.diagnosing()) continue;
    const double value = tape.recorded_value(s);
    const auto partials = tape.partials(s);
    const bool bad_value = !std::isfinite(value);
    const bool bad_partial = std::any_of(partials.begin(), partials.end(),
                                         [](double p) { return !std::isfinite(p); });
    if (!bad_value && !bad_partial) continue;
    const auto ops = tape.operands(s);
    if (!std::all_of(ops.begin(), ops.end(), finite_operand)) continue;
    // Constant arguments count too (kept by the evaluation).
    if (const Evaluation* e = tape.evaluation(s)) {
      if (!std::all_of(e->arguments.begin(), e->arguments.end(), [](double x) { return std::isfinite(x); }))
        continue;
    }
    r.found = true;
    r.statement = s;
    r.op = std::string(op_name(tape.op(s)));
    r.value = value;
    r.in_partial = !bad_value;
    r.operands.assign(ops.begin(), ops.end());
    for (std::uint32_t i : ops) r.operand_values.push_back(tape.recorded_value(i));
    r.partials.assign(partials.begin(), partials.end());
    describe(r, tape, bad_value ? fmt::format("created the non-finite value {}", value).c_str()
                                : fmt::format("has the finite value {} but a non-finite partial "
                                              "[{}]", value, fmt::join(r.partials, ", ")).c_str());
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
  // The tape's own sweep, one statement or node at a time (Tape::sweep_statements), with the
  // adjoints looked at before and after each step: no second copy of the sweep.
  std::vector<std::uint32_t> inputs;
  const auto finite_tensor_adjoint = [](const detail::TensorNode* t) {
    return t->adjoint == nullptr || !t->written || count_non_finite(t->adjoint, t->shape.size()) == 0;
  };
  for (std::uint32_t s = last; s >= 1; --s) {
    if (detail::Node* node = detail::TapeAccess::node_at(tape, s)) {
      const auto* t = dynamic_cast<const detail::TensorNode*>(node);
      const bool own_finite = t != nullptr ? finite_tensor_adjoint(t) : std::isfinite(adjoint[s]);
      inputs.clear();
      node->inputs(inputs);
      tape.sweep_statements(s, s);
      if (!own_finite) continue;
      for (std::uint32_t i : inputs) {
        const auto* in = dynamic_cast<const detail::TensorNode*>(detail::TapeAccess::node_at(tape, i));
        const bool ok = in != nullptr ? finite_tensor_adjoint(in) : std::isfinite(adjoint[i]);
        if (ok) continue;
        r.found = true;
        r.statement = s;
        r.op = std::string(node->name());
        r.value = t != nullptr && t->adjoint != nullptr && t->written ? norm(t->adjoint, t->shape.size()) : adjoint[s];
        r.operands.push_back(i);
        r.operand_values.push_back(tape.recorded_value(i));
        describe(r, tape, fmt::format("made the adjoint of its operand (statement {}) non-finite "
                                      "in the reverse sweep",
                                      i).c_str(), "; operand ");
        return r;
      }
      continue;
    }
    const double a = adjoint[s];
    if (a == 0.0) continue;
    const auto ops = tape.operands(s);
    const auto partials = tape.partials(s);
    std::vector<double> before(ops.size());
    for (std::size_t k = 0; k < ops.size(); ++k) before[k] = adjoint[ops[k]];
    tape.sweep_statements(s, s);
    for (std::size_t k = 0; k < ops.size(); ++k) {
      if (std::isfinite(a) && std::isfinite(before[k]) && !std::isfinite(adjoint[ops[k]])) {
        r.found = true;
        r.statement = s;
        r.op = std::string(op_name(tape.op(s)));
        r.value = a;
        r.operands.assign(ops.begin(), ops.end());
        for (std::uint32_t i : ops) r.operand_values.push_back(tape.recorded_value(i));
        r.partials.assign(partials.begin(), partials.end());
        r.in_partial = true;
        describe(r, tape, fmt::format("pushed a non-finite adjoint ({} × partial {}) into "
                                      "statement {} in the reverse sweep",
                                      a, partials[k], ops[k]).c_str(), "; operands: ");
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
    detail::fail("nabla::graph::first_non_finite_adjoint",
                 fmt::format("the output has shape {} (expected one element)", to_string(n->shape)));
  }
  return reverse_origin(tape, n->statement, n);
}

// ---- Per-rule derivative check ----

namespace {

// Re-evaluates a single (unfused) operation from the values of its operand statements, by its
// op code; nullopt when the operation is not a function of those values alone (a constant
// operand was dropped, x·x kept one operand) — the caller also checks that the value is
// reproduced.
std::optional<double> evaluate(Op op, std::span<const double> a) {
  const std::size_t n = a.size();
  const auto unary = [&](double (*f)(double)) { return n == 1 ? std::optional(f(a[0])) : std::nullopt; };
  const auto binary = [&](double (*f)(double, double)) {
    return n == 2 ? std::optional(f(a[0], a[1])) : std::nullopt;
  };
  switch (op) {
    // Note [The rule table]: the value of every elementary rule, from its row.
#define NABLA_EVALUATE_UNARY(F) \
  case detail::F::op: return unary(&detail::F::value);
#define NABLA_EVALUATE_BINARY(F) \
  case detail::F::op: return binary(&detail::F::value);
    NABLA_UNARY_RULES(NABLA_EVALUATE_UNARY)
    NABLA_BINARY_RULES(NABLA_EVALUATE_BINARY)
#undef NABLA_EVALUATE_UNARY
#undef NABLA_EVALUATE_BINARY
    case Op::fmin: return binary([](double x, double y) { return std::fmin(x, y); });
    case Op::fmax: return binary([](double x, double y) { return std::fmax(x, y); });
    case Op::fma: return n == 3 ? std::optional(std::fma(a[0], a[1], a[2])) : std::nullopt;
    case Op::sum: {
      double t = 0;
      for (double x : a) t += x;
      return t;
    }
    case Op::squared_norm: {
      double t = 0;
      for (double x : a) t += x * x;
      return t;
    }
    case Op::log_sum_exp: return n == 0 ? std::nullopt : std::optional(log_sum_exp(a));
    default: return std::nullopt;
  }
}

}  // namespace

PartialsReport check_partials(const Tape& tape, const PartialsOptions& options) {
  if (!tape.diagnosing()) {
    detail::fail("nabla::graph::check_partials",
                 "the tape did not record with diagnostics (expected "
                 "tape.set_diagnostics({.enabled = true}) before recording: it keeps each "
                 "operation's values and function)");
  }
  // A NaN tolerance made every comparison false: nothing was ever reported wrong.
  for (const auto& [name, v] : {std::pair{"rtol", options.rtol}, std::pair{"atol", options.atol}}) {
    if (!(v >= 0) || !std::isfinite(v)) {
      detail::fail("nabla::graph::check_partials",
                   fmt::format("invalid option {} (got {}, expected a finite value >= 0)", name, v));
    }
  }
  PartialsReport report;
  const auto statements = static_cast<std::uint32_t>(tape.size());
  std::vector<double> args;
  std::vector<std::uint32_t> arg_statements;
  for (std::uint32_t s = 1; s < statements; ++s) {
    if (detail::TapeAccess::node_at(tape, s) != nullptr || tape.op(s) == Op::input) continue;
    const auto ops = tape.operands(s);
    const auto partials = tape.partials(s);
    std::function<double(std::span<const double>)> f;
    const Evaluation* e = tape.evaluation(s);
    if (e != nullptr) {
      f = e->function;
      args = e->arguments;
      arg_statements = e->statements;
    } else {
      if (tape.fused(s)) {  // a fused expression keeps no evaluation
        ++report.skipped;
        continue;
      }
      args.clear();
      arg_statements.assign(ops.begin(), ops.end());
      for (std::uint32_t i : ops) args.push_back(tape.recorded_value(i));
      const Op op = tape.op(s);
      if (!evaluate(op, args)) {
        ++report.skipped;
        continue;
      }
      f = [op](std::span<const double> a) { return *evaluate(op, a); };
    }
    // The evaluation must reproduce the recorded value (else constants were dropped, or the
    // operation is not a function of what was kept).
    const double value = tape.recorded_value(s);
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
      for (std::size_t k = 0; k < args.size(); ++k) if (arg_statements[k] == j) x0 = args[k];
      const auto shifted = [&](double h) {
        std::vector<double> a = args;
        for (std::size_t k = 0; k < a.size(); ++k) if (arg_statements[k] == j) a[k] += h;
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
          options.atol + options.rtol * std::max(std::abs(numeric), std::abs(recorded)) + 10 * estimate) {
        found.push_back({s, std::string(op_name(tape.op(s))), std::string(tape.label_of(s)), j, recorded, numeric});
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
    s += fmt::format("  {} (statement {}{}): ∂/∂(statement {}) recorded {:.10g}, finite "
                     "differences {:.10g}\n",
                     m.op, m.statement, m.label.empty() ? std::string() : fmt::format(" '{}'", m.label),
                     m.operand, m.recorded, m.numeric);
  }
  return s;
}

}  // namespace nabla::graph
