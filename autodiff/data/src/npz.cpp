#include "nabla/autodiff/npz.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <set>
#include <string_view>
#include <system_error>

#include "nabla/autodiff/error.hpp"

namespace nabla::data {

namespace {

// Note [The .npz layout]
// A zip archive (PKWARE APPNOTE 6.3): for each entry a local header (signature 50 4b 03 04) and
// its data, then the central directory (50 4b 01 02 per entry) and its end record (50 4b 05 06).
// All integers little-endian. Entries are .npy files: the magic "\x93NUMPY", a version (1.0:
// a 2-byte header length; 2.0 and 3.0: 4 bytes), an ASCII Python dict
// "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }" padded with spaces and a '\n'
// so that the data starts at a multiple of 64 bytes, then the values. numpy.savez writes stored
// entries whose local header has zip64 sizes (0xffffffff and a zip64 extra field), so sizes,
// CRC-32 and offsets are read from the central directory, and the local header only tells where
// the data begins.

constexpr std::uint32_t local_signature = 0x04034b50;
constexpr std::uint32_t central_signature = 0x02014b50;
constexpr std::uint32_t end_signature = 0x06054b50;
constexpr std::size_t local_size = 30, central_size = 46, end_size = 22;
constexpr std::uint64_t zip32_max = 0xffffffffU;

std::string system_message(int error) { return std::generic_category().message(error); }

void put16(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, v & 0xffff);
  put16(out, v >> 16);
}

std::uint32_t crc_of(const char* data, std::size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {  // zlib takes uInt lengths
    const uInt step = static_cast<uInt>(std::min<std::size_t>(n, 1U << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), step);
    data += step;
    n -= step;
  }
  return static_cast<std::uint32_t>(crc);
}

// The .npy file of one array: header 1.0 and float64 little-endian values.
std::string npy(TensorView value) {
  std::string shape;
  for (std::size_t d : value.shape()) shape += fmt::format("{}, ", d);
  if (value.shape().rank() > 1) shape.resize(shape.size() - 2);  // (2, 3); (3,); ()
  if (value.shape().rank() == 1) shape.pop_back();
  std::string dict =
      fmt::format("{{'descr': '<f8', 'fortran_order': False, 'shape': ({}), }}", shape);
  const std::size_t unpadded = 10 + dict.size() + 1;  // magic, version, length; '\n'
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back('\x01');
  out.push_back('\x00');
  put16(out, static_cast<std::uint32_t>(dict.size()));
  out += dict;
  const std::size_t start = out.size();
  out.resize(start + 8 * value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    std::uint64_t bits = std::bit_cast<std::uint64_t>(value.data()[i]);
    if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap64(bits);
    for (int b = 0; b < 8; ++b)
      out[start + 8 * i + static_cast<std::size_t>(b)] =
          static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  return out;
}

std::string entry_name(const std::string& name, std::size_t k) {
  return name.empty() ? fmt::format("arr_{}", k) : name;
}

}  // namespace

void write_npz(const std::string& path, std::span<const NpzArray> arrays) {
  const char* function = "nabla::data::write_npz";
  if (path.empty()) detail::fail(function, "the path is empty (expected a file to write)");
  if (arrays.size() > 0xffff) {
    detail::fail(function, fmt::format("{} arrays (expected at most 65535: zip without zip64)",
                                       arrays.size()));
  }
  std::set<std::string> seen;
  std::string archive, directory;
  for (std::size_t k = 0; k < arrays.size(); ++k) {
    const std::string name = entry_name(arrays[k].name, k);
    if (!seen.insert(name).second) {
      detail::fail(function,
                   fmt::format("two arrays are named '{}' (expected unique names)", name));
    }
    const std::string file = name + ".npy";
    if (file.size() > 0xffff) {
      detail::fail(function, fmt::format("the name '{}…' is {} bytes long (expected at most "
                                         "65531)",
                                         name.substr(0, 20), name.size()));
    }
    detail::view_values(arrays[k].value, function);  // has data
    std::string data;
    try {
      data = npy(arrays[k].value);
    } catch (const std::bad_alloc&) {
      detail::fail(function, fmt::format("out of memory encoding '{}' of shape {}", name,
                                         to_string(arrays[k].value.shape())));
    }
    const std::size_t offset = archive.size();
    if (data.size() > zip32_max || offset > zip32_max) {
      detail::fail(function, fmt::format("'{}' of shape {} does not fit in a zip archive "
                                         "without zip64 (expected at most 4 GiB in all)",
                                         name, to_string(arrays[k].value.shape())));
    }
    const std::uint32_t crc = crc_of(data.data(), data.size());
    const auto size = static_cast<std::uint32_t>(data.size());
    // Local header: version 2.0, no flags, stored, 1980-01-01 00:00 (reproducible bytes).
    put32(archive, local_signature);
    for (std::uint32_t v : {20U, 0U, 0U, 0U, 0x21U}) put16(archive, v);
    put32(archive, crc);
    put32(archive, size);
    put32(archive, size);
    put16(archive, static_cast<std::uint32_t>(file.size()));
    put16(archive, 0);
    archive += file;
    archive += data;
    // Its central directory record.
    put32(directory, central_signature);
    for (std::uint32_t v : {20U, 20U, 0U, 0U, 0U, 0x21U}) put16(directory, v);
    put32(directory, crc);
    put32(directory, size);
    put32(directory, size);
    put16(directory, static_cast<std::uint32_t>(file.size()));
    for (std::uint32_t v : {0U, 0U, 0U, 0U}) put16(directory, v);  // extra, comment, disk, attr
    put32(directory, 0);                                           // external attributes
    put32(directory, static_cast<std::uint32_t>(offset));
    directory += file;
  }
  if (archive.size() + directory.size() > zip32_max) {
    detail::fail(function, "the archive would exceed 4 GiB (expected less: zip without zip64)");
  }
  const auto directory_offset = static_cast<std::uint32_t>(archive.size());
  archive += directory;
  put32(archive, end_signature);
  put16(archive, 0);
  put16(archive, 0);
  put16(archive, static_cast<std::uint32_t>(arrays.size()));
  put16(archive, static_cast<std::uint32_t>(arrays.size()));
  put32(archive, static_cast<std::uint32_t>(directory.size()));
  put32(archive, directory_offset);
  put16(archive, 0);

  const std::string temporary = path + ".tmp";
  errno = 0;
  std::FILE* f = std::fopen(temporary.c_str(), "wb");
  if (f == nullptr) {
    const int error = errno;
    detail::fail(function, fmt::format("cannot write '{}'{}", temporary,
                                       error != 0 ? ": " + system_message(error) : ""));
  }
  const bool written = std::fwrite(archive.data(), 1, archive.size(), f) == archive.size();
  const int write_error = errno;
  if (std::fclose(f) != 0 || !written) {
    std::remove(temporary.c_str());
    detail::fail(function, fmt::format("cannot write '{}'{}", temporary,
                                       write_error != 0 ? ": " + system_message(write_error) : ""));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::remove(temporary.c_str());
    detail::fail(function,
                 fmt::format("cannot rename '{}' to '{}': {}", temporary, path, ec.message()));
  }
}

namespace {

// The bytes of an archive, read with bounds checks that name the file.
class Archive {
 public:
  explicit Archive(const std::string& path) : path_(path) {
    if (path.empty()) fail("the path is empty (expected an .npz file)");
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) fail("it is a directory (expected an .npz file)");
    errno = 0;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) {
      const int error = errno;
      fail(fmt::format("cannot open it{} (expected an .npz file)",
                       error != 0 ? ": " + system_message(error) : ""));
    }
    char buffer[1 << 16];
    std::size_t got = 0;
    try {
      while ((got = std::fread(buffer, 1, sizeof buffer, f.get())) > 0) bytes_.append(buffer, got);
    } catch (const std::bad_alloc&) {
      fail("out of memory reading it");
    }
    if (std::ferror(f.get())) fail("cannot read it");
  }

