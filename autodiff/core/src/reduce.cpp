#include "nabla/autodiff/reduce.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <new>
#include <numbers>
#include <string_view>
#include <vector>

#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/math.hpp"
#include "nabla/autodiff/node.hpp"
#include "nabla/autodiff/tape.hpp"

namespace nabla {

void detail::check_equal_sizes(const char* function, std::size_t a, std::size_t b) {
  if (a != b) {
    fail(function,
         fmt::format("the vectors differ in size (got {} and {}, expected equal sizes)", a, b));
  }
}

namespace {

// Note [Reduction runs]
// A reduction's operands are most often a run: xs[i] is statement first + i, a parameter
// vector recorded by Tape::variables (every gradient helper's inputs) or the outputs of a loop
// of reductions. Recorded as n operands, each costs an index and a partial (12 bytes), a
// lookup when recorded and a scatter in the sweep. A run is recorded instead as one tape node
// (Note [Tensor nodes]) holding `first` and n, and the partials only where they are not known:
// none for sum, the data weights for dot(data, x), the softmax weights for log_sum_exp, the
// standardised residuals for normal_log_density (Run::divisor); its backward is a contiguous
// loop adjoint[first + i] += wᵢ·a that the compiler vectorises.
// Recognising a run costs one comparison per operand, in the pass that computes the value
// (idᵢ − id₀ = i), and two tape checks: the first and the last operand are statements first and
// first + n − 1 of the tape's current block (TapeAccess::is_at). Ids of one block are
// consecutive for consecutive statements (Note [Tape epochs]), so every operand in between is
// then a live statement of this tape at its place: a Var of another tape, a rewound one, a
// constant, a repeated operand or operands recorded out of order all fail the check, and such
// calls take the general path (Tape::record, with its errors). Short runs (below run_minimum)
// and tapes recording diagnostics also take it: a node costs more than a few operands, and
// the graph tools re-evaluate statements from their recorded operands.
constexpr std::size_t run_minimum = 16;

// Part of a run node's operands: statements first … first + n − 1 with partials w (null:
// every partial is 1).
struct Run {
  std::uint32_t first = 0;
  const double* w = nullptr;
  // Not 0: the partials are −wᵢ / divisor, computed in the sweep (the density keeps the
  // standardised residuals zᵢ and σ: a vectorised division there instead of a scalar one in
  // the recording pass, the same partial bit for bit).
  double divisor = 0.0;
};

// A scalar operand of a run node beside its runs (μ and σ of a normal density).
struct Single {
  std::uint32_t statement = 0;  // 0: a constant, nothing to push
  double partial = 0.0;
};

class RunNode final : public detail::Node {
 public:
  RunNode(Op op, std::size_t n, Run a, Run b, Single c, Single d)
      : op_(op), n_(n), runs_{a, b}, singles_{c, d} {}
  void backward(const detail::Sweep& sweep) override {
    double* adjoint = sweep.adjoint;
    const double a = adjoint[statement];
    if (sweep.consume) adjoint[statement] = 0.0;  // Note [Clean adjoints]
    if (a == 0.0) return;                         // as the scalar sweep: nothing to push
    for (const Run& r : runs_) {
      if (r.first == 0) continue;
      // A nested helper's sweep (floor): statements before the floor receive nothing.
      const std::size_t lo = sweep.floor > r.first ? sweep.floor - r.first : 0;
      double* __restrict out = adjoint + r.first;
      if (r.w == nullptr) {
        for (std::size_t i = lo; i < n_; ++i) out[i] += a;
      } else if (r.divisor != 0.0) {
        const double* __restrict w = r.w;
        const double d = r.divisor;
        for (std::size_t i = lo; i < n_; ++i) out[i] += (-w[i] / d) * a;
      } else {
        const double* __restrict w = r.w;
        for (std::size_t i = lo; i < n_; ++i) out[i] += w[i] * a;
      }
    }
    for (const Single& s : singles_) {
      if (s.statement != 0 && s.statement >= sweep.floor) adjoint[s.statement] += s.partial * a;
    }
  }
  void reset_adjoint() noexcept override {}
  [[nodiscard]] std::string_view name() const noexcept override { return op_name(op_); }
  void inputs(std::vector<std::uint32_t>& out) const override {
    for (const Run& r : runs_) {
      for (std::size_t i = 0; r.first != 0 && i < n_; ++i)
        out.push_back(r.first + static_cast<std::uint32_t>(i));
    }
    for (const Single& s : singles_) {
      if (s.statement != 0) out.push_back(s.statement);
    }
  }
  std::uint32_t statement = 0;  // the output's statement

