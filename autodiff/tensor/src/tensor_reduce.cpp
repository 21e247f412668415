// Tensor nodes for reductions, softmax and losses: forward next to backward.
// Each operation's forward-mode (JVP) rule on TensorDual follows its TensorVar function.
#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <memory>

#include "tensor_dual_rules.hpp"
#include "tensor_nodes.hpp"

namespace nabla {

using namespace detail::forward;  // the JVP rules' helpers

using detail::TensorNode;
using namespace detail::tensor;

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

// A reduction over a set of axes: `kept` is the result's shape with the reduced axes kept as 1;
// `strides` maps x's dimensions onto it (0 along reduced axes).
struct Reduction {
  Shape kept;
  Shape result;
  Strides strides;
  std::size_t count = 1;  // elements reduced into each result element
};

Reduction plan(const Shape& x, const Axes& axes, bool keepdims, const char* function) {
  const unsigned mask = axes.mask(x.rank(), function);
  std::array<std::size_t, Shape::max_rank> kept{}, result{};
  std::size_t r = 0;
  Reduction p;
  for (std::size_t k = 0; k < x.rank(); ++k) {
    const bool reduced = (mask >> k) & 1u;
    kept[k] = reduced ? 1 : x[k];
    if (reduced) p.count *= x[k];
    if (!reduced || keepdims) result[r++] = kept[k];
  }
  p.kept = Shape(std::span<const std::size_t>(kept.data(), x.rank()));
  p.result = Shape(std::span<const std::size_t>(result.data(), r));
  p.strides = broadcast_strides(p.kept, x);
  return p;
}

void require_nonempty(const Reduction& p, const Shape& x, const char* function) {
  if (p.count == 0 && p.result.size() > 0) {
    detail::fail(function, fmt::format("a reduced axis of shape {} is empty (expected at least "
                                       "one element to reduce)",
                                       to_string(x)));
  }
}

// Calls f(x_index, y_index) for every element of x, y_index being its result element.
template <class F>
void each_element(const Shape& x, const Strides& strides, F&& f) {
  const Strides none{};
  each_row(
      x, strides, none,
      [&](std::size_t o, std::size_t iy, std::size_t, std::size_t n, std::size_t sy, std::size_t) {
        for (std::size_t i = 0; i < n; ++i) f(o + i, iy + i * sy);
      });
}

// sum and mean: y[j] = scale · Σ x[i]; dx[i] = scale · dy[j].
struct SumNode final : TensorNode {
  SumNode(TensorNode* x, Strides strides, double scale, const char* op)
      : x(x), strides(strides), scale(scale), op(op) {}
  std::string_view name() const noexcept override { return op; }
  void inputs(std::vector<std::uint32_t>& out) const override { out.push_back(x->statement); }
  void backward(const detail::Sweep& sweep) override {
    if (!written || !pushes(x, sweep)) return;
    bool assign = false;
    double* gx = x->take_adjoint(assign);
    const double* g = adjoint;
    const double s = scale;
    if (assign) {
      each_element(x->shape, strides, [&](std::size_t i, std::size_t j) { gx[i] = s * g[j]; });
    } else {
      each_element(x->shape, strides, [&](std::size_t i, std::size_t j) { gx[i] += s * g[j]; });
    }
  }
  TensorNode* x;
  Strides strides;
  double scale;
  const char* op;
};

TensorVar sum_like(const TensorVar& x, const Axes& axes, bool keepdims, bool mean,
                   const char* function) {
  TensorNode* xn = x.node();
  const Reduction p = plan(xn->shape, axes, keepdims, function);
  if (mean) require_nonempty(p, xn->shape, function);
  const double scale = mean ? 1.0 / static_cast<double>(p.count) : 1.0;
  Tape& tape = Tape::active();
  auto [node, out] = make<SumNode>(tape, p.result, needs(xn), nullptr, xn, p.strides, scale,
                                   mean ? "mean" : "sum");
  double* y = node->value;
  const double* xv = xn->value;
  std::fill_n(y, p.result.size(), 0.0);
  if (p.result.size() == 1) {  // a full reduction: one accumulator (the common case)
    double s = 0;
    for (std::size_t i = 0, n = xn->shape.size(); i < n; ++i) s += xv[i];
    y[0] = s;
  } else {
    each_element(xn->shape, p.strides, [&](std::size_t i, std::size_t j) { y[j] += xv[i]; });
  }
  for (std::size_t j = 0; j < p.result.size(); ++j) y[j] *= scale;
  return out;
}

// max and min: the gradient goes to the first extremal element (its index is kept).
struct ArgNode final : TensorNode {
  ArgNode(TensorNode* x, std::size_t* arg, const char* op) : x(x), arg(arg), op(op) {}
  std::string_view name() const noexcept override { return op; }
  void inputs(std::vector<std::uint32_t>& out) const override { out.push_back(x->statement); }
  void backward(const detail::Sweep& sweep) override {
    if (!written || !pushes(x, sweep)) return;
    double* gx = x->zeroed_adjoint();
    for (std::size_t j = 0, n = shape.size(); j < n; ++j) gx[arg[j]] += adjoint[j];
  }
  TensorNode* x;
  std::size_t* arg;
  const char* op;
};

template <bool is_max>
TensorVar extremum(const TensorVar& x, const Axes& axes, bool keepdims, const char* function) {
  TensorNode* xn = x.node();
  const Reduction p = plan(xn->shape, axes, keepdims, function);
  require_nonempty(p, xn->shape, function);
  Tape& tape = Tape::active();
  const detail::Arena::Mark mark = detail::TapeAccess::arena(tape).mark();
  auto* arg = allocate_array<std::size_t>(tape, p.result.size());
  auto [node, out] =
      make_from<ArgNode>(mark, tape, p.result, needs(xn), nullptr, xn, arg, is_max ? "max" : "min");
  double* y = node->value;
  const double* xv = xn->value;
  constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  std::fill_n(arg, p.result.size(), none);
  each_element(xn->shape, p.strides, [&](std::size_t i, std::size_t j) {
    // NaN wins (it propagates, as in NumPy); otherwise the first extremum is kept.
    const bool better = arg[j] == none || std::isnan(xv[i]) ||
                        (!std::isnan(y[j]) && (is_max ? xv[i] > y[j] : xv[i] < y[j]));
    if (better && !(arg[j] != none && std::isnan(y[j]))) {
      y[j] = xv[i];
      arg[j] = i;
    }
  });
  return out;
}

// log_sum_exp: y = m + ln Σ e^(x − m); dx = dy · e^(x − y), with the scalar form's rule at the
// special points (detail::LogSumExp).
struct LogSumExpNode final : TensorNode {
  LogSumExpNode(TensorNode* x, Strides strides) : x(x), strides(strides) {}
  std::string_view name() const noexcept override { return "log_sum_exp"; }
  void inputs(std::vector<std::uint32_t>& out) const override { out.push_back(x->statement); }
  void backward(const detail::Sweep& sweep) override {
    if (!written || !pushes(x, sweep)) return;
    bool assign = false;
    double* gx = x->take_adjoint(assign);
    const double* g = adjoint;
    const double* xv = x->value;
    each_element(x->shape, strides, [&](std::size_t i, std::size_t j) {
      const double d = detail::chain(g[j], groups[j].weight(xv[i]));
      gx[i] = assign ? d : gx[i] + d;
    });
  }
  TensorNode* x;
  Strides strides;
  detail::LogSumExp* groups = nullptr;  // per output: the kernel's state
};

// softmax and log_softmax along one axis, viewed as outer × n × inner.
struct SoftmaxNode final : TensorNode {
  SoftmaxNode(TensorNode* x, std::size_t outer, std::size_t n, std::size_t inner, bool log)
      : x(x), outer(outer), n(n), inner(inner), log(log) {}
  std::string_view name() const noexcept override { return log ? "log_softmax" : "softmax"; }
  void inputs(std::vector<std::uint32_t>& out) const override { out.push_back(x->statement); }

