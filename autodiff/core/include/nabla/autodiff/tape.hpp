// nabla — the tape: the recording and the reverse sweep (Jacobian taping).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nabla/autodiff/buffer.hpp"
#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/node.hpp"
#include "nabla/autodiff/op.hpp"
#include "nabla/autodiff/var.hpp"

namespace nabla {

/// A place on a tape, from Tape::position(): the number of statements and operands recorded.
struct Position {
  std::uint32_t statement = 1;  ///< statements recorded (slot 0 is the constant slot)
  std::uint32_t operand = 0;    ///< operands recorded
  friend bool operator==(const Position&, const Position&) = default;
};

/// Memory and size figures of a tape (Tape::statistics(); `fmt::print("{}", s)` prints them in
/// one line). What the tape has reserved is bytes_reserved: scalar recording, adjoints and the
/// tensor arena together. The scalar part is address space: pages of it never written are not
/// resident (Note [Tape memory] in buffer.hpp), so the process holds about what is in use.
struct TapeStatistics {
  std::size_t statements = 0;  ///< recorded statements (inputs included, slot 0 excluded)
  std::size_t operands = 0;    ///< recorded operand entries (index + partial)
  /// Bytes of scalar recording in use: 5 per statement, 12 per operand (tensor data is in
  /// tensor_bytes; everything in use is bytes_in_use).
  std::size_t bytes_used = 0;
  std::size_t adjoint_bytes = 0;  ///< bytes of adjoints in use (8 per statement after a sweep)
  /// Every byte the tape holds: scalar recording, adjoints and the tensor arena
  /// (scalar_bytes_reserved + tensor_bytes_reserved).
  std::size_t bytes_reserved = 0;
  std::size_t allocations = 0;   ///< times the tape grew its buffers since construction
  std::size_t tensor_nodes = 0;  ///< recorded tensor nodes (each is also one statement)
  std::size_t tensor_bytes = 0;  ///< bytes of tensor values, adjoints and nodes in use
  /// Bytes in use, all of it: bytes_used + adjoint_bytes + tensor_bytes.
  std::size_t bytes_in_use = 0;
  std::size_t scalar_bytes_reserved = 0;  ///< bytes held for scalar recording and adjoints
  std::size_t tensor_bytes_reserved = 0;  ///< bytes held by the tensor arena
  /// Sweeps (backward()) from outputs recorded one after another since the tape was last
  /// rewound below one of them: above 1, the recording of earlier steps is still kept (a
  /// training loop that does not rewind; Note [Growth warning]).
  std::size_t sweeps_without_rewind = 0;
};

/// The statistics in one line, e.g. "1,204 statements, 300 tensor nodes; in use 266.9 MB
/// (scalar 31.0 kB, adjoints 9.6 kB, tensors 266.8 MB); reserved 267.1 MB ...".
std::string to_string(const TapeStatistics& s);

/// Sets the size from which a tape that keeps the recording of earlier training steps warns
/// once (Note [Growth warning]); 0 turns the warning off. For the whole process; the default is
/// 64 MiB.
void set_growth_warning(std::size_t bytes) noexcept;
/// The current growth-warning size (0: off).
[[nodiscard]] std::size_t growth_warning() noexcept;
/// Where nabla's warnings go: by default a line on stderr. Pass an empty function to restore
/// the default. For the whole process.
void set_warning_handler(std::function<void(std::string_view)> handler);

// Note [Jacobian taping]
// Statement s (its position is its identity) stores where its operands end, end_[s], and a
// one-byte operation code op_[s]; its operands are end_[s-1] .. end_[s]-1 in two parallel
// arrays, arg_ (the operand's statement index) and partial_ (d statement / d operand), both
// computed in the forward run. The reverse sweep is then a flat loop with no virtual call:
//     for s from last to first:  a = adjoint[s];  for each operand k:  adjoint[arg[k]] +=
//     partial[k] * a
// Slot 0 is the constant slot: constants have index 0 and are never written as operands.

// Note [Clean adjoints]
// A sweep needs zero adjoints for the statements it covers. Zeroing them costs a pass over 8
// bytes per statement, as much as a tenth of a gradient. The gradient helpers therefore sweep
// in "consuming" mode: each statement's adjoint is set back to 0 once it has been pushed to its
// operands, the inputs' adjoints are zeroed once read, and the tape remembers (zero_from_)
// that its adjoints are all zero, which rewind() keeps. The next helper call then finds clean
// adjoints and zeroes nothing. Anything that may leave adjoints behind (backward, reverse,
// adjoint()) forgets that knowledge, and the next helper call zeroes what it needs.

/// What a tape records for diagnostics (Tape::set_diagnostics; the graph module reads it).
struct Diagnostics {
  /// Store every statement's value and keep what re-evaluates custom operations
  /// (graph::check_partials). Expressions stay fused (one statement each; write one operation
  /// per statement where the fine-grained picture matters). Slower: for finding a problem,
  /// not for production runs.
  bool enabled = false;
  /// Throw nabla::Error at the first scalar operation whose value or partial is NaN/±∞ while
  /// all its operands are finite (needs `enabled`).
  bool throw_on_non_finite = false;
};

// Note [Tensor nodes]
// A tensor operation is recorded as one statement with op Op::tensor and no operands, plus a
// node entry {statement, node}: the node (in the tape's arena, with its value and adjoint
// arrays) knows its operands and its backward rule. The sweep runs the scalar statements after
// a node, then the node's backward(), then the statements before it — exact reverse order, so
// scalar code and tensor code mix freely. A node whose output is a scalar (t(i, j), sum to a
// Var) gives that statement's index to its Var: its backward reads the statement's adjoint.
// Rewinding below a node's statement destroys it and gives its arena memory back.

// Note [Tape epochs]
// Every Var carries a 64-bit id that no other statement ever recorded in the process shares.
// Ids are handed out in blocks: an *epoch* of a tape owns the block [lo, lo + reserved) and
// gives statement s the id lo + (s − start), where start is the epoch's first statement. A new
// epoch (a fresh block) starts when the tape is rewound below its end, so a Var recorded after
// the rewind point and used later is recognised as stale instead of silently aliasing a newer
// statement; a Var of another tape has an id from another tape's block. The fast check is one
// subtraction and one comparison against the current block; a miss falls back to a search of
// the (short) stack of live epochs. Blocks come from a per-thread pool refilled from a
// process-wide 64-bit counter, and cost what the epoch records (at least 256 ids): the id space
// lasts for centuries of rewinds, and running out throws instead of wrapping around.

class Tape;

namespace detail {
/// How one diagnostic statement re-evaluates: its function of the operand values, those values
/// (constants included) and which statement each one is (0 for a constant).
struct Evaluation {
  std::function<double(std::span<const double>)> function;
  std::vector<double> arguments;
  std::vector<std::uint32_t> statements;
};

// Note [Narrow tape interfaces]
// Tape's public interface records, sweeps, positions and rewinds, with no detail:: type in it.
// What the other parts of nabla need beyond that is private to Tape and reached through three
// friend structs, each for its users, each function forwarding to the private Tape member of
// its name (inline, so a caller compiles to what a member call did):
//   TapeAccess       tensor-node hosting, handles and raw sweeps (tensor, graph, gradient helpers)
//   TapeInspect      reading the recording statement by statement (graph, tests)
//   TapeDiagnostics  diagnostic records and labels (custom, nn, tensor labels, graph)

/// How the tensor and graph components reach a tape's node hosting (arena, node entries, raw
/// adjoints, node sweeps), and the gradient helpers its handles (Note [Narrow tape interfaces]).
struct TapeAccess {
  static Arena& arena(Tape& tape) noexcept;
  static Var push_node(Tape& tape, Node* node, Arena::Mark mark, double value = 0.0);
  static std::uint32_t check_handle(const Tape& tape, const Var& handle, const char* what);
  static bool is_at(const Tape& tape, const Var& x, std::size_t s) noexcept;
  static double* adjoint_data(Tape& tape) noexcept;
  static Node* node_at(const Tape& tape, std::uint32_t s) noexcept;
  template <class F>
  static void each_node(const Tape& tape, F&& f);
  template <class Seed>
  static void backward_node(Tape& tape, std::uint32_t s, Seed&& seed);
  template <class Seed>
  static void gradient_node(Tape& tape, std::uint32_t s, Position from, std::size_t inputs,
                            Seed&& seed);
  static void sweep_statements(Tape& tape, std::uint32_t last, std::uint32_t first);
  // Recording an expression (Note [One slow call] in expression.hpp).
  template <class E>
  NABLA_FORCE_INLINE static bool try_record_expression(Tape& tape, const E& e, Var& out);
  static Var record_collected(Tape* tape, Op op, double value, std::span<const Var> xs,
                              std::span<const double> partials);
  static Var make_var(double value, std::uint64_t id) noexcept;
  NABLA_FORCE_INLINE static bool current_index(const Tape& tape, const Var& x,
                                               std::uint32_t& i) noexcept;
};

/// How the graph component and the tests read a recording statement by statement
/// (Note [Narrow tape interfaces]).
struct TapeInspect {
  static Op op(const Tape& tape, std::uint32_t s) noexcept;
  static bool fused(const Tape& tape, std::uint32_t s) noexcept;
  static std::span<const std::uint32_t> operands(const Tape& tape, std::uint32_t s) noexcept;
  static std::span<const double> partials(const Tape& tape, std::uint32_t s) noexcept;
  static std::span<const double> adjoints(const Tape& tape) noexcept;
};

/// How nabla::custom, nabla::label, nn and the graph component write and read what a tape
/// records for diagnostics (Note [Diagnostic recording] in tape.cpp; Note [Narrow tape
/// interfaces]).
struct TapeDiagnostics {
  static bool diagnosing(const Tape& tape) noexcept;
  static double recorded_value(const Tape& tape, std::uint32_t s) noexcept;
  static const Evaluation* evaluation(const Tape& tape, std::uint32_t s) noexcept;
  static Var record_evaluated(Tape& tape, Op op, double value, std::span<const Var> operands,
                              std::span<const double> partials,
                              std::function<double(std::span<const double>)> function);
  static void label(Tape& tape, const Var& x, std::string name);
  static void label_statement(Tape& tape, std::uint32_t s, std::string name);
  static std::string_view label_of(const Tape& tape, std::uint32_t s);
};
}  // namespace detail

/// The recording of one thread's computation and its reverse sweep.
///
/// Operations record onto the *active tape of the current thread*. Each thread has a default
/// tape, so most users never create one; the gradient helpers record on the active tape and
/// rewind it afterwards. A tape is not shared between threads.
///
/// Example:
///   nabla::Tape tape;
///   nabla::Tape::Scope scope(tape);           // make it the active tape of this thread
///   nabla::Var x = tape.variable(3.0);
///   nabla::Var y = x * x;
///   tape.backward(y);                         // tape.adjoint(x) == 6
class Tape {
 public:
  Tape();
  ~Tape();
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  /// RAII activation: makes a tape the active tape of this thread, restores the previous one.
  class Scope {
   public:
    /// Activates `tape` until this object is destroyed.
    explicit Scope(Tape& tape) noexcept;
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    friend class Tape;
    Tape* previous_;  // the tape to restore (null: the thread's default tape)
    Scope* outer_;    // the next outer live scope of this thread (Note [Scopes] in tape.cpp)
  };

