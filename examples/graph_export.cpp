// The expression graph of a small 2-layer network on two inputs, exported to Graphviz DOT
// (graph_export.dot; draw it with `dot -Tsvg graph_export.dot -o graph_export.svg`), with the
// structure analysis and the gradient flow per layer.
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/graph.hpp>

#include <fmt/format.h>

#include <fstream>

int main() {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  tape.set_diagnostics({.enabled = true});  // values in the picture; custom rules re-checkable

  using nabla::label;
  using nabla::Var;
  const Var x1 = label(nabla::variable(0.5), "x1");
  const Var x2 = label(nabla::variable(-1.2), "x2");
  // Layer 1: two tanh units; layer 2: one linear output; loss: squared error against 0.3.
  const Var w11 = label(nabla::variable(0.8), "layer1/w11"),
            w12 = label(nabla::variable(-0.4), "layer1/w12");
  const Var w21 = label(nabla::variable(0.3), "layer1/w21"),
            w22 = label(nabla::variable(0.9), "layer1/w22");
  const Var v1 = label(nabla::variable(1.1), "layer2/v1"),
            v2 = label(nabla::variable(-0.7), "layer2/v2");
  // One operation per statement, so that every operation is its own vertex (an expression
  // such as tanh(w11 * x1 + w12 * x2) would be one fused vertex).
  const Var a11 = w11 * x1, a12 = w12 * x2, a21 = w21 * x1, a22 = w22 * x2;
  const Var s1 = a11 + a12, s2 = a21 + a22;
  const Var h1 = label(tanh(s1), "layer1/h1");
  const Var h2 = label(tanh(s2), "layer1/h2");
  const Var o1 = v1 * h1, o2 = v2 * h2;
  const Var out = label(o1 + o2, "layer2/out");
  const Var error = out - 0.3;
  const Var loss = label(error * error, "loss");
  tape.backward(loss);

  const nabla::graph::Graph g = nabla::graph::capture(tape, std::vector<Var>{loss});
  std::ofstream dot("graph_export.dot");
  nabla::graph::write_dot(g, dot);
  fmt::print("loss = {:.6f}; {} vertices, {} edges written to graph_export.dot\n", loss.value(),
             boost::num_vertices(g), boost::num_edges(g));
  fmt::print("{}\n\n", nabla::graph::to_string(nabla::graph::analyze(g)));
  fmt::print("{}", nabla::graph::to_string(nabla::graph::gradient_flow(g)));
  // Every recorded rule agrees with finite differences of its operation.
  const auto partials = nabla::graph::check_partials(tape);
  fmt::print("{}\n", nabla::graph::to_string(partials));

  // The same kind of network with tensors: one vertex per tensor operation
  // (graph_export_tensor.dot).
  nabla::Tape tensors;
  nabla::Tape::Scope inner(tensors);
  tensors.set_diagnostics({.enabled = true});  // parameters show their names
  nabla::nn::Parameters params(/*seed=*/1);
  const auto w1 = params.add("W1", {2, 8}), b1 = params.add("b1", {8}, nabla::nn::Init::zeros);
  const auto w2 = params.add("W2", {8, 3});
  const nabla::Tensor batch({4, 2}, {0.5, -1.2, 1.0, 0.3, -0.7, 0.8, 0.0, 2.0});
  const std::vector<int> classes = {0, 2, 1, 2};
  const nabla::TensorVar h =
      nabla::label(nabla::tanh(nabla::matmul(nabla::constant(batch), w1) + b1), "hidden");
  const nabla::TensorVar ce =
      nabla::label(nabla::cross_entropy(nabla::matmul(h, w2), classes), "loss");
  nabla::backward(ce);
  const nabla::graph::Graph t = nabla::graph::capture(tensors, ce);
  std::ofstream tensor_dot("graph_export_tensor.dot");
  nabla::graph::write_dot(t, tensor_dot);
  fmt::print(
      "tensor network: loss = {:.6f}; {} vertices, {} edges written to "
      "graph_export_tensor.dot\n",
      ce.value()[0], boost::num_vertices(t), boost::num_edges(t));
  return partials.ok() && partials.checked == 11 && boost::num_vertices(g) == 21 &&
                 boost::num_vertices(t) == 9
             ? 0
             : 1;
}
