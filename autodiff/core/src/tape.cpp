// nabla — the tape, in the order data flows: record → sweep → rewind, then statistics and
// diagnostics.
#include "nabla/autodiff/tape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <vector>

#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/no_grad.hpp"

namespace nabla {

namespace {

// Note [Tape epochs]: ids come from a process-wide 64-bit counter (0 is the constants' id) in
// chunks of 2^24 per thread, so starting an epoch (every rewind) costs no atomic operation.
constexpr std::uint64_t id_chunk = std::uint64_t{1} << 24;
constexpr std::uint64_t min_epoch_ids = 256;
constexpr std::uint64_t max_epoch_ids = std::uint64_t{1} << 32;
std::atomic<std::uint64_t> next_chunk{1};
struct IdPool {
  std::uint64_t next = 0, end = 0;
};
constinit thread_local IdPool id_pool;

[[gnu::always_inline]] inline std::uint64_t take_ids(std::uint64_t n) {
  IdPool& pool = id_pool;
  if (pool.end - pool.next < n) {
    const std::uint64_t chunk = std::max(n, id_chunk);
    std::uint64_t old = next_chunk.load(std::memory_order_relaxed);
    do {
      if (old > std::numeric_limits<std::uint64_t>::max() - chunk) {
        detail::fail(
            "nabla::Tape",
            fmt::format(
                "the process has used up its 2^64 statement ids (got a request for {} more after "
                "{}; expected fewer rewinds over the life of the process)",
                n, old));
      }
    } while (!next_chunk.compare_exchange_weak(old, old + chunk, std::memory_order_relaxed));
    pool = {old, old + chunk};
  }
  const std::uint64_t lo = pool.next;
  pool.next += n;
  return lo;
}

// Extends the block ending at `end` by n ids when it is the last one this thread handed out.
bool extend_ids(std::uint64_t end, std::uint64_t n) noexcept {
  IdPool& pool = id_pool;
  if (pool.next != end || pool.end - pool.next < n) return false;
  pool.next += n;
  return true;
}

constexpr std::size_t max_index = std::numeric_limits<std::uint32_t>::max();

}  // namespace

// ---- The tape and the active tape ----

Tape& detail::default_tape() noexcept {
  static thread_local Tape tape;
  active_tape = &tape;
  return tape;
}

void detail::advance_ids_for_testing(std::uint64_t n) {
  id_pool = {};
  next_chunk.fetch_add(n, std::memory_order_relaxed);
}

Tape::Tape() {
  end_.grow_to(1);
  op_.grow_to(1);
  end_[0] = 0;
  op_[0] = Op::constant;
  statement_capacity_ = end_.size();
  start_epoch(1, 1024);
}

Tape::~Tape() {
  drop_nodes(0);
  if (detail::active_tape == this) detail::active_tape = nullptr;
  // A live scope of this thread that would restore this tape restores the default one instead.
  for (Scope* s = detail::innermost_scope; s != nullptr; s = s->outer_) {
    if (s->previous_ == this) s->previous_ = nullptr;
  }
}

// Note [Scopes]
// The live scopes of a thread form a list, innermost first. A scope ending out of order (an
// outer one first) unlinks itself and hands what it would restore to the next inner scope, so
// the active tape only changes when the innermost scope ends; a tape destroyed while a scope
// would restore it is replaced by null (the thread's default tape) in that scope.
Tape::Scope::Scope(Tape& tape) noexcept
    : previous_(detail::active_tape), outer_(detail::innermost_scope) {
  detail::innermost_scope = this;
  detail::active_tape = &tape;
}

Tape::Scope::~Scope() {
  if (detail::innermost_scope == this) {
    detail::innermost_scope = outer_;
    detail::active_tape = previous_;
    return;
  }
  for (Scope* s = detail::innermost_scope; s != nullptr; s = s->outer_) {
    if (s->outer_ == this) {  // s is the next inner scope: it restores what this one would
      s->outer_ = outer_;
      s->previous_ = previous_;
      return;
    }
  }
}

void Tape::activate() noexcept { detail::active_tape = this; }

// ---- Recording (Notes [Jacobian taping] and [Tape epochs] in tape.hpp) ----

[[gnu::always_inline]] inline void Tape::enter_epoch() {
  const Epoch& e = epochs_.back();
  lo_ = e.lo;
  reserved_ = e.reserved;
  start_ = e.start;
  base_ = lo_ - start_;
  statement_limit_ = std::min(statement_capacity_, start_ + reserved_);
  set_operand_limit();
}

[[gnu::always_inline]] inline void Tape::start_epoch(std::size_t start, std::size_t ids) {
  const std::uint64_t n = std::clamp<std::uint64_t>(ids, min_epoch_ids, max_epoch_ids);
  epochs_.push_back({take_ids(n), n, start});
  enter_epoch();
  if (epochs_.size() >= 2) {  // Note [The epoch below]
    const Epoch& below = epochs_[epochs_.size() - 2];
    below_lo_ = below.lo;
    below_start_ = below.start;
    below_count_ = start_ - below.start;
  } else {
    below_lo_ = 0;
    below_start_ = 0;
    below_count_ = 0;
  }
}

// Note [The helpers' fixed cost]: the current epoch ends and another begins at the same start,
// in its place (the epoch below stays what it was).
[[gnu::always_inline]] inline void Tape::renew_epoch(std::size_t ids) {
  const std::uint64_t n = std::clamp<std::uint64_t>(ids, min_epoch_ids, max_epoch_ids);
  const std::uint64_t lo = take_ids(n);  // first: should it throw, the epoch is as it was
  Epoch& e = epochs_.back();
  drop_epoch(e);
  e.lo = lo;
  e.reserved = n;
  enter_epoch();
}

Var Tape::variable(double value) {
  make_room(0);
  const Var x = push_statement(Op::input, value);
  set_operand_limit();  // a statement without operands (Note [One room check])
  return x;
}

void Tape::size_error(std::size_t values, std::size_t out) {
  detail::fail("nabla::Tape::variables",
               fmt::format("values and outputs differ in size (got {} values and room for {} "
                           "variables, expected equal sizes)",
                           values, out));
}

Var Tape::record(Op op, double value, const Var& a, double da, const Var& b, double db,
                 const Var& c, double dc) {
  const std::uint32_t idx[3] = {index_of(a), index_of(b), index_of(c)};
  const double d[3] = {da, db, dc};
  if ((idx[0] | idx[1] | idx[2]) == 0) return Var(value);
  make_room(3);
  for (int k = 0; k < 3; ++k) {
    if (idx[k] == 0) continue;
    arg_[operands_] = idx[k];
    partial_[operands_] = d[k];
    ++operands_;
  }
  return push_statement(op, value);
}

Var Tape::record(Op op, double value, std::span<const Var> xs, std::span<const double> partials) {
  if (xs.size() != partials.size()) {
    detail::fail(
        "nabla::custom",
        fmt::format(
            "operands and partials differ in size (got {} operands and {} partials, expected one "
            "partial per operand)",
            xs.size(), partials.size()));
  }
  // One pass, branch-free: write every operand, advance only past variables. The current
  // block and the arrays are read once into locals: the stores into the arrays could alias
  // the tape's fields, so the compiler would otherwise reload them for every operand.
  make_room(xs.size());
  std::uint32_t* __restrict arg = arg_.data();
  double* __restrict partial = partial_.data();
  const std::uint64_t lo = lo_, reserved = reserved_;
  const std::size_t start = start_;
  std::size_t n = operands_;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const std::uint64_t d = xs[k].id_ - lo;
    const std::uint32_t i = d < reserved ? static_cast<std::uint32_t>(start + d) : index_of(xs[k]);
    arg[n] = i;
    partial[n] = partials[k];
    n += (i != 0);
  }
  if (n == operands_) return Var(value);
  operands_ = n;
  return push_statement(op, value);
}

