// The expression graph: shapes of known functions, DOT round trip, dead and unused work,
// NaN/Inf origin forward and reverse, throw-on-non-finite, per-rule derivative checks (a wrong
// custom rule caught, built-in rules silent over the random expressions), gradient flow.
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/graph.hpp>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <boost/graph/graphviz.hpp>
#pragma GCC diagnostic pop
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <map>
#include <random>
#include <sstream>

#include "random_expression.hpp"

using nabla::Var;
namespace graph = nabla::graph;

namespace {
// The vertex of statement s.
const graph::Vertex& at(const graph::Graph& g, std::uint32_t s) {
  for (auto v : boost::make_iterator_range(boost::vertices(g)))
    if (g[v].statement == s) return g[v];
  throw std::runtime_error("no such statement");
}
// The partial on the edge from statement a to statement b.
double partial(const graph::Graph& g, std::uint32_t a, std::uint32_t b) {
  for (auto e : boost::make_iterator_range(boost::edges(g)))
    if (g[boost::source(e, g)].statement == a && g[boost::target(e, g)].statement == b)
      return g[e].partial;
  throw std::runtime_error("no such edge");
}
}  // namespace

BOOST_AUTO_TEST_SUITE(graph_tests)

BOOST_AUTO_TEST_CASE(shape_of_known_functions) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  tape.set_diagnostics({.enabled = true});
  const Var x = nabla::label(nabla::variable(2.0), "x");
  const Var y = nabla::variable(3.0);
  const Var m = x * y;  // one operation per statement: one vertex each
  const Var s = sin(x);
  const Var z = m + s;
  tape.backward(z);
  const graph::Graph g = graph::capture(tape, std::vector<Var>{z});
  BOOST_TEST(boost::num_vertices(g) == 5u);
  BOOST_TEST(boost::num_edges(g) == 5u);
  BOOST_TEST(at(g, x.index()).label == "x");
  BOOST_TEST(at(g, x.index()).input);
  BOOST_TEST(at(g, z.index()).output);
  BOOST_TEST(at(g, z.index()).op == "add");
  BOOST_TEST(at(g, z.index()).value == 6 + std::sin(2.0));
  BOOST_TEST(at(g, x.index()).adjoint == 3 + std::cos(2.0));
  BOOST_TEST(partial(g, x.index(), x.index() + 2) == 3.0);  // ∂(x·y)/∂x = y
  BOOST_TEST(at(g, x.index() + 2).op == "mul");
  BOOST_TEST(at(g, x.index() + 3).op == "sin");

  // Written as one expression, it is one fused statement with three operand uses.
  nabla::Tape fast;
  nabla::Tape::Scope inner(fast);
  const Var a = nabla::variable(2.0), b = nabla::variable(3.0);
  const Var c = a * b + sin(a);
  const graph::Graph f = graph::capture(fast);
  BOOST_TEST(boost::num_vertices(f) == 3u);
  BOOST_TEST(boost::num_edges(f) == 3u);
  BOOST_TEST(at(f, c.index()).fused);
  BOOST_TEST(std::isnan(at(f, c.index()).value));  // values need diagnostics
  BOOST_TEST(at(f, c.index()).output);             // the last statement by default
}

BOOST_AUTO_TEST_CASE(constants_and_tensors) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  tape.set_diagnostics({.enabled = true});
  const Var x = nabla::variable(1.5);
  // A custom operation with a constant operand: with diagnostics the constant is a vertex.
  const Var y = nabla::custom([](std::span<const double> v) { return v[0] * v[1]; }, {x, Var(4.0)},
                              {4.0, 1.5});
  const graph::Graph g = graph::capture(tape, std::vector<Var>{y});
  BOOST_TEST(boost::num_vertices(g) == 3u);
  bool constant_seen = false;
  for (auto v : boost::make_iterator_range(boost::vertices(g)))
    if (g[v].constant && g[v].value == 4.0) constant_seen = true;
  BOOST_TEST(constant_seen);

  const nabla::TensorVar w = nabla::label(nabla::variable(nabla::Tensor({2, 3}, 0.5)), "W");
  const nabla::TensorVar in = nabla::constant(nabla::Tensor({4, 2}, 1.0));
  const nabla::TensorVar loss = nabla::sum(nabla::relu(nabla::matmul(in, w)));
  nabla::backward(loss);
  const graph::Graph t = graph::capture(tape, loss);
  const auto& mm = at(t, loss.index() - 2);
  BOOST_TEST(mm.op == "matmul");
  BOOST_TEST(mm.tensor);
  BOOST_TEST(mm.shape == "[4, 3]");
  BOOST_TEST(at(t, w.index()).label == "W");
  BOOST_TEST(at(t, w.index()).input);
  BOOST_TEST(at(t, in.index()).constant);
  BOOST_TEST(at(t, loss.index()).output);
  BOOST_TEST(at(t, w.index()).adjoint == std::sqrt(6 * 16.0));  // every ∂/∂W = 4
}

