// value_and_gradient, gradient, jacobian, backward/adjoint and their errors.
#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>
#include <vector>

using nabla::Var;

BOOST_AUTO_TEST_SUITE(gradient)

BOOST_AUTO_TEST_CASE(value_and_gradient_of_rosenbrock) {
  const auto rosenbrock = [](const auto& x) {
    Var f = 0.0;
    for (std::size_t i = 0; i + 1 < x.size(); ++i)
      f += 100.0 * pow(x[i + 1] - x[i] * x[i], 2) + pow(1.0 - x[i], 2);
    return f;
  };
  const std::vector<double> x = {-1.2, 1.0, 0.5, 2.0};
  const auto r = nabla::value_and_gradient(rosenbrock, x);
  std::vector<double> g(x.size(), 0.0);
  double f = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    const double t = x[i + 1] - x[i] * x[i];
    f += 100 * t * t + (1 - x[i]) * (1 - x[i]);
    g[i] += -400 * t * x[i] - 2 * (1 - x[i]);
    g[i + 1] += 200 * t;
  }
  BOOST_TEST(r.value == f, boost::test_tools::tolerance(1e-14));
  for (std::size_t i = 0; i < x.size(); ++i)
    BOOST_TEST(r.gradient[i] == g[i], boost::test_tools::tolerance(1e-13));
  // gradient() writes into a caller's buffer and returns the value.
  std::vector<double> out(x.size());
  BOOST_TEST(nabla::gradient(rosenbrock, x, out) == r.value);
  BOOST_TEST(out == r.gradient);
}

BOOST_AUTO_TEST_CASE(helpers_leave_the_tape_as_they_found_it) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Var outer = tape.variable(1.0);
  const auto before = tape.position();
  for (int i = 0; i < 3; ++i)
    (void)nabla::value_and_gradient([](const auto& x) { return x[0] * x[1]; }, {2.0, 3.0});
  BOOST_TEST((tape.position() == before));
  BOOST_TEST(Var(outer * 2.0).value() == 2.0);  // still valid
}

BOOST_AUTO_TEST_CASE(nested_gradients_use_outer_variables_as_values) {
  // An inner gradient inside an outer recording: the inner function captures an outer Var.
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Var a = tape.variable(3.0);
  const auto inner =
      nabla::value_and_gradient([&](const auto& x) { return a * x[0] * x[0]; }, {2.0});
  BOOST_TEST(inner.value == 12.0);
  BOOST_TEST(inner.gradient[0] == 12.0);
  const Var y = a * a;
  tape.backward(y);
  BOOST_TEST(tape.adjoint(a) == 6.0);
}

BOOST_AUTO_TEST_CASE(constant_functions_have_zero_gradient) {
  const auto r = nabla::value_and_gradient([](const auto&) { return Var(4.0); }, {1.0, 2.0});
  BOOST_TEST(r.value == 4.0);
  BOOST_TEST((r.gradient == std::vector<double>{0.0, 0.0}));
}

BOOST_AUTO_TEST_CASE(jacobian_of_a_vector_function) {
  const auto f = [](const auto& x) {
    return std::vector<Var>{x[0] * x[1], sin(x[0]) + x[2], exp(x[2]), Var(7.0)};
  };
  const std::vector<double> x = {1.0, 2.0, 0.5};
  const nabla::Jacobian J = nabla::jacobian(f, x);
  BOOST_TEST(J.rows == 4u);
  BOOST_TEST(J.cols == 3u);
  BOOST_TEST(J.values[0] == 2.0);
  const double expected[4][3] = {
      {2.0, 1.0, 0.0}, {std::cos(1.0), 0.0, 1.0}, {0.0, 0.0, std::exp(0.5)}, {0.0, 0.0, 0.0}};
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 3; ++j) BOOST_TEST(J(i, j) == expected[i][j]);
  BOOST_CHECK_THROW(nabla::jacobian(f, x, 3), nabla::Error);
  BOOST_CHECK_THROW(nabla::jacobian([](const auto&) { return std::vector<Var>{}; }, x),
                    nabla::Error);
}

