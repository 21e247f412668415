// The expression graph: analyses (unused inputs, dead statements, depth) and gradient flow.
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
    boost::breadth_first_search(rg, v,
                                boost::visitor(boost::default_bfs_visitor())
                                    .color_map(boost::make_iterator_property_map(
                                        colour.begin(), boost::get(boost::vertex_index, rg))));
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
  for (const auto& [name, v] :
       {std::pair{"vanishing", options.vanishing}, std::pair{"exploding", options.exploding}}) {
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
  std::string s = fmt::format("{:<16} {:>9} {:>14} {:>14}  {}\n", "group", "values", "‖adjoints‖",
                              "‖gradients‖", "flag");
  for (const FlowRow& row : r.rows) {
    s += fmt::format("{:<16} {:>9} {:>14.4e} {:>14.4e}  {}\n", row.group, row.values,
                     row.adjoint_norm, row.parameter_norm,
                     row.vanishing   ? "VANISHING"
                     : row.exploding ? "EXPLODING"
                                     : "");
  }
  s += fmt::format("(relative to the output's adjoint, {:.4g})\n", r.output_adjoint);
  return s;
}

}  // namespace nabla::graph