  /// The active tape of this thread (its default tape unless another one was activated).
  static Tape& active() noexcept;
  /// Makes this tape the active tape of this thread (prefer Tape::Scope).
  void activate() noexcept;

  // ---- Recording (operations call record(); users prefer nabla::custom) ----

  /// Records a new independent variable with the given value.
  Var variable(double value);

  /// Records one independent variable per value into `out` (consecutive statements).
  /// @throws nabla::Error when the spans differ in size.
  void variables(std::span<const double> values, std::span<Var> out) {
    if (values.size() != out.size()) [[unlikely]]
      size_error(values.size(), out.size());
    const std::size_t n = values.size();
    if (statements_ + n > statement_limit_) grow_for(n, 0);
    // Inputs have no operands: their operand range is empty, ending where the tape's does.
    const auto ops = static_cast<std::uint32_t>(operands_);
    for (std::size_t i = 0; i < n; ++i) {
      end_[statements_ + i] = ops;
      op_[statements_ + i] = Op::input;
      out[i] = Var(values[i], base_ + statements_ + i);
    }
    if (diag_) [[unlikely]] {
      diag_->values.resize(statements_, std::numeric_limits<double>::quiet_NaN());
      diag_->values.insert(diag_->values.end(), values.begin(), values.end());
    }
    statements_ += n;
    set_operand_limit();  // statements without operands (Note [One room check])
  }