  void forward() {
    const double* xv = x->value;
    for (std::size_t o = 0; o < outer; ++o) {
      for (std::size_t in = 0; in < inner; ++in) {
        const std::size_t base = o * n * inner + in;
        detail::LogSumExp k;  // softmax = the kernel's weights (their special points too)
        for (std::size_t c = 0; c < n; ++c) k.see(xv[base + c * inner]);
        // softmax keeps each term e^(x − max) in its output slot: one exp per input
        for (std::size_t c = 0; c < n; ++c) {
          const double term = k.add(xv[base + c * inner]);
          if (!log) value[base + c * inner] = term;
        }
        for (std::size_t c = 0; c < n; ++c) {
          const double xc = xv[base + c * inner];
          value[base + c * inner] = log ? k.log_weight(xc) : k.weight(xc, value[base + c * inner]);
        }
      }
    }
  }

  // softmax: dx = y ⊙ (g − s) with s = Σ g·y; log_softmax: dx = g − e^y · s with s = Σ g.
  double push(std::size_t i, double s) const {
    return log ? adjoint[i] - std::exp(value[i]) * s : value[i] * (adjoint[i] - s);
  }

  void backward(const detail::Sweep& sweep) override {
    if (!written || !pushes(x, sweep)) return;
    bool assign = false;
    double* gx = x->take_adjoint(assign);
    for (std::size_t o = 0; o < outer; ++o) {
      for (std::size_t in = 0; in < inner; ++in) {
        const std::size_t base = o * n * inner + in;
        double s = 0;
        for (std::size_t c = 0; c < n; ++c) {
          const std::size_t i = base + c * inner;
          s += log ? adjoint[i] : adjoint[i] * value[i];
        }
        bool nan = false;
        for (std::size_t c = 0; c < n; ++c) {
          const std::size_t i = base + c * inner;
          const double d = push(i, s);
          if (std::isnan(d)) [[unlikely]] {
            nan = true;  // left to chained(): gx[i] keeps what it had
            continue;
          }
          gx[i] = assign ? d : gx[i] + d;
        }
        if (nan) [[unlikely]]
          chained(gx, base, s, assign);
      }
    }
  }

