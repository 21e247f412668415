// The expression graph: capture of a tape into a Boost.Graph.
#include "nabla/autodiff/graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "boost_graph.hpp"
#include "graph_internal.hpp"
#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/math.hpp"

namespace nabla::graph {

using namespace internal;

Graph capture(const Tape& tape, std::span<const Var> outputs) {
  Graph g;
  const auto statements = tape.position().statement;
  const std::span<const double> adjoints = Inspect::adjoints(tape);
  std::vector<VertexId> vertex_of(statements, Graph::null_vertex());
  std::vector<std::uint32_t> inputs;
  for (std::uint32_t s = 1; s < statements; ++s) {
    Vertex v;
    v.statement = s;
    v.label = std::string(Diag::label_of(tape, s));
    v.adjoint = s < adjoints.size() ? adjoints[s] : 0.0;
    v.value = Diag::recorded_value(tape, s);
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
      const Op op = Inspect::op(tape, s);
      v.op = std::string(op_name(op));
      v.fused = Inspect::fused(tape, s);
      v.input = op == Op::input;
    }
    // Scalar values are known only when recorded with diagnostics.
    v.non_finite =
        v.tensor ? v.non_finite_count > 0 : Diag::diagnosing(tape) && !std::isfinite(v.value);
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
    const auto ops = Inspect::operands(tape, s);
    const auto partials = Inspect::partials(tape, s);
    for (std::size_t k = 0; k < ops.size(); ++k) {
      boost::add_edge(vertex_of[ops[k]], vertex_of[s], Edge{partials[k]}, g);
    }
    // Constants an operation used (kept only with diagnostics).
    if (const detail::Evaluation* e = Diag::evaluation(tape, s)) {
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

}  // namespace nabla::graph
