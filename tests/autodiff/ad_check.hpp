// The shared gradient checker used by every operation test (cf. Stan's expect_ad): each
// operation at many points, for every Var/double argument mix (for tensors: constant, variable
// and parameter inputs), against its closed-form derivative and against Richardson-extrapolated
// central differences.
#pragma once

#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace nabla::test {

constexpr double inf = std::numeric_limits<double>::infinity();

/// Richardson-extrapolated central difference (error O(h⁴)) of f at x.
double central_difference(const std::function<double(double)>& f, double x, double h);

/// A finite-difference step at x: 1e−3 · min(max(|x|, scale_floor), scale_cap), and at most 1/100
/// of the distance to the nearest singularity (so the differences never straddle it).
double fd_step(double x, double distance_to_singularity, double scale_cap,
               double scale_floor = 1e-2);
/// A step of 1e−3·|x| at every magnitude (1e−5 at 0), at most 1/100 of the distance to the
/// nearest singularity: for scale-invariant or polynomial functions, so that 1e−100 and 1e100
/// get a step to match.
double relative_fd_step(double x, double distance_to_singularity = inf);

/// True when a and b are both NaN, equal infinities, or within atol + rtol·max(|a|, |b|).
bool close(double a, double b, double rtol, double atol);

/// A tensor of the given shape with values uniform in [lo, hi), the same for a seed.
inline Tensor random_tensor(const Shape& shape, std::uint64_t seed, double lo = -2, double hi = 2) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor t(shape);
  for (double& v : t.span()) v = u(rng);
  return t;
}

/// n points evenly spaced over [lo, hi].
std::vector<double> linspace(double lo, double hi, int n);

/// Checks one partial: against the closed form (tight) and, where f and the closed form are
/// finite, against finite differences with step h.
void expect_partial(const std::string& what, double analytic, double closed_form,
                    const std::function<double(double)>& f, double x, double h);

/// Checks a second derivative computed two ways (analytic, other) against each other and
/// against central differences of the first derivative df with step h — except where df
/// jumps between x − h and x + h (a kink of f: the second derivative is a convention there).
void expect_second_order(const std::string& what, double analytic, double other,
                         const std::function<double(double)>& df, double x, double h);

/// Values must agree exactly (both NaN counts as agreement).
void expect_same_value(const std::string& what, double got, double expected);

/// The checkers' random points: x moved by a random relative and absolute amount of at most
/// 1e-3 (a fixed seed, so a failure repeats), to compare forward against reverse mode away from
/// the listed points.
inline double nearby(double x) {
  static std::mt19937_64 rng(20261130);
  std::uniform_real_distribution<double> u(-1e-3, 1e-3);
  const double relative = u(rng), absolute = u(rng);
  return x + relative * std::abs(x) + absolute;
}
/// Forward (a tangent) and reverse (a gradient entry) mode agree: the same partial from the same
/// rule, up to the order of the chain rule's products in a fused statement.
void expect_forward_matches_reverse(const std::string& what, double forward, double reverse);

/// Distance from x to the nearest singularity of the function under test (inf: none).
using Distance = std::function<double(double)>;
/// Distance from (a, b) to the nearest singularity along one argument (inf: none).
using Distance2 = std::function<double(double, double)>;

/// Checks f″(x) of a generic callable f two ways — forward over forward (Dual<Dual<double>>)
/// and forward over reverse (hessian(), Dual<Var>) — against each other and against
/// differences of the closed-form derivative df with step h.
template <class F, class D>
void expect_second(const std::string& at, F f, D df, double x, double h) {
  const double ff = derivative([&](auto t) { return derivative(f, t); }, x);
  const double fr = hessian([&](const auto& v) { return f(v[0]); }, {x}).data[0];
  expect_second_order(
      at + " (second order)", ff, fr, [&](double t) { return double(df(t)); }, x, h);
}

