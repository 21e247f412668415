// nabla — what the tape needs to know about tensor nodes (tensor_var.hpp builds on it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

namespace nabla::detail {

/// What a node's backward rule gets from the sweep: the scalar adjoints (indexed by statement),
/// whether the sweep consumes them (Note [Clean adjoints]) and where it stops.
struct Sweep {
  double* adjoint;
  bool consume;         ///< a gradient helper's sweep: parameters' gradient buffers are not written
  std::uint32_t floor;  ///< statements (and nodes) before this one receive nothing
};

/// A tensor operation recorded on the tape as a node entry (Note [Tensor nodes] in tape.hpp).
/// Nodes live in the tape's arena; the tape calls their destructor when it drops them.
class Node {
 public:
  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  virtual ~Node() = default;
  /// Pushes this node's output adjoint into its operands' adjoints.
  virtual void backward(const Sweep& sweep) = 0;
  /// Marks the output adjoint as not yet written (each sweep starts from zero adjoints).
  virtual void reset_adjoint() noexcept = 0;
  /// The operation's name ("matmul", "element", ...), for the graph export and reports.
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  /// Appends the statements of this node's operands (tensor nodes and scalars).
  virtual void inputs(std::vector<std::uint32_t>& out) const = 0;
};

/// A bump allocator for tensor data and nodes: memory is kept across rewinds, so a training
/// loop that records, sweeps and rewinds allocates nothing once warm.
class Arena {
 public:
  /// Where the arena stands; reset() goes back to it.
  struct Mark {
    std::size_t chunk = 0;
    std::size_t used = 0;
  };
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  /// `bytes` of uninitialised memory aligned to 64 bytes.
  void* allocate(std::size_t bytes) {
    bytes = (bytes + 63) & ~std::size_t{63};
    if (chunk_ < chunks_.size() && used_ + bytes <= chunks_[chunk_].size) {
      void* p = chunks_[chunk_].data.get() + used_;
      used_ += bytes;
      return p;
    }
    return allocate_slow(bytes);
  }
  [[nodiscard]] Mark mark() const noexcept { return {chunk_, used_}; }
  void reset(Mark m) noexcept {
    chunk_ = m.chunk;
    used_ = m.used;
  }
  /// Frees every chunk.
  void release() noexcept {
    chunks_.clear();
    chunk_ = used_ = 0;
  }
  /// True when nothing is allocated (the mark a fresh arena has).
  [[nodiscard]] bool empty() const noexcept { return chunk_ == 0 && used_ == 0; }
  [[nodiscard]] std::size_t bytes_reserved() const noexcept {
    std::size_t n = 0;
    for (const Chunk& c : chunks_) n += c.size;
    return n;
  }
  [[nodiscard]] std::size_t bytes_used() const noexcept {
    std::size_t n = used_;
    for (std::size_t k = 0; k < chunk_ && k < chunks_.size(); ++k) n += chunks_[k].size;
    return n;
  }
  [[nodiscard]] std::size_t allocations() const noexcept { return allocations_; }

 private:
  struct Free {
    void operator()(std::byte* p) const noexcept { ::operator delete[](p, std::align_val_t{64}); }
  };
  struct Chunk {
    std::unique_ptr<std::byte[], Free> data;
    std::size_t size = 0;
  };
  void* allocate_slow(std::size_t bytes);
  std::vector<Chunk> chunks_;
  std::size_t chunk_ = 0;  // the chunk in use
  std::size_t used_ = 0;   // bytes used in it
  std::size_t allocations_ = 0;
};

}  // namespace nabla::detail