 private:
  Op op_;
  std::size_t n_;
  Run runs_[2];
  Single singles_[2];
};

// The partials of one reduction call: written where a run node keeps them (the tape's arena)
// when the call may become one, in a per-thread buffer otherwise; node() records the call as
// a run node, which then owns them.
class Recorder {
 public:
  // Runs of n operands with `runs` partial arrays of n doubles each, then `extra` partials;
  // `candidate`: the call may be a run (may_run() of its operands).
  Recorder(std::size_t n, bool candidate, std::size_t runs, std::size_t extra = 0)
      : tape_(Tape::active()),
        n_(n),
        node_(candidate && !detail::TapeDiagnostics::diagnosing(tape_)) {
    if (node_) {
      detail::Arena& arena = detail::TapeAccess::arena(tape_);
      mark_ = arena.mark();
      try {
        node_memory_ = arena.allocate(sizeof(RunNode));
        data_ = runs == 0
                    ? nullptr
                    : static_cast<double*>(arena.allocate((runs * n + extra) * sizeof(double)));
      } catch (const std::bad_alloc&) {
        arena.reset(mark_);
        node_ = false;
      }
    }
    if (!node_ && runs + extra > 0) {
      thread_local std::vector<double> scratch;
      scratch.resize(runs * n + extra);
      data_ = scratch.data();
    }
  }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
  ~Recorder() {
    if (node_) detail::TapeAccess::arena(tape_).reset(mark_);  // not kept: give it back
  }
  // Where partial array k (0 ≤ k < runs) goes.
  [[nodiscard]] double* partials(std::size_t k = 0) const noexcept { return data_ + k * n_; }
  [[nodiscard]] Tape& tape() const noexcept { return tape_; }
  // The statement of xs[0] when xs (n operands whose ids were checked consecutive) is a run of
  // this tape's current block, 0 otherwise (Note [Reduction runs]).
  [[nodiscard]] std::uint32_t run(std::span<const Var> xs, bool consecutive) const {
    if (!node_ || !consecutive) return 0;
    const std::uint32_t first = tape_.index_of(xs.front());
    if (first == 0 || !detail::TapeAccess::is_at(tape_, xs.front(), first) ||
        !detail::TapeAccess::is_at(tape_, xs.back(), first + xs.size() - 1))
      return 0;
    return first;
  }
  // Records the call as a run node: runs a and b (first 0: absent), singles c and d.
  Var node(Op op, double value, Run a, Run b = {}, Single c = {}, Single d = {}) {
    detail::Arena& arena = detail::TapeAccess::arena(tape_);
    auto* node = new (node_memory_) RunNode(op, n_, a, b, c, d);
    Var out;
    try {
      out = detail::TapeAccess::push_node(tape_, node, mark_, value);
    } catch (...) {  // the tape is full or out of memory: the node is not the tape's
      node->~RunNode();
      arena.reset(mark_);
      node_ = false;
      throw;
    }
    node->statement = tape_.position().statement - 1;
    node_ = false;  // the tape owns the node and its partials now
    return out;
  }

