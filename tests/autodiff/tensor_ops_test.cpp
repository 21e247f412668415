// Every tensor operation in one table, each row checked by the shared checker
// (nabla::test::expect_tensor_op, ad_check.hpp) at random points and at awkward ones: large and
// tiny magnitudes, zeros, negative values, 1×1, 1×n, n×1 and empty shapes, and for every
// broadcasting operation the broadcast operand on the left and on the right. A last test reads
// the public headers and fails when an operation they declare has no row.
#include <nabla/autodiff.hpp>

#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include "ad_check.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numbers>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#ifndef NABLA_SOURCE_ROOT
#error "tests/meson.build defines NABLA_SOURCE_ROOT (the headers are read by the coverage test)"
#endif

using nabla::Shape;
using nabla::Tensor;
using nabla::TensorVar;
using nabla::Var;
using nabla::test::fd_step;
using nabla::test::inf;
using nabla::test::relative_step;
using nabla::test::TensorCheck;
using nabla::test::TensorOp;

namespace {

using Inputs = std::vector<Tensor>;
using Args = std::span<const TensorVar>;

// ---- Points ----

// Values uniform in [lo, hi), of either sign when `either_sign`, times the point's scale when
// `scaled` (a pow exponent or a clamp bound keeps its own).
struct Domain {
  double lo, hi;
  bool either_sign = false;
  bool scaled = true;
};
const Domain any{-2, 2};
const Domain positive{0.2, 3};
const Domain nonzero{0.3, 2, true};

const std::vector<double> magnitudes = {1, 1e3, 1e100, 1e-100};
const std::vector<double> magnitudes_to_1e300 = {1, 1e3, 1e100, 1e-100, 1e300};

// For each tuple of input shapes, each scale and `seeds` seeds: one point.
std::vector<Inputs> draws(const std::vector<std::vector<Shape>>& shapes,
                          const std::vector<Domain>& domains, const std::vector<double>& scales,
                          int seeds = 3) {
  std::vector<Inputs> points;
  std::uint64_t seed = 1;
  for (const auto& tuple : shapes) {
    for (double scale : scales) {
      for (int s = 0; s < seeds; ++s) {
        Inputs p;
        for (std::size_t i = 0; i < tuple.size(); ++i) {
          const Domain& d = domains[std::min(i, domains.size() - 1)];
          Tensor t = nabla::test::random_tensor(tuple[i], seed++, d.lo, d.hi);
          std::mt19937_64 signs(seed++);
          for (double& v : t.span()) {
            if (d.either_sign && (signs() >> 63) != 0) v = -v;
            if (d.scaled) v *= scale;
          }
          p.push_back(std::move(t));
        }
        points.push_back(std::move(p));
      }
    }
  }
  return points;
}

// Points with every entry 0, one per tuple of shapes.
std::vector<Inputs> zeros(const std::vector<std::vector<Shape>>& shapes) {
  std::vector<Inputs> points;
  for (const auto& tuple : shapes) {
    Inputs p;
    for (const Shape& s : tuple) p.emplace_back(s, 0.0);
    points.push_back(std::move(p));
  }
  return points;
}

// Distinct values (0.17 apart, shuffled, times scale): max and min have no near-ties for a
// finite-difference step to cross.
std::vector<Inputs> spread(const std::vector<Shape>& shapes, const std::vector<double>& scales) {
  std::vector<Inputs> points;
  std::uint64_t seed = 1;
  for (const Shape& s : shapes) {
    for (double scale : scales) {
      Tensor t(s);
      for (std::size_t i = 0; i < t.size(); ++i)
        t[i] = scale * (0.17 * static_cast<double>(i) - 2.0);
      std::shuffle(t.data(), t.data() + t.size(), std::mt19937_64(seed++));
      points.push_back({t});
    }
  }
  return points;
}

std::vector<Inputs> join(std::initializer_list<std::vector<Inputs>> parts) {
  std::vector<Inputs> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

// One input per shape (unary rows).
std::vector<std::vector<Shape>> each(const std::vector<Shape>& shapes) {
  std::vector<std::vector<Shape>> tuples;
  for (const Shape& s : shapes) tuples.push_back({s});
  return tuples;
}

// 0-d, 1, 1×1, 1×n, n×1, a matrix, rank 3 with a size-1 axis, empty.
const std::vector<Shape> shapes = {{}, {1}, {1, 1}, {1, 5}, {5, 1}, {2, 3}, {2, 1, 3}, {0, 3}};

// Operand shapes of the broadcasting operations: equal, broadcast on the right, on the left,
// on both sides, and empty.
// clang-format off
const std::vector<std::vector<Shape>> broadcast_pairs = {
    {{2, 3}, {2, 3}}, {{1, 1}, {1, 1}},                                       // equal
    {{2, 3}, {3}}, {{2, 3}, {1, 3}}, {{2, 3}, {2, 1}}, {{2, 3}, {}},          // on the right
    {{2, 2, 3}, {2, 1, 3}}, {{4, 1, 3}, {2, 1}}, {{2, 1, 3, 1}, {3, 4}},
    {{3}, {2, 3}}, {{1, 3}, {2, 3}}, {{2, 1}, {2, 3}}, {{}, {2, 3}},          // on the left
    {{2, 1, 3}, {2, 2, 3}}, {{2, 1}, {4, 1, 3}},
    {{2, 1}, {1, 3}}, {{1, 5}, {5, 1}}, {{1, 3, 1}, {2, 1, 4}},               // on both sides
    {{1}, {}}, {{}, {1, 1}}, {{3, 1}, {1}}, {{1}, {1, 1, 3}},                 // of size-1 axes
    {{0, 3}, {3}}, {{3}, {0, 3}}, {{2, 0}, {2, 1}},                           // empty
};
// clang-format on
// A tensor with a scalar (a double or a Var) on the right, and on the left.
std::vector<std::vector<Shape>> with_scalar(bool scalar_left) {
  std::vector<std::vector<Shape>> tuples;
  for (const Shape& s : shapes)
    tuples.push_back(scalar_left ? std::vector<Shape>{{}, s} : std::vector<Shape>{s, {}});
  return tuples;
}

// ---- Steps ----

// A relative step that stays 100 times closer to x than to `kinks` (0 at a kink).
nabla::test::TensorStep relative_away_from(std::vector<double> kinks) {
  return [kinks](const Inputs& in, std::size_t i, std::size_t c) {
    double d = inf;
    for (double k : kinks) d = std::min(d, std::abs(in[i][c] - k));
    return nabla::test::relative_fd_step(in[i][c], d);
  };
}

// ---- Closed forms (long double, rounded once) ----

double sigmoid_derivative(double x) {
  const long double e = std::exp(-std::abs(static_cast<long double>(x)));
  return static_cast<double>(e / ((1 + e) * (1 + e)));
}
double sigmoid_value(double x) {
  const long double e = std::exp(-std::abs(static_cast<long double>(x)));
  return static_cast<double>(x >= 0 ? 1 / (1 + e) : e / (1 + e));
}

// ---- The table ----

struct Row {
  std::string group;  // the test case that runs it
  std::string name;
  std::vector<std::string> covers;  // header declarations it checks (as declared_functions)
  TensorOp op;
  std::vector<Inputs> points;
  TensorCheck check = {};
};

std::vector<Row> elementwise_rows() {
  using F = TensorVar (*)(const TensorVar&);
  const auto unary = [](F f) { return [f](Args x) { return f(x[0]); }; };
  const auto all = each(shapes);
  const auto signed_values = join({draws(all, {any}, magnitudes_to_1e300), zeros(all)});
  const auto positive_values = draws(all, {positive}, magnitudes_to_1e300);
  // tanh′, σ′ and softplus′ in the tails: e^−30 is far below what differences resolve next to
  // σ ≈ 1, e^−740 is subnormal, e^−800 rounds to 0 (the closed forms check them).
  const auto tanh_values =
      join({draws(all, {any}, {1, 1e-100, 1e100}), draws(all, {{15, 25, true}}, {1}),
            draws(all, {{300, 1000, true}}, {1}), zeros(all)});
  const auto logistic_values =
      join({draws(all, {any}, {1, 1e-100, 1e100}), draws(all, {{20, 40, true}}, {1}),
            draws(all, {{700, 800, true}}, {1}), zeros(all)});
  const auto log1p_values =
      join({draws(all, {{-0.9, 3}}, {1}), draws(all, {positive}, {1e3, 1e100, 1e300}),
            draws(all, {any}, {1e-100}), zeros(all)});
  using L = long double;
  const auto ld = [](double x) { return static_cast<L>(x); };
  const auto minus_one = [](double) { return -1.0; };
  // Documented conventions where no difference is taken (docs/functions.md, "Conventions at
  // non-differentiable points", and the sqrt row: "+∞ at 0"): abs′(0) = relu′(0) = 0,
  // sqrt′(0) = +∞. log(0) = −∞ has no derivative to check: log has no zeros.
  const auto away_from_0 = relative_away_from({0.0});
  // clang-format off
  std::vector<Row> rows = {
    {"elementwise", "neg", {"neg(TensorVar)"}, unary(nabla::neg), signed_values,
     {.step = relative_step, .derivative = minus_one}},
    {"elementwise", "unary minus", {"operator-(TensorVar)"}, [](Args x) { return -x[0]; },
     signed_values, {.step = relative_step, .derivative = minus_one}},
    {"elementwise", "exp", {"exp(TensorVar)"}, unary(nabla::exp),
     join({draws(all, {any}, {1, 1e-100}), draws(all, {{600, 700, true}}, {1}), zeros(all)}),
     {.derivative = [](double x) { return std::exp(x); }}},
    {"elementwise", "log", {"log(TensorVar)"}, unary(nabla::log), positive_values,
     {.step = relative_step, .derivative = [=](double x) { return double(1 / ld(x)); }}},
    {"elementwise", "log1p", {"log1p(TensorVar)"}, unary(nabla::log1p), log1p_values,
     {.step = relative_away_from({-1.0}),
      .derivative = [=](double x) { return double(1 / (1 + ld(x))); }}},
    {"elementwise", "sqrt", {"sqrt(TensorVar)"}, unary(nabla::sqrt),
     join({positive_values, zeros(all)}),
     {.step = away_from_0,
      .derivative = [=](double x) { return double(1 / (2 * std::sqrt(ld(x)))); }}},
    {"elementwise", "abs", {"abs(TensorVar)"}, unary(nabla::abs), signed_values,
     {.step = away_from_0,
      .derivative = [](double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }}},
    {"elementwise", "tanh", {"tanh(TensorVar)"}, unary(nabla::tanh), tanh_values,
     {.derivative = [=](double x) { return double(1 / (std::cosh(ld(x)) * std::cosh(ld(x)))); }}},
    {"elementwise", "sigmoid", {"sigmoid(TensorVar)"}, unary(nabla::sigmoid), logistic_values,
     {.derivative = sigmoid_derivative}},
    {"elementwise", "relu", {"relu(TensorVar)"}, unary(nabla::relu), signed_values,
     {.step = away_from_0, .derivative = [](double x) { return x > 0 ? 1.0 : 0.0; }}},
    {"elementwise", "softplus", {"softplus(TensorVar)"}, unary(nabla::softplus), logistic_values,
     {.derivative = sigmoid_value}},
  };
  // clang-format on
  // The rows of the scalar rule table (math.hpp) taken over by tensors, each against its closed
  // form in long double and finite differences.
  const auto pi = std::numbers::pi_v<L>;
  const auto unit_scale = join({draws(all, {any}, {1, 1e-100, 1e3}), zeros(all)});
  const auto inside_unit = join({draws(all, {{-0.9, 0.9}}, {1, 1e-100}), zeros(all)});
  const auto signed_big = join({draws(all, {any}, magnitudes_to_1e300), zeros(all)});
  const auto tails = join({draws(all, {any}, {1e-100, 1e100}), draws(all, {{20, 40, true}}, {1}),
                           draws(all, {{700, 800, true}}, {1}), zeros(all)});
  const auto dgelu = [=](double x) {
    const L t = x;
    return double(0.5L * std::erfc(-t / std::sqrt(2.0L)) +
                  t * std::exp(-t * t / 2) / std::sqrt(2 * pi));
  };
  const auto dsilu = [=](double x) {
    const L t = x, s = 1 / (1 + std::exp(-t)), s_minus = 1 / (1 + std::exp(t));
    return double(s * (1 + t * s_minus));
  };
  // clang-format off
  rows.insert(rows.end(), {
    {"elementwise", "exp2", {"exp2(TensorVar)"}, unary(nabla::exp2),
     join({draws(all, {any}, {1, 1e-100}), draws(all, {{600, 1000, true}}, {1}), zeros(all)}),
     {.derivative = [=](double x) { return double(std::exp2(ld(x)) * std::log(2.0L)); }}},
    {"elementwise", "expm1", {"expm1(TensorVar)"}, unary(nabla::expm1),
     join({draws(all, {any}, {1, 1e-100}), draws(all, {{600, 700, true}}, {1}), zeros(all)}),
     {.derivative = [=](double x) { return double(std::exp(ld(x))); }}},
    {"elementwise", "log2", {"log2(TensorVar)"}, unary(nabla::log2), positive_values,
     {.step = relative_step,
      .derivative = [=](double x) { return double(1 / (ld(x) * std::log(2.0L))); }}},
    {"elementwise", "log10", {"log10(TensorVar)"}, unary(nabla::log10), positive_values,
     {.step = relative_step,
      .derivative = [=](double x) { return double(1 / (ld(x) * std::log(10.0L))); }}},
    {"elementwise", "cbrt", {"cbrt(TensorVar)"}, unary(nabla::cbrt), signed_big,
     {.step = away_from_0, .derivative = [=](double x) {
        const L c = std::cbrt(ld(x));
        return double(1 / (3 * c * c));
      }}},
    {"elementwise", "sin", {"sin(TensorVar)"}, unary(nabla::sin), unit_scale,
     {.derivative = [=](double x) { return double(std::cos(ld(x))); }}},
    {"elementwise", "cos", {"cos(TensorVar)"}, unary(nabla::cos), unit_scale,
     {.derivative = [=](double x) { return double(-std::sin(ld(x))); }}},
    {"elementwise", "tan", {"tan(TensorVar)"}, unary(nabla::tan),
     join({draws(all, {{-1.2, 1.2}}, {1, 1e-100}), zeros(all)}),
     {.derivative = [=](double x) { return double(1 / (std::cos(ld(x)) * std::cos(ld(x)))); }}},
    {"elementwise", "asin", {"asin(TensorVar)"}, unary(nabla::asin), inside_unit,
     {.step = relative_away_from({-1.0, 1.0}),
      .derivative = [=](double x) { return double(1 / std::sqrt(1 - ld(x) * ld(x))); }}},
    {"elementwise", "acos", {"acos(TensorVar)"}, unary(nabla::acos), inside_unit,
     {.step = relative_away_from({-1.0, 1.0}),
      .derivative = [=](double x) { return double(-1 / std::sqrt(1 - ld(x) * ld(x))); }}},
    {"elementwise", "atan", {"atan(TensorVar)"}, unary(nabla::atan), signed_big,
     {.step = relative_step, .derivative = [=](double x) { return double(1 / (1 + ld(x) * ld(x))); }}},
    {"elementwise", "sinh", {"sinh(TensorVar)"}, unary(nabla::sinh),
     join({draws(all, {any}, {1, 1e-100}), draws(all, {{20, 40, true}}, {1}), zeros(all)}),
     {.derivative = [=](double x) { return double(std::cosh(ld(x))); }}},
    {"elementwise", "cosh", {"cosh(TensorVar)"}, unary(nabla::cosh),
     join({draws(all, {any}, {1, 1e-100}), draws(all, {{20, 40, true}}, {1}), zeros(all)}),
     {.derivative = [=](double x) { return double(std::sinh(ld(x))); }}},
    {"elementwise", "asinh", {"asinh(TensorVar)"}, unary(nabla::asinh), signed_big,
     {.step = relative_step,
      .derivative = [=](double x) { return double(1 / std::sqrt(ld(x) * ld(x) + 1)); }}},
    {"elementwise", "acosh", {"acosh(TensorVar)"}, unary(nabla::acosh),
     join({draws(all, {{1.2, 3}}, {1}), draws(all, {positive}, {1e3, 1e100, 1e300})}),
     {.step = relative_away_from({1.0}),
      .derivative = [=](double x) { return double(1 / std::sqrt(ld(x) * ld(x) - 1)); }}},
    {"elementwise", "atanh", {"atanh(TensorVar)"}, unary(nabla::atanh), inside_unit,
     {.step = relative_away_from({-1.0, 1.0}),
      .derivative = [=](double x) { return double(1 / (1 - ld(x) * ld(x))); }}},
    {"elementwise", "erf", {"erf(TensorVar)"}, unary(nabla::erf),
     join({unit_scale, draws(all, {{3, 6, true}}, {1})}),
     {.derivative = [=](double x) { return double(2 / std::sqrt(pi) * std::exp(-ld(x) * ld(x))); }}},
    {"elementwise", "erfc", {"erfc(TensorVar)"}, unary(nabla::erfc),
     join({unit_scale, draws(all, {{3, 6, true}}, {1})}),
     {.derivative = [=](double x) { return double(-2 / std::sqrt(pi) * std::exp(-ld(x) * ld(x))); }}},
    // gelu′ and silu′ have a root (x ≈ −0.75, −1.28) where they are differences of terms near
    // 0.2 and 1: there no value is relative-exact to 1e−13, so the closed forms are checked
    // away from it, in the tails (where differences resolve nothing) and at tiny magnitudes.
    {"elementwise", "gelu", {"gelu(TensorVar)"}, unary(nabla::gelu),
     join({draws(all, {any}, {1}), zeros(all)})},
    {"elementwise", "gelu (tails)", {"gelu(TensorVar)"}, unary(nabla::gelu), tails,
     {.derivative = dgelu}},
    {"elementwise", "silu", {"silu(TensorVar)"}, unary(nabla::silu),
     join({draws(all, {any}, {1}), zeros(all)})},
    {"elementwise", "silu (tails)", {"silu(TensorVar)"}, unary(nabla::silu), tails,
     {.derivative = dsilu}},
  });
  // clang-format on
  // leaky_relu and elu: the derivative at the kink 0 is the left one (docs/functions.md), no
  // difference is taken there.
  for (double slope : {0.01, 0.2, 0.0, -0.5}) {
    rows.push_back(
        {"elementwise",
         fmt::format("leaky_relu(x, {})", slope),
         {"leaky_relu(TensorVar,double)"},
         [slope](Args x) { return nabla::leaky_relu(x[0], slope); },
         signed_values,
         {.step = away_from_0, .derivative = [slope](double x) { return x > 0 ? 1.0 : slope; }}});
  }
  rows.push_back(
      {"elementwise",
       "leaky_relu(x) (default slope)",
       {"leaky_relu(TensorVar,double)"},
       [](Args x) { return nabla::leaky_relu(x[0]); },
       signed_values,
       {.step = away_from_0, .derivative = [](double x) { return x > 0 ? 1.0 : 0.01; }}});
  for (double alpha : {1.0, 0.5, 2.0}) {
    rows.push_back({"elementwise",
                    fmt::format("elu(x, {})", alpha),
                    {"elu(TensorVar,double)"},
                    [alpha](Args x) { return nabla::elu(x[0], alpha); },
                    join({signed_values, draws(all, {{20, 40, true}}, {1})}),
                    {.step = away_from_0, .derivative = [=](double x) {
                       return x > 0 ? 1.0 : double(alpha * std::exp(ld(x)));
                     }}});
  }
  // clamp: the derivative is 1 on [lo, hi] including the bounds (docs/tensors.md, "g inside
  // [lo, hi], 0 outside"): no difference is taken at a bound.
  for (const auto& [lo, hi] : {std::pair{-1.0, 1.5}, std::pair{-1e100, 1e100}}) {
    auto points = draws(all, {any}, {lo == -1.0 ? 1.0 : 1e100});
    points.push_back({Tensor({4}, {lo, hi, 0.5 * lo, 2 * hi})});
    rows.push_back({"elementwise",
                    fmt::format("clamp to [{}, {}]", lo, hi),
                    {"clamp(TensorVar,double,double)"},
                    [lo, hi](Args x) { return nabla::clamp(x[0], lo, hi); },
                    points,
                    {.step = relative_away_from({lo, hi}),
                     .derivative = [lo, hi](double x) { return x >= lo && x <= hi ? 1.0 : 0.0; }}});
  }
  // pow(x, p): an integer power at any sign (0 included), a fractional one on x > 0, and p = 0
  // (derivative 0, docs/functions.md).
  const std::vector<std::pair<double, std::vector<Inputs>>> powers = {
      {3.0, join({draws(all, {any}, magnitudes), zeros(all)})},
      {-1.5, draws(all, {positive}, magnitudes)},
      {0.0, join({draws(all, {any}, magnitudes), zeros(all)})},
  };
  for (const auto& [p, points] : powers) {
    rows.push_back({"elementwise",
                    fmt::format("pow(x, {})", p),
                    {"pow(TensorVar,double)"},
                    [p](Args x) { return nabla::pow(x[0], p); },
                    points,
                    {.step = relative_step, .derivative = [p](double x) {
                       return p == 0 ? 0.0
                                     : static_cast<double>(
                                           p * std::pow(static_cast<long double>(x), p - 1));
                     }}});
  }
  return rows;
}

// The arithmetic operators in all five forms (tensor·tensor, tensor·double, double·tensor,
// tensor·Var, Var·tensor) and pow(tensor, tensor).
std::vector<Row> broadcasting_rows() {
  struct Arithmetic {
    std::string symbol;
    std::function<TensorVar(const TensorVar&, const TensorVar&)> tt;
    std::function<TensorVar(const TensorVar&, double)> td;
    std::function<TensorVar(double, const TensorVar&)> dt;
    std::function<TensorVar(const TensorVar&, const Var&)> tv;
    std::function<TensorVar(const Var&, const TensorVar&)> vt;
    std::vector<Domain> domains;
    std::vector<double> scales;
  };
  const auto forms = [](auto f) {
    return std::tuple{[f](const TensorVar& a, const TensorVar& b) { return f(a, b); },
                      [f](const TensorVar& a, double b) { return f(a, b); },
                      [f](double a, const TensorVar& b) { return f(a, b); },
                      [f](const TensorVar& a, const Var& b) { return f(a, b); },
                      [f](const Var& a, const TensorVar& b) { return f(a, b); }};
  };
  const auto make = [&](std::string symbol, auto f, std::vector<Domain> domains,
                        std::vector<double> scales) {
    auto [tt, td, dt, tv, vt] = forms(f);
    return Arithmetic{std::move(symbol), tt, td, dt, tv, vt, std::move(domains), std::move(scales)};
  };
  // clang-format off
  const auto& big = magnitudes_to_1e300;
  const std::vector<Arithmetic> ops = {
      make("+", [](const auto& a, const auto& b) { return a + b; }, {any, any}, big),
      make("-", [](const auto& a, const auto& b) { return a - b; }, {any, any}, big),
      make("*", [](const auto& a, const auto& b) { return a * b; }, {any, any}, magnitudes),
      // a / b at 1e±300 too: ∂/∂b is −(a/b)/b, never a/b² (which overflows).
      make("/", [](const auto& a, const auto& b) { return a / b; }, {any, nonzero},
           {1, 1e3, 1e100, 1e-100, 1e300, 1e-300}),
  };
  // clang-format on
  std::vector<Row> rows;
  for (const Arithmetic& o : ops) {
    const std::string name = "operator" + o.symbol;
    // Zeros where the operation is defined: both operands for + − ·, the numerator for /.
    const auto zero = [&](std::vector<Inputs> points) {
      for (Inputs& p : points) {
        for (std::size_t i = 0; i < p.size(); ++i) {
          if (o.symbol != "/" || i == 0) std::fill(p[i].span().begin(), p[i].span().end(), 0.0);
        }
      }
      return points;
    };
    const auto points = [&](const std::vector<std::vector<Shape>>& tuples) {
      return join({draws(tuples, o.domains, o.scales), zero(draws(tuples, o.domains, {1}, 1))});
    };
    const std::string t = "tensor ", d = "double ", v = "Var ", op = o.symbol;
    const TensorCheck relative{.step = relative_step};
    // clang-format off
    rows.insert(rows.end(), {
      {"broadcasting", t + op + " tensor", {name + "(TensorVar,TensorVar)"},
       [f = o.tt](Args x) { return f(x[0], x[1]); }, points(broadcast_pairs), relative},
      {"broadcasting", t + op + " double", {name + "(TensorVar,double)"},
       [f = o.td](Args x) { return f(x[0], x[1].value()[0]); }, points(with_scalar(false)),
       {.step = relative_step, .fixed = {1}}},
      {"broadcasting", d + op + " tensor", {name + "(double,TensorVar)"},
       [f = o.dt](Args x) { return f(x[0].value()[0], x[1]); }, points(with_scalar(true)),
       {.step = relative_step, .fixed = {0}}},
      {"broadcasting", t + op + " Var", {name + "(TensorVar,Var)"},
       [f = o.tv](Args x) { return f(x[0], x[1].item()); }, points(with_scalar(false)), relative},
      {"broadcasting", v + op + " tensor", {name + "(Var,TensorVar)"},
       [f = o.vt](Args x) { return f(x[0].item(), x[1]); }, points(with_scalar(true)), relative},
    });
    // clang-format on
  }
  // pow(a, b): a > 0 at every magnitude, b in [−2, 2]; ∂/∂b = aᵇ ln a varies on the scale
  // 1/|ln a|, so b's step is capped by it. At a = 0 (b > 0): ∂/∂a is b·0^(b−1) (+∞ for b < 1)
  // and ∂/∂b the limit 0 (docs/functions.md): no difference is taken in a there. At a < 0 with
  // integer b: ∂/∂b is NaN (docs/functions.md, "x^y is not real for y near an integer"): no
  // difference is taken in b.
  auto pow_points = draws(broadcast_pairs, {{0.5, 2}, {-2, 2, false, false}}, magnitudes);
  for (auto p : draws(broadcast_pairs, {{0.5, 2}, {0.5, 2}}, {1}, 1)) {
    std::fill(p[0].span().begin(), p[0].span().end(), 0.0);
    pow_points.push_back(std::move(p));
  }
  for (auto p : draws(broadcast_pairs, {{-2, -0.5}, {-2, 3, false, false}}, magnitudes, 1)) {
    for (double& b : p[1].span()) b = std::round(b);
    pow_points.push_back(std::move(p));
  }
  rows.push_back({"broadcasting",
                  "pow(tensor, tensor)",
                  {"pow(TensorVar,TensorVar)"},
                  [](Args x) { return nabla::pow(x[0], x[1]); },
                  pow_points,
                  {.step = [](const Inputs& in, std::size_t i, std::size_t c) {
                    if (i == 0)
                      return nabla::test::relative_fd_step(in[0][c], in[0][c] == 0 ? 0.0 : inf);
                    double log_scale = 1;
                    for (double a : in[0].span()) {
                      if (a < 0) return 0.0;
                      if (a > 0) log_scale = std::max(log_scale, std::abs(std::log(a)));
                    }
                    return fd_step(in[1][c], inf, 1 / log_scale);
                  }}});
  return rows;
}

std::vector<Row> reduction_rows() {
  using Reduce = TensorVar (*)(const TensorVar&, nabla::Axes, bool);
  struct AxisConfig {
    std::string name;
    nabla::Axes axes;
    bool keepdims;
    std::vector<Shape> shapes;
  };
  const std::vector<Shape> ranked = {{1}, {5}, {1, 1}, {1, 5}, {5, 1}, {2, 3}, {2, 1, 3}};
  const std::vector<AxisConfig> configs = {
      {"all axes", nabla::Axes(), false, shapes},
      {"all axes keepdims", nabla::Axes(), true, {{2, 3}, {1, 1, 1}, {2, 1, 3}, {0, 2}}},
      {"axis 0 keepdims", nabla::Axes(0), true, ranked},
      {"axis -1", nabla::Axes(-1), false, ranked},
      {"axes {0, 2}", nabla::Axes{0, 2}, false, {{2, 3, 4}, {1, 3, 1}, {2, 1, 2}}},
      {"axes {0, 2} keepdims", nabla::Axes{0, 2}, true, {{2, 3, 4}, {0, 2, 1}}},
      {"axis 1 (the middle)", nabla::Axes(1), false, {{2, 3, 4}, {3, 1, 2}, {1, 4, 1}}},
      {"axes {-1, 0} keepdims", nabla::Axes{-1, 0}, true, {{2, 3, 4}, {2, 3}, {1, 1}}},
  };
  struct Op {
    std::string name;
    Reduce f;
    bool allows_empty;  // mean, max and min over an empty axis throw (docs/tensors.md)
  };
  const std::vector<Op> ops = {{"sum", nabla::sum, true},
                               {"mean", nabla::mean, false},
                               {"max", nabla::max, false},
                               {"min", nabla::min, false},
                               {"log_sum_exp", nabla::log_sum_exp, true}};
  std::vector<Row> rows;
  for (const Op& o : ops) {
    for (const AxisConfig& a : configs) {
      std::vector<Shape> s;
      for (const Shape& shape : a.shapes) {
        if (o.allows_empty || shape.size() > 0) s.push_back(shape);
      }
      Row row{"reductions",
              o.name + " " + a.name,
              {o.name + "(TensorVar,Axes,bool)"},
              [f = o.f, a](Args x) { return f(x[0], a.axes, a.keepdims); },
              {}};
      if (o.name == "sum" || o.name == "mean") {
        row.points = join({draws(each(s), {any}, magnitudes_to_1e300), zeros(each(s))});
        row.check.step = relative_step;
      } else if (o.name == "max" || o.name == "min") {
        row.points = spread(s, {1, -1, 1e3, 1e100, -1e-100, 1e300});
        row.check.step = relative_step;
      } else {  // log_sum_exp varies on a unit scale: large magnitudes as a shift and a spread
        row.points =
            join({draws(each(s), {any}, {1, 30, 1e-100}), draws(each(s), {{998, 1002}}, {1}),
                  draws(each(s), {{-1002, -998}}, {1}), zeros(each(s))});
      }
      rows.push_back(std::move(row));
    }
  }
  // softmax and log_softmax along one axis: a shift by ±1000 (overflow without the maximum
  // subtracted), a spread of 30 (saturated), tiny values.
  using Along = TensorVar (*)(const TensorVar&, std::ptrdiff_t);
  for (const auto& [name, f] : {std::pair<std::string, Along>{"softmax", nabla::softmax},
                                std::pair<std::string, Along>{"log_softmax", nabla::log_softmax}}) {
    for (std::ptrdiff_t axis : {-1, 0, 1}) {
      std::vector<Shape> s = {{3, 4}, {1, 1}, {1, 5}, {5, 1}, {2, 3, 2}, {0, 3}, {3, 0}};
      if (axis != 1) s.push_back({4});
      const auto all = each(s);
      rows.push_back({"reductions",
                      fmt::format("{} axis {}", name, axis),
                      {name + "(TensorVar,ptrdiff_t)"},
                      [f, axis](Args x) { return f(x[0], axis); },
                      join({draws(all, {any}, {1, 30, 1e-100}), draws(all, {{998, 1002}}, {1}),
                            draws(all, {{-1002, -998}}, {1}), zeros(all)}),
                      {.rounded_on_input_scale = true}});  // x − log_sum_exp(x)
    }
  }
  return rows;
}

std::vector<Row> loss_rows() {
  std::vector<Row> rows;
  // cross_entropy: label r mod C for row r.
  const std::vector<Shape> logits = {{1, 1}, {1, 5}, {5, 1}, {4, 3}};
  rows.push_back({"losses",
                  "cross_entropy",
                  {"cross_entropy(TensorVar,span<int>)"},
                  [](Args x) {
                    std::vector<int> labels(x[0].shape()[0]);
                    for (std::size_t r = 0; r < labels.size(); ++r)
                      labels[r] = static_cast<int>(r % x[0].shape()[1]);
                    return nabla::cross_entropy(x[0], labels);
                  },
                  join({draws(each(logits), {any}, {1, 30, 1e-100}),
                        draws(each(logits), {{998, 1002}}, {1}), zeros(each(logits))}),
                  {.rounded_on_input_scale = true}});  // lse − x[label]
  // binary_cross_entropy_with_logits: targets (a fixed input) in [0, 1], with exact 0 and 1.
  std::vector<std::vector<Shape>> pairs;
  for (const Shape& s : shapes) pairs.push_back({s, s});
  auto bce_points =
      join({draws(pairs, {any, {0, 1, false, false}}, {1, 30, 1e3, 1e-100}), zeros(pairs)});
  for (Inputs& p : bce_points) {
    if (p[1].size() > 1) {
      p[1][0] = 0.0;
      p[1][1] = 1.0;
    }
  }
  rows.push_back(
      {"losses",
       "binary_cross_entropy_with_logits",
       {"binary_cross_entropy_with_logits(TensorVar,TensorView)"},
       [](Args x) { return nabla::binary_cross_entropy_with_logits(x[0], x[1].value()); },
       bce_points,
       {.fixed = {1}, .rounded_on_input_scale = true}});  // max(x, 0) − x·t
  rows.push_back({"losses",
                  "mse",
                  {"mse(TensorVar,TensorVar)"},
                  [](Args x) { return nabla::mse(x[0], x[1]); },
                  join({draws(pairs, {any}, magnitudes), zeros(pairs)}),
                  {.step = relative_step}});
  return rows;
}

std::vector<Row> shape_rows() {
  std::vector<Row> rows;
  // clang-format off
  const std::vector<std::vector<Shape>> products = {
      {{2, 3}, {3, 4}}, {{1, 1}, {1, 1}}, {{1, 3}, {3, 1}}, {{3, 1}, {1, 3}},  // 1×1 and outer
      {{2, 3, 2}, {2, 2, 4}}, {{2, 2, 1, 3}, {2, 2, 3, 2}},                    // batched
      {{2, 3, 2}, {2, 5}}, {{2, 2, 1, 3}, {3, 2}}, {{1, 4, 3}, {1, 3, 1}},     // shared [K, N]
      {{2, 0}, {0, 3}}, {{0, 3}, {3, 2}}, {{2, 3}, {3, 0}},                    // empty
  };
  // clang-format on
  rows.push_back({"shapes",
                  "matmul",
                  {"matmul(TensorVar,TensorVar)"},
                  [](Args x) { return nabla::matmul(x[0], x[1]); },
                  join({draws(products, {any}, magnitudes), zeros(products)}),
                  {.step = relative_step}});
  const std::vector<Shape> matrices = {{2, 3},    {1, 1},       {1, 5}, {5, 1},
                                       {2, 3, 4}, {2, 1, 3, 2}, {0, 3}};
  const auto copies = [](const std::vector<Shape>& s) {
    return draws(each(s), {any}, {1, 1e300, 1e-100});
  };
  rows.push_back({"shapes",
                  "transpose",
                  {"transpose(TensorVar)"},
                  [](Args x) { return nabla::transpose(x[0]); },
                  copies(matrices),
                  {.step = relative_step}});
  rows.push_back({"shapes",
                  "permute (reversed axes)",
                  {"permute(TensorVar,span<size_t>)"},
                  [](Args x) {
                    std::vector<std::size_t> axes(x[0].rank());
                    for (std::size_t k = 0; k < axes.size(); ++k) axes[k] = axes.size() - 1 - k;
                    return nabla::permute(x[0], axes);
                  },
                  copies(shapes),
                  {.step = relative_step}});
  rows.push_back({"shapes",
                  "permute (1, 2, 0)",
                  {"permute(TensorVar,span<size_t>)"},
                  [](Args x) {
                    const std::size_t axes[] = {1, 2, 0};
                    return nabla::permute(x[0], axes);
                  },
                  copies({{2, 3, 4}, {1, 3, 1}, {2, 0, 3}}),
                  {.step = relative_step}});
  rows.push_back({"shapes",
                  "reshape",
                  {"reshape(TensorVar,Shape)"},
                  [](Args x) {
                    return nabla::reshape(x[0], Shape{1, x[0].size(), 1}) * x[0].size();
                  },
                  copies(shapes),
                  {.step = relative_step}});
  rows.push_back({"shapes",
                  "slice",
                  {"slice(TensorVar,ptrdiff_t,size_t,size_t)"},
                  [](Args x) {
                    const std::size_t n = x[0].shape()[0], m = x[0].shape()[x[0].rank() - 1];
                    const auto flat = [](const TensorVar& t) {
                      return nabla::reshape(t, Shape{t.size()});
                    };
                    const TensorVar parts[] = {
                        flat(nabla::slice(x[0], 0, n / 2, n)),         // the tail
                        flat(nabla::slice(x[0], -1, 0, m / 2)) * 2.0,  // empty when m < 2
                        flat(nabla::slice(x[0], -1, m, m))};           // empty
                    return nabla::concat(parts);
                  },
                  copies({{1}, {5}, {1, 1}, {4, 1}, {4, 5}, {0, 3}}),
                  {.step = relative_step}});
  rows.push_back(
      {"shapes",
       "index_select",
       {"index_select(TensorVar,ptrdiff_t,span<size_t>)"},
       [](Args x) {
         const std::size_t last = x[0].shape()[0] - 1, m = x[0].shape()[x[0].rank() - 1];
         const std::size_t rows_[] = {last, 0, last};  // repeated: gradients add
         const TensorVar first = nabla::index_select(x[0], 0, rows_);
         std::vector<std::size_t> columns;
         for (std::size_t j = m; j-- > 0;) columns.insert(columns.end(), {j, j});
         const TensorVar second = nabla::index_select(x[0], -1, columns);
         const TensorVar none = nabla::index_select(x[0], 0, std::span<const std::size_t>());
         const std::size_t middle_[] = {1, 0, 1};  // a middle axis (rank 3)
         const TensorVar middle = x[0].rank() == 3 ? nabla::index_select(x[0], 1, middle_) : none;
         return nabla::sum(first * 2.0) + nabla::sum(second * second) + nabla::sum(none) +
                nabla::sum(middle * 3.0);
       },
       draws(each({{1}, {5}, {1, 1}, {1, 5}, {5, 1}, {3, 4}, {2, 0}, {2, 2, 3}, {1, 2, 1}}), {any},
             magnitudes),  // squared: up to 1e200
       {.step = relative_step}});
  const std::vector<std::vector<Shape>> joined0 = {{{2, 3}, {1, 3}, {0, 3}},
                                                   {{1, 1}, {2, 1}, {1, 1}},
                                                   {{1}, {4}, {2}},
                                                   {{0, 2}, {0, 2}, {0, 2}}};
  const std::vector<std::vector<Shape>> joined1 = {{{2, 1}, {2, 3}, {2, 2}},
                                                   {{1, 1}, {1, 1}, {1, 4}},
                                                   {{3, 0}, {3, 2}, {3, 0}},
                                                   {{2, 1, 2}, {2, 3, 2}, {2, 0, 2}}};
  const std::vector<std::vector<Shape>> joined_last = {{{2, 1}, {2, 3}, {2, 2}},
                                                       {{2, 2, 1}, {2, 2, 3}, {2, 2, 0}}};
  for (std::ptrdiff_t axis : {0, 1, -1}) {
    rows.push_back({"shapes",
                    fmt::format("concat axis {} (the first input twice)", axis),
                    {"concat(span<TensorVar>,ptrdiff_t)"},
                    [axis](Args x) {
                      const TensorVar parts[] = {x[0], x[1], x[2], x[0]};
                      return nabla::concat(parts, axis);
                    },
                    draws(axis == 0   ? joined0
                          : axis == 1 ? joined1
                                      : joined_last,
                          {any}, {1, 1e300, 1e-100}),
                    {.step = relative_step}});
  }
  std::vector<std::vector<Shape>> same, same_ranked;
  for (const Shape& s : shapes) same.push_back({s, s});
  for (const Shape& s : shapes) {
    if (s.rank() > 0) same_ranked.push_back({s, s});
  }
  for (std::ptrdiff_t axis : {0, 1, -1}) {
    rows.push_back({"shapes",
                    fmt::format("stack axis {}", axis),
                    {"stack(span<TensorVar>,ptrdiff_t)"},
                    [axis](Args x) {
                      const TensorVar parts[] = {x[0], x[1], x[0] * x[1]};
                      return nabla::stack(parts, axis);
                    },
                    draws(axis == 1 ? same_ranked : same, {any}, magnitudes),
                    {.step = relative_step}});
  }
  // Elements as scalars and back: operator(), element, item, tensor(Vars), tensor(Var).
  rows.push_back(
      {"shapes",
       "elements",
       {"operator()(I...)", "element(span<size_t>)", "tensor(span<Var>,Shape)"},
       [](Args x) {
         const TensorVar& t = x[0];
         const std::size_t n = t.shape()[0] - 1, m = t.shape()[1] - 1;
         const std::size_t corner[] = {n, m};
         const Var vs[] = {t(0, 0), t(n, m) * t(0, m), t.element(corner), Var(2.5), t(n, 0)};
         return nabla::tensor(vs, Shape{5, 1});
       },
       draws(each({{1, 1}, {1, 5}, {5, 1}, {3, 4}}), {any}, magnitudes),
       {.step = relative_step}});
  rows.push_back({"shapes",
                  "item",
                  {"item()", "tensor(Var)"},
                  [](Args x) { return nabla::tensor(x[0].item() * x[0].item()); },
                  draws(each({{}, {1}, {1, 1}, {1, 1, 1}}), {any}, magnitudes),
                  {.step = relative_step}});
  rows.push_back({"shapes",
                  "label",
                  {"label(TensorVar,string)"},
                  [](Args x) { return nabla::label(x[0] * x[1], "product"); },
                  draws(broadcast_pairs, {any}, {1}),
                  {.step = relative_step}});
  return rows;
}

// nabla::custom: y = a ⊙ b (broadcast-free) with a hand-written backward, in both forms.
std::vector<Row> custom_rows() {
  const auto product = [](const TensorVar& a, const TensorVar& b) {
    Tensor y(a.shape());
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = a.value()[i] * b.value()[i];
    return y;
  };
  const auto backward = [](const nabla::CustomBackward& c) {
    for (std::size_t k = 0; k < 2; ++k) {
      if (!c.needs_gradient(k)) continue;
      const nabla::MutableTensorView g = c.input_adjoint(k);
      for (std::size_t i = 0; i < g.size(); ++i)
        g[i] += c.output_adjoint()[i] * c.input_value(1 - k)[i];
    }
  };
  std::vector<std::vector<Shape>> same;
  for (const Shape& s : shapes) same.push_back({s, s});
  const auto points = join({draws(same, {any}, magnitudes), zeros(same)});
  return {
      {"custom",
       "custom (braced list)",
       {"custom(initializer_list<TensorVar>,TensorView,F)"},
       [=](Args x) {
         return nabla::custom({x[0], x[1]}, product(x[0], x[1]), backward);
       },
       points,
       {.step = relative_step}},
      {"custom",
       "custom (span)",
       {"custom(span<TensorVar>,TensorView,F)"},
       [=](Args x) { return nabla::custom(x, product(x[0], x[1]), backward); },
       points,
       {.step = relative_step}},
      // y = a²·b with a given twice (inputs a, b, a), through add_to_input_adjoint: the second
      // contribution to a's adjoint adds to the first.
      {"custom",
       "custom (an input twice)",
       {"custom(initializer_list<TensorVar>,TensorView,F)"},
       [](Args x) {
         Tensor y(x[0].shape());
         for (std::size_t i = 0; i < y.size(); ++i)
           y[i] = x[0].value()[i] * x[0].value()[i] * x[1].value()[i];
         return nabla::custom({x[0], x[1], x[0]}, y, [](const nabla::CustomBackward& c) {
           const nabla::TensorView a = c.input_value(0), b = c.input_value(1),
                                   g = c.output_adjoint();
           Tensor ga(a.shape()), gb(b.shape());
           for (std::size_t i = 0; i < g.size(); ++i) {
             ga[i] = g[i] * a[i] * b[i];
             gb[i] = g[i] * a[i] * a[i];
           }
           c.add_to_input_adjoint(0, ga);
           c.add_to_input_adjoint(1, gb);
           c.add_to_input_adjoint(2, ga);
         });
       },
       points,
       {.step = relative_step}},
  };
}

const std::vector<Row>& table() {
  static const std::vector<Row> rows = [] {
    std::vector<Row> all;
    for (const auto& part : {elementwise_rows(), broadcasting_rows(), reduction_rows(), loss_rows(),
                             shape_rows(), custom_rows()}) {
      all.insert(all.end(), part.begin(), part.end());
    }
    return all;
  }();
  return rows;
}

void run(const std::string& group) {
  std::size_t count = 0;
  for (const Row& row : table()) {
    if (row.group != group) continue;
    for (const Inputs& p : row.points)
      nabla::test::expect_tensor_op(row.name, row.op, p, row.check);
    count += row.points.size();
  }
  BOOST_TEST_MESSAGE(group << ": " << count << " points");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tensor_ops)

BOOST_AUTO_TEST_CASE(elementwise) { run("elementwise"); }
BOOST_AUTO_TEST_CASE(broadcasting) { run("broadcasting"); }
BOOST_AUTO_TEST_CASE(reductions) { run("reductions"); }
BOOST_AUTO_TEST_CASE(losses) { run("losses"); }
BOOST_AUTO_TEST_CASE(shapes) { run("shapes"); }
BOOST_AUTO_TEST_CASE(custom) { run("custom"); }

BOOST_AUTO_TEST_CASE(the_checker_flags_wrong_operations) {
  // y = a ⊙ b recorded by nabla::custom with a backward rule broken in one way.
  enum class Broken { no, scaled, overwrites, depends_on_the_other_input };
  const auto product = [](Broken broken) {
    return [broken](Args x) {
      Tensor y(x[0].shape());
      for (std::size_t i = 0; i < y.size(); ++i) y[i] = x[0].value()[i] * x[1].value()[i];
      return nabla::custom(x, y, [broken](const nabla::CustomBackward& c) {
        for (std::size_t k = 0; k < 2; ++k) {
          if (!c.needs_gradient(k)) continue;
          double factor = broken == Broken::scaled && k == 0 ? 1 + 1e-4 : 1.0;
          if (broken == Broken::depends_on_the_other_input && !c.needs_gradient(1 - k)) factor = 2;
          const nabla::MutableTensorView g = c.input_adjoint(k);
          for (std::size_t i = 0; i < g.size(); ++i) {
            const double d = factor * c.output_adjoint()[i] * c.input_value(1 - k)[i];
            g[i] = broken == Broken::overwrites ? d : g[i] + d;
          }
        }
      });
    };
  };
  // At 1e−100 a relative error of 1e−4 is an absolute one of 1e−104: still caught.
  const Inputs tiny = {nabla::test::random_tensor({2, 3}, 1, 1e-100, 2e-100),
                       nabla::test::random_tensor({2, 3}, 2, -2e-100, 2e-100)};
  const TensorCheck relative{.step = relative_step};
  const auto failures = [&](Broken b) {
    return nabla::test::tensor_op_failures("product", product(b), tiny, relative);
  };
  const auto mentions = [](const std::vector<std::string>& f, const std::string& what) {
    return std::any_of(f.begin(), f.end(),
                       [&](const std::string& m) { return m.find(what) != std::string::npos; });
  };
  BOOST_TEST(failures(Broken::no).empty());
  BOOST_TEST(mentions(failures(Broken::scaled), "finite differences"));
  BOOST_TEST(mentions(failures(Broken::overwrites), "not overwritten"));
  BOOST_TEST(mentions(failures(Broken::depends_on_the_other_input),
                      "when the other inputs are constants"));
  // tanh′(20) ≈ 1.7e−17 is below what differences resolve next to tanh(20) ≈ 1; the closed form
  // catches 1 − tanh², which rounds it to 0.
  const auto tanh = [](Args x) { return nabla::tanh(x[0]); };
  const Inputs twenty = {Tensor({1}, {20.0})};
  BOOST_TEST(nabla::test::tensor_op_failures("tanh", tanh, twenty).empty());
  const auto rounded = nabla::test::tensor_op_failures(
      "tanh", tanh, twenty,
      {.derivative = [](double x) { return 1 - std::tanh(x) * std::tanh(x); }});
  BOOST_TEST(mentions(rounded, "closed form 0"));
}

BOOST_AUTO_TEST_CASE(every_declared_operation_has_a_row) {
  // What returns a tensor or a scalar but is not an operation to check, and why.
  const std::map<std::string, std::string> not_operations = {
      {"variable(TensorView)", "a leaf: how the checker records every row's inputs"},
      {"constant(TensorView)", "a leaf without gradient: the checker's constant inputs"},
      {"constant_view(TensorView)", "a leaf without gradient: the checker's finite differences"},
      {"parameter(MutableTensorView,MutableTensorView)", "a leaf: the checker's parameter inputs"},
      {"constant_rows(TensorView,span<size_t>)",
       "a leaf without gradient (tensor_test's training loop)"},
      {"shared_parameter(MutableTensorView,MutableTensorView,shared_ptr<void>)",
       "internal: nn's parameter leaf"},
      {"var()", "nn::Parameter's leaf (nabla::parameter)"},
      {"make(TensorNode*,Var)", "internal: builds a handle"},
      {"finish()", "internal: nabla::custom's recording"},
  };
  std::set<std::string> declared;
  for (const char* header : {"autodiff/tensor/include/nabla/autodiff/tensor_var.hpp",
                             "autodiff/tensor/include/nabla/autodiff/tensor_custom.hpp",
                             "autodiff/nn/include/nabla/autodiff/nn.hpp"}) {
    const auto found = nabla::test::declared_functions(
        std::string(NABLA_SOURCE_ROOT) + "/" + header, {"Var", "TensorVar"});
    declared.insert(found.begin(), found.end());
  }
  BOOST_TEST_MESSAGE(declared.size()
                     << " declarations: " << fmt::format("{}", fmt::join(declared, " ")));
  BOOST_TEST(declared.size() >= 50u);  // the reading works: tensor_var.hpp alone declares 60
  std::set<std::string> covered;
  for (const Row& row : table()) covered.insert(row.covers.begin(), row.covers.end());
  for (const std::string& d : declared) {
    BOOST_TEST((covered.count(d) + not_operations.count(d) == 1u),
               d << " is declared but has no row in the table of tensor_ops_test.cpp");
  }
  for (const std::string& c : covered) {
    BOOST_TEST(declared.count(c) == 1u, "the row for " << c << " names no declaration");
  }
  for (const auto& [d, why] : not_operations) {
    BOOST_TEST(declared.count(d) == 1u, d << " (" << why << ") is no longer declared");
  }
}

BOOST_AUTO_TEST_SUITE_END()