Var Tape::record_collected(Tape* tape, Op op, double value, std::span<const Var> xs,
                           std::span<const double> partials) {
  // Note [One slow call]: everything record_expression's fast path leaves out.
  Tape& t = tape != nullptr ? *tape : active();
  // Out of room on the fast path: grow, which sets the limit again — unless the limit leaves
  // no room on purpose (diagnostics, dropped zero partials): record() makes its own room.
  if (!t.cold_ && t.operands_ + xs.size() > t.operand_limit_) t.grow(xs.size());
  return t.record(op, value, xs, partials);
}

std::uint32_t Tape::index_of_slow(double value, std::uint64_t id, const char* what) const {
  // Search the live epochs, newest first; epoch k owns statements [start_k, start_{k+1}).
  std::size_t end = statements_;
  for (auto e = epochs_.rbegin(); e != epochs_.rend(); ++e) {
    const std::uint64_t d = id - e->lo;
    if (d < end - e->start) return static_cast<std::uint32_t>(e->start + d);
    end = e->start;
  }
  // Not on the tape: rewound away when the id is from one of this tape's blocks.
  const auto in = [id](std::uint64_t lo, std::uint64_t size) { return id - lo < size; };
  const bool rewound = std::any_of(epochs_.begin(), epochs_.end(),
                                   [&](const Epoch& e) { return in(e.lo, e.reserved); }) ||
                       std::any_of(dropped_.begin(), dropped_.end(),
                                   [&](const IdRange& r) { return in(r.lo, r.size); });
  const char* which = detail::active_tape == this ? "the active tape" : "the tape passed";
  if (what != nullptr) {
    detail::fail(
        what, rewound
                  ? fmt::format(
                        "the tensor was rewound away or cleared: the tape now ends at statement {} "
                        "(expected a TensorVar still on the tape; record it again after "
                        "rewind()/clear())",
                        statements_)
                  : fmt::format(
                        "the tensor is not on {} (got a TensorVar of another tape, of another "
                        "thread, or of a tape that was cleared or destroyed; expected a TensorVar "
                        "recorded on {}: activate its tape with nabla::Tape::Scope)",
                        which, which));
  }
  if (rewound) {
    detail::fail(
        "nabla::Var",
        fmt::format(
            "the variable with value {} was rewound away or cleared: the tape now ends at "
            "statement "
            "{} (got a Var recorded after the rewind point, expected a Var still on the tape; "
            "record it again after rewind()/clear())",
            value, statements_));
  }
  detail::fail(
      "nabla::Var",
      fmt::format(
          "the variable with value {} is not on {} (got a Var of another tape, of another thread, "
          "or of a tape that was cleared or destroyed; expected a Var recorded on {}: activate its "
          "tape with nabla::Tape::Scope, or record it again)",
          value, which, which));
}

void Tape::grow_statements(std::size_t needed) {
  if (needed >= max_index) {
    detail::fail(
        "nabla::Tape",
        fmt::format("the tape is full ({} statements needed; expected at most 2^32 - 2)", needed));
  }
  std::size_t capacity =
      std::min(max_index, std::max({std::size_t{1024}, 2 * statement_capacity_, needed}));
  try {
    end_.grow_to(capacity);
    op_.grow_to(capacity);
    capacity = std::min({max_index, end_.size(), op_.size()});
  } catch (const std::bad_alloc&) {
    detail::fail("nabla::Tape", fmt::format("out of memory growing the tape to {} statements "
                                            "({} in use)",
                                            capacity, statements_));
  }
  statement_capacity_ = capacity;
  statement_limit_ = std::min(statement_capacity_, start_ + reserved_);
  set_operand_limit();
  ++allocations_;
}

void Tape::grow_operands(std::size_t needed) {
  if (needed >= max_index) {
    detail::fail(
        "nabla::Tape",
        fmt::format("the tape is full ({} operands needed; expected at most 2^32 - 2)", needed));
  }
  std::size_t capacity =
      std::min(max_index, std::max({std::size_t{2048}, 2 * operand_capacity_, needed}));
  try {
    arg_.grow_to(capacity);
    partial_.grow_to(capacity);
    capacity = std::min({max_index, arg_.size(), partial_.size()});
  } catch (const std::bad_alloc&) {
    detail::fail("nabla::Tape", fmt::format("out of memory growing the tape to {} operands ({} "
                                            "in use)",
                                            capacity, operands_));
  }
  operand_capacity_ = capacity;
  set_operand_limit();
  ++allocations_;
}

