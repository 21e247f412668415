// Tensor nodes: each operation's forward computation next to its backward rule, and its
// forward-mode (JVP) rule on TensorDual right after its TensorVar function.
#include "nabla/autodiff/tensor_var.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/tensor_dual.hpp"
#include "tensor_dual_rules.hpp"
#include "tensor_nodes.hpp"

namespace nabla {

using namespace detail::forward;  // the JVP rules' helpers

using detail::TensorNode;
using namespace detail::tensor;

double* TensorNode::zeroed_adjoint() noexcept {
  if (!written) {
    std::fill_n(adjoint, shape.size(), 0.0);
    written = true;
  }
  return adjoint;
}

namespace {

// ---- Leaves ----

struct LeafNode final : TensorNode {
  std::string_view name() const noexcept override {
    return external ? "parameter" : adjoint != nullptr ? "variable" : "constant";
  }
  void inputs(std::vector<std::uint32_t>& out) const override { (void)out; }
  void backward(const detail::Sweep&) override {}
};

// ---- Elementwise binary operations with broadcasting ----

// Elementwise binary operations take value and partials from the scalar rule table (math.hpp,
// arithmetic.hpp; Note [The rule table]).
template <class Fn>
struct FromScalarBinary {
  static constexpr std::string_view name = op_name(Fn::op);
  static double f(double a, double b) { return Fn::value(a, b); }
  static double da(double a, double b, double y) { return Fn::partial_a(a, b, y); }
  static double db(double a, double b, double y) { return Fn::partial_b(a, b, y); }
};
using Add = FromScalarBinary<detail::AddFn>;
using Sub = FromScalarBinary<detail::SubFn>;
using Mul = FromScalarBinary<detail::MulFn>;
using Div = FromScalarBinary<detail::DivFn>;
using Pow = FromScalarBinary<detail::PowFn>;

template <class F>
struct BinaryNode final : TensorNode {
  BinaryNode(TensorNode* a, TensorNode* b) : a(a), b(b) {}
  std::string_view name() const noexcept override { return F::name; }
  void inputs(std::vector<std::uint32_t>& out) const override {
    out.push_back(a->statement);
    out.push_back(b->statement);
  }
  void backward(const detail::Sweep& sweep) override {
    if (!written) return;
    const double* g = adjoint;
    const double* y = value;
    const double* av = a->value;
    const double* bv = b->value;
    if (pushes(a, sweep)) {
      if (a->shape == shape && b->shape == shape) {
        accumulate(a, shape.size(),
                   [&](std::size_t i) { return detail::chain(g[i], F::da(av[i], bv[i], y[i])); });
      } else {
        double* ga = a->zeroed_adjoint();
        each_row(shape, broadcast_strides(a->shape, shape), broadcast_strides(b->shape, shape),
                 [&](std::size_t o, std::size_t ia, std::size_t ib, std::size_t n, std::size_t sa,
                     std::size_t sb) {
                   for (std::size_t i = 0; i < n; ++i) {
                     const double ai = av[ia + i * sa], bi = bv[ib + i * sb];
                     ga[ia + i * sa] += detail::chain(g[o + i], F::da(ai, bi, y[o + i]));
                   }
                 });
      }
    }
    if (pushes(b, sweep)) {
      if (a->shape == shape && b->shape == shape) {
        accumulate(b, shape.size(),
                   [&](std::size_t i) { return detail::chain(g[i], F::db(av[i], bv[i], y[i])); });
      } else {
        double* gb = b->zeroed_adjoint();
        each_row(shape, broadcast_strides(a->shape, shape), broadcast_strides(b->shape, shape),
                 [&](std::size_t o, std::size_t ia, std::size_t ib, std::size_t n, std::size_t sa,
                     std::size_t sb) {
                   for (std::size_t i = 0; i < n; ++i) {
                     const double ai = av[ia + i * sa], bi = bv[ib + i * sb];
                     gb[ib + i * sb] += detail::chain(g[o + i], F::db(ai, bi, y[o + i]));
                   }
                 });
      }
    }
  }
  TensorNode* a;
  TensorNode* b;
};

template <class F>
TensorVar binary(const TensorVar& a, const TensorVar& b) {
  TensorNode* an = a.node();
  TensorNode* bn = b.node();
  const Shape shape = broadcast_shape(an->shape, bn->shape, F::name.data());
  Tape& tape = Tape::active();
  auto [node, out] = make<BinaryNode<F>>(tape, shape, needs(an) || needs(bn), nullptr, an, bn);
  double* y = node->value;
  const double* av = an->value;
  const double* bv = bn->value;
  if (an->shape == shape && bn->shape == shape) {
    for (std::size_t i = 0, n = shape.size(); i < n; ++i) y[i] = F::f(av[i], bv[i]);
  } else {
    each_row(shape, broadcast_strides(an->shape, shape), broadcast_strides(bn->shape, shape),
             [&](std::size_t o, std::size_t ia, std::size_t ib, std::size_t n, std::size_t sa,
                 std::size_t sb) {
               if (sa == 1 && sb == 1) {
                 for (std::size_t i = 0; i < n; ++i) y[o + i] = F::f(av[ia + i], bv[ib + i]);
               } else if (sa == 1 && sb == 0) {
                 const double bi = bv[ib];
                 for (std::size_t i = 0; i < n; ++i) y[o + i] = F::f(av[ia + i], bi);
               } else {
                 for (std::size_t i = 0; i < n; ++i)
                   y[o + i] = F::f(av[ia + i * sa], bv[ib + i * sb]);
               }
             });
  }
  return out;
}

TensorVar scalar_constant(double c) { return constant(TensorView(&c, Shape{})); }
// A number or a scalar Var as a 0-d tensor, recorded only once `other` is known to be valid.
TensorVar scalar_constant(double c, const TensorVar& other) {
  (void)other.node();
  return scalar_constant(c);
}
TensorVar scalar_tensor(const Var& x, const TensorVar& other) {
  (void)other.node();
  return tensor(x);
}

// ---- Elementwise unary operations ----

struct UnaryArgs {
  double p = 0, q = 0;
};

// The elementwise functions take value and derivative from the scalar rule table (math.hpp,
// Note [The rule table]): one rule, one answer at every point, fused or not, scalar or tensor.
template <class Fn>
struct FromScalar {
  static constexpr std::string_view name = op_name(Fn::op);
  static double f(double x, const UnaryArgs&) { return Fn::value(x); }
  static double d(double x, double y, const UnaryArgs&) { return Fn::partial(x, y); }
  // The second derivative: the row's partial evaluated on Dual<double> (Derivative below).
  static double dd(double x, const UnaryArgs&) {
    const Dual<double> xd(x, 1.0);
    return Dual<double>(Fn::partial(xd, detail::apply_unary<Fn>(xd))).tangent();
  }
};
// A row with a parameter (NABLA_PARAMETRIC_FUNCTIONS in math.hpp), carried in UnaryArgs::p.
template <class Fn>
struct FromScalarWithNumber {
  static constexpr std::string_view name = op_name(Fn::op);
  static double f(double x, const UnaryArgs& p) { return Fn::value(x, p.p); }
  static double d(double x, double y, const UnaryArgs& p) { return Fn::partial(x, y, p.p); }
  static double dd(double x, const UnaryArgs& p) {
    const Dual<double> xd(x, 1.0);
    return Dual<double>(Fn::partial(xd, detail::apply_with_number<Fn>(xd, p.p), p.p)).tangent();
  }
};
// The derivative of a row as an elementwise operation of its own: its value is the row's
// partial (the reverse rule's, bit for bit), its derivative the row's second derivative (the
// partial evaluated on Dual<double>, Note [Generic rules]). The JVP of a row multiplies the
// tangent by it, recorded, so that a Hessian-vector product differentiates it: no rule is
// written a second time.
template <class F>
struct Derivative {
  static constexpr std::string_view name = "derivative";
  static double f(double x, const UnaryArgs& p) { return F::d(x, F::f(x, p), p); }
  static double d(double x, double, const UnaryArgs& p) { return F::dd(x, p); }
};
using Exp2 = FromScalar<detail::Exp2Fn>;
using Expm1 = FromScalar<detail::Expm1Fn>;
using Log2 = FromScalar<detail::Log2Fn>;
using Log10 = FromScalar<detail::Log10Fn>;
using Cbrt = FromScalar<detail::CbrtFn>;
using Sin = FromScalar<detail::SinFn>;
using Cos = FromScalar<detail::CosFn>;
using Tan = FromScalar<detail::TanFn>;
using Asin = FromScalar<detail::AsinFn>;
using Acos = FromScalar<detail::AcosFn>;
using Atan = FromScalar<detail::AtanFn>;
using Sinh = FromScalar<detail::SinhFn>;
using Cosh = FromScalar<detail::CoshFn>;
using Asinh = FromScalar<detail::AsinhFn>;
using Acosh = FromScalar<detail::AcoshFn>;
using Atanh = FromScalar<detail::AtanhFn>;
using Erf = FromScalar<detail::ErfFn>;
using Erfc = FromScalar<detail::ErfcFn>;
using Gelu = FromScalar<detail::GeluFn>;
using Silu = FromScalar<detail::SiluFn>;
using LeakyRelu = FromScalarWithNumber<detail::LeakyReluFn>;
using Elu = FromScalarWithNumber<detail::EluFn>;
using Neg = FromScalar<detail::NegFn>;
using Exp = FromScalar<detail::ExpFn>;
using Log = FromScalar<detail::LogFn>;
using Log1p = FromScalar<detail::Log1pFn>;
using Sqrt = FromScalar<detail::SqrtFn>;
using Abs = FromScalar<detail::AbsFn>;
using Tanh = FromScalar<detail::TanhFn>;
using Sigmoid = FromScalar<detail::SigmoidFn>;
using Relu = FromScalar<detail::ReluFn>;
using Softplus = FromScalar<detail::SoftplusFn>;
struct PowScalar {
  static constexpr const char* name = "pow";
  static double f(double x, const UnaryArgs& p) { return detail::PowNumberFn::value(x, p.p); }
  static double d(double x, double y, const UnaryArgs& p) {
    return detail::PowNumberFn::partial(x, y, p.p);
  }
};
struct Clamp {
  static constexpr const char* name = "clamp";
  static double f(double x, const UnaryArgs& p) { return std::clamp(x, p.p, p.q); }
  static double d(double x, double, const UnaryArgs& p) { return x >= p.p && x <= p.q ? 1.0 : 0.0; }
};

template <class F>
struct UnaryNode final : TensorNode {
  UnaryNode(TensorNode* x, UnaryArgs p) : x(x), p(p) {}
  std::string_view name() const noexcept override { return F::name; }
  void inputs(std::vector<std::uint32_t>& out) const override { out.push_back(x->statement); }
  void backward(const detail::Sweep& sweep) override {
    if (!written || !pushes(x, sweep)) return;
    const double* g = adjoint;
    const double* y = value;
    const double* xv = x->value;
    accumulate(x, shape.size(),
               [&](std::size_t i) { return detail::chain(g[i], F::d(xv[i], y[i], p)); });
  }
  TensorNode* x;
  UnaryArgs p;
};

template <class F>
TensorVar unary(const TensorVar& x, UnaryArgs p = {}) {
  TensorNode* xn = x.node();
  Tape& tape = Tape::active();
  auto [node, out] = make<UnaryNode<F>>(tape, xn->shape, needs(xn), nullptr, xn, p);
  const double* xv = xn->value;
  double* y = node->value;
  for (std::size_t i = 0, n = xn->shape.size(); i < n; ++i) y[i] = F::f(xv[i], p);
  return out;
}

// The JVP of a row's elementwise operation, y = F(x): ẏ = F′(x) ⊙ ẋ with F′ recorded
// (Derivative<F>), by the 0·∞ = 0 convention of times().
template <class F>
TensorDual row_jvp(const TensorDual& x, const TensorVar& y, UnaryArgs p = {}) {
  return with_tangent(y, map(tangent_of(x), [&](const TensorVar& t) {
                        return times(t, unary<Derivative<F>>(x.value(), p));
                      }));
}

// ---- Scalars and tensors ----

struct ElementNode final : detail::Node {
  ElementNode(TensorNode* x, std::size_t offset) : x(x), offset(offset) {}
  void reset_adjoint() noexcept override {}
  std::string_view name() const noexcept override { return "element"; }
  void inputs(std::vector<std::uint32_t>& out) const override { out.push_back(x->statement); }
  void backward(const detail::Sweep& sweep) override {
    const double a = sweep.adjoint[statement];
    if (sweep.consume) sweep.adjoint[statement] = 0.0;
    if (a != 0.0 && pushes(x, sweep)) x->zeroed_adjoint()[offset] += a;
  }
  TensorNode* x;
  std::size_t offset;
  std::uint32_t statement = 0;
};

struct FromScalarsNode final : TensorNode {
  explicit FromScalarsNode(std::uint32_t* indices) : indices(indices) {}
  std::string_view name() const noexcept override { return "tensor"; }
  void inputs(std::vector<std::uint32_t>& out) const override {
    for (std::size_t i = 0, n = shape.size(); i < n; ++i)
      if (indices[i] != 0) out.push_back(indices[i]);
  }
  void backward(const detail::Sweep& sweep) override {
    if (!written) return;
    for (std::size_t i = 0, n = shape.size(); i < n; ++i) {
      if (indices[i] >= sweep.floor) sweep.adjoint[indices[i]] += adjoint[i];
    }
  }
  std::uint32_t* indices;  // statement of each element (0 for constants: the unread slot 0)
};

}  // namespace

// ---- TensorVar ----

TensorNode* TensorVar::node() const { return node(Tape::active()); }

TensorNode* TensorVar::node(const Tape& tape) const {
  if (node_ == nullptr) {
    detail::fail("nabla::TensorVar",
                 "the handle is empty (got a default-constructed "
                 "TensorVar, expected one made by an operation)");
  }
  detail::TapeAccess::check_handle(tape, handle_, "nabla::TensorVar");
  return node_;
}

std::uint32_t TensorVar::index() const {
  if (node_ == nullptr) return 0;
  return detail::TapeAccess::check_handle(Tape::active(), handle_, "nabla::TensorVar");
}

Var TensorVar::element(std::span<const std::size_t> index) const {
  TensorNode* x = node();
  if (index.size() != x->shape.rank()) {
    detail::fail("nabla::TensorVar::element",
                 fmt::format("{} indices given for shape {} (expected {})", index.size(),
                             to_string(x->shape), x->shape.rank()));
  }
  std::size_t offset = 0;
  for (std::size_t k = 0; k < index.size(); ++k) {
    if (index[k] >= x->shape[k]) {
      detail::fail("nabla::TensorVar::element",
                   fmt::format("index [{}] is out of range for shape {}", fmt::join(index, ", "),
                               to_string(x->shape)));
    }
    offset = offset * x->shape[k] + index[k];
  }
  const double v = x->value[offset];
  if (!needs(x)) return Var(v);
  Tape& tape = Tape::active();
  const detail::Arena::Mark mark = detail::TapeAccess::arena(tape).mark();
  auto* node =
      new (detail::TapeAccess::arena(tape).allocate(sizeof(ElementNode))) ElementNode(x, offset);
  const Var out = detail::TapeAccess::push_node(tape, node, mark, v);
  node->statement = tape.position().statement - 1;
  return out;
}

Var TensorVar::item() const {
  const TensorNode* x = node();
  if (x->shape.size() != 1) {
    detail::fail("nabla::TensorVar::item",
                 fmt::format("the tensor has shape {} ({} elements; expected exactly one)",
                             to_string(x->shape), x->shape.size()));
  }
  std::array<std::size_t, Shape::max_rank> zeros{};
  return element(std::span<const std::size_t>(zeros.data(), x->shape.rank()));
}

Axes::Axes(std::initializer_list<std::ptrdiff_t> axes) {
  if (axes.size() == 0 || axes.size() > Shape::max_rank) {
    detail::fail("nabla::Axes", fmt::format("{} axes given (expected 1 to {}; use Axes() for "
                                            "all axes)",
                                            axes.size(), Shape::max_rank));
  }
  std::copy(axes.begin(), axes.end(), axes_);
  n_ = axes.size();
}

unsigned Axes::mask(std::size_t rank, const char* function) const {
  if (n_ == 0) return (1u << rank) - 1u;
  unsigned m = 0;
  for (std::size_t k = 0; k < n_; ++k) {
    const std::size_t a = normalise_axis(axes_[k], rank, function);
    if ((m >> a) & 1u) {
      detail::fail(function,
                   fmt::format("axis {} is given twice (expected distinct axes)", axes_[k]));
    }
    m |= 1u << a;
  }
  return m;
}

TensorVar variable(TensorView values) {
  (void)detail::view_values(values, "nabla::variable");
  Tape& tape = Tape::active();
  auto [node, out] = make<LeafNode>(tape, values.shape(), true, nullptr);
  std::copy_n(values.data(), values.size(), node->value);
  return out;
}

TensorVar constant(TensorView values) {
  (void)detail::view_values(values, "nabla::constant");
  Tape& tape = Tape::active();
  auto [node, out] = make<LeafNode>(tape, values.shape(), false, nullptr);
  std::copy_n(values.data(), values.size(), node->value);
  return out;
}

TensorVar tensor(std::span<const Var> values, const Shape& shape) {
  if (values.size() != shape.size()) {
    detail::fail("nabla::tensor", fmt::format("{} values given for shape {} (expected {})",
                                              values.size(), to_string(shape), shape.size()));
  }
  Tape& tape = Tape::active();
  bool grad = false;
  for (const Var& v : values) grad |= tape.index_of(v) != 0;  // also rejects stale Vars
  const detail::Arena::Mark mark = detail::TapeAccess::arena(tape).mark();
  auto* indices = allocate_array<std::uint32_t>(tape, values.size());
  for (std::size_t i = 0; i < values.size(); ++i) indices[i] = tape.index_of(values[i]);
  auto [node, out] = make_from<FromScalarsNode>(mark, tape, shape, grad, nullptr, indices);
  for (std::size_t i = 0; i < values.size(); ++i) node->value[i] = values[i].value();
  return out;
}

TensorVar label(const TensorVar& t, std::string name) {
  detail::TapeDiagnostics::label_statement(Tape::active(), t.node()->statement, std::move(name));
  return t;
}

TensorVar tensor(const Var& x) { return tensor(std::span<const Var>(&x, 1), Shape{}); }

TensorView adjoint(const TensorVar& t) {
  TensorNode* n = t.node();
  if (!needs(n)) {
    detail::fail("nabla::adjoint", fmt::format("the {} tensor of shape {} is a constant, which "
                                               "has no adjoint (expected a tensor made with "
                                               "nabla::variable or depending on one)",
                                               n->name(), to_string(n->shape)));
  }
  return {n->zeroed_adjoint(), n->shape};
}

void backward(const TensorVar& y) {
  TensorNode* n = y.node();
  if (n->shape.size() != 1) {
    detail::fail("nabla::backward", fmt::format("the output has shape {} ({} elements; expected "
                                                "one element: reduce it with sum or mean "
                                                "first)",
                                                to_string(n->shape), n->shape.size()));
  }
  detail::TapeAccess::backward_node(Tape::active(), n->statement, [n] {
    if (n->adjoint != nullptr) {
      n->adjoint[0] = 1.0;
      n->written = true;
    }
  });
}

// ---- Operators ----

TensorVar operator+(const TensorVar& a, const TensorVar& b) { return binary<Add>(a, b); }
TensorDual operator+(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = a.value() + b.value();
  return with_tangent(y, expand(add(tangent_of(a), tangent_of(b)), y.shape()));
}
TensorVar operator-(const TensorVar& a, const TensorVar& b) { return binary<Sub>(a, b); }
TensorDual operator-(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = a.value() - b.value();
  const Tangent ta = tangent_of(a), tb = tangent_of(b);
  const Tangent t = ta && tb ? Tangent(*ta - *tb) : tb ? Tangent(-*tb) : ta;
  return with_tangent(y, expand(t, y.shape()));
}
TensorVar operator*(const TensorVar& a, const TensorVar& b) { return binary<Mul>(a, b); }
TensorDual operator*(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = a.value() * b.value();
  return with_tangent(
      y, add(map(tangent_of(a), [&](const TensorVar& t) { return times(t, b.value()); }),
             map(tangent_of(b), [&](const TensorVar& t) { return times(t, a.value()); })));
}
TensorVar operator/(const TensorVar& a, const TensorVar& b) { return binary<Div>(a, b); }
TensorDual operator/(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = a.value() / b.value();
  // ȧ / b + ḃ ⊙ (−y / b): the reverse rule's partials, each term 0 where its tangent is
  return with_tangent(
      y, expand(add(map(tangent_of(a), [&](const TensorVar& t) { return over(t, b.value()); }),
                    map(tangent_of(b),
                        [&](const TensorVar& t) { return times(t, -(y / b.value())); })),
                y.shape()));
}
TensorVar operator-(const TensorVar& a) { return unary<Neg>(a); }
TensorDual operator-(const TensorDual& a) {
  return with_tangent(-a.value(), map(tangent_of(a), [](const TensorVar& t) { return -t; }));
}
// With a number or a Var, the tensor handle is checked before the other operand is recorded:
// a failed operation records nothing.
TensorVar operator+(const TensorVar& a, double b) { return binary<Add>(a, scalar_constant(b, a)); }
TensorDual operator+(const TensorDual& a, double c) {
  return with_tangent(a.value() + c, tangent_of(a));
}
TensorVar operator-(const TensorVar& a, double b) { return binary<Sub>(a, scalar_constant(b, a)); }
TensorDual operator-(const TensorDual& a, double c) {
  return with_tangent(a.value() - c, tangent_of(a));
}
TensorVar operator*(const TensorVar& a, double b) { return binary<Mul>(a, scalar_constant(b, a)); }
TensorDual operator*(const TensorDual& a, double c) {
  return with_tangent(a.value() * c,
                      map(tangent_of(a), [c](const TensorVar& t) { return times(t, c); }));
}
TensorVar operator/(const TensorVar& a, double b) { return binary<Div>(a, scalar_constant(b, a)); }
TensorDual operator/(const TensorDual& a, double c) {
  return with_tangent(a.value() / c,
                      map(tangent_of(a), [c](const TensorVar& t) { return over(t, c); }));
}
TensorVar operator+(double a, const TensorVar& b) { return binary<Add>(scalar_constant(a, b), b); }
TensorDual operator+(double c, const TensorDual& b) {
  return with_tangent(c + b.value(), tangent_of(b));
}
TensorVar operator-(double a, const TensorVar& b) { return binary<Sub>(scalar_constant(a, b), b); }
TensorDual operator-(double c, const TensorDual& b) {
  return with_tangent(c - b.value(), map(tangent_of(b), [](const TensorVar& t) { return -t; }));
}
TensorVar operator*(double a, const TensorVar& b) { return binary<Mul>(scalar_constant(a, b), b); }
TensorDual operator*(double c, const TensorDual& b) {
  return with_tangent(c * b.value(),
                      map(tangent_of(b), [c](const TensorVar& t) { return times(t, c); }));
}
TensorVar operator/(double a, const TensorVar& b) { return binary<Div>(scalar_constant(a, b), b); }
TensorDual operator/(double c, const TensorDual& b) {
  const TensorVar y = c / b.value();  // ẏ = ḃ ⊙ (−y / b)
  return with_tangent(
      y, map(tangent_of(b), [&](const TensorVar& t) { return times(t, -(y / b.value())); }));
}
TensorVar operator+(const TensorVar& a, const Var& b) {
  return binary<Add>(a, scalar_tensor(b, a));
}
// A scalar Var is a constant in the direction; its value is checked (and recorded) by the
// TensorVar operation's own mixed form, which also reports a bad tensor operand first.
TensorDual operator+(const TensorDual& a, const Var& s) {
  return with_tangent(a.value() + s, tangent_of(a));
}
// A scalar Dual<Var> is a 0-d TensorDual: the broadcasting rules above apply.
TensorDual operator+(const TensorDual& a, const Dual<Var>& s) { return a + scalar_dual(s); }
TensorVar operator-(const TensorVar& a, const Var& b) {
  return binary<Sub>(a, scalar_tensor(b, a));
}
TensorDual operator-(const TensorDual& a, const Var& s) {
  return with_tangent(a.value() - s, tangent_of(a));
}
TensorDual operator-(const TensorDual& a, const Dual<Var>& s) { return a - scalar_dual(s); }
TensorVar operator*(const TensorVar& a, const Var& b) {
  return binary<Mul>(a, scalar_tensor(b, a));
}
TensorDual operator*(const TensorDual& a, const Var& s) {
  return with_tangent(a.value() * s,
                      map(tangent_of(a), [&](const TensorVar& t) { return times(t, s); }));
}
TensorDual operator*(const TensorDual& a, const Dual<Var>& s) { return a * scalar_dual(s); }
TensorVar operator/(const TensorVar& a, const Var& b) {
  return binary<Div>(a, scalar_tensor(b, a));
}
TensorDual operator/(const TensorDual& a, const Var& s) {
  return with_tangent(a.value() / s,
                      map(tangent_of(a), [&](const TensorVar& t) { return over(t, s); }));
}
TensorDual operator/(const TensorDual& a, const Dual<Var>& s) { return a / scalar_dual(s); }
TensorVar operator+(const Var& a, const TensorVar& b) {
  return binary<Add>(scalar_tensor(a, b), b);
}
TensorDual operator+(const Var& s, const TensorDual& b) {
  return with_tangent(s + b.value(), tangent_of(b));
}
TensorDual operator+(const Dual<Var>& s, const TensorDual& b) { return scalar_dual(s) + b; }
TensorVar operator-(const Var& a, const TensorVar& b) {
  return binary<Sub>(scalar_tensor(a, b), b);
}
TensorDual operator-(const Var& s, const TensorDual& b) {
  return with_tangent(s - b.value(), map(tangent_of(b), [](const TensorVar& t) { return -t; }));
}
TensorDual operator-(const Dual<Var>& s, const TensorDual& b) { return scalar_dual(s) - b; }
TensorVar operator*(const Var& a, const TensorVar& b) {
  return binary<Mul>(scalar_tensor(a, b), b);
}
TensorDual operator*(const Var& s, const TensorDual& b) {
  return with_tangent(s * b.value(),
                      map(tangent_of(b), [&](const TensorVar& t) { return times(t, s); }));
}
TensorDual operator*(const Dual<Var>& s, const TensorDual& b) { return scalar_dual(s) * b; }
TensorVar operator/(const Var& a, const TensorVar& b) {
  return binary<Div>(scalar_tensor(a, b), b);
}
TensorDual operator/(const Var& s, const TensorDual& b) {
  const TensorVar y = s / b.value();
  return with_tangent(
      y, map(tangent_of(b), [&](const TensorVar& t) { return times(t, -(y / b.value())); }));
}
TensorDual operator/(const Dual<Var>& s, const TensorDual& b) { return scalar_dual(s) / b; }

TensorVar pow(const TensorVar& a, const TensorVar& b) { return binary<Pow>(a, b); }
TensorDual pow(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = pow(a.value(), b.value());  // ẏ = b a^(b−1) ȧ + y ln a ḃ
  const Tangent ta = tangent_of(a), tb = tangent_of(b);
  if (!ta && !tb) return TensorDual(y);
  // The reverse rule's partials (detail::PowFn): ∂a is 0 where b = 0; ∂b is 0 where a = 0 and
  // b > 0, NaN where a ≤ 0 otherwise.
  const std::vector<double> av = broadcast_values(a.value(), y.shape()),
                            bv = broadcast_values(b.value(), y.shape());
  std::vector<char> fix(y.size());
  std::vector<double> with(y.size(), 0.0);
  Tangent t;
  if (ta) {
    for (std::size_t i = 0; i < fix.size(); ++i) fix[i] = bv[i] == 0.0 ? 1 : 0;
    t = times(*ta, replace(b.value() * pow(a.value(), b.value() - 1.0), fix, with));
  }
  if (tb) {
    for (std::size_t i = 0; i < fix.size(); ++i) {
      fix[i] = av[i] > 0.0 ? 0 : 1;
      with[i] = av[i] == 0.0 && bv[i] > 0.0 ? 0.0 : std::numeric_limits<double>::quiet_NaN();
    }
    t = add(t, times(*tb, replace(y * log(a.value()), fix, with)));
  }
  return with_tangent(y, expand(t, y.shape()));
}
TensorVar pow(const TensorVar& a, double p) { return unary<PowScalar>(a, {p, 0}); }
TensorDual pow(const TensorDual& a, double p) {
  const TensorVar y = pow(a.value(), p);
  if (p == 0) return TensorDual(y);  // the reverse rule's 0 at p = 0 (also where a = 0)
  return with_tangent(y, map(tangent_of(a), [&](const TensorVar& t) {
                        return times(t, p * pow(a.value(), p - 1.0));
                      }));
}
TensorVar neg(const TensorVar& x) { return unary<Neg>(x); }
TensorDual neg(const TensorDual& x) { return -x; }
TensorVar exp(const TensorVar& x) { return unary<Exp>(x); }
TensorDual exp(const TensorDual& x) {
  const TensorVar y = exp(x.value());
  return with_tangent(y, map(tangent_of(x), [&](const TensorVar& t) { return times(t, y); }));
}
TensorVar log(const TensorVar& x) { return unary<Log>(x); }
TensorDual log(const TensorDual& x) {
  return with_tangent(log(x.value()),
                      map(tangent_of(x), [&](const TensorVar& t) { return over(t, x.value()); }));
}
TensorVar log1p(const TensorVar& x) { return unary<Log1p>(x); }
TensorDual log1p(const TensorDual& x) {
  return with_tangent(log1p(x.value()), map(tangent_of(x), [&](const TensorVar& t) {
                        return over(t, 1.0 + x.value());
                      }));
}
TensorVar sqrt(const TensorVar& x) { return unary<Sqrt>(x); }
TensorDual sqrt(const TensorDual& x) {
  const TensorVar y = sqrt(x.value());
  return with_tangent(y, map(tangent_of(x), [&](const TensorVar& t) { return over(t, 2.0 * y); }));
}
TensorVar abs(const TensorVar& x) { return unary<Abs>(x); }
TensorDual abs(const TensorDual& x) {
  return with_tangent(abs(x.value()), map(tangent_of(x), [&](const TensorVar& t) {
                        return times(t, derivative_mask(x.value(), [](double v) {
                                       return detail::AbsFn::partial(v, v);
                                     }));
                      }));
}
TensorVar tanh(const TensorVar& x) { return unary<Tanh>(x); }
TensorDual tanh(const TensorDual& x) {
  // 1 − tanh² x = 4σ(2x)σ(−2x): exact in the tails, where 1 − y² rounds to 0.
  return with_tangent(tanh(x.value()), map(tangent_of(x), [&](const TensorVar& t) {
                        return times(t, 4.0 * sigmoid(2.0 * x.value()) * sigmoid(-2.0 * x.value()));
                      }));
}
TensorVar sigmoid(const TensorVar& x) { return unary<Sigmoid>(x); }
TensorDual sigmoid(const TensorDual& x) {
  const TensorVar y = sigmoid(x.value());
  return with_tangent(
      y, map(tangent_of(x), [&](const TensorVar& t) { return times(t, y * sigmoid(-x.value())); }));
}
TensorVar relu(const TensorVar& x) { return unary<Relu>(x); }
TensorDual relu(const TensorDual& x) {
  return with_tangent(relu(x.value()), map(tangent_of(x), [&](const TensorVar& t) {
                        return times(t, derivative_mask(x.value(), [](double v) {
                                       return detail::ReluFn::partial(v, v);
                                     }));
                      }));
}
TensorVar softplus(const TensorVar& x) { return unary<Softplus>(x); }
TensorDual softplus(const TensorDual& x) {
  return with_tangent(softplus(x.value()), map(tangent_of(x), [&](const TensorVar& t) {
                        return times(t, sigmoid(x.value()));
                      }));
}
// The rows of the rule table without a formula of their own here: value and derivative from
// the row (FromScalar), the JVP from the row's partial (row_jvp).
TensorVar exp2(const TensorVar& x) { return unary<Exp2>(x); }
TensorDual exp2(const TensorDual& x) { return row_jvp<Exp2>(x, exp2(x.value())); }
TensorVar expm1(const TensorVar& x) { return unary<Expm1>(x); }
TensorDual expm1(const TensorDual& x) { return row_jvp<Expm1>(x, expm1(x.value())); }
TensorVar log2(const TensorVar& x) { return unary<Log2>(x); }
TensorDual log2(const TensorDual& x) { return row_jvp<Log2>(x, log2(x.value())); }
TensorVar log10(const TensorVar& x) { return unary<Log10>(x); }
TensorDual log10(const TensorDual& x) { return row_jvp<Log10>(x, log10(x.value())); }
TensorVar cbrt(const TensorVar& x) { return unary<Cbrt>(x); }
TensorDual cbrt(const TensorDual& x) { return row_jvp<Cbrt>(x, cbrt(x.value())); }
TensorVar sin(const TensorVar& x) { return unary<Sin>(x); }
TensorDual sin(const TensorDual& x) { return row_jvp<Sin>(x, sin(x.value())); }
TensorVar cos(const TensorVar& x) { return unary<Cos>(x); }
TensorDual cos(const TensorDual& x) { return row_jvp<Cos>(x, cos(x.value())); }
TensorVar tan(const TensorVar& x) { return unary<Tan>(x); }
TensorDual tan(const TensorDual& x) { return row_jvp<Tan>(x, tan(x.value())); }
TensorVar asin(const TensorVar& x) { return unary<Asin>(x); }
TensorDual asin(const TensorDual& x) { return row_jvp<Asin>(x, asin(x.value())); }
TensorVar acos(const TensorVar& x) { return unary<Acos>(x); }
TensorDual acos(const TensorDual& x) { return row_jvp<Acos>(x, acos(x.value())); }
TensorVar atan(const TensorVar& x) { return unary<Atan>(x); }
TensorDual atan(const TensorDual& x) { return row_jvp<Atan>(x, atan(x.value())); }
TensorVar sinh(const TensorVar& x) { return unary<Sinh>(x); }
TensorDual sinh(const TensorDual& x) { return row_jvp<Sinh>(x, sinh(x.value())); }
TensorVar cosh(const TensorVar& x) { return unary<Cosh>(x); }
TensorDual cosh(const TensorDual& x) { return row_jvp<Cosh>(x, cosh(x.value())); }
TensorVar asinh(const TensorVar& x) { return unary<Asinh>(x); }
TensorDual asinh(const TensorDual& x) { return row_jvp<Asinh>(x, asinh(x.value())); }
TensorVar acosh(const TensorVar& x) { return unary<Acosh>(x); }
TensorDual acosh(const TensorDual& x) { return row_jvp<Acosh>(x, acosh(x.value())); }
TensorVar atanh(const TensorVar& x) { return unary<Atanh>(x); }
TensorDual atanh(const TensorDual& x) { return row_jvp<Atanh>(x, atanh(x.value())); }
TensorVar erf(const TensorVar& x) { return unary<Erf>(x); }
TensorDual erf(const TensorDual& x) { return row_jvp<Erf>(x, erf(x.value())); }
TensorVar erfc(const TensorVar& x) { return unary<Erfc>(x); }
TensorDual erfc(const TensorDual& x) { return row_jvp<Erfc>(x, erfc(x.value())); }
TensorVar gelu(const TensorVar& x) { return unary<Gelu>(x); }
TensorDual gelu(const TensorDual& x) { return row_jvp<Gelu>(x, gelu(x.value())); }
TensorVar silu(const TensorVar& x) { return unary<Silu>(x); }
TensorDual silu(const TensorDual& x) { return row_jvp<Silu>(x, silu(x.value())); }
TensorVar leaky_relu(const TensorVar& x, double negative_slope) {
  detail::LeakyReluFn::check(negative_slope);
  return unary<LeakyRelu>(x, {negative_slope, 0});
}
TensorDual leaky_relu(const TensorDual& x, double negative_slope) {
  return row_jvp<LeakyRelu>(x, leaky_relu(x.value(), negative_slope), {negative_slope, 0});
}
TensorVar elu(const TensorVar& x, double alpha) {
  detail::EluFn::check(alpha);
  return unary<Elu>(x, {alpha, 0});
}
TensorDual elu(const TensorDual& x, double alpha) {
  return row_jvp<Elu>(x, elu(x.value(), alpha), {alpha, 0});
}
TensorVar clamp(const TensorVar& x, double lo, double hi) {
  if (!(lo <= hi)) {
    detail::fail("nabla::clamp",
                 fmt::format("lo = {} is above hi = {} (expected lo <= hi)", lo, hi));
  }
  return unary<Clamp>(x, {lo, hi});
}
TensorDual clamp(const TensorDual& x, double lo, double hi) {
  const TensorVar y = clamp(x.value(), lo, hi);  // checks lo <= hi
  return with_tangent(y, map(tangent_of(x), [&](const TensorVar& t) {
                        // the reverse rule's derivative (Clamp::d in tensor_var.cpp): 1 on [lo, hi]
                        return times(t, derivative_mask(x.value(), [lo, hi](double v) {
                                       return v >= lo && v <= hi ? 1.0 : 0.0;
                                     }));
                      }));
}

}  // namespace nabla

