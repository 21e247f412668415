#include "nabla/autodiff/idx.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>

#include "nabla/autodiff/error.hpp"

namespace nabla::data {

namespace {

constexpr const char* function = "nabla::data::read_idx";

struct Close {
  void operator()(gzFile_s* f) const noexcept { gzclose(f); }
};
using File = std::unique_ptr<gzFile_s, Close>;

void read_exactly(gzFile file, void* out, std::size_t bytes, const std::string& path,
                  const char* what) {
  auto* p = static_cast<unsigned char*>(out);
  while (bytes > 0) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(bytes, 1u << 30));
    const int got = gzread(file, p, chunk);
    if (got <= 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      detail::fail(function, fmt::format("'{}' ends before its {} (expected {} more bytes{})",
                                         path, what, bytes,
                                         code < 0 ? fmt::format("; zlib: {}", message) : ""));
    }
    p += got;
    bytes -= static_cast<std::size_t>(got);
  }
}

std::uint32_t big_endian(const unsigned char* b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

template <class T>
T swapped(const unsigned char* b) {  // a big-endian T
  std::array<unsigned char, sizeof(T)> bytes;
  for (std::size_t i = 0; i < sizeof(T); ++i) bytes[i] = b[sizeof(T) - 1 - i];
  if constexpr (std::endian::native == std::endian::big) {
    std::memcpy(bytes.data(), b, sizeof(T));
  }
  T v;
  std::memcpy(&v, bytes.data(), sizeof(T));
  return v;
}

}  // namespace

Tensor read_idx(const std::string& path) {
  File file(gzopen(path.c_str(), "rb"));
  if (!file) {
    detail::fail(function, fmt::format("cannot open '{}' (expected an IDX file, plain or "
                                       "gzip-compressed)",
                                       path));
  }
  unsigned char magic[4];
  read_exactly(file.get(), magic, 4, path, "header");
  std::size_t width = 0;
  switch (magic[2]) {
    case 0x08: case 0x09: width = 1; break;
    case 0x0B: width = 2; break;
    case 0x0C: case 0x0D: width = 4; break;
    case 0x0E: width = 8; break;
    default: break;
  }
  const std::size_t rank = magic[3];
  if (magic[0] != 0 || magic[1] != 0 || width == 0 || rank == 0 || rank > Shape::max_rank) {
    detail::fail(function, fmt::format("'{}' is not an IDX file (magic bytes {:02x} {:02x} "
                                       "{:02x} {:02x}; expected 00 00, a type code 08/09/0b/"
                                       "0c/0d/0e and 1 to {} dimensions)",
                                       path, magic[0], magic[1], magic[2], magic[3],
                                       Shape::max_rank));
  }
  std::array<std::size_t, Shape::max_rank> dims{};
  for (std::size_t k = 0; k < rank; ++k) {
    unsigned char b[4];
    read_exactly(file.get(), b, 4, path, "dimensions");
    dims[k] = big_endian(b);
  }
  const Shape shape(std::span<const std::size_t>(dims.data(), rank));
  Tensor t(shape);
  std::vector<unsigned char> raw(shape.size() * width);
  read_exactly(file.get(), raw.data(), raw.size(), path, "data");
  const unsigned char* b = raw.data();
  for (std::size_t i = 0; i < shape.size(); ++i, b += width) {
    switch (magic[2]) {
      case 0x08: t[i] = b[0]; break;
      case 0x09: t[i] = static_cast<signed char>(b[0]); break;
      case 0x0B: t[i] = swapped<std::int16_t>(b); break;
      case 0x0C: t[i] = swapped<std::int32_t>(b); break;
      case 0x0D: t[i] = swapped<float>(b); break;
      default: t[i] = swapped<double>(b); break;
    }
  }
  return t;
}

std::vector<int> read_idx_labels(const std::string& path) {
  const Tensor t = read_idx(path);
  if (t.rank() != 1) {
    detail::fail("nabla::data::read_idx_labels",
                 fmt::format("'{}' has shape {} (expected one dimension of labels)", path,
                             to_string(t.shape())));
  }
  std::vector<int> labels(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) labels[i] = static_cast<int>(t[i]);
  return labels;
}

}  // namespace nabla::data
