// Tensor nodes for linear algebra and shape changes: forward next to backward.
// Each operation's forward-mode (JVP) rule on TensorDual follows its TensorVar function.
#include <Eigen/Core>
#include <cmath>
#include <numeric>

#include "tensor_dual_rules.hpp"
#include "tensor_nodes.hpp"

namespace nabla {

using namespace detail::forward;  // the JVP rules' helpers

using detail::TensorNode;
using namespace detail::tensor;

namespace {

using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Map = Eigen::Map<Matrix, Eigen::Unaligned>;
using ConstMap = Eigen::Map<const Matrix, Eigen::Unaligned>;

// ---- matmul ----

// [batch…, M, K] × [batch…, K, N] (or × [K, N]) as `batches` products of M×K by K×N.
struct MatmulNode final : TensorNode {
  MatmulNode(TensorNode* a, TensorNode* b, std::size_t batches, std::size_t m, std::size_t k,
             std::size_t n, bool shared_b)
      : a(a), b(b), batches(batches), m(m), k(k), n(n), shared_b(shared_b) {}
  std::string_view name() const noexcept override { return "matmul"; }
  void inputs(std::vector<std::uint32_t>& out) const override {
    out.push_back(a->statement);
    out.push_back(b->statement);
  }

  static void forward(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
                      std::size_t n) {
    Map(c, static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(n)).noalias() =
        ConstMap(a, static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(k)) *
        ConstMap(b, static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(n));
  }

  // out = or += the product of an adjoint and a factor when that has ±∞ or NaN entries: plain
  // arithmetic (`product`, or entry by entry plain(r, c) when adding, which needs no
  // temporary), then each entry that came out NaN again as chained(r, c): Σ chain(adjoint,
  // factor) over the inner dimension, where a zero adjoint pushes nothing even against an
  // infinite or NaN factor. An entry that is not NaN met no such product: it is already right.
  template <class Product, class Plain, class Chained>
  static void store_chained(Map out, bool assign, const Product& product, Plain plain,
                            Chained chained) {
    if (assign) out.noalias() = product;
    for (Eigen::Index r = 0; r < out.rows(); ++r) {
      for (Eigen::Index c = 0; c < out.cols(); ++c) {
        if (assign) {
          if (std::isnan(out(r, c))) out(r, c) = chained(r, c);
        } else {
          const double d = plain(r, c);
          out(r, c) += std::isnan(d) ? chained(r, c) : d;
        }
      }
    }
  }