 private:
  Tape& tape_;
  std::size_t n_;
  bool node_;  // a run node may be recorded: partials and node memory are in the arena
  detail::Arena::Mark mark_{};
  void* node_memory_ = nullptr;
  double* data_ = nullptr;
};

// True when xs may be a run: long enough, and its first and last ids n − 1 apart (the full
// check is Recorder::run). Other calls keep their partials in a per-thread buffer, not in the
// arena, which would hold on to the memory.
bool may_run(std::span<const Var> xs) noexcept {
  return xs.size() >= run_minimum && xs.back().id() - xs.front().id() == xs.size() - 1;
}

void check_sizes(const char* function, std::size_t a, std::size_t b) {
  detail::check_equal_sizes(function, a, b);
}

void check_sigma(double sigma) {
  if (!(sigma > 0)) {
    detail::fail("nabla::normal_log_density",
                 fmt::format("sigma must be positive (got {}, expected sigma > 0)", sigma));
  }
}

// Σ xᵢ and whether the ids are consecutive, in one pass. Out of line with locals only: inside
// a function that also holds a Recorder, GCC kept the running sum in memory (a store and a
// load on the chain from one addition to the next: 4× slower).
struct SumPass {
  double sum;
  bool consecutive;
};
[[gnu::noinline]] SumPass sum_pass(std::span<const Var> xs) noexcept {
  double s = 0.0;
  const std::uint64_t id0 = xs.empty() ? 0 : xs[0].id();
  std::uint64_t gaps = 0;  // non-zero once an id is out of its place
  for (std::size_t i = 0; i < xs.size(); ++i) {
    s += xs[i].value();
    gaps |= (xs[i].id() - id0) ^ i;
  }
  return {s, gaps == 0};
}

// The other reductions' passes likewise: the value, the partials and the id check.

// Π xᵢ in the loop's order, and the partials Πⱼ≠ᵢ xⱼ without a division: first each p[i] is
// the product before i, then a backward pass multiplies in the product after i — the adjoint
// that the loop `p *= x[i]` carries down in its reverse sweep, which pushes nothing on from a
// statement whose adjoint is 0 (detail::chain): an overflow or a NaN before a zero factor
// gives the partials before it 0, as the loop does.
[[gnu::noinline]] SumPass prod_pass(std::span<const Var> xs, double* __restrict p) noexcept {
  double prefix = 1.0;
  const std::uint64_t id0 = xs.empty() ? 0 : xs[0].id();
  std::uint64_t gaps = 0;  // non-zero once an id is out of its place
  for (std::size_t i = 0; i < xs.size(); ++i) {
    p[i] = prefix;
    prefix *= xs[i].value();
    gaps |= (xs[i].id() - id0) ^ i;
  }
  double suffix = 1.0;
  for (std::size_t i = xs.size(); i-- > 0;) {
    p[i] = detail::chain(suffix, p[i]);
    suffix = detail::chain(suffix, xs[i].value());
  }
  return {prefix, gaps == 0};
}

[[gnu::noinline]] SumPass squared_norm_pass(std::span<const Var> xs,
                                            double* __restrict p) noexcept {
  double s = 0.0;
  const std::uint64_t id0 = xs.empty() ? 0 : xs[0].id();
  std::uint64_t gaps = 0;  // non-zero once an id is out of its place
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double v = xs[i].value();
    s += v * v;
    p[i] = 2.0 * v;
    gaps |= (xs[i].id() - id0) ^ i;
  }
  return {s, gaps == 0};
}

[[gnu::noinline]] SumPass dot_pass(std::span<const Var> a, std::span<const Var> b,
                                   double* __restrict pa, double* __restrict pb) noexcept {
  double s = 0.0;
  const std::uint64_t ida = a.empty() ? 0 : a[0].id(), idb = b.empty() ? 0 : b[0].id();
  std::uint64_t gaps = 0;  // non-zero once an id is out of its place
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a[i].value(), y = b[i].value();
    s += x * y;
    pa[i] = y;
    pb[i] = x;
    gaps |= ((a[i].id() - ida) ^ i) | ((b[i].id() - idb) ^ i);
  }
  return {s, gaps == 0};
}

[[gnu::noinline]] SumPass dot_data_pass(std::span<const double> a, std::span<const Var> b,
                                        double* __restrict p) noexcept {
  double s = 0.0;
  const std::uint64_t id0 = b.empty() ? 0 : b[0].id();
  std::uint64_t gaps = 0;  // non-zero once an id is out of its place
  for (std::size_t i = 0; i < a.size(); ++i) {
    s += a[i] * b[i].value();
    p[i] = a[i];
    gaps |= (b[i].id() - id0) ^ i;
  }
  return {s, gaps == 0};
}