/// Checks a unary operation given as a generic callable f (called with double and with Var) and
/// its closed-form derivative df, at every point. scale_cap bounds the relative step: pass inf
/// for scale-invariant functions (log, sqrt, powers), keep 1 for those varying on a unit scale.
template <class F, class D>
void expect_unary(const std::string& name, F f, D df, const std::vector<double>& points,
                  Distance distance = {}, double scale_cap = 1.0) {
  for (double x : points) {
    const std::string at = name + " at x = " + std::to_string(x);
    const double reference = f(x);
    // Constants are free: the same value, nothing recorded.
    Tape& tape = Tape::active();
    const Position before = tape.position();
    const Var c = f(Var(x));
    BOOST_CHECK_MESSAGE(c.is_constant() && tape.position() == before,
                        at << ": a constant operand recorded something");
    expect_same_value(at + " (constant)", c.value(), reference);
    const auto r = value_and_gradient([&](std::span<const Var> v) { return Var(f(v[0])); }, {x});
    expect_same_value(at, r.value, reference);
    const double h = fd_step(x, distance ? distance(x) : inf, scale_cap);
    expect_partial(
        at, r.gradient[0], df(x), [&](double t) { return double(f(t)); }, x, h);
    // Forward mode: the same value, the tangent against the same closed form.
    const Dual<double> y = f(Dual<double>(x, 1.0));
    expect_same_value(at + " (forward)", y.value(), reference);
    expect_partial(
        at + " (forward)", y.tangent(), df(x), [&](double t) { return double(f(t)); }, x, h);
    // derivative() evaluates f unchecked and again checked on a NaN (Note [Unchecked tangents]
    // in dual.hpp): the checked evaluation's tangent, bit for bit.
    expect_same_value(at + " (derivative())", derivative(f, x), y.tangent());
    // Second order, two ways — forward over forward (Dual<Dual<double>>) and forward over
    // reverse (the Hessian, Dual<Var>) — against each other and against differences of df.
    expect_second(at, f, df, x, h);
    // Forward against reverse at a random point near x.
    if (const double xr = nearby(x); std::isfinite(xr)) {
      const auto rr =
          value_and_gradient([&](std::span<const Var> v) { return Var(f(v[0])); }, {xr});
      const Dual<double> yr = f(Dual<double>(xr, 1.0));
      expect_forward_matches_reverse(name + " at random x = " + std::to_string(xr), yr.tangent(),
                                     rr.gradient[0]);
    }
  }
}