  [[noreturn]] void fail(std::string_view what) const {
    detail::fail("nabla::data::read_npz", fmt::format("'{}': {}", path_, what));
  }
  [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
  [[nodiscard]] const char* data(std::size_t at) const noexcept { return bytes_.data() + at; }
  // n bytes at `at` exist, or fail saying what was cut short.
  void need(std::size_t at, std::size_t n, std::string_view what) const {
    if (at > bytes_.size() || n > bytes_.size() - at) {
      fail(
          fmt::format("{} at byte {} needs {} bytes, the file has {} (expected a complete "
                      "archive: the file is truncated or corrupt)",
                      what, at, n, bytes_.size()));
    }
  }
  [[nodiscard]] std::uint64_t u(std::size_t at, int bytes) const noexcept {
    std::uint64_t v = 0;
    for (int b = bytes - 1; b >= 0; --b)
      v = (v << 8) | static_cast<unsigned char>(bytes_[at + static_cast<std::size_t>(b)]);
    return v;
  }

 private:
  std::string path_;
  std::string bytes_;
};

struct Entry {
  std::string name;
  std::uint64_t method, crc, compressed, size, offset;
};

// The central directory's entries.
std::vector<Entry> directory(const Archive& a) {
  if (a.size() < end_size) {
    a.fail(
        fmt::format("it has {} bytes (expected a zip archive: at least {})", a.size(), end_size));
  }
  // The end record: the last signature within the last 22 + 65535 (comment) bytes.
  std::size_t end = a.size() - end_size + 1;
  const std::size_t lowest = a.size() > end_size + 0xffff ? a.size() - end_size - 0xffff : 0;
  bool found = false;
  while (end > lowest) {
    --end;
    if (a.u(end, 4) == end_signature) {
      found = true;
      break;
    }
  }
  if (!found) {
    a.fail(
        "no end of central directory record (expected a zip archive; the file is not one, "
        "or is truncated)");
  }
  const std::uint64_t count = a.u(end + 10, 2), dir_size = a.u(end + 12, 4),
                      dir_offset = a.u(end + 16, 4);
  if (count == 0xffff || dir_offset == zip32_max) {
    a.fail("a zip64 archive (expected one below 4 GiB with fewer than 65535 entries)");
  }
  a.need(dir_offset, dir_size, "the central directory");
  std::vector<Entry> entries;
  std::size_t at = dir_offset;
  for (std::uint64_t k = 0; k < count; ++k) {
    a.need(at, central_size, "a central directory record");
    if (a.u(at, 4) != central_signature) {
      a.fail(
          fmt::format("central directory record {} at byte {} has no signature (expected "
                      "50 4b 01 02: the file is corrupt)",
                      k, at));
    }
    Entry e{};
    const std::uint64_t flags = a.u(at + 8, 2), name_size = a.u(at + 28, 2),
                        extra_size = a.u(at + 30, 2), comment_size = a.u(at + 32, 2);
    e.method = a.u(at + 10, 2);
    e.crc = a.u(at + 16, 4);
    e.compressed = a.u(at + 20, 4);
    e.size = a.u(at + 24, 4);
    e.offset = a.u(at + 42, 4);
    a.need(at + central_size, name_size + extra_size + comment_size, "a central directory record");
    e.name.assign(a.data(at + central_size), name_size);
    if ((flags & 1) != 0) a.fail(fmt::format("entry '{}' is encrypted (expected plain)", e.name));
    // zip64 sizes and offset: in the extra field (id 1), in this order, for the 0xffffffff ones.
    std::size_t x = at + central_size + name_size;
    const std::size_t x_end = x + extra_size;
    while (x + 4 <= x_end) {
      const std::uint64_t id = a.u(x, 2), n = a.u(x + 2, 2);
      if (x + 4 + n > x_end) break;
      if (id == 1) {
        std::size_t f = x + 4;
        for (std::uint64_t* field : {&e.size, &e.compressed, &e.offset}) {
          if (*field == zip32_max && f + 8 <= x + 4 + n) {
            *field = a.u(f, 8);
            f += 8;
          }
        }
      }
      x += 4 + n;
    }
    entries.push_back(std::move(e));
    at = x_end + comment_size;
  }
  return entries;
}

// The uncompressed bytes of an entry, CRC-checked.
std::string contents(const Archive& a, const Entry& e) {
  a.need(e.offset, local_size, fmt::format("the local header of '{}'", e.name));
  if (a.u(e.offset, 4) != local_signature) {
    a.fail(
        fmt::format("entry '{}' has no local header at byte {} (expected 50 4b 03 04: the file "
                    "is corrupt)",
                    e.name, e.offset));
  }
  const std::size_t start = e.offset + local_size + a.u(e.offset + 26, 2) + a.u(e.offset + 28, 2);
  a.need(start, e.compressed, fmt::format("the data of '{}'", e.name));
  std::string out;
  if (e.method == 0) {
    if (e.compressed != e.size) {
      a.fail(
          fmt::format("stored entry '{}' has {} compressed and {} uncompressed bytes (expected "
                      "equal sizes: the file is corrupt)",
                      e.name, e.compressed, e.size));
    }
    out.assign(a.data(start), e.size);
  } else if (e.method == 8) {
    // Deflate's largest ratio is 1032:1; a corrupt size must not make us allocate gigabytes.
    if (e.size > 1032 * (e.compressed + 1)) {
      a.fail(
          fmt::format("entry '{}' claims {} bytes from {} compressed (expected at most 1032 "
                      "times as many: the file is corrupt)",
                      e.name, e.size, e.compressed));
    }
    out.resize(e.size);
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) a.fail("cannot start zlib (out of memory)");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(a.data(start)));
    z.avail_in = static_cast<uInt>(std::min<std::uint64_t>(e.compressed, 0xffffffffU));
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(std::min<std::uint64_t>(e.size, 0xffffffffU));
    const int status = inflate(&z, Z_FINISH);
    const std::string message = z.msg != nullptr ? z.msg : "";
    const uLong produced = z.total_out;
    inflateEnd(&z);
    if (status != Z_STREAM_END || produced != e.size) {
      a.fail(fmt::format(
          "entry '{}' does not inflate to its {} bytes (zlib: {}; the file is "
          "corrupt or truncated)",
          e.name, e.size, message.empty() ? fmt::format("status {}", status) : message));
    }
  } else {
    a.fail(
        fmt::format("entry '{}' uses compression method {} (expected 0, stored, or 8, "
                    "deflated: numpy.savez or numpy.savez_compressed)",
                    e.name, e.method));
  }
  const std::uint32_t crc = crc_of(out.data(), out.size());
  if (crc != e.crc) {
    a.fail(
        fmt::format("entry '{}' has CRC-32 {:08x}, its header says {:08x} (the file is "
                    "corrupt)",
                    e.name, crc, e.crc));
  }
  return out;
}