  /// The statement index of x on this tape (0 for a constant).
  /// @throws nabla::Error when x belongs to another tape or was rewound away.
  [[nodiscard]] std::uint32_t index_of(const Var& x) const {
    std::uint32_t i = 0;
    if (current_index(x, i)) [[likely]] {
      NABLA_ASSERT(i < statements_, "an id of a live block names a statement never recorded");
      return i;
    }
    if (x.id_ == 0) return 0;
    return index_of_slow(x.value_, x.id_);  // by value: x can stay in registers
  }

  /// Records `value` = op(a) with partial da; returns a constant when a is one.
  Var record(Op op, double value, const Var& a, double da) {
    const std::uint32_t ia = index_of(a);
    if (ia == 0) return Var(value);
    room_for(1);
    arg_[operands_] = ia;
    partial_[operands_] = da;
    ++operands_;
    return push_statement(op, value);
  }

  /// Records `value` = op(a, b) with partials da, db; constant operands are dropped.
  Var record(Op op, double value, const Var& a, double da, const Var& b, double db) {
    const std::uint32_t ia = index_of(a);
    const std::uint32_t ib = index_of(b);
    if ((ia | ib) == 0) return Var(value);
    room_for(2);
    // Branch-free: write both, advance past the constants' slots only when they are variables.
    std::size_t n = operands_;
    arg_[n] = ia;
    partial_[n] = da;
    n += (ia != 0);
    arg_[n] = ib;
    partial_[n] = db;
    n += (ib != 0);
    operands_ = n;
    return push_statement(op, value);
  }

  /// Records `value` = op(a, b, c) with partials da, db, dc; constant operands are dropped.
  Var record(Op op, double value, const Var& a, double da, const Var& b, double db, const Var& c,
             double dc);

  /// Records an expression (expression.hpp) as one statement: one operand per variable leaf.
  template <class E>
  NABLA_FORCE_INLINE Var record_expression(const E& e);

  /// Records `value` = op(xs...) with one partial per operand; constant operands are dropped.
  /// @throws nabla::Error when the spans differ in size.
  Var record(Op op, double value, std::span<const Var> xs, std::span<const double> partials);

  /// Reserves room for `statements` statements and `operands` operands in all (so that
  /// recording up to that size allocates nothing).
  /// @throws nabla::Error beyond 2³² − 2 of either (a tape's limit), or when memory runs out.
  void reserve(std::size_t statements, std::size_t operands);

  /// Turns diagnostic recording on or off for what is recorded from now on.
  /// @throws nabla::Error when throw_on_non_finite is set without enabled.
  void set_diagnostics(const Diagnostics& options);
  /// The current diagnostic options.
  [[nodiscard]] Diagnostics diagnostics() const noexcept {
    return diag_ ? diag_->options : Diagnostics{};
  }

  /// Turns on or off, for what is recorded from now on, the dropping of operands whose partial
  /// is exactly ±0 (Note [Dropping zero partials] in tape.cpp): a statement keeps only its
  /// non-zero partials, and one left with none becomes a constant (no statement). A smaller
  /// tape and a shorter sweep where many partials vanish (ReLU, max/min, abs, products with a
  /// zero factor). Gradients are the same, except that an infinite or NaN adjoint meets a
  /// dropped operand as 0, not as 0 · ∞ = NaN. While it is on, every expression statement takes
  /// the recording's slow path (one call per statement), as with diagnostics.
  void set_drop_zero_partials(bool on) noexcept;
  /// Whether zero partials are dropped (set_drop_zero_partials()).
  [[nodiscard]] bool drops_zero_partials() const noexcept { return drop_zero_; }

  // ---- Sweeping ----

  /// Sweeps statements from the last one down to `from` (default: all), adding each
  /// statement's adjoint times its partials into its operands' adjoints. Seed adjoints first
  /// with adjoint(y) = 1 (or use backward()).
  /// @throws nabla::Error when `from` is ahead of the tape.
  void reverse(Position from = {});