void Tape::grow_for(std::size_t statements, std::size_t operands) {
  if (statements > max_index || operands > max_index) {
    detail::fail("nabla::Tape", fmt::format("the tape is full ({} statements and {} operands "
                                            "requested at once; expected at most 2^32 - 2)",
                                            statements, operands));
  }
  const std::size_t need = statements_ + statements;
  if (need > statement_capacity_) grow_statements(need);
  if (need > start_ + reserved_) {  // Note [Tape epochs]: more ids for the current epoch
    const std::uint64_t more =
        std::max<std::uint64_t>(need - start_ - reserved_, std::min(reserved_, max_epoch_ids));
    if (extend_ids(lo_ + reserved_, more)) {
      reserved_ += more;
      epochs_.back().reserved = reserved_;
      statement_limit_ = std::min(statement_capacity_, start_ + reserved_);
    } else {
      // Another tape of this thread took the ids after ours: a new epoch from here on (the
      // current one keeps its statements), or a new block for an epoch still empty.
      const std::size_t ids = std::max<std::size_t>(statements, 2 * (statements_ - start_));
      if (start_ == statements_) {
        drop_epoch(epochs_.back());
        epochs_.pop_back();
      }
      start_epoch(statements_, ids);
    }
  }
  if (operands_ + operands > operand_capacity_) grow_operands(operands_ + operands);
  set_operand_limit();
  NABLA_ASSERT(
      statements_ + statements <= statement_limit_ && operands_ + operands <= operand_capacity_,
      "the tape grew too little");
}

void Tape::reserve(std::size_t statements, std::size_t operands) {
  if (statements >= max_index - 1 || operands >= max_index) {
    detail::fail(
        "nabla::Tape::reserve",
        fmt::format(
            "{} statements and {} operands requested (expected at most 2^32 - 3 statements and "
            "2^32 - 2 operands, a tape's limit)",
            statements, operands));
  }
  if (statements + 1 > statement_capacity_) grow_statements(statements + 1);  // + slot 0
  if (operands > operand_capacity_) grow_operands(operands);
}

// ---- Recording tensor nodes (Note [Tensor nodes] in tape.hpp) ----

void* detail::Arena::allocate_slow(std::size_t bytes) {
  // The next chunk is used when it is big enough; otherwise a bigger one takes its place
  // (chunks after the one in use hold nothing live).
  const std::size_t next = chunk_ < chunks_.size() && used_ > 0 ? chunk_ + 1 : chunk_;
  if (next >= chunks_.size() || chunks_[next].size < bytes) {
    std::size_t size = std::max(bytes, std::size_t{1} << 20);
    if (!chunks_.empty()) size = std::max(size, 2 * chunks_.back().size);
    Chunk c;
    c.data.reset(static_cast<std::byte*>(::operator new[](size, std::align_val_t{64})));
    c.size = size;
    if (next < chunks_.size()) {
      chunks_[next] = std::move(c);
    } else {
      chunks_.push_back(std::move(c));
    }
    ++allocations_;
  }
  chunk_ = next;
  used_ = bytes;
  return chunks_[next].data.get();
}

Var Tape::push_node(detail::Node* node, detail::Arena::Mark mark, double value) {
  make_room(0);
  NABLA_ASSERT(nodes_.empty() || nodes_.back().statement < statements_,
               "tensor nodes out of statement order");
  nodes_.push_back({static_cast<std::uint32_t>(statements_), node, mark});
  const Var x = push_statement(Op::tensor, value);
  set_operand_limit();  // a statement without operands (Note [One room check])
  return x;
}

detail::Node* Tape::node_at(std::uint32_t s) const noexcept {
  const auto it =
      std::lower_bound(nodes_.begin(), nodes_.end(), s,
                       [](const NodeEntry& e, std::uint32_t v) { return e.statement < v; });
  return it != nodes_.end() && it->statement == s ? it->node : nullptr;
}

// ---- Sweeping (Notes [Jacobian taping] and [Clean adjoints] in tape.hpp) ----

void Tape::grow_adjoints() {
  if (adjoint_.size() < statements_) {
    try {
      adjoint_.grow_to(std::max(statements_, statement_capacity_));
    } catch (const std::bad_alloc&) {
      try {  // the recording's capacity may be far above what is in use (after a rewind)
        adjoint_.grow_to(statements_);
      } catch (const std::bad_alloc&) {
        detail::fail("nabla::Tape",
                     fmt::format("out of memory for the adjoints of {} statements", statements_));
      }
    }
    ++allocations_;
  }
  if (adjoints_ < statements_) {
    std::fill(adjoint_.data() + adjoints_, adjoint_.data() + statements_, 0.0);
    adjoints_ = statements_;
  }
}

template <bool consume, bool floored>
void Tape::sweep(std::size_t last, std::size_t first, std::size_t floor) noexcept {
  // Note [Jacobian taping]. Statements with a zero adjoint are skipped: nothing to push.
  // The operand range of statement s ends where the range of s + 1 began, so one load of
  // end[s − 1] per statement suffices.
  NABLA_ASSERT(first >= 1 && last < statements_ && adjoints_ >= statements_ && floor <= first,
               "a sweep outside the recording or its adjoints");
  double* __restrict adjoint = adjoint_.data();
  const std::uint32_t* __restrict end = end_.data();
  const std::uint32_t* __restrict arg = arg_.data();
  const double* __restrict partial = partial_.data();
  // What statement s pushes into statement s − 1 (its most recent operand, very often) is kept
  // in a register, `carry`, instead of going through memory: the chain a → adjoint[s − 1] → a
  // would otherwise wait for a store to be forwarded to the next load at every statement.
  std::uint32_t hi = end[last];
  // carry starts each statement at −0.0: x + (−0.0) is exactly x, so the first push into
  // s − 1 can be a plain move, which keeps one addition off the chain from statement to
  // statement (a serial product p *= x runs ~30% faster).
  double carry = -0.0;
  for (std::size_t s = last; s >= first; --s) {
    const std::uint32_t lo = end[s - 1];
    const double a = adjoint[s] + carry;
    // Consuming (the gradient helpers, Note [Clean adjoints]): leave 0 behind. The helper's
    // own inputs lie below the swept range and are read afterwards.
    adjoint[s] = consume ? 0.0 : a;
    carry = -0.0;
    if (a != 0.0) {
      const std::size_t previous = s - 1;
      if constexpr (floored) {  // a nested helper: statements before `first` are not its own
        for (std::uint32_t k = lo; k < hi; ++k) {
          if (arg[k] < floor) continue;
          const double d = partial[k] * a;
          if (arg[k] == previous)
            carry += d;
          else
            adjoint[arg[k]] += d;
        }
      } else if (hi - lo == 1) {  // unary and binary statements, the common cases, without a loop
        const std::uint32_t i0 = arg[lo];
        const double d0 = partial[lo] * a;
        if (i0 == previous)
          carry = d0;
        else
          adjoint[i0] += d0;
      } else if (hi - lo == 2) {
        const std::uint32_t i0 = arg[lo], i1 = arg[lo + 1];
        const double d0 = partial[lo] * a, d1 = partial[lo + 1] * a;
        if (i0 == previous)
          carry = d0;
        else
          adjoint[i0] += d0;
        if (i1 == previous)
          carry += d1;
        else
          adjoint[i1] += d1;
      } else {  // inputs (no operands) and larger statements
        for (std::uint32_t k = lo; k < hi; ++k) {
          const double d = partial[k] * a;
          if (arg[k] == previous)
            carry += d;
          else
            adjoint[arg[k]] += d;
        }
      }
    }
    hi = lo;
  }
  // Slot 0 when first is 1 (the constant slot, never read). Floored, carry is only set for
  // statements at or after the floor, and adding its initial −0.0 changes nothing.
  adjoint[first - 1] += carry;
}