// The value of `key` in an .npy header dict, up to the next ',' outside parentheses.
std::string_view field(std::string_view dict, std::string_view key) {
  const std::string quoted = fmt::format("'{}'", key);
  const std::size_t k = dict.find(quoted);
  if (k == std::string_view::npos) return {};
  std::size_t v = dict.find(':', k + quoted.size());
  if (v == std::string_view::npos) return {};
  ++v;
  while (v < dict.size() && dict[v] == ' ') ++v;
  std::size_t e = v;
  int depth = 0;
  while (e < dict.size() && (depth > 0 || (dict[e] != ',' && dict[e] != '}'))) {
    depth += dict[e] == '(' ? 1 : dict[e] == ')' ? -1 : 0;
    ++e;
  }
  std::string_view value = dict.substr(v, e - v);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return value;
}

// The array in an .npy file.
Tensor parse_npy(const Archive& a, const std::string& name, const std::string& bytes) {
  const auto bad = [&](std::string_view what) {
    a.fail(fmt::format("entry '{}.npy': {}", name, what));
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    bad("no .npy magic number (expected \\x93NUMPY at the start)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  if (major < 1 || major > 3) bad(fmt::format("version {} (expected 1, 2 or 3)", major));
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + length_bytes) bad("the header is cut short");
  std::uint64_t length = 0;
  for (std::size_t b = length_bytes; b-- > 0;)
    length = (length << 8) | static_cast<unsigned char>(bytes[8 + b]);
  const std::size_t start = 8 + length_bytes;
  if (length > bytes.size() - start) bad("the header is cut short");
  const std::string_view dict(bytes.data() + start, length);
  const std::string_view descr = field(dict, "descr"), order = field(dict, "fortran_order"),
                         shape_text = field(dict, "shape");
  if (descr != "'<f8'") {
    bad(fmt::format("dtype {} (expected '<f8', float64 little-endian)",
                    descr.empty() ? "missing" : descr));
  }
  if (order != "False") {
    bad(fmt::format("fortran_order {} (expected False, C order)",
                    order.empty() ? "missing" : order));
  }
  if (shape_text.size() < 2 || shape_text.front() != '(' || shape_text.back() != ')') {
    bad(fmt::format("shape {} (expected a tuple)", shape_text.empty() ? "missing" : shape_text));
  }
  std::vector<std::size_t> dims;
  std::size_t i = 1;
  while (i + 1 < shape_text.size()) {
    while (i + 1 < shape_text.size() && (shape_text[i] == ' ' || shape_text[i] == ',')) ++i;
    if (i + 1 >= shape_text.size()) break;
    std::uint64_t d = 0;
    const std::size_t digits = i;
    while (i + 1 < shape_text.size() && shape_text[i] >= '0' && shape_text[i] <= '9') {
      if (d > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) bad("a dimension overflows");
      d = d * 10 + static_cast<std::uint64_t>(shape_text[i] - '0');
      ++i;
    }
    if (i == digits) bad(fmt::format("shape {} (expected a tuple of integers)", shape_text));
    dims.push_back(d);
  }
  if (dims.size() > Shape::max_rank) {
    bad(fmt::format("{} dimensions (expected at most {})", dims.size(), Shape::max_rank));
  }
  Shape shape;
  try {
    shape = Shape(std::span<const std::size_t>(dims));
  } catch (const Error& e) {
    bad(fmt::format("shape {}: {}", shape_text, e.what()));
  }
  const std::size_t data = start + length, have = bytes.size() - data;
  if (have / 8 != shape.size() || have % 8 != 0) {
    bad(fmt::format("{} data bytes for shape {} (expected {}: the entry is {})", have,
                    to_string(shape), 8 * shape.size(),
                    have < 8 * shape.size() ? "truncated" : "longer than its shape"));
  }
  Tensor t(shape);
  for (std::size_t k = 0; k < t.size(); ++k) {
    std::uint64_t bits = 0;
    for (std::size_t b = 8; b-- > 0;)
      bits = (bits << 8) | static_cast<unsigned char>(bytes[data + 8 * k + b]);
    t[k] = std::bit_cast<double>(bits);
  }
  return t;
}

}  // namespace