  // The entries of the group at `base` that came out NaN, again by the convention of
  // detail::chain(): dx_i = Σ_c chain(g_c, ∂y_c/∂x_i), so a zero adjoint g_c pushes nothing
  // even where the partials are NaN (a NaN input makes the whole group NaN). That is the rule
  // with s summed over the nonzero adjoints only, and 0 when every adjoint is 0. Where a plain
  // entry is not NaN, no zero adjoint met a NaN or ∞ partial: it is already the convention's.
  void chained(double* gx, std::size_t base, double s, bool assign) const {
    double nonzero = 0;
    bool any = false;
    for (std::size_t c = 0; c < n; ++c) {
      const std::size_t i = base + c * inner;
      if (adjoint[i] == 0.0) continue;
      any = true;
      nonzero += log ? adjoint[i] : adjoint[i] * value[i];
    }
    for (std::size_t c = 0; c < n; ++c) {
      const std::size_t i = base + c * inner;
      if (!std::isnan(push(i, s))) continue;
      const double d = any ? push(i, nonzero) : 0.0;
      gx[i] = assign ? d : gx[i] + d;
    }
  }
  TensorNode* x;
  std::size_t outer, n, inner;
  bool log;
};

TensorVar softmax_like(const TensorVar& x, std::ptrdiff_t axis, bool log, const char* function) {
  TensorNode* xn = x.node();
  const std::size_t a = normalise_axis(axis, xn->shape.rank(), function);
  std::size_t outer = 1, inner = 1;
  for (std::size_t k = 0; k < a; ++k) outer *= xn->shape[k];
  for (std::size_t k = a + 1; k < xn->shape.rank(); ++k) inner *= xn->shape[k];
  Tape& tape = Tape::active();
  auto [node, out] =
      make<SoftmaxNode>(tape, xn->shape, needs(xn), nullptr, xn, outer, xn->shape[a], inner, log);
  node->forward();
  return out;
}

// cross_entropy: mean over rows of lse_i − x[i, label_i]; dx = dy/N · (softmax − onehot).
struct CrossEntropyNode final : TensorNode {
  CrossEntropyNode(TensorNode* x, const int* labels, double* lse, detail::LogSumExp* groups)
      : x(x), labels(labels), lse(lse), groups(groups) {}
  std::string_view name() const noexcept override { return "cross_entropy"; }
  void inputs(std::vector<std::uint32_t>& out) const override { out.push_back(x->statement); }
  void backward(const detail::Sweep& sweep) override {
    // A zero adjoint pushes nothing (detail::chain), also where softmax is NaN.
    if (!written || adjoint[0] == 0.0 || !pushes(x, sweep)) return;
    const std::size_t rows = x->shape[0], classes = x->shape[1];
    const double scale = adjoint[0] / static_cast<double>(rows);
    bool assign = false;
    double* gx = x->take_adjoint(assign);
    for (std::size_t r = 0; r < rows; ++r) {
      const double* xr = x->value + r * classes;
      double* gr = gx + r * classes;
      for (std::size_t c = 0; c < classes; ++c) {
        double d = groups[r].weight(xr[c]);
        if (static_cast<int>(c) == labels[r]) d -= 1.0;
        gr[c] = assign ? scale * d : gr[c] + scale * d;
      }
    }
  }
  TensorNode* x;
  const int* labels;
  double* lse;
  detail::LogSumExp* groups;
};

// binary cross-entropy with logits: mean of max(x, 0) − x·t + ln(1 + e^−|x|);
// dx = dy/n · (σ(x) − t). The forward pass keeps σ(x) − t (σ from the same e^−|x|), so the
// backward pass needs no exponential and the targets need not be kept.
struct BceNode final : TensorNode {
  BceNode(TensorNode* x, const double* residual) : x(x), residual(residual) {}
  std::string_view name() const noexcept override { return "binary_cross_entropy_with_logits"; }
  void inputs(std::vector<std::uint32_t>& out) const override { out.push_back(x->statement); }
  void backward(const detail::Sweep& sweep) override {
    // A zero adjoint pushes nothing (detail::chain), also where σ(x) − t is NaN.
    if (!written || adjoint[0] == 0.0 || !pushes(x, sweep)) return;
    const std::size_t n = x->shape.size();
    const double scale = adjoint[0] / static_cast<double>(n);
    const double* r = residual;
    accumulate(x, n, [&](std::size_t i) { return scale * r[i]; });
  }
  TensorNode* x;
  const double* residual;  // σ(x) − t
};

// mse: mean of (p − t)²; dp = 2 dy/n · (p − t), dt = −dp.
struct MseNode final : TensorNode {
  MseNode(TensorNode* p, TensorNode* t) : p(p), t(t) {}
  std::string_view name() const noexcept override { return "mse"; }
  void inputs(std::vector<std::uint32_t>& out) const override {
    out.push_back(p->statement);
    out.push_back(t->statement);
  }
  void backward(const detail::Sweep& sweep) override {
    // A zero adjoint pushes nothing (detail::chain), also where p − t is ±∞ or NaN.
    if (!written || adjoint[0] == 0.0) return;
    const std::size_t n = p->shape.size();
    const double scale = 2.0 * adjoint[0] / static_cast<double>(n);
    const double* pv = p->value;
    const double* tv = t->value;
    if (pushes(p, sweep)) accumulate(p, n, [&](std::size_t i) { return scale * (pv[i] - tv[i]); });
    if (pushes(t, sweep)) accumulate(t, n, [&](std::size_t i) { return scale * (tv[i] - pv[i]); });
  }
  TensorNode* p;
  TensorNode* t;
};

}  // namespace