  void backward(const detail::Sweep& sweep) override {
    if (!written) return;
    const auto M = static_cast<Eigen::Index>(m), K = static_cast<Eigen::Index>(k),
               N = static_cast<Eigen::Index>(n);
    // A shared right factor: the batch is one product of (batches·M)×K by K×N.
    const std::size_t count = shared_b ? 1 : batches;
    const Eigen::Index rows = shared_b ? static_cast<Eigen::Index>(batches) * M : M;
    // A ±∞ or NaN entry of A or B makes a whole row or column of C = A·B infinite or NaN. So
    // with C finite, the plain products are the chain rule's: no zero entry of the adjoint
    // meets an infinite or NaN factor (0·∞ = 0 and 0·NaN = 0 by detail::chain, not NaN).
    // Σ 0·cᵢ is 0 when C is finite, NaN otherwise: one vectorised pass (allFinite() is not).
    const bool plain = !std::isnan(
        (Eigen::Map<const Eigen::ArrayXd>(value, static_cast<Eigen::Index>(shape.size())) * 0.0)
            .sum());
    if (pushes(a, sweep)) {  // dA = dC · Bᵀ
      bool assign = false;
      double* ga = a->take_adjoint(assign);
      for (std::size_t t = 0; t < count; ++t) {
        Map gA(ga + t * static_cast<std::size_t>(rows * K), rows, K);
        ConstMap gC(adjoint + t * static_cast<std::size_t>(rows * N), rows, N);
        ConstMap B(b->value + t * k * n, K, N);
        if (plain) [[likely]] {
          if (assign)
            gA.noalias() = gC * B.transpose();
          else
            gA.noalias() += gC * B.transpose();
        } else {
          store_chained(
              gA, assign, gC * B.transpose(),
              [&](Eigen::Index i, Eigen::Index j) { return gC.row(i).dot(B.row(j)); },
              [&](Eigen::Index i, Eigen::Index j) {
                double s = 0;
                for (Eigen::Index c = 0; c < N; ++c) s += detail::chain(gC(i, c), B(j, c));
                return s;
              });
        }
      }
    }
    if (pushes(b, sweep)) {  // dB = Aᵀ · dC
      bool assign = false;
      double* gb = b->take_adjoint(assign);
      for (std::size_t t = 0; t < count; ++t) {
        Map gB(gb + t * k * n, K, N);
        ConstMap A(a->value + t * static_cast<std::size_t>(rows * K), rows, K);
        ConstMap gC(adjoint + t * static_cast<std::size_t>(rows * N), rows, N);
        if (plain) [[likely]] {
          if (assign)
            gB.noalias() = A.transpose() * gC;
          else
            gB.noalias() += A.transpose() * gC;
        } else {
          store_chained(
              gB, assign, A.transpose() * gC,
              [&](Eigen::Index i, Eigen::Index j) { return A.col(i).dot(gC.col(j)); },
              [&](Eigen::Index i, Eigen::Index j) {
                double s = 0;
                for (Eigen::Index r = 0; r < rows; ++r) s += detail::chain(gC(r, j), A(r, i));
                return s;
              });
        }
      }
    }
  }
  TensorNode* a;
  TensorNode* b;
  std::size_t batches, m, k, n;
  bool shared_b;
};

// ---- Copies through an index map (permute, slice, index_select, concat) ----

// out[i] = x[map[i]]; backward scatters: gx[map[i]] += g[i].
struct GatherNode final : TensorNode {
  GatherNode(TensorNode* x, const std::size_t* map, const char* op) : x(x), map(map), op(op) {}
  std::string_view name() const noexcept override { return op; }
  void inputs(std::vector<std::uint32_t>& out) const override { out.push_back(x->statement); }
  void backward(const detail::Sweep& sweep) override {
    if (!written || !pushes(x, sweep)) return;
    double* gx = x->zeroed_adjoint();
    for (std::size_t i = 0, size = shape.size(); i < size; ++i) gx[map[i]] += adjoint[i];
  }
  TensorNode* x;
  const std::size_t* map;
  const char* op;
};

// Builds the gather node for out = x[map[i]] once the caller has filled `map` (in the arena,
// allocated after `mark`).
TensorVar gather(detail::Arena::Mark mark, Tape& tape, TensorNode* x, const Shape& shape,
                 const std::size_t* map, const char* op) {
  auto [node, out] = make_from<GatherNode>(mark, tape, shape, needs(x), nullptr, x, map, op);
  for (std::size_t i = 0, size = shape.size(); i < size; ++i) node->value[i] = x->value[map[i]];
  return out;
}

// The value aliases x's; the adjoint is x's adjoint in another shape.
struct ReshapeNode final : TensorNode {
  explicit ReshapeNode(TensorNode* x) : x(x) {}
  std::string_view name() const noexcept override { return "reshape"; }
  void inputs(std::vector<std::uint32_t>& out) const override { out.push_back(x->statement); }
  void backward(const detail::Sweep& sweep) override {
    if (!written || !pushes(x, sweep)) return;
    const double* g = adjoint;
    accumulate(x, shape.size(), [g](std::size_t i) { return g[i]; });
  }
  TensorNode* x;
};

struct ConcatNode final : TensorNode {
  ConcatNode(TensorNode** xs, std::size_t count, std::size_t outer, std::size_t inner)
      : xs(xs), count(count), outer(outer), inner(inner) {}
  std::string_view name() const noexcept override { return "concat"; }
  void inputs(std::vector<std::uint32_t>& out) const override {
    for (std::size_t j = 0; j < count; ++j) out.push_back(xs[j]->statement);
  }
  // Part j of each outer row is xs[j]'s block of dim_j · inner values.
  template <class F>
  void each_block(F&& f) const {
    const std::size_t row = shape.size() / std::max<std::size_t>(outer, 1);
    for (std::size_t o = 0; o < outer; ++o) {
      std::size_t at = o * row;
      for (std::size_t j = 0; j < count; ++j) {
        const std::size_t len = xs[j]->shape.size() / outer;
        f(j, o * len, at, len);
        at += len;
      }
    }
  }
  void backward(const detail::Sweep& sweep) override {
    if (!written) return;
    for (std::size_t j = 0; j < count; ++j) {
      if (pushes(xs[j], sweep)) xs[j]->zeroed_adjoint();
    }
    each_block([&](std::size_t j, std::size_t from, std::size_t at, std::size_t len) {
      if (!pushes(xs[j], sweep)) return;
      double* g = xs[j]->adjoint + from;
      for (std::size_t i = 0; i < len; ++i) g[i] += adjoint[at + i];
    });
  }
  TensorNode** xs;
  std::size_t count, outer, inner;
};

}  // namespace

TensorVar matmul(const TensorVar& a, const TensorVar& b) {
  TensorNode* an = a.node();
  TensorNode* bn = b.node();
  const Shape& sa = an->shape;
  const Shape& sb = bn->shape;
  const auto mismatch = [&](const char* what) {
    detail::fail("nabla::matmul", fmt::format("shapes {} and {} do not fit: {} (expected [M, K] "
                                              "x [K, N], [..., M, K] x [..., K, N] or "
                                              "[..., M, K] x [K, N])",
                                              to_string(sa), to_string(sb), what));
  };
  if (sa.rank() < 2 || sb.rank() < 2) mismatch("both need rank 2 or more");
  const std::size_t m = sa[sa.rank() - 2], k = sa[sa.rank() - 1];
  const std::size_t k2 = sb[sb.rank() - 2], n = sb[sb.rank() - 1];
  if (k != k2) mismatch("the inner dimensions differ");
  const bool shared_b = sb.rank() == 2;
  if (!shared_b && (sa.rank() != sb.rank() || !std::equal(sa.begin(), sa.end() - 2, sb.begin()))) {
    mismatch("the batch dimensions differ");
  }
  std::array<std::size_t, Shape::max_rank> dims{};
  std::copy(sa.begin(), sa.end(), dims.begin());
  dims[sa.rank() - 1] = n;
  const Shape shape(std::span<const std::size_t>(dims.data(), sa.rank()));
  std::size_t batches = 1;
  for (std::size_t d = 0; d + 2 < sa.rank(); ++d) batches *= sa[d];
  Tape& tape = Tape::active();
  auto [node, out] = make<MatmulNode>(tape, shape, needs(an) || needs(bn), nullptr, an, bn, batches,
                                      m, k, n, shared_b);
  if (k == 0) {
    std::fill_n(node->value, shape.size(), 0.0);  // an empty sum: [M, 0] x [0, N] is all zeros
  } else if (shape.size() > 0) {
    if (shared_b) {
      MatmulNode::forward(an->value, bn->value, node->value, node->batches * m, k, n);
    } else {
      for (std::size_t t = 0; t < node->batches; ++t) {
        MatmulNode::forward(an->value + t * m * k, bn->value + t * k * n, node->value + t * m * n,
                            m, k, n);
      }
    }
  }
  return out;
}
namespace {
// matmul(t, p) (t_left) or matmul(p, t) by the convention of chained(): a 0 in the tangent
// times an infinite factor adds 0, not NaN. Computed as a matmul; only when that has a NaN, again
// as a sum of chained products over the inner dimension ([…, M, K, 1] ⊙ […, 1, K, N]).
TensorVar chained_matmul(const TensorVar& t, const TensorVar& p, bool t_left) {
  const TensorVar& l = t_left ? t : p;
  const TensorVar& r = t_left ? p : t;
  const TensorVar y = matmul(l, r);
  const TensorView yv = y.value();
  if (std::none_of(yv.data(), yv.data() + yv.size(), [](double v) { return std::isnan(v); }) ||
      l.rank() + 1 > Shape::max_rank) {
    return y;
  }
  std::array<std::size_t, Shape::max_rank> dims{};
  std::copy(l.shape().begin(), l.shape().end(), dims.begin());
  dims[l.rank()] = 1;
  const TensorVar lk = reshape(l, Shape(std::span<const std::size_t>(dims.data(), l.rank() + 1)));
  const std::size_t rr = r.rank();  // […, K, N] as […, 1, K, N]
  std::copy(r.shape().begin(), r.shape().end() - 2, dims.begin());
  dims[rr - 2] = 1;
  dims[rr - 1] = r.shape()[rr - 2];
  dims[rr] = r.shape()[rr - 1];
  const TensorVar rk = reshape(r, Shape(std::span<const std::size_t>(dims.data(), r.rank() + 1)));
  return sum(t_left ? times(lk, rk) : times(rk, lk), Axes(-2));
}
}  // namespace
TensorDual matmul(const TensorDual& a, const TensorDual& b) {
  const TensorVar y = matmul(a.value(), b.value());
  return with_tangent(
      y, add(map(tangent_of(a),
                 [&](const TensorVar& t) { return chained_matmul(t, b.value(), true); }),
             map(tangent_of(b),
                 [&](const TensorVar& t) { return chained_matmul(t, a.value(), false); })));
}

TensorVar permute(const TensorVar& x, std::span<const std::size_t> axes) {
  TensorNode* xn = x.node();
  const Shape& s = xn->shape;
  const std::size_t r = s.rank();
  unsigned seen = 0;
  bool ok = axes.size() == r;
  for (std::size_t k = 0; ok && k < r; ++k) {
    ok = axes[k] < r && !((seen >> axes[k]) & 1u);
    if (ok) seen |= 1u << axes[k];
  }
  if (!ok) {
    detail::fail("nabla::permute", fmt::format("axes [{}] are not a permutation of the {} axes "
                                               "of shape {}",
                                               fmt::join(axes, ", "), r, to_string(s)));
  }
  Strides in{};
  for (std::size_t k = r, stride = 1; k-- > 0;) {
    in[k] = stride;
    stride *= s[k];
  }
  std::array<std::size_t, Shape::max_rank> dims{};
  Strides st{}, none{};
  for (std::size_t k = 0; k < r; ++k) {
    dims[k] = s[axes[k]];
    st[k] = in[axes[k]];
  }
  const Shape shape(std::span<const std::size_t>(dims.data(), r));
  Tape& tape = Tape::active();
  const detail::Arena::Mark mark = detail::TapeAccess::arena(tape).mark();
  auto* map = allocate_array<std::size_t>(tape, shape.size());
  each_row(
      shape, st, none,
      [&](std::size_t o, std::size_t ia, std::size_t, std::size_t n, std::size_t sa, std::size_t) {
        for (std::size_t i = 0; i < n; ++i) map[o + i] = ia + i * sa;
      });
  return gather(mark, tape, xn, shape, map, "permute");
}
TensorDual permute(const TensorDual& x, std::span<const std::size_t> axes) {
  return with_tangent(permute(x.value(), axes),
                      map(tangent_of(x), [&](const TensorVar& t) { return permute(t, axes); }));
}

TensorVar transpose(const TensorVar& x) {
  const std::size_t r = x.rank();
  if (r < 2) {
    detail::fail("nabla::transpose", fmt::format("shape {} has rank {} (expected rank 2 or "
                                                 "more: the last two axes are swapped)",
                                                 to_string(x.shape()), r));
  }
  std::array<std::size_t, Shape::max_rank> axes{};
  std::iota(axes.begin(), axes.begin() + static_cast<std::ptrdiff_t>(r), std::size_t{0});
  std::swap(axes[r - 1], axes[r - 2]);
  return permute(x, std::span<const std::size_t>(axes.data(), r));
}
TensorDual transpose(const TensorDual& x) {
  return with_tangent(transpose(x.value()),
                      map(tangent_of(x), [](const TensorVar& t) { return transpose(t); }));
}

TensorVar reshape(const TensorVar& x, const Shape& shape) {
  TensorNode* xn = x.node();
  if (shape.size() != xn->shape.size()) {
    detail::fail("nabla::reshape", fmt::format("cannot reshape {} ({} elements) to {} ({} "
                                               "elements); expected the same number of "
                                               "elements",
                                               to_string(xn->shape), xn->shape.size(),
                                               to_string(shape), shape.size()));
  }
  Tape& tape = Tape::active();
  return make<ReshapeNode>(tape, shape, needs(xn), xn->value, xn).second;
}
TensorDual reshape(const TensorDual& x, const Shape& shape) {
  return with_tangent(reshape(x.value(), shape),
                      map(tangent_of(x), [&](const TensorVar& t) { return reshape(t, shape); }));
}

namespace {
// outer × dim × inner view of a shape around `axis`.
struct AxisView {
  std::size_t outer = 1, dim = 1, inner = 1;
  AxisView(const Shape& s, std::size_t axis) {
    for (std::size_t k = 0; k < axis; ++k) outer *= s[k];
    dim = s[axis];
    for (std::size_t k = axis + 1; k < s.rank(); ++k) inner *= s[k];
  }
};

Shape with_dim(const Shape& s, std::size_t axis, std::size_t dim) {
  std::array<std::size_t, Shape::max_rank> dims{};
  std::copy(s.begin(), s.end(), dims.begin());
  dims[axis] = dim;
  return Shape(std::span<const std::size_t>(dims.data(), s.rank()));
}
}  // namespace

TensorVar slice(const TensorVar& x, std::ptrdiff_t axis, std::size_t begin, std::size_t end) {
  TensorNode* xn = x.node();
  const std::size_t a = normalise_axis(axis, xn->shape.rank(), "nabla::slice");
  const AxisView v(xn->shape, a);
  if (begin > end || end > v.dim) {
    detail::fail("nabla::slice", fmt::format("range [{}, {}) does not fit axis {} of shape {} "
                                             "(expected begin <= end <= {})",
                                             begin, end, axis, to_string(xn->shape), v.dim));
  }
  const Shape shape = with_dim(xn->shape, a, end - begin);
  Tape& tape = Tape::active();
  const detail::Arena::Mark mark = detail::TapeAccess::arena(tape).mark();
  auto* map = allocate_array<std::size_t>(tape, shape.size());
  std::size_t i = 0;
  for (std::size_t o = 0; o < v.outer; ++o)
    for (std::size_t d = begin; d < end; ++d)
      for (std::size_t in = 0; in < v.inner; ++in) map[i++] = (o * v.dim + d) * v.inner + in;
  return gather(mark, tape, xn, shape, map, "slice");
}
TensorDual slice(const TensorDual& x, std::ptrdiff_t axis, std::size_t begin, std::size_t end) {
  return with_tangent(
      slice(x.value(), axis, begin, end),
      map(tangent_of(x), [&](const TensorVar& t) { return slice(t, axis, begin, end); }));
}

TensorVar index_select(const TensorVar& x, std::ptrdiff_t axis,
                       std::span<const std::size_t> indices) {
  TensorNode* xn = x.node();
  const std::size_t a = normalise_axis(axis, xn->shape.rank(), "nabla::index_select");
  const AxisView v(xn->shape, a);
  for (std::size_t j = 0; j < indices.size(); ++j) {
    if (indices[j] >= v.dim) {
      detail::fail("nabla::index_select",
                   fmt::format("index {} (position {}) is out of range for axis {} of shape {} "
                               "(expected indices below {})",
                               indices[j], j, axis, to_string(xn->shape), v.dim));
    }
  }
  const Shape shape = with_dim(xn->shape, a, indices.size());
  Tape& tape = Tape::active();
  const detail::Arena::Mark mark = detail::TapeAccess::arena(tape).mark();
  auto* map = allocate_array<std::size_t>(tape, shape.size());
  std::size_t i = 0;
  for (std::size_t o = 0; o < v.outer; ++o)
    for (std::size_t d : indices)
      for (std::size_t in = 0; in < v.inner; ++in) map[i++] = (o * v.dim + d) * v.inner + in;
  return gather(mark, tape, xn, shape, map, "index_select");
}
TensorDual index_select(const TensorDual& x, std::ptrdiff_t axis,
                        std::span<const std::size_t> indices) {
  return with_tangent(
      index_select(x.value(), axis, indices),
      map(tangent_of(x), [&](const TensorVar& t) { return index_select(t, axis, indices); }));
}

TensorVar concat(std::span<const TensorVar> xs, std::ptrdiff_t axis) {
  if (xs.empty()) {
    detail::fail("nabla::concat", "no tensors given (expected at least one)");
  }
  Tape& tape = Tape::active();
  const Shape& first = xs[0].shape();
  const std::size_t a = normalise_axis(axis, first.rank(), "nabla::concat");
  std::size_t total = 0;
  bool grad = false;
  for (std::size_t j = 0; j < xs.size(); ++j) {
    const Shape& s = xs[j].shape();
    bool fits = s.rank() == first.rank();
    for (std::size_t k = 0; fits && k < s.rank(); ++k) fits = k == a || s[k] == first[k];
    if (!fits) {
      detail::fail("nabla::concat", fmt::format("tensor {} has shape {}, which does not fit {} "
                                                "(expected equal dimensions except axis {})",
                                                j, to_string(s), to_string(first), axis));
    }
    if (s[a] > Shape::max_size - total) {  // the sum alone could wrap around
      detail::fail("nabla::concat", fmt::format("the joined axis {} would have more than 2^57 "
                                                "entries (tensor {} adds {} to {}; expected a "
                                                "total of at most {})",
                                                axis, j, s[a], total, Shape::max_size));
    }
    total += s[a];
    grad |= xs[j].requires_grad();
  }
  const detail::Arena::Mark mark = detail::TapeAccess::arena(tape).mark();
  auto** nodes = static_cast<TensorNode**>(
      detail::TapeAccess::arena(tape).allocate(xs.size() * sizeof(TensorNode*)));
  for (std::size_t j = 0; j < xs.size(); ++j) nodes[j] = xs[j].node();
  const AxisView v(first, a);
  auto [node, out] = make_from<ConcatNode>(mark, tape, with_dim(first, a, total), grad, nullptr,
                                           nodes, xs.size(), v.outer, v.inner);
  node->each_block([&](std::size_t j, std::size_t from, std::size_t at, std::size_t len) {
    std::copy_n(nodes[j]->value + from, len, node->value + at);
  });
  return out;
}
namespace {
// xs joined by `join`, their tangents too when any has one (zeros for the missing ones).
template <class Join>
TensorDual join_duals(std::span<const TensorDual> xs, Join&& join) {
  std::vector<TensorVar> values, tangents;
  bool any = false;
  for (const TensorDual& x : xs) {
    values.push_back(x.value());
    any |= x.has_tangent();
  }
  const TensorVar y = join(values);  // checks the shapes first
  if (!any) return TensorDual(y);
  for (const TensorDual& x : xs) tangents.push_back(x.tangent());
  return TensorDual(y, join(tangents));
}
}  // namespace
TensorDual concat(std::span<const TensorDual> xs, std::ptrdiff_t axis) {
  return join_duals(xs, [axis](std::span<const TensorVar> v) { return concat(v, axis); });
}

TensorVar stack(std::span<const TensorVar> xs, std::ptrdiff_t axis) {
  if (xs.empty()) {
    detail::fail("nabla::stack", "no tensors given (expected at least one)");
  }
  const Shape first = xs[0].shape();
  if (first.rank() >= Shape::max_rank) {
    detail::fail("nabla::stack", fmt::format("tensors of shape {} have rank {} (expected rank at "
                                             "most {}: the result has one more axis)",
                                             to_string(first), first.rank(), Shape::max_rank - 1));
  }
  const std::size_t a = normalise_axis(axis, first.rank() + 1, "nabla::stack");
  std::array<std::size_t, Shape::max_rank> dims{};
  for (std::size_t k = 0, j = 0; k <= first.rank(); ++k) dims[k] = k == a ? 1 : first[j++];
  const Shape expanded(std::span<const std::size_t>(dims.data(), first.rank() + 1));
  // Every shape is checked before anything is recorded: a failed stack records nothing.
  for (std::size_t j = 0; j < xs.size(); ++j) {
    if (!(xs[j].shape() == first)) {
      detail::fail("nabla::stack", fmt::format("tensor {} has shape {}, tensor 0 has {} "
                                               "(expected equal shapes)",
                                               j, to_string(xs[j].shape()), to_string(first)));
    }
  }
  std::vector<TensorVar> parts;
  parts.reserve(xs.size());
  for (const TensorVar& x : xs) parts.push_back(reshape(x, expanded));
  return concat(parts, static_cast<std::ptrdiff_t>(a));
}
TensorDual stack(std::span<const TensorDual> xs, std::ptrdiff_t axis) {
  return join_duals(xs, [axis](std::span<const TensorVar> v) { return stack(v, axis); });
}

}  // namespace nabla
