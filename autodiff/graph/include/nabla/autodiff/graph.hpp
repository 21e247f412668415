// nabla::graph — the recorded computation as a Boost.Graph: capture, Graphviz export,
// analyses, gradient-flow reports, NaN/Inf origin and per-rule derivative checks.
// Include it on its own (the umbrella header does not, to keep Boost.Graph out of other code).
#pragma once

// Boost.Graph trips GCC 12's (maybe-)uninitialized warnings in its own code (false positives).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <boost/graph/adjacency_list.hpp>
#include <boost/property_map/dynamic_property_map.hpp>
#pragma GCC diagnostic pop
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "nabla/autodiff/tape.hpp"
#include "nabla/autodiff/tensor_var.hpp"
#include "nabla/autodiff/var.hpp"

namespace nabla::graph {

/// One recorded value: a scalar statement, a tensor node, or (with diagnostics) a constant
/// operand.
struct Vertex {
  std::uint32_t statement = 0;       ///< its statement on the tape (0 for a constant)
  std::string op;                    ///< "mul", "sin", "matmul", "input", "constant", ...
  std::string label;                 ///< the name given with nabla::label ("" if none)
  bool input = false;                ///< an independent variable (scalar input or tensor leaf)
  bool output = false;               ///< one of the outputs passed to capture()
  bool constant = false;             ///< a constant (no gradient flows to it)
  bool fused = false;                ///< a fused expression (only its outermost operation is known)
  bool tensor = false;               ///< a tensor node
  std::string shape;                 ///< tensors: "[64, 10]"
  std::size_t elements = 1;          ///< tensors: number of elements
  double value = 0;                  ///< scalar value (NaN unless recorded with diagnostics);
                                     ///< tensors: the L2 norm of the value
  double adjoint = 0;                ///< scalar adjoint after a sweep; tensors: its L2 norm
  bool non_finite = false;           ///< the value (any element of it) is NaN or ±∞
  std::size_t non_finite_count = 0;  ///< tensors: how many elements are
};

/// One operand use: data flows from the operand's vertex to the result's.
struct Edge {
  double partial = 0;  ///< ∂ result / ∂ operand as recorded (NaN for tensor and constant edges)
};

/// The expression graph (bidirectional: in_edges are a vertex's operands).
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, Vertex, Edge>;

/// Builds the graph of everything on the tape. `outputs` marks output vertices (default: the
/// last statement). Values are shown when the tape recorded with diagnostics
/// (Tape::set_diagnostics); adjoints are those of the last sweep (0 before one).
Graph capture(const Tape& tape, std::span<const Var> outputs = {});
/// capture() with a tensor output (e.g. a loss).
Graph capture(const Tape& tape, const TensorVar& output);
/// capture() with one scalar output: `capture(tape, loss)`.
inline Graph capture(const Tape& tape, const Var& output) {
  return capture(tape, std::span<const Var>(&output, 1));
}
/// capture() with a braced list of outputs: `capture(tape, {y})`, `capture(tape, {y, z})`.
inline Graph capture(const Tape& tape, std::initializer_list<Var> outputs) {
  return capture(tape, std::span<const Var>(outputs.begin(), outputs.size()));
}

// ---- Graphviz ----

/// How write_dot draws the graph.
struct DotOptions {
  bool values = true;        ///< print values (scalar) or shapes and norms (tensors)
  bool adjoints = true;      ///< print adjoints
  bool partials = true;      ///< print each edge's partial
  std::size_t collapse = 0;  ///< ≥ 2: draw chains of at least this many one-in-one-out
                             ///< operations as one box ("exp → sin → log")
};

/// The graph as Graphviz draws it: one string attribute set per vertex and edge.
struct DotVertex {
  std::string id, label, shape, style, fillcolor, color;
};
/// @copydoc DotVertex
struct DotEdge {
  std::string label;
};
/// The drawable graph (what write_dot writes and what read_graphviz reads back).
using DotGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, DotVertex, DotEdge>;

/// The drawable form of g: labels, colours (inputs green, outputs blue, non-finite red,
/// constants grey) and, with options.collapse, chains merged.
DotGraph to_dot(const Graph& g, const DotOptions& options = {});
/// The attribute maps of a DotGraph, for boost::write_graphviz_dp and boost::read_graphviz.
boost::dynamic_properties dot_properties(DotGraph& g);
/// Writes g in Graphviz DOT (with boost::write_graphviz_dp); `dot -Tsvg` draws it.
void write_dot(const Graph& g, std::ostream& out, const DotOptions& options = {});

// ---- Analyses ----

/// Structure of a graph (analyze()).
struct Analysis {
  bool acyclic = true;                       ///< boost::topological_sort found no cycle
  bool recorded_in_order = true;             ///< every operand was recorded before its result
  std::vector<std::uint32_t> unused_inputs;  ///< inputs with no path to an output
  std::vector<std::uint32_t> dead;           ///< operations that do not reach an output
  std::size_t depth = 0;                     ///< longest path from an input to an output, in edges
  std::size_t max_fan_in = 0, max_fan_out = 0;
  double mean_fan_in = 0, mean_fan_out = 0;  ///< over operations (fan-in) and all vertices
  std::uint32_t widest = 0;                  ///< the statement with the largest fan-out
};
/// Topological order, unused inputs and dead work, depth, fan-in/fan-out.
Analysis analyze(const Graph& g);
/// A short printable summary.
std::string to_string(const Analysis& a);

// ---- Gradient flow ----

/// Options of gradient_flow().
struct FlowOptions {
  double vanishing = 1e-6;  ///< flag a group whose adjoint norm is below this × the output's
  double exploding = 1e6;   ///< flag a group whose adjoint norm is above this × the output's
  char separator = '/';     ///< a label "layer1/W" belongs to group "layer1"
};
/// One labelled group's gradients.
struct FlowRow {
  std::string group;
  std::size_t values = 0;     ///< labelled scalars + tensor elements in the group
  double adjoint_norm = 0;    ///< L2 norm of the adjoints of its intermediate values
  double parameter_norm = 0;  ///< L2 norm of the gradients of its inputs/parameters
  bool vanishing = false, exploding = false;
};
/// The gradient-flow report (printable with to_string).
struct FlowReport {
  double output_adjoint = 1;  ///< the reference: the output's adjoint (norm)
  std::vector<FlowRow> rows;  ///< in order of first appearance on the tape
};
/// Norms of adjoints and parameter gradients per labelled group, after a sweep, with
/// vanishing/exploding flags relative to the output.
FlowReport gradient_flow(const Graph& g, const FlowOptions& options = {});
/// The report as a table.
std::string to_string(const FlowReport& r);

// ---- NaN / Inf origin ----

/// Where a non-finite number was created (first_non_finite, first_non_finite_adjoint).
struct NonFinite {
  bool found = false;
  std::uint32_t statement = 0;  ///< the operation that created it
  std::string op, label;
  bool in_partial = false;              ///< forward: the value was finite, a partial was not
  double value = 0;                     ///< forward: its value; reverse: its adjoint
  std::vector<std::uint32_t> operands;  ///< its operands' statements
  std::vector<double> operand_values;   ///< their values (NaN when not recorded)
  std::vector<double> partials;         ///< its recorded partials (scalar statements)
  std::string message;                  ///< one readable sentence ("" when nothing was found)
  bool scalars_checked = true;          ///< false: scalar statements were skipped (no diagnostics)
};
/// The first recorded operation whose value or partial is NaN/±∞ while all its operands are
/// finite: the one that created it. Scalar statements need the tape to have recorded with
/// diagnostics; tensor nodes are always checked.
NonFinite first_non_finite(const Tape& tape);
/// The same for the reverse sweep from y: the first operation (in sweep order) whose pushed
/// adjoint became non-finite while its own adjoint was finite. Sweeps the tape (adjoints are
/// left as after backward(y)).
NonFinite first_non_finite_adjoint(Tape& tape, const Var& y);
/// first_non_finite_adjoint() from a one-element tensor output.
NonFinite first_non_finite_adjoint(Tape& tape, const TensorVar& y);

// ---- Per-rule derivative check ----

/// Options of check_partials().
struct PartialsOptions {
  double rtol = 1e-6;
  double atol = 1e-8;
};
/// A recorded partial that disagrees with finite differences of its operation.
struct PartialMismatch {
  std::uint32_t statement = 0;
  std::string op, label;
  std::uint32_t operand = 0;  ///< the operand's statement
  double recorded = 0, numeric = 0;
};
/// What check_partials() found.
struct PartialsReport {
  std::size_t checked = 0;  ///< statements re-evaluated
  std::size_t skipped = 0;  ///< statements that keep no evaluation, or are not
                            ///< differentiable at their operands (a kink)
  std::vector<PartialMismatch> mismatches;
  [[nodiscard]] bool ok() const noexcept { return mismatches.empty(); }
};
/// Re-evaluates every scalar operation recorded with diagnostics at its recorded operands,
/// differentiates it with Richardson central differences and lists each stored partial that
/// disagrees — a wrong derivative rule (e.g. of a nabla::custom operation) is named directly.
/// @throws nabla::Error when the tape did not record with diagnostics.
PartialsReport check_partials(const Tape& tape, const PartialsOptions& options = {});
/// The report, one line per mismatch.
std::string to_string(const PartialsReport& r);

}  // namespace nabla::graph