TensorVar sum(const TensorVar& x, Axes axes, bool keepdims) {
  return sum_like(x, axes, keepdims, false, "nabla::sum");
}
TensorDual sum(const TensorDual& x, Axes axes, bool keepdims) {
  return with_tangent(sum(x.value(), axes, keepdims), map(tangent_of(x), [&](const TensorVar& t) {
                        return sum(t, axes, keepdims);
                      }));
}

TensorVar mean(const TensorVar& x, Axes axes, bool keepdims) {
  return sum_like(x, axes, keepdims, true, "nabla::mean");
}
TensorDual mean(const TensorDual& x, Axes axes, bool keepdims) {
  return with_tangent(mean(x.value(), axes, keepdims), map(tangent_of(x), [&](const TensorVar& t) {
                        return mean(t, axes, keepdims);
                      }));
}

TensorVar max(const TensorVar& x, Axes axes, bool keepdims) {
  return extremum<true>(x, axes, keepdims, "nabla::max");
}
namespace {
// The tangent of a max or min y of x: ẋ at each element the reverse rule selected.
TensorVar selected_tangent(const TensorVar& y, const TensorVar& t) {
  const std::span<const std::size_t> at = detail::tensor::selected_elements(y);
  const TensorVar flat = reshape(t, Shape{t.size()});
  return reshape(index_select(flat, 0, at), y.shape());
}
}  // namespace
TensorDual max(const TensorDual& x, Axes axes, bool keepdims) {
  const TensorVar y = max(x.value(), axes, keepdims);
  return with_tangent(
      y, map(tangent_of(x), [&](const TensorVar& t) { return selected_tangent(y, t); }));
}