template void Tape::sweep<false, false>(std::size_t, std::size_t, std::size_t) noexcept;
template void Tape::sweep<true, false>(std::size_t, std::size_t, std::size_t) noexcept;
template void Tape::sweep<true, true>(std::size_t, std::size_t, std::size_t) noexcept;

void Tape::reset_node_adjoints(std::size_t last, std::size_t first) noexcept {
  for (auto it = nodes_.rbegin(); it != nodes_.rend() && it->statement >= first; ++it) {
    if (it->statement <= last) it->node->reset_adjoint();
  }
}

template <bool consume>
void Tape::sweep_nodes(std::size_t last, std::size_t first, std::size_t floor, bool reset) {
  if (reset) reset_node_adjoints(last, first);
  const detail::Sweep context{adjoint_.data(), consume, static_cast<std::uint32_t>(floor)};
  auto it = std::upper_bound(nodes_.begin(), nodes_.end(), last,
                             [](std::size_t s, const NodeEntry& e) { return s < e.statement; });
  std::size_t hi = last;
  while (it != nodes_.begin() && (it - 1)->statement >= first) {
    --it;
    const std::size_t s = it->statement;
    if (hi > s) sweep_range<consume>(hi, s + 1, floor);
    it->node->backward(context);
    hi = s - 1;
  }
  if (hi >= first) sweep_range<consume>(hi, first, floor);
}

template void Tape::sweep_nodes<false>(std::size_t, std::size_t, std::size_t, bool);
template void Tape::sweep_nodes<true>(std::size_t, std::size_t, std::size_t, bool);

void Tape::reverse(Position from) {
  detail::require_grad("nabla::Tape::reverse");
  check_position("nabla::Tape::reverse", from);
  ensure_adjoints();
  zero_from_ = adjoints_;  // the sweep leaves adjoints behind
  sweep_all<false>(statements_ - 1, from.statement, 0);
}

void Tape::sweep_statements(std::uint32_t last, std::uint32_t first) {
  if (first < 1 || first > last || last >= statements_) {
    detail::fail("nabla::Tape::sweep_statements",
                 fmt::format("statements {} down to {} are not a range of the tape (expected 1 <= "
                             "first <= last < {})",
                             last, first, statements_));
  }
  ensure_adjoints();
  zero_from_ = adjoints_;  // the sweep leaves adjoints behind
  sweep_all<false>(last, first, 0, false);
}

void Tape::backward(const Var& y) { backward(y, Position{}); }

void Tape::backward(const Var& y, Position from) {
  check_position("nabla::Tape::backward", from);
  const std::uint32_t iy = index_of(y);
  begin_backward("nabla::backward", iy);
  // Zero every adjoint: entries at or past adjoints_ are zeroed by ensure_adjoints(), so only
  // the part already in use needs a fill (an optimizer loop would otherwise zero twice).
  std::fill(adjoint_.data(), adjoint_.data() + adjoints_, 0.0);
  ensure_adjoints();
  if (iy == 0) return;  // a constant output: every derivative is zero
  if (iy < from.statement) {
    detail::fail(
        "nabla::Tape::backward",
        fmt::format(
            "the output (statement {}) was recorded before the sweep's start (statement {}); "
            "expected an output recorded after the position passed in",
            iy, from.statement));
  }
  adjoint_[iy] = 1.0;
  zero_from_ = adjoints_;  // the sweep leaves adjoints behind
  // Every node's adjoint starts this sweep unwritten, also those recorded after y.
  reset_node_adjoints(statements_ - 1, 1);
  sweep_all<false>(iy, from.statement, 0, false);
}

// Inline in gradient() and jacobian() (Note [The helpers' fixed cost]).
[[gnu::always_inline]] inline void Tape::prepare_gradient(Position from) {
  detail::require_grad("nabla::gradient");
  check_position("nabla::gradient", from);
  // Note [Clean adjoints]: make [from, end) zero without touching what is known to be zero;
  // adjoints before `from` belong to the caller and are left as they are.
  ensure_adjoints();
  const std::size_t first = from.statement;
  if (zero_from_ > first) {
    std::fill(adjoint_.data() + first, adjoint_.data() + std::min(zero_from_, adjoints_), 0.0);
  }
  // The consuming sweep leaves [from, end) zero again.
  zero_from_ = std::min(zero_from_, first);
}

void Tape::begin_gradient_node(std::uint32_t s, Position from) {
  prepare_gradient(from);
  reset_node_adjoints(s, from.statement);
}

void Tape::gradient(const Var& y, Position from, std::span<double> g) {
  const std::uint32_t iy = index_of(y);
  const std::size_t first = from.statement, n = g.size();
  prepare_gradient(from);
  if (first + n > statements_) {
    detail::fail(
        "nabla::gradient",
        fmt::format(
            "the inputs are no longer on the tape (got {} inputs recorded at statement {}, but the "
            "tape ends at statement {}; expected f not to rewind the tape below its inputs)",
            n, first, statements_));
  }
  double* adjoint = adjoint_.data();
  if (iy >= first) {
    adjoint[iy] = 1.0;
    // Everything above the inputs is consumed (left 0); nothing below `from` receives.
    sweep_all<true>(iy, first + n, first);
  }
  // The inputs are statements first … first + n − 1 (Tape::variables at `from`).
  for (std::size_t i = 0; i < n; ++i) {
    g[i] = adjoint[first + i];
    adjoint[first + i] = 0.0;
  }
  NABLA_ASSERT(std::all_of(adjoint + first, adjoint + std::min<std::size_t>(adjoints_, iy + 1),
                           [](double a) { return a == 0.0; }),
               "a consuming sweep left an adjoint behind (Note [Clean adjoints])");
}