// The partials are the softmax weights. The buffer holds the terms e^(x − max) first, so each
// input costs one exp; with a finite maximum the weights are term / Σ (LogSumExp::weight),
// computed from the buffer alone.
[[gnu::noinline]] SumPass log_sum_exp_pass(std::span<const Var> xs, double* __restrict w) noexcept {
  detail::LogSumExp k;
  const std::uint64_t id0 = xs[0].id();
  std::uint64_t gaps = 0;  // non-zero once an id is out of its place
  for (std::size_t i = 0; i < xs.size(); ++i) {
    k.see(xs[i].value());
    gaps |= (xs[i].id() - id0) ^ i;
  }
  for (std::size_t i = 0; i < xs.size(); ++i) w[i] = k.add(xs[i].value());
  if (std::isfinite(k.max)) {
    const double total = k.sum;
    for (std::size_t i = 0; i < xs.size(); ++i) w[i] = w[i] / total;
  } else {
    for (std::size_t i = 0; i < xs.size(); ++i) w[i] = k.weight(xs[i].value(), w[i]);
  }
  return {k.value(), gaps == 0};
}

struct DensityPass {
  double squares, residuals;  // Σz², Σz
  bool consecutive;
};
// z = (yᵢ − μ)/σ into z first (a loop the compiler vectorises, divisions included), then the
// two sums over z (the chains of additions, in the order of the loop they replace).
[[gnu::noinline]] DensityPass density_pass(std::span<const Var> y, double m, double s,
                                           double* __restrict z) noexcept {
  const std::uint64_t id0 = y.empty() ? 0 : y[0].id();
  std::uint64_t gaps = 0;  // non-zero once an id is out of its place
  for (std::size_t i = 0; i < y.size(); ++i) {
    z[i] = (y[i].value() - m) / s;
    gaps |= (y[i].id() - id0) ^ i;
  }
  double squares = 0.0, residuals = 0.0;  // Note [Standardised residuals]
  for (std::size_t i = 0; i < y.size(); ++i) {
    residuals += z[i];
    squares += z[i] * z[i];
  }
  return {squares, residuals, gaps == 0};
}

constexpr double half_log_two_pi = 0.91893853320467274178;  // ½ ln 2π

}  // namespace

Var sum(std::span<const Var> xs) {
  const std::size_t n = xs.size();
  Recorder rec(n, may_run(xs), 0);
  const auto [s, consecutive] = sum_pass(xs);
  if (const std::uint32_t first = rec.run(xs, consecutive)) return rec.node(Op::sum, s, {first});
  std::vector<double>& p = [n]() -> std::vector<double>& {
    thread_local std::vector<double> ones;
    if (ones.size() < n) ones.assign(n, 1.0);
    return ones;
  }();
  return rec.tape().record(Op::sum, s, xs, std::span<const double>(p.data(), n));
}

Var prod(std::span<const Var> xs) {
  const std::size_t n = xs.size();
  Recorder rec(n, may_run(xs), 1);
  double* p = rec.partials();
  const auto [value, consecutive] = prod_pass(xs, p);
  if (const std::uint32_t first = rec.run(xs, consecutive))
    return rec.node(Op::prod, value, {first, p});
  return rec.tape().record(Op::prod, value, xs, std::span<const double>(p, n));
}

Var squared_norm(std::span<const Var> xs) {
  const std::size_t n = xs.size();
  Recorder rec(n, may_run(xs), 1);
  double* p = rec.partials();
  const auto [s, consecutive] = squared_norm_pass(xs, p);
  if (const std::uint32_t first = rec.run(xs, consecutive))
    return rec.node(Op::squared_norm, s, {first, p});
  return rec.tape().record(Op::squared_norm, s, xs, std::span<const double>(p, n));
}

Var dot(std::span<const Var> a, std::span<const Var> b) {
  check_sizes("nabla::dot", a.size(), b.size());
  const std::size_t n = a.size();
  Recorder rec(n, may_run(a) && may_run(b), 2);
  double* pa = rec.partials(0);  // ∂/∂aᵢ = bᵢ
  double* pb = rec.partials(1);  // ∂/∂bᵢ = aᵢ
  const auto [s, consecutive] = dot_pass(a, b, pa, pb);
  if (const std::uint32_t fa = rec.run(a, consecutive)) {
    if (const std::uint32_t fb = rec.run(b, consecutive))
      return rec.node(Op::dot, s, {fa, pa}, {fb, pb});
  }
  thread_local std::vector<Var> operands;
  operands.resize(2 * n);
  std::copy(a.begin(), a.end(), operands.begin());
  std::copy(b.begin(), b.end(), operands.begin() + static_cast<std::ptrdiff_t>(n));
  // pa and pb are adjacent: the partials of a then those of b, as the operands.
  return rec.tape().record(Op::dot, s, operands, std::span<const double>(pa, 2 * n));
}