  /// Zeroes all adjoints, seeds adjoint(y) = 1 and sweeps the whole tape.
  /// @throws nabla::Error when y belongs to another tape or was rewound away.
  void backward(const Var& y);

  /// Zeroes all adjoints, seeds adjoint(y) = 1 and sweeps from y down to `from` only: the work
  /// recorded before `from` is not swept, but its statements that were used after `from`
  /// receive their adjoints (a nested sweep, as the gradient helpers do).
  void backward(const Var& y, Position from);

  /// The gradient helpers' sweep: g[i] = dy/dvᵢ, where v₀ … vₙ₋₁ (n = g.size()) are the first
  /// statements recorded at `from` — the inputs, made with variables() right after position().
  /// Leaves every adjoint 0 (Note [Clean adjoints]), so the next call needs no zeroing pass;
  /// the adjoints of intermediate statements are not kept (use backward() for those).
  /// @throws nabla::Error when `from` or the inputs are no longer on the tape, or y is stale.
  void gradient(const Var& y, Position from, std::span<double> g);

  /// The gradient helpers' vector sweep (Note [Vector sweeps] in tape.cpp): row r of J (m × n,
  /// row-major, m = ys.size(), n = J.size() / m) is dys[r]/dvᵢ for the n inputs v recorded at
  /// `from`, as gradient() gives one row. Up to 8 outputs share one sweep, each statement
  /// carrying one adjoint per output; a recording with tensor nodes after `from` takes one
  /// scalar sweep per output. Leaves every scalar adjoint as gradient() does.
  /// @throws nabla::Error when `from` or the inputs are no longer on the tape, an output is
  /// stale, or J.size() is not a multiple of ys.size().
  void jacobian(std::span<const Var> ys, Position from, std::span<double> J);

  /// The adjoint of x (d output / d x after a sweep). The reference is valid until the next
  /// recording or sweep.
  /// @throws nabla::Error when x is a constant, or belongs to another tape, or was rewound away.
  double& adjoint(const Var& x);

  /// The adjoint of x, read only: 0 for a constant or a statement no sweep has reached.
  /// @throws nabla::Error when x belongs to another tape or was rewound away.
  [[nodiscard]] double adjoint_value(const Var& x) const {
    const std::uint32_t i = index_of(x);
    return i != 0 && i < adjoints_ ? adjoint_[i] : 0.0;
  }

  /// Sets every adjoint to zero.
  void zero_adjoints() noexcept;

  // ---- Positions and rewinding ----

  /// The current end of the recording; pass it to reverse() and rewind().
  [[nodiscard]] Position position() const noexcept {
    return {static_cast<std::uint32_t>(statements_), static_cast<std::uint32_t>(operands_)};
  }

  /// Drops everything recorded after `to`; memory is kept for reuse. Vars recorded after `to`
  /// become invalid (using one throws).
  /// @throws nabla::Error when `to` is ahead of the tape.
  void rewind(Position to);

  /// Drops the whole recording (memory is kept for reuse; see release()).
  void clear();

  /// Drops the recording and frees its memory.
  void release();

  // ---- Statistics ----

  /// Sizes and memory of the recording.
  [[nodiscard]] TapeStatistics statistics() const noexcept;

  // ---- Old spellings, kept compiling for one release (docs/design.md, "Changes") ----

  /// Deprecated: the statement count is position().statement.
  [[deprecated("use position().statement")]] [[nodiscard]] std::size_t size() const noexcept {
    return position().statement;
  }

 private:
  // The internal interfaces (Note [Narrow tape interfaces]).
  friend struct detail::TapeAccess;
  friend struct detail::TapeInspect;
  friend struct detail::TapeDiagnostics;

  // ---- Hosting tensor nodes, handles, raw sweeps (Note [Tensor nodes]; detail::TapeAccess) ----

  /// The arena that holds tensor nodes and their arrays.
  detail::Arena& arena() noexcept { return arena_; }
  /// Records `node` (built in the arena after `mark`) as a statement with the given value; the
  /// returned Var names that statement. The tape owns the node from here on.
  Var push_node(detail::Node* node, detail::Arena::Mark mark, double value = 0.0);
  /// The statement a tensor handle names, checked to be still on this tape.
  /// @throws nabla::Error naming `what` when it was rewound away or belongs to another tape.
  std::uint32_t check_handle(const Var& handle, const char* what) const {
    const std::uint64_t d = handle.id_ - lo_;
    if (d < reserved_) [[likely]]
      return static_cast<std::uint32_t>(start_ + d);
    return index_of_slow(handle.value_, handle.id_, what);
  }
  /// True when x is statement s of the current epoch (a quick check that never throws; false
  /// says nothing: use index_of()).
  [[nodiscard]] bool is_at(const Var& x, std::size_t s) const noexcept {
    const std::uint64_t d = x.id_ - lo_;
    return d < reserved_ && start_ + d == s;
  }
  /// The raw adjoint array (valid for every statement once ensure_adjoints() ran).
  double* adjoint_data() noexcept {
    ensure_adjoints();
    return adjoint_.data();
  }
  /// Zeroes all adjoints, marks node adjoints unwritten, lets `seed` write the output adjoint
  /// of the node at statement s, and sweeps from s down to the first statement.
  template <class Seed>
  void backward_node(std::uint32_t s, Seed&& seed) {
    begin_backward("nabla::backward", s);
    zero_adjoints();
    ensure_adjoints();
    zero_from_ = adjoints_;
    reset_node_adjoints(statements_ - 1, 1);  // also the nodes recorded after s
    seed();
    sweep_all<false>(s, 1, 0, false);
  }
  /// The gradient helpers' sweep from statement s (a node or a scalar) down to the `inputs`
  /// statements recorded at `from` (Note [Clean adjoints]): zeroes what the sweep needs, lets
  /// `seed` write the output adjoint, and sweeps in consuming mode. Nothing recorded before
  /// `from` receives an adjoint and parameters' gradient buffers are not written: the helper's
  /// effects stay inside its own recording. The inputs' adjoints are left for the caller.
  template <class Seed>
  void gradient_node(std::uint32_t s, Position from, std::size_t inputs, Seed&& seed) {
    begin_gradient_node(s, from);
    seed();
    sweep_all<true>(s, from.statement + inputs, from.statement, false);
  }
  /// Sweeps statements (and tensor nodes) from `last` down to `first` only, with the adjoints
  /// as they are: what a diagnostic walks step by step (graph::first_non_finite_adjoint).
  /// @throws nabla::Error when the range is not on the tape.
  void sweep_statements(std::uint32_t last, std::uint32_t first);

