// The nn component's random numbers: splitmix64, the same sequence on every platform (unlike
// std:: distributions). Internal: shared by the initialisers, BatchSampler and Dropout.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nabla::nn::rng {

/// The next 64 random bits of a splitmix64 generator with this state.
inline std::uint64_t next(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Uniform in (0, 1).
inline double uniform01(std::uint64_t& state) {
  return (static_cast<double>(next(state) >> 11) + 0.5) * 0x1.0p-53;
}

/// Uniform in [0, n), unbiased (n > 0).
inline std::size_t below(std::uint64_t& state, std::size_t n) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // reject the uneven tail
  std::uint64_t r = next(state);
  while (r >= limit) r = next(state);
  return static_cast<std::size_t>(r % n);
}

}  // namespace nabla::nn::rng