// Note [Vector sweeps]
// A Jacobian of m outputs took m reverse sweeps, each reading the whole recording. The vector
// sweep reads it once for K ≤ 8 outputs: every statement carries K adjoints (its row of
// vector_adjoint_, indexed from the helper's first statement, so a nested helper's block is
// only as long as its own recording), skips the statement when all K are zero, and pushes
// partial · aⱼ for each j into each operand — the K multiply-adds of one operand are one
// contiguous row, which the compiler vectorises. Width 2 serves bundle-adjustment-style
// 2-output blocks; 3–4 outputs take width 4, more take blocks of 8 (the last block narrower).
// Tensor nodes have scalar backward rules only, so a recording with nodes after `from` falls
// back to one scalar sweep per output. Statements before the floor (outer variables f
// captured) receive nothing, as in a consuming scalar sweep, and the scalar adjoints are left
// clean (Note [Clean adjoints]).
template <std::size_t K>
void Tape::sweep_vector(std::size_t last, std::size_t first, std::size_t floor) noexcept {
  NABLA_ASSERT(first >= floor && floor >= 1 && last < statements_,
               "a vector sweep outside the recording");
  double* __restrict va = vector_adjoint_.data();
  const std::uint32_t* __restrict end = end_.data();
  const std::uint32_t* __restrict arg = arg_.data();
  const double* __restrict partial = partial_.data();
  // What statement s pushes into s − 1 is summed in `carry` first and added to s − 1's adjoint
  // when the sweep reaches it, as the scalar sweep does, so every lane adds in the scalar
  // sweep's order and the rows equal gradient()'s bit for bit.
  std::array<double, K> carry;
  carry.fill(-0.0);
  for (std::size_t s = last; s >= first; --s) {
    const double* a = va + (s - floor) * K;
    // Skip the statement when all K adjoints are ±0: their bits without the sign, OR-ed (no
    // floating-point compare per lane).
    std::array<double, K> row;
    std::uint64_t bits = 0;
    for (std::size_t j = 0; j < K; ++j) {
      row[j] = a[j] + carry[j];
      bits |= std::bit_cast<std::uint64_t>(row[j]) << 1;
    }
    carry.fill(-0.0);
    if (bits == 0) continue;
    const std::size_t previous = s - 1;
    for (std::uint32_t k = end[s - 1]; k < end[s]; ++k) {
      if (arg[k] < floor) continue;
      const double p = partial[k];
      double* target = arg[k] == previous ? carry.data() : va + (arg[k] - floor) * K;
      if (std::abs(p) <= std::numeric_limits<double>::max()) [[likely]] {
        for (std::size_t j = 0; j < K; ++j) target[j] += row[j] * p;
      } else {
        // The zero convention of the scalar sweep (detail::chain): a zero adjoint pushes
        // nothing, even through an infinite or NaN partial.
        for (std::size_t j = 0; j < K; ++j) target[j] += row[j] == 0.0 ? 0.0 : row[j] * p;
      }
    }
  }
  // Statement first − 1: the last input (with no inputs it lies below the floor, and the floor
  // check dropped every push into it, so nothing was carried).
  if (first > floor) {
    double* a = va + (first - 1 - floor) * K;
    for (std::size_t j = 0; j < K; ++j) a[j] += carry[j];
  }
}

void Tape::jacobian(std::span<const Var> ys, Position from, std::span<double> J) {
  const std::size_t m = ys.size();
  if (m == 0 ? !J.empty() : J.size() % m != 0) {
    detail::fail("nabla::jacobian",
                 fmt::format("the Jacobian buffer has {} entries for {} outputs (expected a "
                             "multiple of the number of outputs)",
                             J.size(), m));
  }
  if (m == 0) return;
  const std::size_t n = J.size() / m;
  const std::size_t first = from.statement;
  const bool has_nodes = !nodes_.empty() && nodes_.back().statement >= first;
  if (has_nodes || m == 1) {
    for (std::size_t r = 0; r < m; ++r) gradient(ys[r], from, J.subspan(r * n, n));
    return;
  }
  prepare_gradient(from);
  if (first + n > statements_) {
    detail::fail(
        "nabla::jacobian",
        fmt::format(
            "the inputs are no longer on the tape (got {} inputs recorded at statement {}, but the "
            "tape ends at statement {}; expected f not to rewind the tape below its inputs)",
            n, first, statements_));
  }
  std::vector<std::uint32_t> index(m);
  for (std::size_t r = 0; r < m; ++r) index[r] = index_of(ys[r]);
  const auto block = [&]<std::size_t K>(std::size_t r0, std::size_t rows) {
    // The block covers the inputs (their rows are read) and every output of the block.
    std::size_t last = first + n - 1;
    for (std::size_t j = 0; j < rows; ++j) last = std::max<std::size_t>(last, index[r0 + j]);
    const std::size_t length = (last - first + 1) * K;
    try {
      vector_adjoint_.grow_to(length);
    } catch (const std::bad_alloc&) {
      detail::fail("nabla::jacobian", fmt::format("out of memory for {} adjoints of {} statements",
                                                  K, last - first + 1));
    }
    double* va = vector_adjoint_.data();
    std::fill(va, va + length, 0.0);
    for (std::size_t j = 0; j < rows; ++j) {
      if (index[r0 + j] >= first) va[(index[r0 + j] - first) * K + j] += 1.0;
    }
    sweep_vector<K>(last, first + n, first);
    for (std::size_t j = 0; j < rows; ++j) {
      double* row = J.data() + (r0 + j) * n;
      for (std::size_t i = 0; i < n; ++i) row[i] = va[i * K + j];
    }
  };
  for (std::size_t r0 = 0; r0 < m;) {
    const std::size_t rows = std::min<std::size_t>(8, m - r0);
    if (rows <= 2) {
      block.template operator()<2>(r0, rows);
    } else if (rows <= 4) {
      block.template operator()<4>(r0, rows);
    } else {
      block.template operator()<8>(r0, rows);
    }
    r0 += rows;
  }
}

