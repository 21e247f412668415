// nabla — the tape's growable blocks (Note [Tape memory] in buffer.hpp).
#include "nabla/autodiff/buffer.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace nabla::detail {

#if defined(__linux__)
namespace {

constexpr std::size_t mapped_from = std::size_t{1} << 20;  // blocks this big get a mapping
constexpr std::size_t huge_from = std::size_t{4} << 20;    // and from here, huge pages

std::size_t page_rounded(std::size_t bytes) {
  static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

void advise_huge(void* block, std::size_t bytes) noexcept {
#if defined(MADV_HUGEPAGE)
  if (bytes >= huge_from) (void)madvise(block, bytes, MADV_HUGEPAGE);  // a hint: may be refused
#else
  (void)block;
  (void)bytes;
#endif
}

}  // namespace

void* grow_block(void* old, std::size_t old_bytes, std::size_t& new_bytes) {
  if (new_bytes < mapped_from) {
    void* block = std::realloc(old, new_bytes);
    if (block == nullptr) throw std::bad_alloc();
    return block;
  }
  const std::size_t bytes = page_rounded(new_bytes);
  void* block = nullptr;
  if (old != nullptr && old_bytes >= mapped_from) {
    // Moves the pages (no copy); the old mapping stays valid when this fails.
    block = mremap(old, old_bytes, bytes, MREMAP_MAYMOVE);
    if (block == MAP_FAILED) throw std::bad_alloc();
  } else {
    block = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (block == MAP_FAILED) throw std::bad_alloc();
    if (old != nullptr) {
      std::memcpy(block, old, old_bytes);  // from a small malloc'd block: < 1 MiB
      std::free(old);
    }
  }
  advise_huge(block, bytes);
  new_bytes = bytes;
  return block;
}

void free_block(void* block, std::size_t bytes) noexcept {
  if (block == nullptr) return;
  if (bytes >= mapped_from) {
    munmap(block, bytes);
  } else {
    std::free(block);
  }
}

#else

void* grow_block(void* old, std::size_t, std::size_t& new_bytes) {
  void* block = std::realloc(old, new_bytes);
  if (block == nullptr) throw std::bad_alloc();
  return block;
}

void free_block(void* block, std::size_t) noexcept { std::free(block); }

#endif

}  // namespace nabla::detail
