#include "nabla/autodiff/idx.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <system_error>
#include <vector>

#include "nabla/autodiff/error.hpp"

namespace nabla::data {

namespace {

constexpr std::size_t header_bytes = 4;  // 00 00, type code, rank
constexpr std::size_t buffer_bytes = std::size_t{1} << 16;
// Deflate codes at most 258 bytes in 2 bits (a match of length 258 with one-bit codes for its
// length and distance), so a gzip file of n bytes inflates to less than 1032·n bytes.
constexpr std::uintmax_t max_inflate_ratio = 1032;

// "1 byte", "2 bytes".
std::string byte_count(std::uintmax_t n) { return fmt::format("{} byte{}", n, n == 1 ? "" : "s"); }
// "1 more byte", "2 more bytes".
std::string more_bytes(std::uintmax_t n) {
  return fmt::format("{} more byte{}", n, n == 1 ? "" : "s");
}

std::string system_message(int error) { return std::generic_category().message(error); }

// a·b, or false when it overflows std::size_t.
bool multiply(std::size_t a, std::size_t b, std::size_t& out) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
  out = a * b;
  return true;
}

struct CloseFile {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

// The bytes of a plain or gzip-compressed file, read in order. Every failure (a read error, a
// corrupt or truncated gzip stream) throws nabla::Error naming the file; read() returns fewer
// bytes than asked only at the clean end of the data.
class Source {
 public:
  Source(const std::string& path, const char* function) : path_(path), function_(function) {
    if (path.empty()) {
      detail::fail(function_,
                   "the path is empty (expected the path of an IDX file, plain or "
                   "gzip-compressed)");
    }
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (std::filesystem::is_directory(status)) {
      detail::fail(function_, fmt::format("'{}' is a directory (expected an IDX file, plain or "
                                          "gzip-compressed)",
                                          path));
    }
    if (std::filesystem::is_regular_file(status)) {
      const std::uintmax_t size = std::filesystem::file_size(path, ec);
      if (!ec) file_size_ = size;
      has_size_ = !ec;
    }
    errno = 0;
    file_.reset(std::fopen(path.c_str(), "rb"));
    if (!file_) {
      const int error = errno;
      detail::fail(function_, fmt::format("cannot open '{}'{} (expected an IDX file, plain or "
                                          "gzip-compressed)",
                                          path, error != 0 ? ": " + system_message(error) : ""));
    }
    // gzip files start with 1f 8b, IDX files with 00 00.
    in_size_ = read_raw(input_.data(), 2);
    gzip_ = in_size_ == 2 && input_[0] == 0x1f && input_[1] == 0x8b;
    if (gzip_) {
      stream_.next_in = input_.data();
      stream_.avail_in = static_cast<uInt>(in_size_);
      if (inflateInit2(&stream_, 15 + 16) != Z_OK) {  // gzip only, 32 KiB window
        detail::fail(function_, fmt::format("cannot start decompressing '{}' (zlib: {})", path,
                                            stream_.msg ? stream_.msg : "out of memory"));
      }
      inflating_ = true;
    }
  }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;
  ~Source() {
    if (inflating_) inflateEnd(&stream_);
  }

  [[nodiscard]] bool gzip() const noexcept { return gzip_; }
  // Whether file_size() is known (a regular file).
  [[nodiscard]] bool has_size() const noexcept { return has_size_; }
  // The file's size on disk.
  [[nodiscard]] std::uintmax_t file_size() const noexcept { return file_size_; }