Var dot(std::span<const double> a, std::span<const Var> b) {
  check_sizes("nabla::dot", a.size(), b.size());
  const std::size_t n = a.size();
  // The weights are the partials; a run node keeps its own copy of them (the caller's data
  // need not outlive the sweep). The general path records them from `a` directly.
  Recorder rec(n, may_run(b), 1);
  double* p = rec.partials();
  const auto [s, consecutive] = dot_data_pass(a, b, p);
  if (const std::uint32_t first = rec.run(b, consecutive)) return rec.node(Op::dot, s, {first, p});
  return rec.tape().record(Op::dot, s, b, a);
}

Var dot(std::span<const Var> a, std::span<const double> b) { return dot(b, a); }

Var log_sum_exp(std::span<const Var> xs) {
  detail::require_nonempty_log_sum_exp(xs.size());
  const std::size_t n = xs.size();
  Recorder rec(n, may_run(xs), 1);
  double* w = rec.partials();
  const auto [y, consecutive] = log_sum_exp_pass(xs, w);
  if (const std::uint32_t first = rec.run(xs, consecutive))
    return rec.node(Op::log_sum_exp, y, {first, w});
  return rec.tape().record(Op::log_sum_exp, y, xs, std::span<const double>(w, n));
}

// Note [Standardised residuals]: the density works with z = (y − μ)/σ, not with (y − μ)² and
// 1/σ² apart: at σ = 1e-200, 1/σ² overflows and (y − μ)² underflows, and 0 · ∞ made the value
// and the partials NaN although each is finite. With z: value −½Σz² − n(ln σ + ½ ln 2π),
// ∂μ = Σz/σ, ∂σ = (Σz² − n)/σ, ∂yᵢ = −zᵢ/σ.
Var normal_log_density(std::span<const double> y, const Var& mu, const Var& sigma) {
  const double m = mu.value(), s = sigma.value();
  check_sigma(s);
  double squares = 0.0, residuals = 0.0;  // Σz², Σz
  for (double yi : y) {
    const double z = (yi - m) / s;
    residuals += z;
    squares += z * z;
  }
  const double n = static_cast<double>(y.size());
  const double value = -0.5 * squares - n * (std::log(s) + half_log_two_pi);
  return Tape::active().record(Op::normal_log_density, value, mu, residuals / s, sigma,
                               (squares - n) / s);
}

Var normal_log_density(std::span<const Var> y, const Var& mu, const Var& sigma) {
  const double m = mu.value(), s = sigma.value();
  check_sigma(s);
  const std::size_t n = y.size();
  // n + 2 partials: those of y, then μ's and σ's (the general path's operand order).
  Recorder rec(n, may_run(y), 1, 2);
  double* p = rec.partials();
  const auto [squares, residuals, consecutive] = density_pass(y, m, s, p);  // p holds z
  const double count = static_cast<double>(n);
  p[n] = residuals / s;
  p[n + 1] = (squares - count) / s;
  const double value = -0.5 * squares - count * (std::log(s) + half_log_two_pi);
  if (const std::uint32_t first = rec.run(y, consecutive)) {
    Tape& tape = rec.tape();
    return rec.node(Op::normal_log_density, value, {first, p, s}, {}, {tape.index_of(mu), p[n]},
                    {tape.index_of(sigma), p[n + 1]});
  }
  for (std::size_t i = 0; i < n; ++i) p[i] = -p[i] / s;  // ∂yᵢ = −zᵢ/σ
  thread_local std::vector<Var> operands;
  operands.assign(y.begin(), y.end());
  operands.push_back(mu);
  operands.push_back(sigma);
  return rec.tape().record(Op::normal_log_density, value, operands,
                           std::span<const double>(p, n + 2));
}

}  // namespace nabla