  /// The tensor node recorded at statement s, or null.
  [[nodiscard]] detail::Node* node_at(std::uint32_t s) const noexcept;
  /// The tape's tensor nodes and their statements, oldest first.
  template <class F>
  void each_node(F&& f) const {
    for (const NodeEntry& e : nodes_) f(e.statement, e.node);
  }

  // ---- Reading the recording (detail::TapeInspect) ----

  /// The operation of statement s (for a fused expression: its outermost operation).
  [[nodiscard]] Op op(std::uint32_t s) const noexcept {
    return static_cast<Op>(static_cast<std::uint8_t>(op_[s]) & 0x7f);
  }
  /// True when statement s is a fused expression of several operations (expression.hpp).
  [[nodiscard]] bool fused(std::uint32_t s) const noexcept {
    return (static_cast<std::uint8_t>(op_[s]) & 0x80) != 0;
  }
  /// The operand statement indices of statement s.
  [[nodiscard]] std::span<const std::uint32_t> operands(std::uint32_t s) const noexcept {
    return {arg_.data() + end_[s - 1], arg_.data() + end_[s]};
  }
  /// The partials of statement s with respect to its operands (same order as operands()).
  [[nodiscard]] std::span<const double> partials(std::uint32_t s) const noexcept {
    return {partial_.data() + end_[s - 1], partial_.data() + end_[s]};
  }
  /// The adjoint array as the last sweep left it (one per statement at most; empty before one).
  [[nodiscard]] std::span<const double> adjoints() const noexcept {
    return {adjoint_.data(), std::min(adjoints_, statements_)};
  }

  // ---- Diagnostic records and labels (detail::TapeDiagnostics) ----

  /// True when statements are recorded with diagnostics (values kept; expressions still fused).
  [[nodiscard]] bool diagnosing() const noexcept { return diag_ != nullptr; }
  /// The value of statement s when it was recorded with diagnostics, NaN otherwise.
  [[nodiscard]] double recorded_value(std::uint32_t s) const noexcept;
  /// How statement s re-evaluates (null when it was not recorded with diagnostics, or is an
  /// operation that keeps no evaluation).
  [[nodiscard]] const detail::Evaluation* evaluation(std::uint32_t s) const noexcept;
  /// Records `value` = op(operands) with its partials and, in diagnostic mode, the function
  /// that re-evaluates it (what nabla::custom with a function uses).
  Var record_evaluated(Op op, double value, std::span<const Var> operands,
                       std::span<const double> partials,
                       std::function<double(std::span<const double>)> function);
  /// Names the statement of x (shown by graph::capture and the reports); constants are ignored.
  void label(const Var& x, std::string name);
  /// Names statement s.
  void label_statement(std::uint32_t s, std::string name);
  /// The name given to statement s, or "".
  [[nodiscard]] std::string_view label_of(std::uint32_t s) const;

  // ---- Implementation ----

  // The fast path of record_expression, and the one call its slow path makes (Note [One slow
  // call] in expression.hpp).
  template <class E>
  NABLA_FORCE_INLINE bool try_record_expression(const E& e, Var& out);
  [[gnu::noinline]] static Var record_collected(Tape* tape, Op op, double value,
                                                std::span<const Var> xs,
                                                std::span<const double> partials);
  static Var make_var(double value, std::uint64_t id) noexcept { return Var(value, id); }