  // Reads up to n bytes into out; fewer only at the end of the data.
  std::size_t read(unsigned char* out, std::size_t n) {
    if (!gzip_) {
      // The two bytes read to detect gzip come first.
      const std::size_t first = std::min(n, in_size_ - in_used_);
      std::memcpy(out, input_.data() + in_used_, first);
      in_used_ += first;
      return first + read_raw(out + first, n - first);
    }
    std::size_t got = 0;
    while (got < n && !finished_) {
      if (stream_.avail_in == 0) {
        in_size_ = read_raw(input_.data(), input_.size());
        stream_.next_in = input_.data();
        stream_.avail_in = static_cast<uInt>(in_size_);
        if (in_size_ == 0) {
          if (member_start_) {  // the last gzip member ended with the file
            finished_ = true;
            break;
          }
          fail_stream("is truncated", "unexpected end of file");
        }
      }
      if (member_start_) {
        member_start_ = false;
        if (members_ > 0 && inflateReset(&stream_) != Z_OK) {
          fail_stream("could not be decompressed", "inflateReset failed");
        }
        ++members_;
      }
      const std::size_t chunk = std::min<std::size_t>(n - got, UINT_MAX);
      stream_.next_out = out + got;
      stream_.avail_out = static_cast<uInt>(chunk);
      const int code = inflate(&stream_, Z_NO_FLUSH);
      got += chunk - stream_.avail_out;
      switch (code) {
        case Z_OK:
        case Z_BUF_ERROR:  // no progress: more input needed (read above on the next turn)
          break;
        case Z_STREAM_END:  // a member ended, its CRC-32 and length checked; another may follow
          member_start_ = true;
          break;
        case Z_MEM_ERROR:
          fail_stream("could not be decompressed", "out of memory");
        default:  // Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR
          fail_stream("is corrupt: damaged compressed data or a CRC mismatch",
                      stream_.msg ? stream_.msg : "invalid data");
      }
    }
    return got;
  }

 private:
  // Reads up to n bytes of the file itself; fewer only at its end.
  std::size_t read_raw(unsigned char* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      errno = 0;
      const std::size_t r = std::fread(out + got, 1, n - got, file_.get());
      got += r;
      if (r == 0) {
        if (std::ferror(file_.get())) {
          const int error = errno;
          detail::fail(function_,
                       fmt::format("cannot read '{}'{} (expected an IDX file, plain or "
                                   "gzip-compressed)",
                                   path_, error != 0 ? ": " + system_message(error) : ""));
        }
        break;
      }
    }
    return got;
  }

  [[noreturn]] void fail_stream(const char* what, const char* zlib) {
    // Anything after the first gzip member must be another complete member: a failure before a
    // later member produced any byte is data after the end of the compressed stream.
    if (members_ > 1 && stream_.total_out == 0) {
      detail::fail(function_, fmt::format("'{}' has data after the end of its gzip stream that is "
                                          "not a complete gzip member (zlib: {}; expected the file "
                                          "to end with the stream)",
                                          path_, zlib));
    }
    detail::fail(function_, fmt::format("'{}' {} (zlib: {}; expected a complete gzip file)", path_,
                                        what, zlib));
  }

