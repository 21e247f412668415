// The tape: positions, nested reverse/rewind, statistics, reuse without reallocation, errors.
#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ad_check.hpp"
#include "random_expression.hpp"

using nabla::Position;
using nabla::Tape;
using nabla::Var;

namespace {
// True when calling f throws nabla::Error whose message contains `part`.
template <class F>
bool throws_with(F&& f, const std::string& part) {
  try {
    f();
  } catch (const nabla::Error& e) {
    const std::string what = e.what();
    BOOST_TEST_MESSAGE("nabla::Error: " << what);
    return what.find(part) != std::string::npos;
  }
  return false;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(tape)

BOOST_AUTO_TEST_CASE(var_is_a_small_value_handle) {
  static_assert(sizeof(Var) == 16);
  static_assert(std::is_trivially_copyable_v<Var>);
  const Var c = 2.5;
  BOOST_TEST(c.is_constant());
  BOOST_TEST(c.index() == 0u);
  BOOST_TEST(nabla::value(c) == 2.5);
}

BOOST_AUTO_TEST_CASE(records_statements_and_partials) {
  Tape tape;
  Tape::Scope scope(tape);
  const Var x = tape.variable(2.0);
  const Var y = nabla::variable(3.0);
  const Var xy = x * y;
  const Var sx = sin(x);
  const Var z = xy + sx;
  BOOST_TEST(x.index() == 1u);
  BOOST_TEST(y.index() == 2u);
  const auto s = tape.statistics();
  BOOST_TEST(s.statements == 5u);  // x, y, x*y, sin x, +
  BOOST_TEST(s.operands == 5u);
  BOOST_TEST(s.bytes_used == 6 * 5 + 5 * 12u);  // 5 bytes per statement (+ slot 0), 12 per operand
  BOOST_TEST(nabla::op_name(nabla::detail::TapeInspect::op(tape, 3)) == "mul");
  BOOST_TEST(nabla::op_name(nabla::detail::TapeInspect::op(tape, z.index())) == "add");
  BOOST_TEST(nabla::detail::TapeInspect::operands(tape, 3)[0] == 1u);
  BOOST_TEST(nabla::detail::TapeInspect::partials(tape, 3)[0] == 3.0);
  BOOST_TEST(nabla::detail::TapeInspect::partials(tape, 4)[0] == std::cos(2.0));
  nabla::backward(z);
  BOOST_TEST(nabla::adjoint(x) == 3.0 + std::cos(2.0));
  BOOST_TEST(tape.adjoint_value(xy) == 1.0);  // read-only access, also to intermediates
  BOOST_TEST(tape.adjoint_value(Var(4.0)) == 0.0);
  BOOST_TEST(nabla::adjoint(y) == 2.0);
}

BOOST_AUTO_TEST_CASE(binary_statement_costs_at_most_32_bytes) {
  Tape tape;
  Tape::Scope scope(tape);
  const Var x = tape.variable(1.0), y = tape.variable(2.0);
  const auto before = tape.statistics().bytes_used;
  (void)(x * y);
  BOOST_TEST(tape.statistics().bytes_used - before <= 32u);
}

BOOST_AUTO_TEST_CASE(scope_restores_previous_tape) {
  Tape outer, inner;
  Tape::Scope a(outer);
  BOOST_TEST(&Tape::active() == &outer);
  {
    Tape::Scope b(inner);
    BOOST_TEST(&Tape::active() == &inner);
  }
  BOOST_TEST(&Tape::active() == &outer);
}

BOOST_AUTO_TEST_CASE(nested_reverse_and_rewind) {
  Tape tape;
  Tape::Scope scope(tape);
  const Var x = tape.variable(1.5);
  const Position p = tape.position();
  // Record, sweep and rewind many times from the same position: results stay right and the
  // tape's memory is reused without reallocation once warm.
  std::size_t warm_allocations = 0;
  for (int iteration = 0; iteration < 50; ++iteration) {
    Var y = x;
    for (int k = 0; k < 200; ++k) y = y * 1.001 + sin(y) * 0.001;
    tape.zero_adjoints();
    tape.adjoint(y) = 1.0;
    tape.reverse(p);  // only the statements after p
    const double g = tape.adjoint(x);
    // Reference by a fresh tape.
    const auto r = nabla::value_and_gradient(
        [](const auto& v) {
          Var t = v[0];
          for (int k = 0; k < 200; ++k) t = t * 1.001 + sin(t) * 0.001;
          return t;
        },
        {1.5});
    BOOST_TEST(g == r.gradient[0], boost::test_tools::tolerance(1e-14));
    tape.rewind(p);
    BOOST_TEST((tape.position() == p));
    if (iteration == 1) warm_allocations = tape.statistics().allocations;
  }
  BOOST_TEST(tape.statistics().allocations == warm_allocations);
  BOOST_TEST(tape.statistics().statements == 1u);
}

BOOST_AUTO_TEST_CASE(clear_keeps_memory_release_frees_it) {
  Tape tape;
  Tape::Scope scope(tape);
  Var y = tape.variable(1.0);
  for (int i = 0; i < 10000; ++i) y = y * 1.0001;
  const auto reserved = tape.statistics().bytes_reserved;
  tape.clear();
  BOOST_TEST(tape.statistics().statements == 0u);
  BOOST_TEST(tape.statistics().bytes_reserved == reserved);
  const auto allocations = tape.statistics().allocations;
  Var z = tape.variable(1.0);
  for (int i = 0; i < 10000; ++i) z = z * 1.0001;
  BOOST_TEST(tape.statistics().allocations == allocations);
  tape.release();
  BOOST_TEST(tape.statistics().bytes_reserved < reserved / 10);
}

BOOST_AUTO_TEST_CASE(reserve_avoids_growth) {
  Tape tape;
  Tape::Scope scope(tape);
  tape.reserve(2000, 3000);
  const auto allocations = tape.statistics().allocations;
  Var y = tape.variable(2.0);
  for (int i = 0; i < 900; ++i) y = y * y * 0.5;
  BOOST_TEST(tape.statistics().allocations == allocations);
}

BOOST_AUTO_TEST_CASE(one_room_check_fills_a_reserve_exactly_and_never_overruns) {
  // Note [One room check]: recording tests one limit. A reserve filled exactly allocates
  // nothing, whichever array is the tighter; past it both grow as needed, also for statements
  // with more operands than statement room was left, and after inputs (no operands) recorded
  // in between. (Overruns would be caught by the sanitizer build and the assertions.)
  for (const int spare : {0, 1, 2}) {  // none; operands to spare; statements to spare
    Tape tape;
    Tape::Scope scope(tape);
    constexpr std::size_t m = 501;
    tape.reserve(3 + m + (spare == 2 ? 1000 : 0), 2 * m + (spare == 1 ? 1000 : 0));
    const auto allocations = tape.statistics().allocations;
    std::vector<Var> x(3);
    tape.variables(std::vector<double>{1.5, -1.0, 1.0}, x);
    Var y = x[0];
    for (std::size_t i = 0; i < m; ++i) y = y * x[1 + i % 2];  // two operands each
    BOOST_TEST(tape.statistics().statements == 3 + m);
    BOOST_TEST(tape.statistics().allocations == allocations);
    // Past the reserve: one input, then statements of 1, 2 and 5 operands.
    const Var z = tape.variable(2.0);
    for (int i = 0; i < 300; ++i) {
      y = y * 1.0;
      y = y * z * 0.5;
      y = y + (x[0] * x[1] - x[2] * z) * 0.0 + sin(x[0]) * 0.0;
    }
    BOOST_TEST(tape.statistics().allocations > allocations);
    tape.backward(y);
    // y = x₀ · x₁^251 · x₂^250 (and 300 factors z·0.5 = 1 at z = 2): −1.5 at the point.
    BOOST_TEST(y.value() == -1.5);
    BOOST_TEST(tape.adjoint(x[0]) == -1.0);
    BOOST_TEST(tape.adjoint(x[1]) == 251 * 1.5);
    BOOST_TEST(tape.adjoint(x[2]) == 250 * -1.5);
    BOOST_TEST(tape.adjoint(z) == 300 * -1.5 / 2.0);
  }
}

BOOST_AUTO_TEST_CASE(growth_through_the_mapped_sizes_keeps_the_recording) {
  // Note [Tape memory]: the arrays start in malloc, move to their own mapping past 1 MiB and
  // grow there by mremap (huge pages past 4 MiB). A recording grown across all three, released,
  // and grown again — from a reserve() hint too — keeps every statement: the gradient of
  // Σ (xᵢ − i)·xᵢ₊₁ + xᵢ² (3 statements per term) is checked entry by entry.
  const auto run = [](Tape& tape, std::size_t n) {
    std::vector<Var> x(n);
    std::vector<double> values(n);
    for (std::size_t i = 0; i < n; ++i) values[i] = 0.25 * static_cast<double>(i % 7) - 0.5;
    tape.variables(values, x);
    Var f = 0.0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const Var shifted = x[i] - static_cast<double>(i % 3);
      const Var term = shifted * x[i + 1];
      f = f + term + x[i] * x[i];
    }
    tape.backward(f);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double exact = 0.0;
      if (i + 1 < n) exact += values[i + 1] + 2.0 * values[i];
      if (i > 0) exact += values[i - 1] - static_cast<double>((i - 1) % 3);
      if (tape.adjoint(x[i]) != exact) ++wrong;
    }
    return wrong;
  };
  Tape tape;
  Tape::Scope scope(tape);
  const std::size_t n = 400'000;  // 1.6 M statements, 2.4 M operands: 29 MB of partials
  BOOST_TEST(run(tape, n) == 0u);
  const auto grown = tape.statistics();
  BOOST_TEST(grown.statements >= 4 * (n - 1));
  BOOST_TEST(grown.scalar_bytes_reserved >= grown.bytes_used + grown.adjoint_bytes);
  tape.clear();
  BOOST_TEST(run(tape, n) == 0u);
  BOOST_TEST(tape.statistics().allocations == grown.allocations);  // memory kept
  tape.release();
  BOOST_TEST(tape.statistics().scalar_bytes_reserved < 1024u);
  BOOST_TEST(run(tape, 1000) == 0u);  // grows again from nothing
  tape.clear();
  tape.reserve(5 * n, 6 * n);  // one step to the final size: no growth while recording
  const auto reserved = tape.statistics().allocations;
  BOOST_TEST(run(tape, n) == 0u);
  BOOST_TEST(tape.statistics().allocations == reserved + 1);  // the adjoints only
}