BOOST_AUTO_TEST_CASE(dot_round_trip) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  tape.set_diagnostics({.enabled = true});
  const Var x = nabla::label(nabla::variable(0.5), "x");
  Var y = x;
  for (int i = 0; i < 5; ++i) y = exp(sin(y));  // one fused statement each
  const Var z = nabla::label(y * x, "z");
  tape.backward(z);
  const graph::Graph g = graph::capture(tape, std::vector<Var>{z});
  for (std::size_t collapse : {0u, 3u}) {
    std::ostringstream dot;
    graph::write_dot(g, dot, {.collapse = collapse});
    const graph::DotGraph written = graph::to_dot(g, {.collapse = collapse});
    graph::DotGraph read;
    boost::dynamic_properties dp = graph::dot_properties(read);
    std::istringstream in(dot.str());
    BOOST_TEST(boost::read_graphviz(in, read, dp, "node_id"));
    BOOST_TEST(boost::num_vertices(read) == boost::num_vertices(written));
    BOOST_TEST(boost::num_edges(read) == boost::num_edges(written));
    // read_graphviz orders vertices by id: compare through the ids.
    std::map<std::string, std::size_t> by_id;
    for (std::size_t v = 0; v < boost::num_vertices(read); ++v) by_id[read[v].id] = v;
    for (std::size_t v = 0; v < boost::num_vertices(written); ++v) {
      BOOST_TEST_REQUIRE(by_id.count(written[v].id) == 1u);
      const auto& back = read[by_id[written[v].id]];
      BOOST_TEST(back.label == written[v].label);
      BOOST_TEST(back.fillcolor == written[v].fillcolor);
      BOOST_TEST(back.shape == written[v].shape);
    }
    std::size_t labelled_edges = 0;
    for (auto e : boost::make_iterator_range(boost::edges(read)))
      labelled_edges += !read[e].label.empty();
    BOOST_TEST(labelled_edges == (collapse == 0 ? 7u : 2u));  // collapsed: chain → z, x → z
    if (collapse == 0) {
      BOOST_TEST(boost::num_vertices(read) == 7u);  // x, 5 fused statements, z
      BOOST_TEST(dot.str().find("exp (fused)") != std::string::npos);
      BOOST_TEST(dot.str().find("z\\nmul") != std::string::npos);
    } else {
      BOOST_TEST(boost::num_vertices(read) == 3u);  // x, the chain, z
      BOOST_TEST(dot.str().find("(5 operations)") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(unused_inputs_dead_work_and_depth) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Var a = nabla::variable(1.0), b = nabla::variable(2.0), c = nabla::variable(3.0);
  const Var unused = nabla::variable(4.0);
  const Var dead = c * 2.0;  // recorded, never reaches the output
  Var y = a * b;
  for (int i = 0; i < 4; ++i) y = sin(y);
  const graph::Graph g = graph::capture(tape, std::vector<Var>{y});
  const graph::Analysis r = graph::analyze(g);
  BOOST_TEST(r.acyclic);
  BOOST_TEST(r.recorded_in_order);
  BOOST_TEST(r.unused_inputs == std::vector<std::uint32_t>({c.index(), unused.index()}));
  BOOST_TEST(r.dead == std::vector<std::uint32_t>({dead.index()}));
  BOOST_TEST(r.depth == 5u);  // a·b, then four sines
  BOOST_TEST(r.max_fan_in == 2u);
  BOOST_TEST(graph::to_string(r).find("2 unused input(s)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(nan_origin_forward) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  tape.set_diagnostics({.enabled = true});
  const Var a = nabla::label(nabla::variable(-1.0), "a");
  const Var b = nabla::variable(2.0);
  const Var c = b * b;
  const Var d = nabla::label(log(a), "bad log");  // NaN created here
  const Var e = d + c;                            // and passed on here
  const Var f = exp(e) * 2.0;
  (void)f;
  const graph::NonFinite r = graph::first_non_finite(tape);
  BOOST_TEST(r.found);
  BOOST_TEST(r.statement == d.index());
  BOOST_TEST(r.op == "log");
  BOOST_TEST(r.label == "bad log");
  BOOST_TEST(!r.in_partial);
  BOOST_TEST(r.operand_values == std::vector<double>({-1.0}));
  BOOST_TEST(r.message.find("'a' = -1") != std::string::npos, r.message);
  BOOST_TEST(graph::capture(tape)[d.index() - 1].non_finite);

  // A partial is non-finite while the value is finite: sqrt at 0.
  nabla::Tape other;
  nabla::Tape::Scope inner(other);
  other.set_diagnostics({.enabled = true});
  const Var x = nabla::variable(0.0);
  const Var s = sqrt(x);
  const Var t = s + 1.0;
  (void)t;
  const graph::NonFinite p = graph::first_non_finite(other);
  BOOST_TEST(p.found);
  BOOST_TEST(p.op == "sqrt");
  BOOST_TEST(p.in_partial);
  BOOST_TEST(p.value == 0.0);
  BOOST_TEST(std::isinf(p.partials.at(0)));
}

BOOST_AUTO_TEST_CASE(nan_origin_reverse_and_tensors) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  tape.set_diagnostics({.enabled = true});
  const Var x = nabla::variable(1.25);
  const Var zero = x - x;                          // 0, exactly
  const Var r = nabla::label(sqrt(zero), "root");  // finite value, infinite partial
  const Var y = r * 3.0 + x;
  const graph::NonFinite back = graph::first_non_finite_adjoint(tape, y);
  BOOST_TEST(back.found);
  BOOST_TEST(back.statement == r.index());
  BOOST_TEST(back.op == "sqrt");
  BOOST_TEST(back.label == "root");
  BOOST_TEST(back.message.find("reverse sweep") != std::string::npos);
  BOOST_TEST(!graph::first_non_finite_adjoint(tape, x * 2.0).found);

  // Tensors: log of a tensor with a negative entry, then a sum that passes the NaN on.
  nabla::Tape t;
  nabla::Tape::Scope inner(t);
  const nabla::TensorVar w = nabla::variable(nabla::Tensor({3}, {1.0, -2.0, 3.0}));
  const nabla::TensorVar l = nabla::log(w * 2.0);
  const nabla::TensorVar s = nabla::sum(l);
  const graph::NonFinite tn = graph::first_non_finite(t);
  BOOST_TEST(tn.found);
  BOOST_TEST(tn.statement == l.index());
  BOOST_TEST(tn.op == "log");
  BOOST_TEST(!tn.scalars_checked);
  BOOST_TEST(tn.message.find("1 non-finite element") != std::string::npos, tn.message);
  // Reverse through tensors: sqrt at 0 inside a tensor.
  const nabla::TensorVar q =
      nabla::sum(nabla::sqrt(nabla::variable(nabla::Tensor({2}, {0.0, 4.0}))));
  const graph::NonFinite tb = graph::first_non_finite_adjoint(t, q);
  BOOST_TEST(tb.found);
  BOOST_TEST(tb.op == "sqrt");
  (void)s;
}

BOOST_AUTO_TEST_CASE(throw_on_non_finite) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  BOOST_CHECK_THROW(tape.set_diagnostics({.throw_on_non_finite = true}), nabla::Error);
  tape.set_diagnostics({.enabled = true, .throw_on_non_finite = true});
  const Var a = nabla::label(nabla::variable(-3.0), "a");
  const Var ok = a * a;
  const std::uint32_t before = tape.position().statement;
  try {
    const Var bad = log(a);
    (void)bad;
    BOOST_ERROR("no exception");
  } catch (const nabla::Error& e) {
    const std::string m = e.what();
    BOOST_TEST(m.find("log") != std::string::npos, m);
    BOOST_TEST(m.find("'a' = -3") != std::string::npos, m);
  }
  BOOST_TEST(tape.position().statement == before);  // the failing statement was not kept
  BOOST_TEST(Var(ok * 2.0).value() == 18.0);
  tape.set_diagnostics({});
  BOOST_TEST(std::isnan(Var(log(a)).value()));  // diagnostics off: no check
}

BOOST_AUTO_TEST_CASE(check_partials_finds_a_wrong_rule) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  BOOST_CHECK_THROW((void)graph::check_partials(tape), nabla::Error);
  tape.set_diagnostics({.enabled = true});
  const Var x = nabla::variable(0.7), y = nabla::variable(1.3);
  const auto f = [](std::span<const double> v) { return v[0] * std::sin(v[1]); };
  // Right: ∂x = sin y, ∂y = x cos y. Wrong: ∂y = x sin y.
  const Var good = nabla::custom(f, {x, y}, {std::sin(1.3), 0.7 * std::cos(1.3)});
  const Var bad =
      nabla::label(nabla::custom(f, {x, y}, {std::sin(1.3), 0.7 * std::sin(1.3)}), "my rule");
  const Var p = good * bad;
  const Var q = exp(x);
  const Var d = q / y;
  const Var z = p + d;
  const Var fused = z * z + sin(z);  // a fused expression: no evaluation, skipped
  (void)fused;
  const graph::PartialsReport r = graph::check_partials(tape);
  BOOST_TEST(r.mismatches.size() == 1u, graph::to_string(r));
  BOOST_TEST(r.mismatches.at(0).statement == bad.index());
  BOOST_TEST(r.mismatches.at(0).operand == y.index());
  BOOST_TEST(r.mismatches.at(0).label == "my rule");
  BOOST_TEST(r.mismatches.at(0).numeric == 0.7 * std::cos(1.3), boost::test_tools::tolerance(1e-8));
  BOOST_TEST(r.checked == 6u);  // good, bad, mul, exp, div, add
  BOOST_TEST(r.skipped == 1u);  // the fused statement
  BOOST_TEST(graph::to_string(r).find("my rule") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(check_partials_silent_on_builtin_rules) {
  // Every built-in operation as its own statement at random points: all checked, none wrong.
  using U = Var (*)(const Var&);
  const std::vector<std::pair<const char*, U>> unary = {
      {"neg", [](const Var& x) -> Var { return -x; }},
      {"exp", [](const Var& x) -> Var { return exp(x); }},
      {"exp2", [](const Var& x) -> Var { return exp2(x); }},
      {"expm1", [](const Var& x) -> Var { return expm1(x); }},
      {"log", [](const Var& x) -> Var { return log(x); }},
      {"log2", [](const Var& x) -> Var { return log2(x); }},
      {"log10", [](const Var& x) -> Var { return log10(x); }},
      {"log1p", [](const Var& x) -> Var { return log1p(x); }},
      {"sqrt", [](const Var& x) -> Var { return sqrt(x); }},
      {"cbrt", [](const Var& x) -> Var { return cbrt(x); }},
      {"sin", [](const Var& x) -> Var { return sin(x); }},
      {"cos", [](const Var& x) -> Var { return cos(x); }},
      {"tan", [](const Var& x) -> Var { return tan(x); }},
      {"asin", [](const Var& x) -> Var { return asin(x * 0.3); }},
      {"atan", [](const Var& x) -> Var { return atan(x); }},
      {"sinh", [](const Var& x) -> Var { return sinh(x); }},
      {"cosh", [](const Var& x) -> Var { return cosh(x); }},
      {"tanh", [](const Var& x) -> Var { return tanh(x); }},
      {"asinh", [](const Var& x) -> Var { return asinh(x); }},
      {"erf", [](const Var& x) -> Var { return erf(x); }},
      {"erfc", [](const Var& x) -> Var { return erfc(x); }},
      {"tgamma", [](const Var& x) -> Var { return tgamma(x); }},
      {"lgamma", [](const Var& x) -> Var { return lgamma(x); }},
      {"abs", [](const Var& x) -> Var { return abs(x); }},
      {"sigmoid", [](const Var& x) -> Var { return nabla::sigmoid(x); }},
      {"softplus", [](const Var& x) -> Var { return nabla::softplus(x); }}};
  using B = Var (*)(const Var&, const Var&);
  const std::vector<std::pair<const char*, B>> binary = {
      {"add", [](const Var& x, const Var& y) -> Var { return x + y; }},
      {"sub", [](const Var& x, const Var& y) -> Var { return x - y; }},
      {"mul", [](const Var& x, const Var& y) -> Var { return x * y; }},
      {"div", [](const Var& x, const Var& y) -> Var { return x / y; }},
      {"pow", [](const Var& x, const Var& y) -> Var { return pow(x, y); }},
      {"hypot", [](const Var& x, const Var& y) -> Var { return hypot(x, y); }},
      {"atan2", [](const Var& x, const Var& y) -> Var { return atan2(x, y); }},
      {"fmin", [](const Var& x, const Var& y) -> Var { return nabla::fmin(x, y); }},
      {"fmax", [](const Var& x, const Var& y) -> Var { return nabla::fmax(x, y); }}};
  std::mt19937_64 rng(20261127);
  std::uniform_real_distribution<double> point(0.2, 2.5);  // positive: every domain fits
  for (int trial = 0; trial < 10; ++trial) {
    nabla::Tape tape;
    nabla::Tape::Scope scope(tape);
    tape.set_diagnostics({.enabled = true});
    const Var x = nabla::variable(point(rng)), y = nabla::variable(point(rng));
    std::size_t single = 0;
    for (const auto& [name, f] : unary) {
      const Var r = nabla::label(f(x), name);
      single += !nabla::detail::TapeInspect::fused(tape, r.index());
    }
    for (const auto& [name, f] : binary) (void)nabla::label(f(x, y), name);
    (void)nabla::fma(x, y, x * y);
    (void)nabla::log_sum_exp({x, y});
    const std::vector<Var> factors = {x, y, x};
    (void)nabla::prod(factors);
    const graph::PartialsReport r = graph::check_partials(tape);
    BOOST_TEST(r.ok(), "trial " << trial << ": " << graph::to_string(r));
    // Each operation is checked, except asin(0.3·x) (fused) and the x·y inside fma's operand;
    // so are fma, log_sum_exp and prod (x twice among its factors).
    BOOST_TEST(r.checked == single + binary.size() + 1 + 1 + 1 + 1, graph::to_string(r));
  }
  // A product of 0 with a constant factor dropped from its operands: the recorded operands
  // reproduce the value 0 whatever the constant, so it is skipped, not flagged.
  {
    nabla::Tape tape;
    nabla::Tape::Scope scope(tape);
    tape.set_diagnostics({.enabled = true});
    const std::vector<Var> factors = {nabla::variable(0.0), Var(2.0), nabla::variable(3.0)};
    (void)nabla::prod(factors);
    const graph::PartialsReport r = graph::check_partials(tape);
    BOOST_TEST(r.ok(), graph::to_string(r));
    BOOST_TEST(r.checked == 0u);
    BOOST_TEST(r.skipped == 1u);
  }
  // The random expressions: nothing flagged (their fused statements are skipped).
  std::uniform_real_distribution<double> anywhere(-2.0, 2.0);
  std::size_t checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const random_expr::Expression e = random_expr::random_expression(rng);
    nabla::Tape tape;
    nabla::Tape::Scope scope(tape);
    tape.set_diagnostics({.enabled = true});
    std::vector<Var> x;
    for (int i = 0; i < e.inputs; ++i) x.push_back(nabla::variable(anywhere(rng)));
    (void)e(std::span<const Var>(x));
    const graph::PartialsReport r = graph::check_partials(tape);
    BOOST_TEST(r.ok(), "trial " << trial << ": " << graph::to_string(r));
    checked += r.checked;
  }
  BOOST_TEST(checked > 100u);
}

BOOST_AUTO_TEST_CASE(gradient_flow_flags) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Var w1 = nabla::label(nabla::variable(0.3), "layer1/w");
  const Var w2 = nabla::label(nabla::variable(0.2), "layer2/w");
  const Var h1 = nabla::label(tanh(w1) * 1e-9, "layer1/h");  // squashed: tiny downstream
  const Var h2 = nabla::label(h1 * 1e9 * w2 + w2, "layer2/h");
  const Var y = h2 * h2;
  tape.backward(y);
  const graph::FlowReport r = graph::gradient_flow(graph::capture(tape, std::vector<Var>{y}));
  BOOST_TEST(r.rows.size() == 2u);
  BOOST_TEST(r.rows[0].group == "layer1");
  BOOST_TEST(r.rows[0].parameter_norm == std::abs(tape.adjoint(w1)));
  BOOST_TEST(!r.rows[0].vanishing);
  const graph::FlowReport strict = graph::gradient_flow(graph::capture(tape, std::vector<Var>{y}),
                                                        {.vanishing = 1e-2, .exploding = 1e6});
  BOOST_TEST(!strict.rows[1].vanishing);
  BOOST_TEST(graph::to_string(r).find("layer2") != std::string::npos);
  // A group far below the output is flagged.
  nabla::Tape t2;
  nabla::Tape::Scope inner(t2);
  const Var deep = nabla::label(nabla::variable(1.0), "deep/x");
  Var v = deep;
  for (int i = 0; i < 12; ++i) v = nabla::sigmoid(v * 0.1) * 0.1;
  const Var out = nabla::label(v * 1.0, "top/y");
  t2.backward(out);
  const graph::FlowReport f = graph::gradient_flow(graph::capture(t2, std::vector<Var>{out}));
  BOOST_TEST(f.rows[0].group == "deep");
  BOOST_TEST(f.rows[0].vanishing);
  BOOST_TEST(!f.rows[1].vanishing);
}

BOOST_AUTO_TEST_SUITE_END()
