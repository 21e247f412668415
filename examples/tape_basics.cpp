// The tape by hand: variables, backward and adjoints, positions and rewind, a custom
// operation, a Jacobian, and the error a stale variable raises.
#include <nabla/autodiff.hpp>

#include <cmath>
#include <vector>

int main() {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);  // operations record on `tape` until the scope ends

  // 1. Variables, one sweep, adjoints.
  const nabla::Var x = nabla::variable(2.0);
  const nabla::Var y = nabla::variable(3.0);
  const nabla::Var z = x * y + sin(x);
  nabla::backward(z);
  fmt::print("z = {:.4f}, dz/dx = {:.4f}, dz/dy = {:.4f}\n", z, nabla::adjoint(x),
             nabla::adjoint(y));
  fmt::print("tape: {}\n", tape.statistics());

  // 2. Record, sweep and rewind from a position: the loop reuses the tape's memory.
  const nabla::Position start = tape.position();
  for (double scale : {1.0, 2.0}) {
    const nabla::Var w = scale * x * x;
    tape.backward(w, start);  // sweeps only what was recorded after `start`
    fmt::print("d(scale*x^2)/dx at scale {} = {}\n", scale, tape.adjoint(x));
    tape.rewind(start);
  }

  // 3. A custom operation: a black-box value with hand-written partials.
  const double h = std::hypot(x.value(), y.value());
  const nabla::Var r = nabla::custom(h, {x, y}, {x.value() / h, y.value() / h});
  tape.backward(r);
  fmt::print("custom hypot: dr/dx = {:.4f}\n", tape.adjoint(x));

  // 4. A Jacobian: one recording, one sweep per output.
  const auto J = nabla::jacobian(
      [](const auto& v) {
        return std::vector<nabla::Var>{v[0] * v[1], exp(v[0]) - v[1]};
      },
      {1.0, 2.0});
  fmt::print("J = [[{}, {}], [{:.4f}, {}]]\n", J(0, 0), J(0, 1), J(1, 0), J(1, 1));

  // 5. Misuse is an exception with a message, not a crash.
  tape.rewind(start);
  const nabla::Var gone = x * 2.0;
  tape.rewind(start);
  try {
    const nabla::Var use = gone + 1.0;  // recording checks every operand
    (void)use;
  } catch (const nabla::Error& e) {
    fmt::print("error: {}\n", e.what());
  }
  return 0;
}