TensorVar min(const TensorVar& x, Axes axes, bool keepdims) {
  return extremum<false>(x, axes, keepdims, "nabla::min");
}
TensorDual min(const TensorDual& x, Axes axes, bool keepdims) {
  const TensorVar y = min(x.value(), axes, keepdims);
  return with_tangent(
      y, map(tangent_of(x), [&](const TensorVar& t) { return selected_tangent(y, t); }));
}

TensorVar log_sum_exp(const TensorVar& x, Axes axes, bool keepdims) {
  TensorNode* xn = x.node();
  const Reduction p = plan(xn->shape, axes, keepdims, "nabla::log_sum_exp");
  Tape& tape = Tape::active();
  const std::size_t m = p.result.size();
  // The kernel's state per output, kept in the arena with the node for the backward rule
  // (allocated first, so that running out of memory records nothing).
  const detail::Arena::Mark mark = detail::TapeAccess::arena(tape).mark();
  auto* groups = allocate_array<detail::LogSumExp>(tape, m);
  std::uninitialized_value_construct_n(groups, m);
  auto [node, out] =
      make_from<LogSumExpNode>(mark, tape, p.result, needs(xn), nullptr, xn, p.strides);
  node->groups = groups;
  double* y = node->value;
  const double* xv = xn->value;
  each_element(xn->shape, p.strides, [&](std::size_t i, std::size_t j) { groups[j].see(xv[i]); });
  each_element(xn->shape, p.strides, [&](std::size_t i, std::size_t j) { groups[j].add(xv[i]); });
  for (std::size_t j = 0; j < m; ++j) y[j] = groups[j].value();
  return out;
}
TensorDual log_sum_exp(const TensorDual& x, Axes axes, bool keepdims) {
  const TensorVar y = log_sum_exp(x.value(), axes, keepdims);
  return with_tangent(
      y, map(tangent_of(x), [&](const TensorVar& t) {
        // Σ softmax(x) ⊙ ẋ with softmax(x) = e^(x − y), y with the reduced axes kept
        const Shape& s = x.shape();
        const unsigned mask = axes.mask(s.rank(), "nabla::log_sum_exp");
        std::array<std::size_t, Shape::max_rank> kept{};
        for (std::size_t k = 0; k < s.rank(); ++k) kept[k] = (mask >> k) & 1u ? 1 : s[k];
        const TensorVar yk = reshape(y, Shape(std::span<const std::size_t>(kept.data(), s.rank())));
        const TensorVar w = exp(x.value() - yk);
        // Where y is ±∞ (x − y is NaN at x = y), the reverse rule's weights
        // (detail::LogSumExp::weight): shared equally by the +∞ entries, 1/n each when
        // every entry is −∞; constants (no derivative) there.
        const std::vector<double> xv = broadcast_values(x.value(), s), yv = broadcast_values(yk, s);
        std::vector<char> fix(s.size(), 0);
        std::vector<double> tie(s.size(), 0.0);
        bool any = false;
        for (std::size_t i = 0; i < s.size(); ++i) {
          fix[i] = !std::isnan(xv[i]) && std::isinf(yv[i]) && xv[i] == yv[i] ? 1 : 0;
          tie[i] = fix[i];
          any |= fix[i] != 0;
        }
        if (!any) return sum(times(t, w), axes, keepdims);
        const TensorVar ones = constant(TensorView(tie.data(), s));
        const std::vector<double> count =
            broadcast_values(sum(ones, axes, true), s);  // the entries at y per group
        for (std::size_t i = 0; i < s.size(); ++i) tie[i] = fix[i] ? 1.0 / count[i] : 0.0;
        return sum(times(t, replace(w, fix, tie)), axes, keepdims);
      }));
}

