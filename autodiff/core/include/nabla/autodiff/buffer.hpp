// nabla — the tape's growable arrays: no zero-filling, no copying on growth (Note [Tape memory]).
#pragma once

#include <cstddef>
#include <limits>
#include <new>
#include <type_traits>
#include <utility>

namespace nabla::detail {

// Note [Tape memory]
// The tape's arrays (statements, operands, partials, adjoints) were std::vectors sized to their
// capacity: each growth zero-filled the new half and copied the old one, so a tape grown by
// doubling touched about twice what it used (peak resident memory 1.7× the recording plus its
// adjoints on a 10⁷-statement Rosenbrock) and a cold first gradient cost 5–7× a warm one. A
// Buffer leaves new elements uninitialised (the tape writes every slot before it reads it; the
// adjoints say which of theirs are initialised) and, from 1 MiB on, lives in its own anonymous
// mapping that grows with mremap: the pages move, nothing is copied, and pages of the capacity
// that were never written are never resident. Mappings of 4 MiB and more ask for transparent
// huge pages (madvise), so a cold tape takes one page fault per 2 MiB instead of per 4 KiB.
// Elsewhere than Linux the same interface falls back to malloc and realloc.

/// Grows a block from old_bytes to at least new_bytes, keeping its contents; returns the block
/// and sets new_bytes to its usable size. old may be null (old_bytes 0).
/// @throws std::bad_alloc when memory runs out (old is then still valid).
void* grow_block(void* old, std::size_t old_bytes, std::size_t& new_bytes);
/// Frees a block that grow_block returned with size `bytes`.
void free_block(void* block, std::size_t bytes) noexcept;

/// A growable array of a trivially copyable T whose new elements are not initialised
/// (Note [Tape memory]). size() is the capacity: the tape counts what it uses itself.
template <class T>
class Buffer {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  Buffer() = default;
  ~Buffer() { free_block(data_, size_ * sizeof(T)); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  Buffer& operator=(Buffer&& other) noexcept {
    Buffer(std::move(other)).swap(*this);
    return *this;
  }
  void swap(Buffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

  /// The elements (size() of them, those not yet written uninitialised).
  [[nodiscard]] T* data() noexcept { return data_; }
  [[nodiscard]] const T* data() const noexcept { return data_; }
  [[nodiscard]] T& operator[](std::size_t i) noexcept { return data_[i]; }
  [[nodiscard]] const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  /// The capacity in elements.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return size_; }

  /// Grows to at least n elements (never shrinks), keeping the contents; new elements are not
  /// initialised. @throws std::bad_alloc when memory runs out (the buffer is then unchanged).
  void grow_to(std::size_t n) {
    if (n <= size_) return;
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_alloc();
    std::size_t bytes = n * sizeof(T);
    data_ = static_cast<T*>(grow_block(data_, size_ * sizeof(T), bytes));
    size_ = bytes / sizeof(T);
  }
  /// Frees the memory.
  void release() noexcept { Buffer().swap(*this); }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace nabla::detail