double& Tape::adjoint(const Var& x) {
  const std::uint32_t i = index_of(x);
  if (i == 0) {
    detail::fail(
        "nabla::adjoint",
        fmt::format(
            "the value {} is a constant, which has no adjoint (got a Var made from a number, "
            "expected a variable: make inputs with nabla::variable(x) or Tape::variable(x))",
            x.value()));
  }
  ensure_adjoints();
  zero_from_ = adjoints_;  // the caller may write through the reference
  return adjoint_[i];
}

void Tape::zero_adjoints() noexcept {
  std::fill(adjoint_.data(), adjoint_.data() + adjoints_, 0.0);
  zero_from_ = 0;
}

// ---- Positions and rewinding ----

void Tape::position_error(const char* function, Position p) const {
  const char* why = p.statement < 1 ? "statement 0 is the constant slot, never a position"
                    : p.statement > statements_ || p.operand > operands_
                        ? "it is ahead of the recording"
                        : "its operand count does not match the statement (not a value "
                          "returned by position())";
  detail::fail(
      function,
      fmt::format(
          "position (statement {}, operand {}) is not on the tape: {} (expected a position from "
          "position(), at most statement {}, operand {})",
          p.statement, p.operand, why, statements_, operands_));
}

// Note [The helpers' fixed cost]
// A gradient helper's call on a tiny function is mostly fixed cost: the recording scope, the
// inputs, the sweep's preparation and dispatch, the rewind. Three parts of it are inline: the
// adjoints' preparation in gradient() and jacobian() (prepare_gradient), the sweep's dispatch
// when no node lies in the swept range (sweep_all in tape.hpp, the node walk out of line in
// sweep_nodes), and the helper loop's rewind — to where the current epoch began, with only
// statements to drop (no node, arena memory, label or diagnostics) — which renews the current
// epoch in place (renew_epoch: new ids, the epoch below untouched) instead of popping it and
// pushing another. Every rewind still checks its position and makes the dropped Vars stale.
// On f(x) = x² sin x + eˣ: 694 instructions per nabla::gradient call against 738 before
// (callgrind, libm's 158 included), 0.94–0.95 of the time.
void Tape::rewind(Position to) {
  check_position("nabla::Tape::rewind", to);
  if (to.statement == statements_ && to.operand == operands_) return;
  // Note [Tape epochs]: epochs that began at or after `to` end; one new epoch begins at `to`,
  // with a block sized by what the newest epoch recorded (a helper's loop rewinds to the same
  // place every call and records about as much each time).
  const std::size_t used = statements_ - start_;
  // Note [The helpers' fixed cost]: where the current epoch began, with nothing but statements
  // to drop (a helper's loop), only the current epoch ends.
  const bool helper_loop =
      to.statement == start_ && nodes_.empty() && arena_.empty() && !diag_ && labels_.empty();
  if (!helper_loop) [[unlikely]] {
    while (epochs_.size() > 1 && epochs_.back().start >= to.statement) {
      drop_epoch(epochs_.back());
      epochs_.pop_back();
    }
    if (!nodes_.empty() || !arena_.empty()) drop_nodes(to.statement);
    if (diag_) {
      if (diag_->values.size() > to.statement) diag_->values.resize(to.statement);
      std::erase_if(diag_->evaluations, [&](const auto& e) { return e.first >= to.statement; });
    }
    if (!labels_.empty())
      std::erase_if(labels_, [&](const auto& e) { return e.first >= to.statement; });
  }
  statements_ = to.statement;
  operands_ = to.operand;
  if (to.statement <= last_sweep_output_) {  // Note [Growth warning]: the last output is gone
    sweeps_without_rewind_ = 0;
    last_sweep_output_ = 0;
  }
  if (helper_loop) [[likely]] {
    renew_epoch(2 * used);
  } else {
    if (epochs_.back().start >= to.statement) {  // the first epoch, begun at `to`
      drop_epoch(epochs_.back());
      epochs_.pop_back();
    }
    start_epoch(to.statement, 2 * used);
  }
  NABLA_ASSERT(epochs_.size() < 2 || epochs_[epochs_.size() - 2].start < to.statement,
               "live epochs out of order after a rewind");
  // Adjoints of the dropped statements stay usable only when they are known to be zero.
  if (zero_from_ > to.statement) {
    adjoints_ = std::min(adjoints_, statements_);
    zero_from_ = std::min(zero_from_, adjoints_);
  }
}

void Tape::drop_nodes(std::uint32_t from) noexcept {
  while (!nodes_.empty() && nodes_.back().statement >= from) {
    nodes_.back().node->~Node();
    arena_.reset(nodes_.back().mark);
    nodes_.pop_back();
  }
  // Nothing lives in the arena without a node: also gives back what an operation allocated
  // before it threw.
  if (nodes_.empty()) arena_.reset({});
}

void Tape::clear() { rewind(Position{1, 0}); }

void Tape::release() {
  clear();
  growth_warned_ = false;
  arena_.release();
  end_.release();
  op_.release();
  arg_.release();
  partial_.release();
  adjoint_.release();
  vector_adjoint_.release();
  statement_capacity_ = 0;  // consistent should the small allocations below throw
  statement_limit_ = 0;
  operand_capacity_ = 0;
  operand_limit_ = 0;
  adjoints_ = 0;
  zero_from_ = 0;
  end_.grow_to(1);
  op_.grow_to(1);
  end_[0] = 0;
  op_[0] = Op::constant;
  adjoints_ = 0;
  zero_from_ = 0;
  statement_capacity_ = end_.size();
  statement_limit_ = std::min(statement_capacity_, start_ + reserved_);
  operand_capacity_ = arg_.size();
  set_operand_limit();
}

// ---- Statistics ----