TensorVar softmax(const TensorVar& x, std::ptrdiff_t axis) {
  return softmax_like(x, axis, false, "nabla::softmax");
}
TensorDual softmax(const TensorDual& x, std::ptrdiff_t axis) {
  const TensorVar y = softmax(x.value(), axis);
  return with_tangent(y, map(tangent_of(x), [&](const TensorVar& t) {
                        const TensorVar d = t - sum(times(t, y), axis, true);
                        return times(d, y);
                      }));
}

TensorVar log_softmax(const TensorVar& x, std::ptrdiff_t axis) {
  return softmax_like(x, axis, true, "nabla::log_softmax");
}
TensorDual log_softmax(const TensorDual& x, std::ptrdiff_t axis) {
  const TensorVar y = log_softmax(x.value(), axis);
  return with_tangent(y, map(tangent_of(x), [&](const TensorVar& t) {
                        return t - sum(times(t, exp(y)), axis, true);
                      }));
}

TensorVar cross_entropy(const TensorVar& logits, std::span<const int> labels) {
  TensorNode* xn = logits.node();
  const Shape& s = xn->shape;
  if (s.rank() != 2 || s[0] == 0 || s[1] == 0) {
    detail::fail("nabla::cross_entropy", fmt::format("logits have shape {} (expected [N, C] "
                                                     "with N, C > 0)",
                                                     to_string(s)));
  }
  if (labels.size() != s[0]) {
    detail::fail("nabla::cross_entropy", fmt::format("{} labels given for logits of shape {} "
                                                     "(expected one per row: {})",
                                                     labels.size(), to_string(s), s[0]));
  }
  for (std::size_t r = 0; r < labels.size(); ++r) {
    if (labels[r] < 0 || static_cast<std::size_t>(labels[r]) >= s[1]) {
      detail::fail("nabla::cross_entropy", fmt::format("label {} (row {}) is out of range "
                                                       "(expected 0 <= label < {})",
                                                       labels[r], r, s[1]));
    }
  }
  Tape& tape = Tape::active();
  const detail::Arena::Mark mark = detail::TapeAccess::arena(tape).mark();
  auto* copy = allocate_array<int>(tape, labels.size());
  std::copy(labels.begin(), labels.end(), copy);
  double* lse = allocate(tape, s[0]);
  auto* groups = allocate_array<detail::LogSumExp>(tape, s[0]);
  std::uninitialized_value_construct_n(groups, s[0]);
  auto [node, out] =
      make_from<CrossEntropyNode>(mark, tape, Shape{}, needs(xn), nullptr, xn, copy, lse, groups);
  double total = 0;
  for (std::size_t r = 0; r < s[0]; ++r) {
    const double* xr = xn->value + r * s[1];
    for (std::size_t c = 0; c < s[1]; ++c) groups[r].see(xr[c]);
    for (std::size_t c = 0; c < s[1]; ++c) groups[r].add(xr[c]);
    lse[r] = groups[r].value();
    total -= groups[r].log_weight(xr[labels[r]]);  // −log softmax[label], also at the limits
  }
  node->value[0] = total / static_cast<double>(s[0]);
  return out;
}
TensorDual cross_entropy(const TensorDual& logits, std::span<const int> labels) {
  const TensorVar y = cross_entropy(logits.value(), labels);  // checks shape and labels
  return with_tangent(y, map(tangent_of(logits), [&](const TensorVar& t) {
                        const std::size_t rows = logits.shape()[0], classes = logits.shape()[1];
                        Tensor onehot(logits.shape());
                        for (std::size_t r = 0; r < rows; ++r) {
                          onehot[r * classes + static_cast<std::size_t>(labels[r])] = 1.0;
                        }
                        return sum(times(t, softmax(logits.value(), 1) - constant(onehot))) *
                               (1.0 / static_cast<double>(rows));
                      }));
}