namespace nabla {

namespace {
// A parameter of an nn::Parameters set: holds a share of the set's buffers (Note [Parameter
// lifetime] in nn.cpp); the tape's drop runs the destructor, which gives the share back.
struct SharedLeafNode final : TensorNode {
  explicit SharedLeafNode(std::shared_ptr<const void> owner) : owner(std::move(owner)) {}
  std::string_view name() const noexcept override { return "parameter"; }
  void inputs(std::vector<std::uint32_t>&) const override {}
  void backward(const detail::Sweep&) override {}
  std::shared_ptr<const void> owner;
};
}  // namespace

TensorVar detail::shared_parameter(MutableTensorView value, MutableTensorView gradient,
                                   std::shared_ptr<const void> owner) {
  Tape& tape = Tape::active();
  auto [node, out] =
      make<SharedLeafNode>(tape, value.shape(), false, value.data(), std::move(owner));
  if (!grad_enabled()) return out;  // a constant (Note [Inference mode])
  node->adjoint = gradient.data();
  node->external = true;
  node->written = true;
  return out;
}

TensorVar parameter(MutableTensorView value, MutableTensorView gradient) {
  if (!(value.shape() == gradient.shape())) {
    detail::fail("nabla::parameter",
                 fmt::format("value has shape {} and gradient {} (expected "
                             "equal shapes)",
                             to_string(value.shape()), to_string(gradient.shape())));
  }
  (void)detail::view_values(value, "nabla::parameter");
  (void)detail::view_values(gradient, "nabla::parameter");
  Tape& tape = Tape::active();
  auto [node, out] = make<LeafNode>(tape, value.shape(), false, value.data());
  if (!grad_enabled()) return out;  // a constant (Note [Inference mode])
  node->adjoint = gradient.data();
  node->external = true;
  node->written = true;
  return out;
}

TensorVar constant_rows(TensorView data, std::span<const std::size_t> rows) {
  if (data.rank() == 0) {
    detail::fail("nabla::constant_rows", "the data is a scalar (expected rank 1 or more)");
  }
  (void)detail::view_values(data, "nabla::constant_rows");
  const std::size_t n = data.shape()[0];
  const std::size_t row = n == 0 ? 0 : data.size() / n;
  for (std::size_t j = 0; j < rows.size(); ++j) {
    if (rows[j] >= n) {
      detail::fail("nabla::constant_rows",
                   fmt::format("row {} (position {}) is out of range for data of shape {} "
                               "(expected rows below {})",
                               rows[j], j, to_string(data.shape()), n));
    }
  }
  std::array<std::size_t, Shape::max_rank> dims{};
  std::copy(data.shape().begin(), data.shape().end(), dims.begin());
  dims[0] = rows.size();
  Tape& tape = Tape::active();
  auto [node, out] = make<LeafNode>(
      tape, Shape(std::span<const std::size_t>(dims.data(), data.rank())), false, nullptr);
  for (std::size_t j = 0; j < rows.size(); ++j)
    std::copy_n(data.data() + rows[j] * row, row, node->value + j * row);
  return out;
}

}  // namespace nabla