/// Checks a binary operation f (generic callable) in all three argument mixes (Var∘Var,
/// Var∘double, double∘Var) against its closed-form partials dfa, dfb at every point.
template <class F, class DA, class DB>
void expect_binary(const std::string& name, F f, DA dfa, DB dfb,
                   const std::vector<std::pair<double, double>>& points, Distance2 distance_a = {},
                   Distance2 distance_b = {}) {
  for (const auto& [a, b] : points) {
    const std::string at = name + " at (" + std::to_string(a) + ", " + std::to_string(b) + ")";
    const double reference = f(a, b);
    const auto both =
        value_and_gradient([&](std::span<const Var> v) { return Var(f(v[0], v[1])); }, {a, b});
    const auto first =
        value_and_gradient([&](std::span<const Var> v) { return Var(f(v[0], b)); }, {a});
    const auto second =
        value_and_gradient([&](std::span<const Var> v) { return Var(f(a, v[0])); }, {b});
    expect_same_value(at + " (Var, Var)", both.value, reference);
    expect_same_value(at + " (Var, double)", first.value, reference);
    expect_same_value(at + " (double, Var)", second.value, reference);
    const auto fa = [&](double t) { return double(f(t, b)); };
    const auto fb = [&](double t) { return double(f(a, t)); };
    const double ha = fd_step(a, distance_a ? distance_a(a, b) : inf, 1.0);
    const double hb = fd_step(b, distance_b ? distance_b(a, b) : inf, 1.0);
    expect_partial(at + " d/da (Var, Var)", both.gradient[0], dfa(a, b), fa, a, ha);
    expect_partial(at + " d/db (Var, Var)", both.gradient[1], dfb(a, b), fb, b, hb);
    expect_partial(at + " d/da (Var, double)", first.gradient[0], dfa(a, b), fa, a, ha);
    expect_partial(at + " d/db (double, Var)", second.gradient[0], dfb(a, b), fb, b, hb);
    // Forward mode in the three mixes.
    using D = Dual<double>;
    const D ya = f(D(a, 1.0), D(b)), yb = f(D(a), D(b, 1.0));
    const D ya_number = f(D(a, 1.0), b), yb_number = f(a, D(b, 1.0));
    expect_same_value(at + " (Dual, Dual)", ya.value(), reference);
    expect_same_value(at + " (Dual, double)", ya_number.value(), reference);
    expect_same_value(at + " (double, Dual)", yb_number.value(), reference);
    expect_partial(at + " d/da (Dual, Dual)", ya.tangent(), dfa(a, b), fa, a, ha);
    expect_partial(at + " d/db (Dual, Dual)", yb.tangent(), dfb(a, b), fb, b, hb);
    expect_partial(at + " d/da (Dual, double)", ya_number.tangent(), dfa(a, b), fa, a, ha);
    expect_partial(at + " d/db (double, Dual)", yb_number.tangent(), dfb(a, b), fb, b, hb);
    // The helpers (jvp, jacobian_forward) evaluate f unchecked and again checked on a NaN
    // (Note [Unchecked tangents] in dual.hpp): the checked evaluation's tangents, bit for bit.
    const auto f2 = [&](const auto& v) { return f(v[0], v[1]); };
    const std::vector<double> point{a, b};
    expect_same_value(at + " d/da (jvp())", jvp(f2, point, std::vector<double>{1.0, 0.0}).tangent,
                      ya.tangent());
    expect_same_value(at + " d/db (jvp())", jvp(f2, point, std::vector<double>{0.0, 1.0}).tangent,
                      yb.tangent());
    const Jacobian J = jacobian_forward(f2, point);
    expect_same_value(at + " d/da (jacobian_forward())", J(0, 0), ya.tangent());
    expect_same_value(at + " d/db (jacobian_forward())", J(0, 1), yb.tangent());
    // Second order: ∂²/∂a², ∂²/∂b² and ∂²/∂a∂b by the Hessian (forward over reverse) against
    // forward over forward and differences of the closed-form partials.
    const Hessian H = hessian([&](const auto& v) { return f(v[0], v[1]); }, {a, b});
    const auto second_a =
        derivative([&](auto t) { return derivative([&](auto u) { return f(u, b); }, t); }, a);
    const auto second_b =
        derivative([&](auto t) { return derivative([&](auto u) { return f(a, u); }, t); }, b);
    expect_second_order(
        at + " d2/da2", H(0, 0), second_a, [&](double t) { return double(dfa(t, b)); }, a, ha);
    expect_second_order(
        at + " d2/db2", H(1, 1), second_b, [&](double t) { return double(dfb(a, t)); }, b, hb);
    const double mixed = derivative(
        [&](auto t) {
          return derivative([&](auto u) { return f(u, decltype(u)(t)); }, decltype(t)(a));
        },
        b);
    expect_second_order(
        at + " d2/dadb", H(0, 1), mixed, [&](double t) { return double(dfa(a, t)); }, b, hb);
    // Forward against reverse at a random point near (a, b).
    if (const double ar = nearby(a), br = nearby(b); std::isfinite(ar) && std::isfinite(br)) {
      const auto rr =
          value_and_gradient([&](std::span<const Var> v) { return Var(f(v[0], v[1])); }, {ar, br});
      const D ra = f(D(ar, 1.0), D(br)), rb = f(D(ar), D(br, 1.0));
      const std::string near =
          name + " at random (" + std::to_string(ar) + ", " + std::to_string(br) + ")";
      expect_forward_matches_reverse(near + " d/da", ra.tangent(), rr.gradient[0]);
      expect_forward_matches_reverse(near + " d/db", rb.tangent(), rr.gradient[1]);
    }
  }
}