TapeStatistics Tape::statistics() const noexcept {
  TapeStatistics s;
  s.statements = statements_ - 1;
  s.operands = operands_;
  s.bytes_used = statements_ * (sizeof(std::uint32_t) + sizeof(Op)) +
                 operands_ * (sizeof(std::uint32_t) + sizeof(double));
  s.adjoint_bytes = std::min(adjoints_, statements_) * sizeof(double);
  s.scalar_bytes_reserved =
      end_.capacity() * sizeof(std::uint32_t) + op_.capacity() * sizeof(Op) +
      arg_.capacity() * sizeof(std::uint32_t) + partial_.capacity() * sizeof(double) +
      adjoint_.capacity() * sizeof(double) + vector_adjoint_.capacity() * sizeof(double);
  s.tensor_bytes_reserved = arena_.bytes_reserved();
  s.bytes_reserved = s.scalar_bytes_reserved + s.tensor_bytes_reserved;
  s.allocations = allocations_ + arena_.allocations();
  s.tensor_nodes = nodes_.size();
  s.tensor_bytes = arena_.bytes_used();
  s.bytes_in_use = s.bytes_used + s.adjoint_bytes + s.tensor_bytes;
  s.sweeps_without_rewind = sweeps_without_rewind_;
  return s;
}

namespace {
// "512 B", "31.0 kB", "266.9 MB", "1.2 GB" (decimal units).
std::string bytes(std::size_t n) {
  if (n < 1000) return fmt::format("{} B", n);
  const char* units[] = {"kB", "MB", "GB", "TB"};
  double v = static_cast<double>(n) / 1000.0;
  std::size_t u = 0;
  while (v >= 1000.0 && u + 1 < std::size(units)) {
    v /= 1000.0;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}
}  // namespace

std::string to_string(const TapeStatistics& s) {
  std::string out = fmt::format(
      "{} statements, {} tensor nodes; in use {} (scalar {}, adjoints {}, tensors {}); reserved "
      "{} (scalar {}, tensors {}) in {} allocations",
      s.statements, s.tensor_nodes, bytes(s.bytes_in_use), bytes(s.bytes_used),
      bytes(s.adjoint_bytes), bytes(s.tensor_bytes), bytes(s.bytes_reserved),
      bytes(s.scalar_bytes_reserved), bytes(s.tensor_bytes_reserved), s.allocations);
  if (s.sweeps_without_rewind > 1) {
    out += fmt::format("; {} backward() calls without a rewind", s.sweeps_without_rewind);
  }
  return out;
}

// ---- Growth warning ----

// Note [Growth warning]
// A tape keeps everything recorded until it is rewound. A training loop written with
// PyTorch's habits — record, backward(), step, and no tape.rewind(start) — therefore keeps
// every step's recording (267 MB after 300 steps of a small MLP), and each backward() sweeps
// all of it. The tape counts sweeps from outputs recorded one after another (a new step's
// loss) and forgets the count when it is rewound below the last one (what a correct loop, and
// nn::compute_gradients, does every step; a gradient helper's own rewind, above it, does not
// count). From the third such sweep on, if the tape holds growth_warning() bytes in use or
// more (64 MiB by default), it warns once — through the warning handler, a line on stderr by
// default — with its statistics and the fix. A warning, not an error: a recording that grows
// on purpose (a long time series swept as it goes) is legitimate; set_growth_warning(0) turns
// it off.

namespace {
std::atomic<std::size_t> growth_warning_bytes{std::size_t{64} << 20};
std::mutex warning_mutex;
std::function<void(std::string_view)>& warning_handler() {
  static std::function<void(std::string_view)> handler;
  return handler;
}
void warn(std::string_view message) {
  const std::lock_guard lock(warning_mutex);
  if (warning_handler()) {
    warning_handler()(message);
  } else {
    fmt::print(stderr, "{}\n", message);
    std::fflush(stderr);
  }
}
}  // namespace

void set_growth_warning(std::size_t bytes) noexcept {
  growth_warning_bytes.store(bytes, std::memory_order_relaxed);
}

std::size_t growth_warning() noexcept {
  return growth_warning_bytes.load(std::memory_order_relaxed);
}

void set_warning_handler(std::function<void(std::string_view)> handler) {
  const std::lock_guard lock(warning_mutex);
  warning_handler() = std::move(handler);
}

void Tape::begin_backward(const char* function, std::size_t s) {
  detail::require_grad(function);
  if (s > last_sweep_output_) {
    ++sweeps_without_rewind_;
    last_sweep_output_ = s;
  }
  if (growth_warned_ || sweeps_without_rewind_ < 3) return;
  const std::size_t limit = growth_warning();
  if (limit == 0) return;
  const TapeStatistics st = statistics();
  if (st.bytes_in_use < limit) return;
  growth_warned_ = true;
  warn(fmt::format(
      "nabla: warning: a tape keeps {} in use after {} backward() calls without a rewind: "
      "everything recorded since it was last rewound is kept, and each backward() sweeps all "
      "of it. Rewind after each training step (const nabla::Position start = tape.position(); "
      "... tape.rewind(start);) or use nabla::nn::compute_gradients, which does. Tape: {}. "
      "(Shown once per tape; nabla::set_growth_warning(0) turns it off.)",
      bytes(st.bytes_in_use), sweeps_without_rewind_, to_string(st)));
}

// ---- Inference mode (Note [Inference mode] in no_grad.hpp) ----

void detail::no_grad_error(const char* function) {
  fail(function,
       "called inside a nabla::NoGrad scope, where nothing is recorded to differentiate "
       "(expected the sweep after the scope ends: record the computation outside it)");
}

NoGrad::NoGrad() noexcept : tape_(&Tape::active()), start_(tape_->position()) {
  ++detail::no_grad_depth;
}

NoGrad::~NoGrad() {
  --detail::no_grad_depth;
  if (tape_->position().statement <= start_.statement) return;  // nothing recorded, or rewound
  try {
    tape_->rewind(start_);
  } catch (const Error&) {  // the caller rewound below the scope's start and recorded again
  }
}

// ---- Diagnostics and labels ----

// Note [Diagnostic recording]
// With diagnostics on, push_statement() also stores each statement's value (on a cold path that
// returns on its own, so the fast path is unchanged), and nabla::custom with a function keeps
// an Evaluation (the function, its argument values, constants included, and their statements).
// Expressions stay fused: unfusing them at run time would need the expression object on a cold
// path, which forces it into memory on the fast path too (measured: +14% instructions on a
// chained Rosenbrock). graph::check_partials re-evaluates single operations from their op code
// and operand values, custom operations from their function; graph::first_non_finite reads the
// values. Rewinding drops all of it with the statements.

void Tape::set_diagnostics(const Diagnostics& options) {
  if (options.throw_on_non_finite && !options.enabled) {
    detail::fail("nabla::Tape::set_diagnostics",
                 "throw_on_non_finite needs enabled = true "
                 "(values are only checked while recording "
                 "with diagnostics)");
  }
  if (!options.enabled) {
    diag_.reset();
  } else {
    if (!diag_) diag_ = std::make_unique<DiagnosticRecord>();
    diag_->options = options;
  }
  cold_ = diag_ != nullptr || drop_zero_;
  set_operand_limit();  // no room for the fast paths while diagnosing (Note [One slow call])
}

// Note [Dropping zero partials]
// An operand whose partial is exactly ±0 contributes nothing to the sweep but its cost (12
// bytes, a load, a multiply and an add) — except that 0 · ∞ = NaN when its statement's adjoint
// is infinite or NaN. set_drop_zero_partials() trades that last case for a smaller tape: every
// statement is written as usual, then push_cold() compacts its operands, keeping the non-zero
// partials in order, and a statement left with none is not recorded at all (its value comes
// back as a constant, as for all-constant operands); statements recorded without operands —
// inputs, tensor nodes — stay what they are. The fast paths stay as they are: while the
// option is on, set_operand_limit() leaves them no room (as for diagnostics), so expression
// statements take record_slow() and every other statement reaches push_cold() through
// push_statement()'s one test of cold_. While diagnostics are on as well, nothing is dropped:
// check_partials must see a custom rule's wrong zero partial, and throw_on_non_finite a
// non-finite value whose partials are all zero. Tensor nodes and reduction run nodes keep their
// partials (arrays, not operands). The default path pays nothing for the option; with it on,
// the slow path is ~250 instructions per statement against ~57: on a scalar ReLU MLP loss
// (batch 32, 32-64-1) the tape had 2.2% fewer operands and 1.5% fewer statements, and the
// gradient took 3.9× the time. In scalar code a zero partial is known only after what it
// multiplies was recorded, so little can be dropped; the option is for memory where many
// partials vanish and for the masking semantics (PyTorch's ReLU passes 0, not NaN, to x < 0).
void Tape::set_drop_zero_partials(bool on) noexcept {
  drop_zero_ = on;
  cold_ = diag_ != nullptr || drop_zero_;
  set_operand_limit();
}

Var Tape::push_cold(Op op, double value) {
  // Statements recorded without operands (inputs, tensor nodes) stay what they are, and while
  // diagnosing nothing is dropped: the checks see every operand (a wrong zero partial of a
  // custom rule, a non-finite value whose partials are all zero).
  if (drop_zero_ && !diag_ && operands_ > end_[statements_ - 1]) {
    const std::size_t first = end_[statements_ - 1];
    std::size_t n = first;
    for (std::size_t k = first; k < operands_; ++k) {
      arg_[n] = arg_[k];
      partial_[n] = partial_[k];
      n += partial_[k] != 0.0;
    }
    operands_ = n;
    if (n == first) return Var(value);
  }
  return diag_ ? push_diagnosed(op, value) : push_undiagnosed(op, value);
}

Var Tape::push_diagnosed(Op op, double value) {
  end_[statements_] = static_cast<std::uint32_t>(operands_);
  op_[statements_] = op;
  diagnose(value);
  return Var(value, base_ + statements_++);
}

void Tape::diagnose(double value) {
  const std::size_t s = statements_;
  diag_->values.resize(s, std::numeric_limits<double>::quiet_NaN());
  diag_->values.push_back(value);
  if (!diag_->options.throw_on_non_finite) return;
  const std::uint32_t lo = end_[s - 1], hi = end_[s];
  bool bad = !std::isfinite(value);
  for (std::uint32_t k = lo; k < hi; ++k) bad |= !std::isfinite(partial_[k]);
  if (!bad) return;
  std::string operands;
  for (std::uint32_t k = lo; k < hi; ++k) {
    const double v = diag_->values[arg_[k]];
    if (!std::isfinite(v)) return;  // passed on, not created here
    const auto name = label_of(arg_[k]);
    operands += fmt::format("{}statement {}{}{} = {} (partial {})", k == lo ? "" : ", ", arg_[k],
                            name.empty() ? "" : " '",
                            name.empty() ? std::string() : std::string(name) + "'", v, partial_[k]);
  }
  // Leave the tape as it was: the statement is not recorded.
  diag_->values.pop_back();
  operands_ = lo;
  set_operand_limit();
  detail::fail("nabla::Tape (throw_on_non_finite)",
               fmt::format("{} (statement {}) created a non-finite {}: value {}{}{}",
                           op_name(static_cast<Op>(static_cast<std::uint8_t>(op_[s]) & 0x7f)), s,
                           std::isfinite(value) ? "partial" : "value", value,
                           operands.empty() ? "" : " from ", operands));
}

Var Tape::record_evaluated(Op op, double value, std::span<const Var> operands,
                           std::span<const double> partials,
                           std::function<double(std::span<const double>)> function) {
  const Var out = record(op, value, operands, partials);
  if (diag_ && !out.is_constant() && function) {
    detail::Evaluation e{std::move(function), {}, {}};
    for (const Var& x : operands) {
      e.arguments.push_back(x.value());
      e.statements.push_back(index_of(x));
    }
    diag_->evaluations[out.index()] = std::move(e);
  }
  return out;
}

double Tape::recorded_value(std::uint32_t s) const noexcept {
  if (s == 0 || !diag_ || s >= diag_->values.size() || s >= statements_)
    return std::numeric_limits<double>::quiet_NaN();
  return diag_->values[s];
}

const detail::Evaluation* Tape::evaluation(std::uint32_t s) const noexcept {
  if (!diag_) return nullptr;
  const auto it = diag_->evaluations.find(s);
  return it == diag_->evaluations.end() || s >= statements_ ? nullptr : &it->second;
}

void Tape::label(const Var& x, std::string name) {
  const std::uint32_t s = index_of(x);
  if (s != 0) labels_[s] = std::move(name);
}

void Tape::label_statement(std::uint32_t s, std::string name) {
  if (s == 0 || s >= statements_) {
    detail::fail(
        "nabla::Tape::label_statement",
        fmt::format("statement {} is not on the tape (expected 1 to {})", s, statements_ - 1));
  }
  labels_[s] = std::move(name);
}

std::string_view Tape::label_of(std::uint32_t s) const {
  const auto it = labels_.find(s);
  return it == labels_.end() || s >= statements_ ? std::string_view() : it->second;
}

}  // namespace nabla