  std::uint32_t index_of_slow(double value, std::uint64_t id, const char* what = nullptr) const;
  void grow(std::size_t operands) { grow_for(1, operands); }
  // The fast paths' limit (Note [One room check]).
  void set_operand_limit() noexcept {
    NABLA_ASSERT(statements_ <= statement_limit_ && operands_ <= operand_capacity_,
                 "the tape is past its limits");
    // With diagnostics or dropped zero partials, no room: every statement takes a slow path.
    operand_limit_ =
        cold_ ? operands_
              : operands_ + std::min(operand_capacity_ - operands_, statement_limit_ - statements_);
  }
  // Room (memory and ids) for `statements` more statements and `operands` more operands.
  void grow_for(std::size_t statements, std::size_t operands);
  // Zeroes adjoints [from, end) as a helper sweep needs (inline in tape.cpp, where the sweeps
  // are: Note [The helpers' fixed cost]).
  void prepare_gradient(Position from);
  void begin_gradient_node(std::uint32_t s, Position from);  // prepare_gradient, node adjoints
  // A user's sweep from statement s: refused inside a NoGrad scope; counted, and warned about
  // when the tape keeps earlier steps (Note [Growth warning]).
  void begin_backward(const char* function, std::size_t s);
  void grow_statements(std::size_t needed);  // capacity for `needed` statements (slot 0 included)
  void grow_operands(std::size_t needed);
  void ensure_adjoints() {  // adjoints exist and are initialised for every statement
    if (adjoints_ < statements_) [[unlikely]]
      grow_adjoints();
  }
  void grow_adjoints();
  // Statements last down to first; `floored`: nothing is pushed into statements below floor.
  template <bool consume, bool floored>
  void sweep(std::size_t last, std::size_t first, std::size_t floor) noexcept;
  // The statements from last down to first, no node among them; `floor` as sweep_all's. A
  // helper's sweep (consume) that does not start at the tape's beginning may meet operands
  // recorded before its floor (outer variables f captured): those get nothing.
  template <bool consume>
  void sweep_range(std::size_t last, std::size_t first, std::size_t floor) noexcept {
    if constexpr (consume) {
      if (floor > 1) return sweep<true, true>(last, first, floor);
    }
    sweep<consume, false>(last, first, 0);
  }
  // Statements and tensor nodes from last down to first (Note [Tensor nodes]); `floor`:
  // statements and nodes below it receive nothing (0: no floor). Inline when there is no node
  // in the range (Note [The helpers' fixed cost]).
  template <bool consume>
  void sweep_all(std::size_t last, std::size_t first, std::size_t floor, bool reset = true) {
    if (last < first) return;
    if (nodes_.empty() || nodes_.back().statement < first) [[likely]]
      return sweep_range<consume>(last, first, floor);
    sweep_nodes<consume>(last, first, floor, reset);
  }
  template <bool consume>
  void sweep_nodes(std::size_t last, std::size_t first, std::size_t floor, bool reset);
  // The vector sweep of K outputs (Note [Vector sweeps]): statements last down to first, K
  // adjoints per statement at vector_adjoint_[(s − floor)·K …]; operands below floor get nothing.
  template <std::size_t K>
  void sweep_vector(std::size_t last, std::size_t first, std::size_t floor) noexcept;
  void reset_node_adjoints(std::size_t last, std::size_t first) noexcept;
  void drop_nodes(std::uint32_t from) noexcept;  // destroys the nodes at statements >= from
  void start_epoch(std::size_t start, std::size_t ids);
  void renew_epoch(std::size_t ids);  // the current epoch ends, another begins at its start
  void enter_epoch();                 // the fields of the current epoch, the limits from them
  void check_position(const char* function, Position p) const {
    if (p.statement < 1 || p.statement > statements_ || p.operand > operands_ ||
        p.operand != end_[p.statement - 1]) [[unlikely]]
      position_error(function, p);
  }
  [[noreturn]] void position_error(const char* function, Position p) const;
  [[noreturn]] static void size_error(std::size_t values, std::size_t out);

  static constexpr Op fused_op(Op op) noexcept {
    return static_cast<Op>(static_cast<std::uint8_t>(op) | 0x80);
  }
  // Room for one statement and `operands` operands (any number, 0 included).
  void make_room(std::size_t operands) {
    if (statements_ == statement_limit_ || operands_ + operands > operand_capacity_) [[unlikely]]
      grow(operands);
  }
  // Note [One room check]
  // Recording a statement needs room for one statement and its operands: two arrays, two
  // limits, two tests. The fast paths (record, record_expression) test one: operands_ + n
  // against operand_limit_ = operands_ + min(operand room, statement room), set by every
  // change outside them (growth, epochs, rewinds, input and node statements, which have no
  // operands). A fast-path statement has at least one operand (all-constant ones become
  // constants before any room is asked for), so each takes at least as much from the operand
  // room as from the statement room: operand_limit_ − operands_ ≤ statement room stays true
  // until the next set_operand_limit(), and passing the test (n ≥ 1) leaves room for the
  // statement too. When the test fails with room left (the statement room was the smaller),
  // grow() adds what is missing, if anything, and sets the limit again.
  void room_for(std::size_t operands) {
    NABLA_ASSERT(operands >= 1, "room_for() is for statements with operands");
    if (operands_ + operands > operand_limit_) [[unlikely]]
      grow(operands);
  }
  Var push_statement(Op op, double value) {
    // Diagnostics and dropped zero partials take a cold out-of-line path that returns on its
    // own (the branch costs ~3% of recording instructions: 722.0 M vs 701.2 M without it).
    if (cold_) [[unlikely]]
      return push_cold(op, value);
    return push_undiagnosed(op, value);
  }
  [[gnu::noinline, gnu::cold]] Var push_cold(Op op, double value);
  // The statement whose operands were just written (up to operands_): its end, op and id.
  NABLA_FORCE_INLINE Var push_undiagnosed(Op op, double value) noexcept {
    NABLA_ASSERT(statements_ < statement_limit_ && operands_ <= operand_capacity_ && !diag_,
                 "a statement recorded without room (make_room was skipped)");
    end_[statements_] = static_cast<std::uint32_t>(operands_);
    op_[statements_] = op;
    return Var(value, base_ + statements_++);
  }
  // The statement of x when it is in the current block or the one below (Note [Tape epochs],
  // Note [The epoch below]): the inline part of index_of().
  NABLA_FORCE_INLINE bool current_index(const Var& x, std::uint32_t& i) const noexcept {
    const std::uint64_t k = x.id_ - lo_;
    if (k < reserved_) [[likely]] {
      i = static_cast<std::uint32_t>(start_ + k);
      // A recorded statement is never slot 0 (the constants'): telling the compiler lets the
      // callers' constant tests fold away on this path (Note [One room check]).
      if (i == 0) __builtin_unreachable();
      return true;
    }
    const std::uint64_t p = x.id_ - below_lo_;
    if (p < below_count_) {
      i = static_cast<std::uint32_t>(below_start_ + p);
      if (i == 0) __builtin_unreachable();
      return true;
    }
    return false;
  }
  [[gnu::noinline, gnu::cold]] Var push_diagnosed(Op op, double value);