// ---- Tensor operations ----

/// A tensor operation under test: its inputs in, one tensor out.
using TensorOp = std::function<TensorVar(std::span<const TensorVar>)>;

/// The finite-difference step for element `index` of input `input` at a point (0: take no
/// difference there — a kink, a singularity or a documented convention point).
using TensorStep =
    std::function<double(const std::vector<Tensor>& inputs, std::size_t input, std::size_t index)>;

/// relative_fd_step of the element: for operations that are scale-invariant or polynomial.
double relative_step(const std::vector<Tensor>& inputs, std::size_t input, std::size_t index);
/// fd_step with the scale capped at 1: for operations that vary on a unit scale (exp, tanh, …);
/// at large magnitudes the step no longer moves x and no difference is taken.
double unit_step(const std::vector<Tensor>& inputs, std::size_t input, std::size_t index);

/// How expect_tensor_op checks one operation.
struct TensorCheck {
  /// The finite-difference step of each element (unit_step when empty).
  TensorStep step = {};
  /// Inputs the operation takes as plain numbers (a double operand, targets): always recorded
  /// as constants and not differentiated.
  std::vector<std::size_t> fixed = {};
  /// For an elementwise operation of input 0: its closed-form derivative, which every element
  /// of the vector-Jacobian product must match to 1e−13 (where finite differences cannot
  /// resolve it, e.g. tanh′(20) ≈ 1.7e−17 next to tanh(20) ≈ 1).
  std::function<double(double)> derivative = {};
  /// Relative tolerance against finite differences, beyond the bound on what rounding in the
  /// operation's values lets them resolve.
  double rtol = 1e-8;
  /// The operation's values are rounded on the scale of its inputs, not their own (a difference
  /// of large terms, as x − log_sum_exp(x) in cross_entropy): the rounding bound then uses
  /// |y| + max |x| for each element y.
  bool rounded_on_input_scale = false;
  /// Seed of the cotangent (the output's adjoint, entries ±[0.5, 1.5)).
  std::uint64_t seed = 7;
};

/// Checks a tensor operation at one point (its inputs), on a tape of its own:
/// - constant inputs give a constant result; recorded inputs give the same value, bit for bit;
/// - the reverse sweep's vector-Jacobian product wᵀ·∂op/∂xᵢ (w a seeded random cotangent) is the
///   same, bit for bit, when only input i is a variable and the others are constants, and from
///   nabla::value_and_gradient (a helper's consuming sweep), which writes nothing into the other
///   inputs recorded as variables before it or as parameters inside it;
/// - inputs recorded as parameters whose gradient buffers hold 1 end with 1 + that product
///   (their adjoints are added to, never overwritten);
/// - every element of every input against Richardson central differences of Σ w·op, to a
///   relative rtol beyond the rounding bound 64·(eps·Σ|w·y| + denorm_min·Σ|w|)/h (what the
///   differences can resolve: a derivative too small to move y shows as 0);
/// - for an elementwise operation with TensorCheck::derivative, against that closed form.
void expect_tensor_op(const std::string& what, const TensorOp& op,
                      const std::vector<Tensor>& inputs, const TensorCheck& check = {});
/// What expect_tensor_op would report, one message per failed check (for testing the checker).
std::vector<std::string> tensor_op_failures(const std::string& what, const TensorOp& op,
                                            const std::vector<Tensor>& inputs,
                                            const TensorCheck& check = {});

/// Every function the header at `path` declares that returns one of `return_types` (whole
/// words), as name(parameter types) with names, defaults, const, & and std:: dropped: the
/// coverage tests' list of operations (e.g. "pow(TensorVar,double)").
std::set<std::string> declared_functions(const std::string& path,
                                         const std::vector<std::string>& return_types);

}  // namespace nabla::test