namespace nabla::detail {

namespace {
ValueAndGradient read_gradient(const TensorVar& x, double value) {
  ValueAndGradient r;
  r.value = value;
  const TensorView g = nabla::adjoint(x);
  r.gradient.assign(g.data(), g.data() + g.size());
  return r;
}
}  // namespace

ValueAndGradient tensor_gradient(const TensorVar& x, const TensorVar& y, Position from) {
  TensorNode* n = y.node();
  if (n->shape.size() != 1) {
    detail::fail("nabla::value_and_gradient",
                 fmt::format("f returned a tensor of shape {} ({} elements; expected one "
                             "element: reduce it with sum or mean first)",
                             to_string(n->shape), n->shape.size()));
  }
  if (n->statement < from.statement) {  // recorded before x (f returned an outer tensor): 0
    x.node()->reset_adjoint();          // and the outer node's adjoint is not the helper's
    return read_gradient(x, n->value[0]);
  }
  detail::TapeAccess::gradient_node(Tape::active(), n->statement, from, 1, [n] {
    if (n->adjoint != nullptr) {
      n->adjoint[0] = 1.0;
      n->written = true;
    }
  });
  return read_gradient(x, n->value[0]);
}

ValueAndGradient tensor_gradient(const TensorVar& x, const Var& y, Position from) {
  Tape& tape = Tape::active();
  const std::uint32_t iy = tape.index_of(y);
  if (iy <= from.statement) {  // y does not depend on x: every derivative is 0
    x.node()->reset_adjoint();
    return read_gradient(x, y.value());
  }
  detail::TapeAccess::gradient_node(
      tape, iy, from, 1, [&tape, iy] { detail::TapeAccess::adjoint_data(tape)[iy] = 1.0; });
  return read_gradient(x, y.value());
}

}  // namespace nabla::detail

namespace nabla {
TensorVar constant_view(TensorView values) {
  (void)detail::view_values(values, "nabla::constant_view");
  Tape& tape = Tape::active();
  // Leaves never write their value: the const_cast only lets the node type hold the pointer.
  return make<LeafNode>(tape, values.shape(), false, const_cast<double*>(values.data())).second;
}
}  // namespace nabla