BOOST_AUTO_TEST_CASE(one_slow_call_records_everything_the_fast_path_leaves_out) {
  // Note [One slow call]: an expression is recorded inline, or by one out-of-line call when
  // there is no active tape yet, no room, diagnostics are on, a leaf is of an older epoch or
  // stale. Each case here goes that way and must record what the fast path would have.
  using nabla::detail::TapeInspect;
  // No active tape yet (a fresh thread): constants stay constants, then the default tape.
  std::thread([] {
    const Var c = 3.0;
    const Var cc = c * c + 1.0;
    BOOST_TEST(cc.is_constant());
    BOOST_TEST(cc.value() == 10.0);
    const Var x = nabla::variable(2.0);
    const Var y = sin(x) * x;  // two nodes: one fused statement
    nabla::backward(y);
    BOOST_TEST(nabla::adjoint(x) == std::cos(2.0) * 2.0 + std::sin(2.0));
  }).join();

  Tape tape;
  Tape::Scope scope(tape);
  const Var x = tape.variable(1.5);
  const Position p = tape.position();
  const Var t = x * 2.0;
  tape.rewind(p);  // a new epoch from p: x is of the older one, `later` of the current one
  const Var later = tape.variable(-0.5);
  const Var mixed = later * x + sin(later) * 4.0;  // an older-epoch leaf: the slow path
  const std::uint32_t s = mixed.index();
  BOOST_TEST(TapeInspect::fused(tape, s));
  // The fast path's operands: one per leaf (later, x, later), each with its partial.
  BOOST_TEST(TapeInspect::operands(tape, s).size() == 3u);
  BOOST_TEST(TapeInspect::operands(tape, s)[1] == x.index());
  BOOST_TEST(TapeInspect::partials(tape, s)[0] == x.value());
  BOOST_TEST(TapeInspect::partials(tape, s)[2] == 4 * std::cos(later.value()));
  const Var fast = mixed * later;  // both of the current epoch: the fast path again
  BOOST_TEST(fast.index() == s + 1);
  BOOST_TEST(nabla::op_name(TapeInspect::op(tape, fast.index())) == "mul");
  BOOST_TEST(!TapeInspect::fused(tape, fast.index()));

  // A stale leaf among good ones: an error, and nothing recorded.
  const auto before = tape.statistics();
  BOOST_TEST(throws_with([&] { (void)Var(later * x + t * later); }, "rewound away"));
  BOOST_TEST(tape.statistics().statements == before.statements);
  BOOST_TEST(tape.statistics().operands == before.operands);

  // Diagnostics on: the values are kept (no room for the fast path); off: the fast path again.
  tape.set_diagnostics({.enabled = true});
  const Var d = fast * fast + later;
  BOOST_TEST(nabla::detail::TapeDiagnostics::recorded_value(tape, d.index()) == d.value());
  tape.set_diagnostics({});
  const Var e = d * x;
  BOOST_TEST(std::isnan(nabla::detail::TapeDiagnostics::recorded_value(tape, e.index())));
  BOOST_TEST(e.index() == d.index() + 1);

  // Every statement above is in the gradient: e = (f² + l)·x, f = m·l, m = l·x + 4 sin l.
  tape.backward(e);
  const double l = -0.5, xv = 1.5, m = l * xv + 4 * std::sin(l), f = m * l;
  const double de_dd = xv, dd_df = 2 * f, df_dm = l;
  const double dl = de_dd * (dd_df * (m + df_dm * (xv + 4 * std::cos(l))) + 1);
  const double dx = f * f + l + de_dd * dd_df * df_dm * l;
  BOOST_TEST(tape.adjoint(later) == dl, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(tape.adjoint(x) == dx, boost::test_tools::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(leaves_of_the_epoch_below_and_deeper_ones) {
  // Note [The epoch below]: a loop of position(); …; rewind() over variables recorded once reads
  // them inline from the epoch below; leaves two epochs down take the slow path; stale ones
  // from a dropped epoch in between are errors either way.
  using nabla::detail::TapeInspect;
  Tape tape;
  Tape::Scope scope(tape);
  const Var x = tape.variable(0.75);
  const Position p = tape.position();
  Var stale;
  for (int step = 0; step < 4; ++step) {
    const Var y = x * x + sin(x) * static_cast<double>(step);
    BOOST_TEST(TapeInspect::operands(tape, y.index()).size() == 2u);  // x·x is one operand
    BOOST_TEST(TapeInspect::operands(tape, y.index())[0] == x.index());
    tape.backward(y);
    BOOST_TEST(tape.adjoint(x) == 2 * 0.75 + std::cos(0.75) * step,
               boost::test_tools::tolerance(1e-15));
    if (step > 0) BOOST_TEST(throws_with([&] { (void)Var(stale * x); }, "rewound away"));
    stale = y;
    tape.rewind(p);
  }
  // Three live epochs: x's, a's (below the current one), the current one.
  tape.rewind(p);
  const Var a = tape.variable(2.0);
  const Position q = tape.position();
  const Var b = tape.variable(-3.0);
  tape.rewind(q);  // b is gone; a's epoch is now the one below, x's two below
  const Var c = tape.variable(0.5);
  const Var z = x * a + a * c;  // x: the slow path; a: inline from the epoch below
  const auto ops = TapeInspect::operands(tape, z.index());
  BOOST_TEST(ops.size() == 4u);
  BOOST_TEST(ops[0] == x.index());
  BOOST_TEST(ops[1] == a.index());
  BOOST_TEST(ops[3] == c.index());
  BOOST_TEST(throws_with([&] { (void)Var(b * a + c); }, "rewound away"));
  tape.backward(z);
  BOOST_TEST(tape.adjoint(x) == 2.0);
  BOOST_TEST(tape.adjoint(a) == 0.75 + 0.5);
  BOOST_TEST(tape.adjoint(c) == 2.0);
}

BOOST_AUTO_TEST_CASE(rewinding_where_the_current_epoch_began) {
  // Note [The helpers' fixed cost]: a loop rewinding to where its epoch began (what the
  // gradient helpers do) renews that epoch in place when only statements are to be dropped;
  // with a node, a label or diagnostics the general rewind runs. Either way the rewind drops
  // all of it and makes every Var recorded after the position stale.
  using nabla::detail::TapeDiagnostics;
  Tape tape;
  Tape::Scope scope(tape);
  const Var x = tape.variable(2.0);
  const Position p = tape.position();
  std::vector<Var> earlier;
  std::uint32_t labelled = 0;
  for (int step = 0; step < 12; ++step) {
    std::vector<Var> v(20);  // long enough for a sum over them to be a run node
    std::vector<double> values(v.size(), 1.0);
    values[2] = step;
    tape.variables(values, v);
    Var y = x * v[0] + v[2];
    double dx = 1.0;
    if (step % 4 == 1) {  // a run node in the arena
      y = y * nabla::sum(v);
      dx = 19.0 + step;
      BOOST_TEST(tape.statistics().tensor_nodes == 1u);
    }
    if (step % 4 == 2) {  // a label
      y = nabla::label(y * 2.0, "twice");
      labelled = y.index();
      dx = 2.0;
      BOOST_TEST(TapeDiagnostics::label_of(tape, labelled) == "twice");
    }
    if (step % 4 == 3) tape.set_diagnostics({.enabled = true});
    const Var z = y * x;  // dz/dx = y + x·dy/dx
    tape.backward(z);
    BOOST_TEST(tape.adjoint(x) == y.value() + 2.0 * dx);
    for (const Var& old : earlier)
      BOOST_TEST(throws_with([&] { (void)Var(old * x); }, "rewound away"));
    earlier.assign({v[0], y, z});
    BOOST_TEST(throws_with(
        [&] {
          tape.rewind(Position{p.statement, p.operand + 1});
        },
        "not on the tape"));
    tape.rewind(p);
    BOOST_TEST((tape.position() == p));
    const nabla::TapeStatistics s = tape.statistics();
    BOOST_TEST(s.statements == 1u);
    BOOST_TEST(s.tensor_nodes == 0u);
    BOOST_TEST(s.tensor_bytes == 0u);
    BOOST_TEST(s.sweeps_without_rewind == 0u);
    // What the next pass records where the label and the diagnosed values were is new.
    for (int k = 0; k < 24; ++k) (void)tape.variable(k);
    const Var w = x * 3.0;
    if (labelled != 0) BOOST_TEST(TapeDiagnostics::label_of(tape, labelled).empty());
    if (step % 4 == 3) {
      BOOST_TEST(TapeDiagnostics::recorded_value(tape, w.index()) == 6.0);
      BOOST_TEST(TapeDiagnostics::recorded_value(tape, p.statement + 3) == 3.0);  // was y
      tape.set_diagnostics({});
    }
    tape.rewind(p);
  }
  BOOST_TEST(Var(x * x).value() == 4.0);  // recorded before p: still valid
}

BOOST_AUTO_TEST_CASE(dropping_zero_partials) {
  // Note [Dropping zero partials]: operands with a ±0 partial are not recorded, a statement
  // left without operands becomes a constant; gradients are the same but where an infinite or
  // NaN adjoint meets a dropped operand.
  using nabla::detail::TapeDiagnostics;
  using nabla::detail::TapeInspect;
  const double inf = std::numeric_limits<double>::infinity();
  Tape tape;
  Tape::Scope scope(tape);
  tape.set_drop_zero_partials(true);
  BOOST_TEST(tape.drops_zero_partials());
  const Var x = tape.variable(-1.5), z = tape.variable(0.0), w = tape.variable(inf);
  BOOST_TEST(!z.is_constant());  // an input has no operand to drop: it stays a variable
  const Var r = nabla::relu(x);  // relu′ = 0 below 0: no statement
  BOOST_TEST(r.is_constant());
  BOOST_TEST(r.value() == 0.0);
  BOOST_TEST(Var(abs(z)).is_constant());  // abs′(0) = 0
  const Var p = x * z;                    // ∂/∂x = z = 0: only z is an operand
  BOOST_TEST(TapeInspect::operands(tape, p.index()).size() == 1u);
  BOOST_TEST(TapeInspect::operands(tape, p.index())[0] == z.index());
  const Var out = p * w;  // ∂/∂w = p = 0: only p; its adjoint will be ∞
  BOOST_TEST(TapeInspect::operands(tape, out.index()).size() == 1u);
  tape.backward(out);
  BOOST_TEST(tape.adjoint(x) == 0.0);  // dropped: not 0 · ∞ = NaN
  BOOST_TEST(tape.adjoint(z) == -inf);
  BOOST_TEST(tape.adjoint(w) == 0.0);
  // The same without dropping: every operand is there, and 0 · ∞ gives NaN.
  tape.set_drop_zero_partials(false);
  BOOST_TEST(!tape.drops_zero_partials());
  BOOST_TEST(!Var(nabla::relu(x)).is_constant());
  const Var p2 = x * z, out2 = p2 * w;
  BOOST_TEST(TapeInspect::operands(tape, p2.index()).size() == 2u);
  tape.backward(out2);
  BOOST_TEST(std::isnan(tape.adjoint(x)));
  // With diagnostics too, nothing is dropped (the checks see every operand): a zero partial
  // stays, and a non-finite value whose partials are all zero is still caught.
  tape.set_diagnostics({.enabled = true, .throw_on_non_finite = true});
  tape.set_drop_zero_partials(true);
  const Var y = tape.variable(2.0);
  const Var u = z * y;  // ∂/∂y = z = 0: kept while diagnosing
  BOOST_TEST(TapeInspect::operands(tape, u.index()).size() == 2u);
  BOOST_TEST(TapeDiagnostics::recorded_value(tape, u.index()) == 0.0);
  const std::vector<Var> args = {y};
  const std::vector<double> zero = {0.0};
  BOOST_TEST(throws_with(
      [&] {
        (void)tape.record(nabla::Op::custom, std::numeric_limits<double>::quiet_NaN(), args, zero);
      },
      "non-finite"));
  tape.set_diagnostics({});
  BOOST_TEST(tape.drops_zero_partials());  // the two options are apart
  const Var u2 = z * y;                    // now dropped again
  BOOST_TEST(TapeInspect::operands(tape, u2.index()).size() == 1u);
  tape.clear();

  // Gradients on and off agree bit for bit at finite points, through the gradient helpers
  // (on the active tape) and with many zero partials; the tape is smaller with dropping.
  const auto f = [](std::span<const Var> v) {
    Var s = 0.0;
    for (std::size_t i = 0; i + 1 < v.size(); ++i) {
      const Var r = nabla::relu(v[i]);  // with dropping, a constant where v[i] ≤ 0
      s += r * v[i + 1] + nabla::fmax(v[i], v[i + 1]) * v[i];
      s += abs(v[i]) * v[i + 1] * v[i + 1];
    }
    return s;
  };
  std::vector<double> point(40);
  for (std::size_t i = 0; i < point.size(); ++i)
    point[i] = i % 5 == 0 ? 0.0 : std::sin(static_cast<double>(i));
  tape.set_drop_zero_partials(false);
  const auto off = nabla::value_and_gradient(f, point);
  std::vector<Var> vs(point.size());
  tape.variables(point, vs);
  (void)f(vs);
  const auto off_size = tape.statistics();
  tape.clear();
  tape.set_drop_zero_partials(true);
  const auto on = nabla::value_and_gradient(f, point);
  tape.variables(point, vs);
  (void)f(vs);
  const auto on_size = tape.statistics();
  BOOST_TEST(on.value == off.value);
  BOOST_TEST(on.gradient == off.gradient);
  BOOST_TEST(on_size.operands < off_size.operands);
  BOOST_TEST(on_size.statements < off_size.statements);
  tape.clear();

  // Random expressions (some with a zero partial, x − x): the same gradient up to rounding —
  // where statements became constants, others become neighbours, and the sweep sums what a
  // statement pushes into the one just before it in another order (its carry).
  std::mt19937_64 rng(20261201);
  std::uniform_real_distribution<double> anywhere(-2.0, 2.0);
  for (int trial = 0; trial < 200; ++trial) {
    const random_expr::Expression e = random_expr::random_expression(rng);
    std::vector<double> at(static_cast<std::size_t>(e.inputs));
    for (double& a : at) a = anywhere(rng);
    const auto g = [&e](std::span<const Var> v) { return Var(e(v)); };
    tape.set_drop_zero_partials(false);
    const auto fast = nabla::value_and_gradient(g, at);
    tape.set_drop_zero_partials(true);
    const auto dropped = nabla::value_and_gradient(g, at);
    BOOST_TEST(dropped.value == fast.value, "trial " << trial);
    for (std::size_t i = 0; i < at.size(); ++i)
      BOOST_TEST(nabla::test::close(dropped.gradient[i], fast.gradient[i], 1e-13, 1e-300),
                 "trial " << trial << " d/dx" << i << ": " << dropped.gradient[i] << " dropped, "
                          << fast.gradient[i] << " not");
  }
}

BOOST_AUTO_TEST_CASE(stale_and_foreign_vars_throw) {
  Tape tape;
  Tape::Scope scope(tape);
  const Var x = tape.variable(1.0);
  const Position p = tape.position();
  const Var y = x * 2.0;
  const std::uint32_t iy = y.index();
  tape.rewind(p);
  // y's statement was rewound away; a new statement now sits at its index.
  const Var w = x * 3.0;
  BOOST_TEST(w.index() == iy);
  BOOST_TEST(!w.same_variable(y));
  BOOST_TEST(throws_with([&] { (void)y.index(); }, "rewound away"));
  BOOST_TEST(throws_with([&] { (void)Var(y + 1.0); }, "rewound away"));
  BOOST_TEST(throws_with([&] { (void)tape.adjoint(y); }, "rewound away"));
  BOOST_TEST(Var(x + w).value() == 4.0);  // x, recorded before p, is still valid
  // After clear(), even x is gone.
  tape.clear();
  BOOST_TEST(throws_with([&] { (void)Var(x * x); }, "cleared"));
  // A Var of another tape.
  Tape other;
  const Var v = other.variable(2.0);
  BOOST_TEST(throws_with([&] { (void)Var(v * 2.0); }, "not on the active tape"));
  BOOST_TEST(throws_with([&] { tape.backward(v); }, "not on the active tape"));
}

BOOST_AUTO_TEST_CASE(adjoint_of_a_constant_says_how_to_make_a_variable) {
  BOOST_TEST(throws_with([] { (void)nabla::adjoint(Var(1.0)); }, "nabla::variable"));
}

BOOST_AUTO_TEST_CASE(bad_positions_throw) {
  Tape tape;
  Tape::Scope scope(tape);
  const Var x = tape.variable(1.0);
  (void)(x * x);
  const Position end = tape.position();
  tape.clear();
  BOOST_TEST(throws_with([&] { tape.rewind(end); }, "not on the tape"));
  BOOST_TEST(throws_with([&] { tape.reverse(end); }, "not on the tape"));
}

BOOST_AUTO_TEST_CASE(backward_from_a_position_skips_older_work) {
  Tape tape;
  Tape::Scope scope(tape);
  const Var a = tape.variable(2.0);
  const Var b = a * a;  // outer work
  const Position p = tape.position();
  const Var x = tape.variable(3.0);
  const Var y = x * b;
  tape.backward(y, p);
  BOOST_TEST(tape.adjoint(x) == 4.0);
  BOOST_TEST(tape.adjoint(b) == 3.0);  // the sweep's result flows into the outer operand
  BOOST_TEST(tape.adjoint(a) == 0.0);  // but statements before p are not swept
  tape.backward(y);
  BOOST_TEST(tape.adjoint(a) == 12.0);
  BOOST_TEST(throws_with([&] { tape.backward(b, p); }, "before the sweep's start"));
}

BOOST_AUTO_TEST_CASE(custom_operations) {
  Tape tape;
  Tape::Scope scope(tape);
  const Var x = tape.variable(0.5), y = tape.variable(2.0);
  // x·sin(y) with hand-written partials.
  const Var z = nabla::custom(x.value() * std::sin(y.value()), {x, y},
                              {std::sin(y.value()), x.value() * std::cos(y.value())});
  BOOST_TEST(nabla::op_name(nabla::detail::TapeInspect::op(tape, z.index())) == "custom");
  tape.backward(z);
  BOOST_TEST(tape.adjoint(x) == std::sin(2.0));
  BOOST_TEST(tape.adjoint(y) == 0.5 * std::cos(2.0));
  BOOST_TEST(nabla::custom(1.0, {Var(2.0)}, {3.0}).is_constant());
  BOOST_TEST(throws_with([&] { (void)nabla::custom(1.0, {x, y}, {1.0}); }, "differ in size"));
}

BOOST_AUTO_TEST_SUITE_END()

// The old spelling Tape::size() compiles for one release (deprecated) and means
// position().statement.
BOOST_AUTO_TEST_CASE(deprecated_size_still_compiles) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  (void)nabla::variable(1.0);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  BOOST_TEST(tape.size() == tape.position().statement);
#pragma GCC diagnostic pop
}