  void diagnose(double value);  // stores the value of statement statements_, checks it

  struct DiagnosticRecord {
    Diagnostics options;
    std::vector<double> values;  // per statement (NaN before enabling)
    std::unordered_map<std::uint32_t, detail::Evaluation> evaluations;
  };

  // Storage is sized to its capacity and not initialised (Note [Tape memory] in buffer.hpp);
  // statements_/operands_ count what is in use.
  detail::Buffer<std::uint32_t> end_;      // per statement: one past its last operand
  detail::Buffer<Op> op_;                  // per statement: its operation
  detail::Buffer<std::uint32_t> arg_;      // per operand: statement index of the operand
  detail::Buffer<double> partial_;         // per operand: d statement / d operand
  detail::Buffer<double> adjoint_;         // per statement, valid in [0, adjoints_)
  detail::Buffer<double> vector_adjoint_;  // the vector sweep's K adjoints per statement
  std::size_t statements_ = 1;             // slot 0 is the constant slot
  std::size_t operands_ = 0;
  std::size_t adjoints_ = 0;            // adjoints [0, adjoints_) are initialised
  std::size_t zero_from_ = 0;           // adjoints [zero_from_, adjoints_) are known to be 0
  std::size_t statement_capacity_ = 1;  // end_.size()
  // min(statement_capacity_, start_ + reserved_): the recording fast path's one limit
  std::size_t statement_limit_ = 1;
  std::size_t operand_capacity_ = 0;  // arg_.size()
  std::size_t operand_limit_ = 0;     // Note [One room check]
  bool cold_ = false;                 // diag_ || drop_zero_: statements take push_cold()
  bool drop_zero_ = false;            // Note [Dropping zero partials]
  std::size_t allocations_ = 0;
  // Note [Growth warning]: sweeps from outputs recorded one after another, the last one's
  // statement, and whether this tape has warned.
  std::size_t sweeps_without_rewind_ = 0;
  std::size_t last_sweep_output_ = 0;
  bool growth_warned_ = false;

  // The current epoch (Note [Tape epochs]), kept apart from epochs_ for the fast paths.
  std::uint64_t lo_ = 0;        // id of statement start_
  std::uint64_t base_ = 0;      // lo_ − start_: statement s gets id base_ + s
  std::uint64_t reserved_ = 0;  // ids lo_ … lo_ + reserved_ − 1 belong to this epoch
  std::size_t start_ = 1;       // first statement of the epoch
  // Note [The epoch below]
  // Recording checks the current epoch's block and, failing that, the epoch below it, inline;
  // only leaves of deeper epochs take the slow path (Note [One slow call]). The epoch below is
  // the one a loop of `position(); …; rewind()` over variables recorded once leaves live (each
  // rewind ends the loop's epoch and starts another above the variables'): every statement of
  // such a loop reads variables of that epoch. Its statements are [below_start_, start_) with
  // ids below_lo_ + (s − below_start_); below_count_ = 0 when there is none.
  std::uint64_t below_lo_ = 0;
  std::uint64_t below_count_ = 0;
  std::size_t below_start_ = 0;

  struct Epoch {
    std::uint64_t lo;        // id of its first statement
    std::uint64_t reserved;  // ids it owns
    std::size_t start;       // its first statement
  };
  std::vector<Epoch> epochs_;  // live epochs, oldest first; back() is the current one
  struct IdRange {
    std::uint64_t lo = 0, size = 0;
  };
  std::array<IdRange, 16> dropped_{};  // recently dropped epochs' ids, for messages only
  std::size_t dropped_next_ = 0;
  void drop_epoch(const Epoch& e) noexcept {
    dropped_[dropped_next_++ % dropped_.size()] = {e.lo, e.reserved};
  }

