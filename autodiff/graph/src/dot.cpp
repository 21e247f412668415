// The expression graph: Graphviz DOT export and read-back.
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

// ---- DOT ----

namespace {

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
  d.fillcolor = v.non_finite ? "#f5b7b1"
                : v.output   ? "#aed6f1"
                : v.input    ? "#abebc6"
                : v.constant ? "#eaeded"
                             : "#ffffff";
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
    if (!last.tensor && options.values && !std::isnan(last.value))
      x.label += "\\n= " + number(last.value);
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

}  // namespace nabla::graph
