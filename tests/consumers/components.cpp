// The second program of the CMake and pkg-config consumers: one use of each other component
// (tensor, nn, data, graph), so that their targets' include directories, libraries and
// dependencies are checked. Exits 1 on a mismatch.
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/graph.hpp>
#include <nabla/autodiff/idx.hpp>
#include <nabla/autodiff/nn.hpp>

#include <fmt/format.h>

#include <stdexcept>
#include <vector>

int main() {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);

  // tensor + nn: d/dW sum(W * W) = 2 W.
  nabla::nn::Parameters params(/*seed=*/1);
  const auto w = params.add("W", {3, 4}, nabla::nn::Init::glorot_uniform);
  const nabla::TensorVar x = w;
  const nabla::TensorVar loss = nabla::sum(x * x);
  nabla::backward(loss);
  bool tensor_ok = true;
  for (std::size_t i = 0; i < w.value().size(); ++i)
    tensor_ok = tensor_ok && w.gradient()[i] == 2 * w.value()[i];

  // graph: the recorded loss as a Boost graph.
  const nabla::Var a = nabla::variable(2.0);
  const nabla::Var y = a * a + sin(a);
  const auto g = nabla::graph::capture(tape, std::vector<nabla::Var>{y});
  const bool graph_ok = boost::num_vertices(g) > 0;

  // data: a missing IDX file is an error, not a crash.
  bool data_ok = false;
  try {
    nabla::data::read_idx("no-such-file.idx");
  } catch (const std::exception&) {
    data_ok = true;
  }
  fmt::print("tensor + nn: {}, graph ({} vertices): {}, data: {}\n", tensor_ok ? "ok" : "WRONG",
             boost::num_vertices(g), graph_ok ? "ok" : "WRONG", data_ok ? "ok" : "WRONG");
  return tensor_ok && graph_ok && data_ok ? 0 : 1;
}