TensorVar binary_cross_entropy_with_logits(const TensorVar& logits, TensorView targets) {
  TensorNode* xn = logits.node();
  if (!(targets.shape() == xn->shape)) {
    detail::fail("nabla::binary_cross_entropy_with_logits",
                 fmt::format("logits have shape {} and targets {} (expected equal shapes)",
                             to_string(xn->shape), to_string(targets.shape())));
  }
  const std::span<const double> t_values =
      detail::view_values(targets, "nabla::binary_cross_entropy_with_logits");
  // A target outside [0, 1] (or NaN) makes −x·t unbounded below: training would run off
  // silently instead of fitting probabilities.
  for (std::size_t i = 0; i < t_values.size(); ++i) {
    if (!(t_values[i] >= 0.0 && t_values[i] <= 1.0)) {
      detail::fail("nabla::binary_cross_entropy_with_logits",
                   fmt::format("target {} (element {}) is not a probability (expected targets "
                               "in [0, 1])",
                               t_values[i], i));
    }
  }
  const std::size_t n = xn->shape.size();
  Tape& tape = Tape::active();
  const detail::Arena::Mark mark = detail::TapeAccess::arena(tape).mark();
  double* residual = needs(xn) ? allocate(tape, n) : nullptr;
  auto [node, out] = make_from<BceNode>(mark, tape, Shape{}, needs(xn), nullptr, xn, residual);
  // Eigen's vectorised exp and log1p: about 1.5× faster than a scalar loop here.
  using Array = Eigen::Array<double, Eigen::Dynamic, 1>;
  const auto size = static_cast<Eigen::Index>(n);
  const Eigen::Map<const Array> x(xn->value, size), t(targets.data(), size);
  const Array e = (-x.abs()).exp();
  const double total = (x.max(0.0) - x * t + e.log1p()).sum();
  if (residual != nullptr) {
    Eigen::Map<Array>(residual, size) = (x >= 0.0).select(Array::Ones(size), e) / (1.0 + e) - t;
  }
  node->value[0] = n == 0 ? 0.0 : total / static_cast<double>(n);
  return out;
}
TensorDual binary_cross_entropy_with_logits(const TensorDual& logits, TensorView targets) {
  const TensorVar y = binary_cross_entropy_with_logits(logits.value(), targets);  // checks
  const std::size_t n = logits.size();
  if (n == 0) return TensorDual(y);
  return with_tangent(y, map(tangent_of(logits), [&](const TensorVar& t) {
                        return sum(times(t, sigmoid(logits.value()) - constant(targets))) *
                               (1.0 / static_cast<double>(n));
                      }));
}

TensorVar mse(const TensorVar& prediction, const TensorVar& target) {
  TensorNode* pn = prediction.node();
  TensorNode* tn = target.node();
  if (!(pn->shape == tn->shape)) {
    detail::fail("nabla::mse", fmt::format("prediction has shape {} and target {} (expected "
                                           "equal shapes)",
                                           to_string(pn->shape), to_string(tn->shape)));
  }
  const std::size_t n = pn->shape.size();
  Tape& tape = Tape::active();
  auto [node, out] = make<MseNode>(tape, Shape{}, needs(pn) || needs(tn), nullptr, pn, tn);
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = pn->value[i] - tn->value[i];
    total += d * d;
  }
  node->value[0] = n == 0 ? 0.0 : total / static_cast<double>(n);
  return out;
}
TensorDual mse(const TensorDual& prediction, const TensorDual& target) {
  const TensorVar y = mse(prediction.value(), target.value());  // checks the shapes
  const std::size_t n = prediction.size();
  const Tangent tp = tangent_of(prediction), tt = tangent_of(target);
  if (n == 0 || (!tp && !tt)) return TensorDual(y);
  const TensorVar d = tp && tt ? *tp - *tt : tp ? *tp : -*tt;
  return TensorDual(
      y, sum(times(d, prediction.value() - target.value())) * (2.0 / static_cast<double>(n)));
}

}  // namespace nabla

namespace nabla::detail::tensor {
std::span<const std::size_t> selected_elements(const TensorVar& y) {
  const auto* n = dynamic_cast<const ArgNode*>(y.node());
  if (n == nullptr) {
    detail::fail("nabla::detail::tensor::selected_elements",
                 fmt::format("the tensor of shape {} is not the result of max or min",
                             to_string(y.shape())));
  }
  return {n->arg, n->shape.size()};
}
}  // namespace nabla::detail::tensor