  std::string path_;
  const char* function_;
  std::unique_ptr<std::FILE, CloseFile> file_;
  std::uintmax_t file_size_ = 0;
  bool has_size_ = false;
  std::vector<unsigned char> input_ = std::vector<unsigned char>(buffer_bytes);
  std::size_t in_size_ = 0, in_used_ = 0;  // in_used_: plain files only
  bool gzip_ = false;
  z_stream stream_{};
  bool inflating_ = false, member_start_ = true, finished_ = false;
  std::size_t members_ = 0;
};

// Reads exactly n bytes, or throws "'path' ends before its <what> (expected k more bytes)".
void read_exactly(Source& source, unsigned char* out, std::size_t n, const std::string& path,
                  const char* what, const char* function) {
  const std::size_t got = source.read(out, n);
  if (got < n) {
    detail::fail(function, fmt::format("'{}' ends before its {} (it has {} of {}: expected {})",
                                       path, what, got, byte_count(n), more_bytes(n - got)));
  }
}

std::uint32_t big_endian(const unsigned char* b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

template <class T>
T from_big_endian(const unsigned char* b) {
  std::array<unsigned char, sizeof(T)> bytes;
  if constexpr (std::endian::native == std::endian::big) {
    std::memcpy(bytes.data(), b, sizeof(T));
  } else {
    for (std::size_t i = 0; i < sizeof(T); ++i) bytes[i] = b[sizeof(T) - 1 - i];
  }
  T v;
  std::memcpy(&v, bytes.data(), sizeof(T));
  return v;
}

std::size_t type_width(unsigned char code) {
  switch (code) {
    case 0x08:
    case 0x09:
      return 1;  // unsigned, signed byte
    case 0x0B:
      return 2;  // int16
    case 0x0C:
    case 0x0D:
      return 4;  // int32, float
    case 0x0E:
      return 8;  // double
    default:
      return 0;
  }
}

Tensor read(const std::string& path, const char* function) {
  Source source(path, function);
  unsigned char magic[header_bytes];
  read_exactly(source, magic, header_bytes, path, "header", function);
  if (magic[0] != 0 || magic[1] != 0) {
    detail::fail(function, fmt::format("'{}' is not an IDX file (magic bytes {:02x} {:02x} {:02x} "
                                       "{:02x}; expected 00 00, a type code and a rank)",
                                       path, magic[0], magic[1], magic[2], magic[3]));
  }
  const unsigned char type = magic[2];
  const std::size_t width = type_width(type);
  if (width == 0) {
    detail::fail(function, fmt::format("'{}' has the unknown IDX type code {:02x} (expected 08, "
                                       "09, 0b, 0c, 0d or 0e)",
                                       path, type));
  }
  const std::size_t rank = magic[3];
  if (rank == 0 || rank > Shape::max_rank) {
    detail::fail(function, fmt::format("'{}' has {} dimensions (expected 1 to {})", path, rank,
                                       Shape::max_rank));
  }
  std::array<unsigned char, 4 * Shape::max_rank> raw_dims{};
  read_exactly(source, raw_dims.data(), 4 * rank, path, "dimensions", function);
  std::array<std::size_t, Shape::max_rank> dims{};
  // Every product of dimensions (the size and each stride) must fit, in values and in bytes
  // (decoded doubles are the widest): the product of the nonzero dimensions bounds them all.
  std::size_t count = 1, nonzero = 1, bytes = 0, unused = 0;
  for (std::size_t k = 0; k < rank; ++k) {
    dims[k] = big_endian(raw_dims.data() + 4 * k);
    count *= dims[k];  // cannot overflow once nonzero does not
    if (!multiply(nonzero, std::max<std::size_t>(dims[k], 1), nonzero) ||
        !multiply(nonzero, sizeof(double), unused)) {
      std::string shown;
      for (std::size_t j = 0; j < rank; ++j) {
        shown += fmt::format("{}{}", j ? ", " : "", big_endian(raw_dims.data() + 4 * j));
      }
      detail::fail(function, fmt::format("'{}' has dimensions [{}] whose product overflows "
                                         "(expected at most {} values)",
                                         path, shown,
                                         std::numeric_limits<std::size_t>::max() / sizeof(double)));
    }
  }
  const Shape shape(std::span<const std::size_t>(dims.data(), rank));
  bytes = count * width;  // ≤ count·sizeof(double), checked above
  const std::size_t header = header_bytes + 4 * rank;
  // The claim against what the file can hold, before any memory is committed.
  if (source.has_size()) {
    const std::uintmax_t size = source.file_size();
    const std::uintmax_t after_header = size > header ? size - header : 0;
    if (!source.gzip() && after_header < bytes) {
      detail::fail(function, fmt::format("'{}' ends before its data (shape {} of {}-byte values "
                                         "needs {} after the {}-byte header, the file has {}: "
                                         "expected {})",
                                         path, to_string(shape), width, byte_count(bytes), header,
                                         after_header, more_bytes(bytes - after_header)));
    }
    if (source.gzip() && bytes / max_inflate_ratio >= size) {
      detail::fail(function, fmt::format("'{}' ends before its data (shape {} of {}-byte values "
                                         "needs {}, more than a {}-byte gzip file can inflate "
                                         "to: expected a file of at least {})",
                                         path, to_string(shape), width, byte_count(bytes), size,
                                         byte_count(bytes / max_inflate_ratio + 1)));
    }
  }
  // Read in growing steps: memory follows the bytes really there, not the header's claim.
  std::vector<unsigned char> raw;
  try {
    while (raw.size() < bytes) {
      const std::size_t done = raw.size();
      raw.resize(std::min(bytes, std::max(2 * done, buffer_bytes)));
      const std::size_t got = source.read(raw.data() + done, raw.size() - done);
      if (got < raw.size() - done) {
        detail::fail(function, fmt::format("'{}' ends before its data (shape {} of {}-byte values "
                                           "needs {} after the {}-byte header, the file has {}: "
                                           "expected {})",
                                           path, to_string(shape), width, byte_count(bytes), header,
                                           done + got, more_bytes(bytes - done - got)));
      }
    }
  } catch (const std::bad_alloc&) {
    detail::fail(function, fmt::format("not enough memory to read '{}' (shape {}, {} bytes)", path,
                                       to_string(shape), bytes));
  }
  // Anything after the data is an error: a longer file than its header says means a wrong
  // header, and a gzip stream is only checked (CRC-32, length) once read to its end.
  // Counted up to a limit: an endless source (a pipe, a device) must not hang the check.
  constexpr std::uintmax_t count_limit = std::uintmax_t{1} << 20;
  std::vector<unsigned char> extra(4096);
  std::uintmax_t extra_bytes = 0;
  for (std::size_t got;
       extra_bytes <= count_limit && (got = source.read(extra.data(), extra.size())) > 0;) {
    extra_bytes += got;
  }
  if (extra_bytes > 0) {
    detail::fail(function, fmt::format("'{}' has {}{} after its data (shape {} of {}-byte values; "
                                       "expected the file to end there)",
                                       path, extra_bytes > count_limit ? "more than " : "",
                                       byte_count(std::min(extra_bytes, count_limit)),
                                       to_string(shape), width));
  }
  const auto allocate = [&] {
    try {
      return Tensor(shape);
    } catch (const std::bad_alloc&) {
      detail::fail(function, fmt::format("not enough memory for the {} values of '{}' (shape {})",
                                         count, path, to_string(shape)));
    }
  };
  Tensor t = allocate();
  const unsigned char* b = raw.data();
  for (std::size_t i = 0; i < count; ++i, b += width) {
    switch (type) {
      case 0x08:
        t[i] = b[0];
        break;
      case 0x09:
        t[i] = static_cast<signed char>(b[0]);
        break;
      case 0x0B:
        t[i] = from_big_endian<std::int16_t>(b);
        break;
      case 0x0C:
        t[i] = from_big_endian<std::int32_t>(b);
        break;
      case 0x0D:
        t[i] = from_big_endian<float>(b);
        break;
      default:
        t[i] = from_big_endian<double>(b);
        break;
    }
  }
  return t;
}

}  // namespace

Tensor read_idx(const std::string& path) { return read(path, "nabla::data::read_idx"); }

std::vector<int> read_idx_labels(const std::string& path) {
  constexpr const char* function = "nabla::data::read_idx_labels";
  const Tensor t = read(path, function);
  if (t.rank() != 1) {
    detail::fail(function, fmt::format("'{}' has shape {} (expected one dimension of labels)", path,
                                       to_string(t.shape())));
  }
  std::vector<int> labels(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    const double v = t[i];
    // Also rejects NaN (every comparison is false).
    if (!(v >= INT_MIN && v <= INT_MAX && v == std::trunc(v))) {
      detail::fail(function, fmt::format("'{}' has label {} at index {} (expected an integer "
                                         "from {} to {})",
                                         path, v, i, INT_MIN, INT_MAX));
    }
    labels[i] = static_cast<int>(v);
  }
  return labels;
}

}  // namespace nabla::data