std::vector<NpzEntry> read_npz(const std::string& path) {
  const Archive a(path);
  std::vector<NpzEntry> out;
  std::set<std::string> seen;
  for (const Entry& e : directory(a)) {
    if (e.name.size() < 4 || e.name.compare(e.name.size() - 4, 4, ".npy") != 0) {
      a.fail(fmt::format("entry '{}' is not an .npy file (expected names ending in .npy)", e.name));
    }
    std::string name = e.name.substr(0, e.name.size() - 4);
    if (!seen.insert(name).second) a.fail(fmt::format("two entries are named '{}'", e.name));
    Tensor value = parse_npy(a, name, contents(a, e));
    out.push_back({std::move(name), std::move(value)});
  }
  return out;
}

void load_npz(const std::string& path, std::span<const NpzTarget> targets) {
  const char* function = "nabla::data::load_npz";
  const std::vector<NpzEntry> entries = read_npz(path);
  std::vector<const NpzEntry*> source(targets.size(), nullptr);
  std::set<std::string> wanted;
  for (std::size_t k = 0; k < targets.size(); ++k) {
    const std::string name = entry_name(targets[k].name, k);
    if (!wanted.insert(name).second) {
      detail::fail(function,
                   fmt::format("two targets are named '{}' (expected unique names)", name));
    }
    for (const NpzEntry& e : entries)
      if (e.name == name) source[k] = &e;
    if (source[k] == nullptr) {
      detail::fail(function,
                   fmt::format("'{}' has no entry '{}' (expected one of shape {}; the "
                               "file has {} entries)",
                               path, name, to_string(targets[k].value.shape()), entries.size()));
    }
    if (source[k]->value.shape() != targets[k].value.shape()) {
      detail::fail(function, fmt::format("'{}': entry '{}' has shape {} (expected shape {})", path,
                                         name, to_string(source[k]->value.shape()),
                                         to_string(targets[k].value.shape())));
    }
  }
  for (const NpzEntry& e : entries) {
    if (!wanted.contains(e.name)) {
      detail::fail(function, fmt::format("'{}': entry '{}' (shape {}) matches no parameter "
                                         "(expected only the {} names loaded)",
                                         path, e.name, to_string(e.value.shape()), wanted.size()));
    }
  }
  for (std::size_t k = 0; k < targets.size(); ++k) {
    const std::span<const double> v = source[k]->value.span();
    std::copy(v.begin(), v.end(), targets[k].value.data());
  }
}

}  // namespace nabla::data