BOOST_AUTO_TEST_CASE(mismatched_sizes_throw) {
  std::vector<double> g(2);
  const std::vector<double> x = {1.0, 2.0, 3.0};
  BOOST_CHECK_THROW(nabla::gradient([](const auto& v) { return v[0]; }, x, g), nabla::Error);
  try {
    nabla::gradient([](const auto& v) { return v[0]; }, x, g);
  } catch (const nabla::Error& e) {
    BOOST_TEST(std::string(e.what()) ==
               "nabla::gradient: the gradient buffer has the wrong size (got 2 entries for 3 "
               "inputs, expected 3)");
  }
}

BOOST_AUTO_TEST_CASE(exceptions_from_f_leave_the_tape_clean) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const auto before = tape.position();
  BOOST_CHECK_THROW(nabla::value_and_gradient(
                        [](const auto& x) -> Var {
                          (void)(x[0] * x[0]);
                          throw std::runtime_error("user error");
                        },
                        {1.0}),
                    std::runtime_error);
  BOOST_TEST((tape.position() == before));
}

BOOST_AUTO_TEST_CASE(vars_escaping_a_helper_are_detected) {
  Var escaped;
  (void)nabla::value_and_gradient(
      [&](const auto& x) {
        escaped = x[0] * 2.0;
        return escaped;
      },
      {1.0});
  BOOST_CHECK_THROW((void)Var(escaped + 1.0), nabla::Error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gradient_helpers)

// d/dx of f_k(x) = x · f_{k-1}(x) with f_0(x) = x, each level computing the inner gradient with a
// nested helper: exercises the per-level input buffers past their first few levels.
double nested(int depth, double x) {
  if (depth == 0) return 1.0;  // d/dx x
  const auto r = nabla::value_and_gradient(
      [&](const auto& v) { return v[0] * nested(depth - 1, v[0].value()); }, {x});
  return r.gradient[0];
}

BOOST_AUTO_TEST_CASE(deeply_nested_helpers) {
  // Treating the inner derivative as a constant, each level returns that constant: 1.
  BOOST_TEST(nested(12, 0.5) == 1.0);
  // And the tape is back where it started.
  BOOST_TEST(nabla::Tape::active().statistics().statements == 0u);
}

BOOST_AUTO_TEST_CASE(helpers_stay_right_after_user_sweeps_dirty_the_adjoints) {
  // Note [Clean adjoints]: a backward() inside f leaves adjoints behind; the helper must
  // still see zero adjoints for its own sweep.
  const auto f = [](const auto& v) {
    const Var inner = v[0] * v[0];
    nabla::backward(inner);  // dirties adjoints of the helper's own statements
    (void)nabla::adjoint(v[0]);
    return Var(inner * v[1]);
  };
  for (int i = 0; i < 3; ++i) {
    const auto r = nabla::value_and_gradient(f, {3.0, 2.0});
    BOOST_TEST(r.gradient[0] == 12.0);
    BOOST_TEST(r.gradient[1] == 9.0);
  }
  // And a plain helper call after them.
  const auto r = nabla::value_and_gradient([](const auto& v) { return v[0] * v[1]; }, {3.0, 2.0});
  BOOST_TEST(r.gradient[0] == 2.0);
  BOOST_TEST(r.gradient[1] == 3.0);
}

BOOST_AUTO_TEST_CASE(jacobian_sweeps_are_independent) {
  for (int i = 0; i < 3; ++i) {
    const auto J = nabla::jacobian(
        [](const auto& x) {
          return std::vector<Var>{x[0] * x[1], x[0] + x[1], x[0] * x[0]};
        },
        {2.0, 5.0});
    BOOST_TEST(J(0, 0) == 5.0);
    BOOST_TEST(J(1, 0) == 1.0);
    BOOST_TEST(J(2, 0) == 4.0);
    BOOST_TEST(J(2, 1) == 0.0);
  }
}

BOOST_AUTO_TEST_SUITE_END()