  struct NodeEntry {
    std::uint32_t statement;
    detail::Node* node;
    detail::Arena::Mark mark;  // the arena before the node was built
  };
  std::vector<NodeEntry> nodes_;  // by statement, oldest first
  detail::Arena arena_;
  // Cold data last: the recording fields above keep small offsets.
  std::unique_ptr<DiagnosticRecord> diag_;
  std::unordered_map<std::uint32_t, std::string> labels_;
};

namespace detail {
// The active tape of this thread; null until first use, then the thread's default tape.
// constinit lets the compiler read it without a TLS initialisation wrapper on the hot path.
inline constinit thread_local Tape* active_tape = nullptr;
// The innermost live Tape::Scope of this thread (Note [Scopes] in tape.cpp).
inline constinit thread_local Tape::Scope* innermost_scope = nullptr;
Tape& default_tape() noexcept;  // creates and activates this thread's default tape
/// Moves the process-wide id counter on by n (tests: the state of a process after n ids).
void advance_ids_for_testing(std::uint64_t n);
}  // namespace detail

inline std::uint32_t Var::index() const { return Tape::active().index_of(*this); }

inline detail::Arena& detail::TapeAccess::arena(Tape& tape) noexcept { return tape.arena(); }
inline Var detail::TapeAccess::push_node(Tape& tape, Node* node, Arena::Mark mark, double value) {
  return tape.push_node(node, mark, value);
}
template <class E>
inline bool detail::TapeAccess::try_record_expression(Tape& tape, const E& e, Var& out) {
  return tape.try_record_expression(e, out);
}
inline Var detail::TapeAccess::record_collected(Tape* tape, Op op, double value,
                                                std::span<const Var> xs,
                                                std::span<const double> partials) {
  return Tape::record_collected(tape, op, value, xs, partials);
}
inline Var detail::TapeAccess::make_var(double value, std::uint64_t id) noexcept {
  return Tape::make_var(value, id);
}
inline bool detail::TapeAccess::current_index(const Tape& tape, const Var& x,
                                              std::uint32_t& i) noexcept {
  return tape.current_index(x, i);
}
inline std::uint32_t detail::TapeAccess::check_handle(const Tape& tape, const Var& handle,
                                                      const char* what) {
  return tape.check_handle(handle, what);
}
inline double* detail::TapeAccess::adjoint_data(Tape& tape) noexcept { return tape.adjoint_data(); }
inline detail::Node* detail::TapeAccess::node_at(const Tape& tape, std::uint32_t s) noexcept {
  return tape.node_at(s);
}
template <class F>
void detail::TapeAccess::each_node(const Tape& tape, F&& f) {
  tape.each_node(std::forward<F>(f));
}
template <class Seed>
void detail::TapeAccess::backward_node(Tape& tape, std::uint32_t s, Seed&& seed) {
  tape.backward_node(s, std::forward<Seed>(seed));
}
template <class Seed>
void detail::TapeAccess::gradient_node(Tape& tape, std::uint32_t s, Position from,
                                       std::size_t inputs, Seed&& seed) {
  tape.gradient_node(s, from, inputs, std::forward<Seed>(seed));
}

inline bool detail::TapeAccess::is_at(const Tape& tape, const Var& x, std::size_t s) noexcept {
  return tape.is_at(x, s);
}
inline void detail::TapeAccess::sweep_statements(Tape& tape, std::uint32_t last,
                                                 std::uint32_t first) {
  tape.sweep_statements(last, first);
}

inline Op detail::TapeInspect::op(const Tape& tape, std::uint32_t s) noexcept { return tape.op(s); }
inline bool detail::TapeInspect::fused(const Tape& tape, std::uint32_t s) noexcept {
  return tape.fused(s);
}
inline std::span<const std::uint32_t> detail::TapeInspect::operands(const Tape& tape,
                                                                    std::uint32_t s) noexcept {
  return tape.operands(s);
}
inline std::span<const double> detail::TapeInspect::partials(const Tape& tape,
                                                             std::uint32_t s) noexcept {
  return tape.partials(s);
}
inline std::span<const double> detail::TapeInspect::adjoints(const Tape& tape) noexcept {
  return tape.adjoints();
}

inline bool detail::TapeDiagnostics::diagnosing(const Tape& tape) noexcept {
  return tape.diagnosing();
}
inline double detail::TapeDiagnostics::recorded_value(const Tape& tape, std::uint32_t s) noexcept {
  return tape.recorded_value(s);
}
inline const detail::Evaluation* detail::TapeDiagnostics::evaluation(const Tape& tape,
                                                                     std::uint32_t s) noexcept {
  return tape.evaluation(s);
}
inline Var detail::TapeDiagnostics::record_evaluated(
    Tape& tape, Op op, double value, std::span<const Var> operands,
    std::span<const double> partials, std::function<double(std::span<const double>)> function) {
  return tape.record_evaluated(op, value, operands, partials, std::move(function));
}
inline void detail::TapeDiagnostics::label(Tape& tape, const Var& x, std::string name) {
  tape.label(x, std::move(name));
}
inline void detail::TapeDiagnostics::label_statement(Tape& tape, std::uint32_t s,
                                                     std::string name) {
  tape.label_statement(s, std::move(name));
}
inline std::string_view detail::TapeDiagnostics::label_of(const Tape& tape, std::uint32_t s) {
  return tape.label_of(s);
}

namespace detail {
/// Rewinds the active tape to where it stood at construction when destroyed, also when the
/// code in between throws (what every gradient helper does with its recording).
class RewindGuard {
 public:
  RewindGuard() : tape_(Tape::active()), start_(tape_.position()) {}
  ~RewindGuard() {
    try {
      tape_.rewind(start_);
    } catch (...) {  // the code rewound the tape below our start itself: nothing of ours is left
    }
  }
  RewindGuard(const RewindGuard&) = delete;
  RewindGuard& operator=(const RewindGuard&) = delete;
  /// The tape.
  [[nodiscard]] Tape& tape() const noexcept { return tape_; }
  /// Where the tape stood at construction.
  [[nodiscard]] Position start() const noexcept { return start_; }

 private:
  Tape& tape_;
  Position start_;
};
}  // namespace detail

inline Tape& Tape::active() noexcept {
  Tape* tape = detail::active_tape;
  if (tape == nullptr) [[unlikely]]
    tape = &detail::default_tape();
  return *tape;
}

/// The active tape of this thread.
inline Tape& active_tape() noexcept { return Tape::active(); }

/// A new independent variable on the active tape.
/// Example: `nabla::Var x = nabla::variable(1.5);`
inline Var variable(double value) { return Tape::active().variable(value); }

/// Seeds dy/dy = 1 and sweeps the active tape; read the results with adjoint().
/// @throws nabla::Error when y does not belong to the active tape.
inline void backward(const Var& y) { Tape::active().backward(y); }

/// The adjoint of x on the active tape (after backward()).
/// @throws nabla::Error when x is a constant or does not belong to the active tape.
inline double& adjoint(const Var& x) { return Tape::active().adjoint(x); }

}  // namespace nabla
