// IDX data files (nabla::data::read_idx): valid files, and corrupt or hostile ones.
#include <nabla/autodiff/idx.hpp>

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>
#include <nabla/autodiff/error.hpp>
#include <nabla/autodiff/format.hpp>
#include <nabla/autodiff/tensor.hpp>

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>
#include "expect_error.hpp"
#include "temp_dir.hpp"

using nabla::Shape;
using nabla::Tensor;
using Bytes = std::vector<unsigned char>;

namespace {

using nabla::test::expect_error;
using nabla::test::TempDir;

void append_big_endian(Bytes& out, std::uint64_t v, int bytes) {
  for (int k = bytes - 1; k >= 0; --k) out.push_back(static_cast<unsigned char>(v >> (8 * k)));
}

// An IDX header (type code, dimensions) followed by the payload.
Bytes idx_file(unsigned char type, std::initializer_list<std::uint32_t> dims,
               const Bytes& payload = {}) {
  Bytes out = {0, 0, type, static_cast<unsigned char>(dims.size())};
  for (const std::uint32_t d : dims) append_big_endian(out, d, 4);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A gzip member (header, deflate stream, CRC-32, length) of the bytes.
Bytes gzip(const Bytes& in) {
  z_stream s{};
  BOOST_REQUIRE(deflateInit2(&s, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) ==
                Z_OK);
  Bytes out(deflateBound(&s, static_cast<uLong>(in.size())) + 32);
  s.next_in = const_cast<unsigned char*>(in.data());
  s.avail_in = static_cast<uInt>(in.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  BOOST_REQUIRE(deflate(&s, Z_FINISH) == Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// Deterministic, incompressible bytes.
Bytes noise(std::size_t n) {
  Bytes out(n);
  std::uint64_t x = 0x9E3779B97F4A7C15u;
  for (auto& b : out) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    b = static_cast<unsigned char>(x >> 32);
  }
  return out;
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(idx)

BOOST_AUTO_TEST_CASE(idx_files) {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("nabla_idx_{}", ::getpid());
  std::filesystem::create_directories(dir);
  // A [2, 3] file of unsigned bytes, written plain and gzip-compressed.
  const unsigned char data[] = {0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 250, 251, 255};
  const std::string plain = (dir / "a.idx").string(), packed = (dir / "a.idx.gz").string();
  std::FILE* f = std::fopen(plain.c_str(), "wb");
  std::fwrite(data, 1, sizeof data, f);
  std::fclose(f);
  gzFile gz = gzopen(packed.c_str(), "wb");
  gzwrite(gz, data, sizeof data);
  gzclose(gz);
  for (const std::string& path : {plain, packed}) {
    const Tensor t = nabla::data::read_idx(path);
    BOOST_TEST(t == Tensor({2, 3}, {1, 2, 3, 250, 251, 255}));
  }
  // Big-endian int32 labels.
  const unsigned char labels[] = {0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xfe};
  const std::string lab = (dir / "l.idx").string();
  f = std::fopen(lab.c_str(), "wb");
  std::fwrite(labels, 1, sizeof labels, f);
  std::fclose(f);
  BOOST_TEST(nabla::data::read_idx_labels(lab) == std::vector<int>({7, -2}));
  expect_error([&] { (void)nabla::data::read_idx_labels(plain); }, {"[2, 3]", "one dimension"});
  // Truncated, not IDX, missing.
  f = std::fopen(plain.c_str(), "wb");
  std::fwrite(data, 1, sizeof data - 2, f);
  std::fclose(f);
  expect_error([&] { (void)nabla::data::read_idx(plain); },
               {"a.idx", "ends before its data", "2 more bytes"});
  f = std::fopen(plain.c_str(), "wb");
  std::fputs("hello world", f);
  std::fclose(f);
  expect_error([&] { (void)nabla::data::read_idx(plain); }, {"not an IDX file"});
  expect_error([&] { (void)nabla::data::read_idx((dir / "missing.gz").string()); },
               {"cannot open", "missing.gz"});
  std::filesystem::remove_all(dir);
}

// Every type code, decoded from big-endian, plain and gzip-compressed.
BOOST_AUTO_TEST_CASE(big_endian_types) {
  const TempDir dir;
  struct Case {
    unsigned char type;
    Bytes payload;
    std::vector<double> values;
  };
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<Case> cases = {
      {0x08, {0x00, 0x80, 0xff}, {0, 128, 255}},
      {0x09, {0x00, 0x7f, 0x80, 0xff}, {0, 127, -128, -1}},
      {0x0B, {0x01, 0x02, 0xff, 0xfe, 0x80, 0x00, 0x7f, 0xff}, {258, -2, -32768, 32767}},
      {0x0C,
       {0x01, 0x02, 0x03, 0x04, 0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
       {16909060, -2147483648.0, 2147483647, -1}},
      {0x0D,
       {0x3f, 0xc0, 0, 0, 0xc0, 0x49, 0x0f, 0xdb, 0x7f, 0x80, 0, 0},
       {1.5, static_cast<double>(-3.14159274101257324f), inf}},
      {0x0E,
       {0xc0, 0x02, 0, 0, 0, 0, 0, 0, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a},
       {-2.25, 0.1}},
  };
  for (const Case& c : cases) {
    const auto n = static_cast<std::uint32_t>(c.values.size());
    const Bytes file = idx_file(c.type, {n}, c.payload);
    const Tensor expected(Shape{n}, std::span<const double>(c.values));
    for (const std::string& path : {dir.write("t.idx", file), dir.write("t.idx.gz", gzip(file))}) {
      const Tensor t = nabla::data::read_idx(path);
      BOOST_TEST(t == expected, fmt::format("type {:02x}, {}: {}", c.type, path, t));
    }
  }
  // A float NaN stays NaN (data, unlike labels, may hold any value).
  const Tensor t =
      nabla::data::read_idx(dir.write("nan.idx", idx_file(0x0D, {1}, {0x7f, 0xc0, 0, 0})));
  BOOST_TEST(std::isnan(t[0]));
  // A gzip file of several members (`cat a.gz b.gz`) is one stream.
  const Bytes file = idx_file(0x08, {2, 2}, {1, 2, 3, 4});
  const Bytes split(file.begin(), file.begin() + 9), rest(file.begin() + 9, file.end());
  BOOST_TEST(nabla::data::read_idx(dir.write("m.gz", gzip(split) + gzip(rest))) ==
             Tensor({2, 2}, {1, 2, 3, 4}));
}

// Dimension 0 is valid: an empty tensor, which prints.
BOOST_AUTO_TEST_CASE(empty_dimensions) {
  const TempDir dir;
  const Tensor a = nabla::data::read_idx(dir.write("a.idx", idx_file(0x08, {0})));
  BOOST_TEST(a.shape() == Shape{0});
  BOOST_TEST(a.size() == 0u);
  const Tensor b = nabla::data::read_idx(dir.write("b.idx.gz", gzip(idx_file(0x0E, {3, 0, 2}))));
  BOOST_TEST(b.shape() == (Shape{3, 0, 2}));
  BOOST_TEST(fmt::format("{}", b).find("[3, 0, 2]") != std::string::npos);
  BOOST_TEST(nabla::data::read_idx_labels(dir.write("l.idx", idx_file(0x0C, {0}))).empty());
}

// Defect 1: dimensions multiplying to 0 mod 2^64 gave an empty tensor that crashed when printed.
BOOST_AUTO_TEST_CASE(overflowing_dimensions) {
  const TempDir dir;
  const std::string wrapped =
      dir.write("wrapped.idx", idx_file(0x08, {65536, 65536, 65536, 65536}));
  BOOST_TEST(std::filesystem::file_size(wrapped) == 20u);
  expect_error([&] { (void)nabla::data::read_idx(wrapped); },
               {"wrapped.idx", "[65536, 65536, 65536, 65536]", "overflows", "expected at most"});
  expect_error(
      [&] {
        (void)nabla::data::read_idx(
            dir.write("c.idx", idx_file(0x08, {1u << 21, 1u << 21, 1u << 22})));
      },
      {"c.idx", "overflows"});
  // Fits in 64 bits as a count, not as bytes of doubles.
  expect_error(
      [&] {
        (void)nabla::data::read_idx(dir.write("d.idx", idx_file(0x08, {0xffffffffu, 0xffffffffu})));
      },
      {"d.idx", "overflows"});
  // An empty tensor whose strides would overflow.
  expect_error(
      [&] {
        (void)nabla::data::read_idx(
            dir.write("e.idx", idx_file(0x08, {0, 65536, 65536, 65536, 65536})));
      },
      {"e.idx", "overflows"});
  expect_error([&] { (void)nabla::data::read_idx_labels(wrapped); },
               {"read_idx_labels", "overflows"});
}

// Defect 2: the header's claim was zero-filled (2.1 GB for a 20-byte file; std::bad_alloc for
// 10^15 values) before any data was read.
BOOST_AUTO_TEST_CASE(claims_beyond_the_file) {
  const TempDir dir;
  const long before = peak_rss_kib();
  const std::string big = dir.write("big.idx", idx_file(0x08, {2, 1024, 1024, 1024}));
  BOOST_TEST(std::filesystem::file_size(big) == 20u);
  expect_error([&] { (void)nabla::data::read_idx(big); },
               {"big.idx", "ends before its data", "[2, 1024, 1024, 1024]",
                "needs 2147483648 bytes", "expected 2147483648 more bytes"});
  const std::string huge = dir.write("huge.idx", idx_file(0x0E, {1000000, 1000000, 1000}));
  expect_error([&] { (void)nabla::data::read_idx(huge); },
               {"huge.idx", "ends before its data", "8000000000000000 bytes"});
  // gzip: more than a file of this size can inflate to.
  const std::string packed = dir.write("big.idx.gz", gzip(idx_file(0x08, {1024, 1024, 2048})));
  expect_error([&] { (void)nabla::data::read_idx(packed); },
               {"big.idx.gz", "ends before its data", "can inflate to"});
  // gzip within that bound but short: found while reading, in growing steps.
  const std::string short_gz =
      dir.write("short.idx.gz", gzip(idx_file(0x08, {100000}, noise(60000))));
  expect_error([&] { (void)nabla::data::read_idx(short_gz); },
               {"short.idx.gz", "ends before its data", "expected 40000 more bytes"});
  const std::string short_plain = dir.write("short.idx", idx_file(0x08, {100000}, noise(60000)));
  expect_error([&] { (void)nabla::data::read_idx(short_plain); },
               {"short.idx", "ends before its data", "expected 40000 more bytes"});
  // None of this committed the claimed memory.
  BOOST_TEST(peak_rss_kib() - before < 256 * 1024);
}

// Defect 3: a corrupt deflate stream or a bad CRC said "ends before its header" (or nothing).
BOOST_AUTO_TEST_CASE(corrupt_gzip) {
  const TempDir dir;
  const Bytes file = idx_file(0x08, {4, 100}, noise(400));
  const Bytes good = gzip(file);
  BOOST_TEST(nabla::data::read_idx(dir.write("good.gz", good)).size() == 400u);
  // The first deflate block's type set to the reserved 11.
  Bytes bad_block = good;
  bad_block[10] |= 0x06;
  expect_error([&] { (void)nabla::data::read_idx(dir.write("block.gz", bad_block)); },
               {"block.gz", "corrupt", "invalid block type"});
  // The CRC-32 and the length in the trailer.
  Bytes bad_crc = good;
  bad_crc[bad_crc.size() - 8] ^= 0x01;
  expect_error([&] { (void)nabla::data::read_idx(dir.write("crc.gz", bad_crc)); },
               {"crc.gz", "corrupt", "CRC mismatch", "incorrect data check"});
  Bytes bad_length = good;
  bad_length[bad_length.size() - 4] ^= 0x01;
  expect_error([&] { (void)nabla::data::read_idx(dir.write("length.gz", bad_length)); },
               {"length.gz", "corrupt", "incorrect length check"});
  // A flipped byte in the compressed data: caught by the decoder or by the CRC.
  Bytes flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  expect_error([&] { (void)nabla::data::read_idx(dir.write("flip.gz", flipped)); },
               {"flip.gz", "corrupt"});
  // A gzip magic number and nothing valid after it.
  expect_error(
      [&] {
        (void)nabla::data::read_idx(dir.write("magic.gz", {0x1f, 0x8b, 0, 0, 0}));
      },
      {"magic.gz", "corrupt"});
}

BOOST_AUTO_TEST_CASE(truncated_gzip) {
  const TempDir dir;
  const Bytes good = gzip(idx_file(0x08, {4, 100}, noise(400)));
  // Cut in the data, in the trailer (the data complete, its CRC missing), inside the header.
  for (const std::size_t cut :
       {good.size() / 2, good.size() - 4, good.size() - 1, std::size_t{5}}) {
    const Bytes part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    expect_error([&] { (void)nabla::data::read_idx(dir.write("cut.gz", part)); },
                 {"cut.gz", "truncated", "unexpected end of file"});
  }
}

// Trailing data is an error: a file longer than its header says has a wrong header.
BOOST_AUTO_TEST_CASE(trailing_data) {
  const TempDir dir;
  const Bytes file = idx_file(0x08, {2, 2}, {1, 2, 3, 4});
  expect_error(
      [&] {
        (void)nabla::data::read_idx(dir.write("t.idx", file + Bytes{9, 9, 9}));
      },
      {"t.idx", "3 bytes after its data", "[2, 2]", "expected the file to end there"});
  // Counted up to 1 MiB (an endless pipe must not hang the check).
  expect_error(
      [&] { (void)nabla::data::read_idx(dir.write("long.idx", file + Bytes(3u << 20, 0))); },
      {"long.idx", "more than 1048576 bytes after its data"});
  expect_error(
      [&] { (void)nabla::data::read_idx(dir.write("long.gz", gzip(file + Bytes(3u << 20, 0)))); },
      {"long.gz", "more than 1048576 bytes after its data"});
  // Inside the gzip stream.
  expect_error([&] { (void)nabla::data::read_idx(dir.write("t.gz", gzip(file + noise(1000)))); },
               {"t.gz", "1000 bytes after its data"});
  // In a second gzip member.
  expect_error([&] { (void)nabla::data::read_idx(dir.write("m.gz", gzip(file) + gzip({7}))); },
               {"m.gz", "1 byte after its data"});
  // After the gzip stream: garbage, zero padding, a single byte.
  for (const Bytes& extra : {Bytes{'j', 'u', 'n', 'k', '!'}, Bytes(512, 0), Bytes{0}}) {
    expect_error([&] { (void)nabla::data::read_idx(dir.write("g.gz", gzip(file) + extra)); },
                 {"g.gz", "data after the end of its gzip stream"});
  }
}

BOOST_AUTO_TEST_CASE(bad_headers) {
  const TempDir dir;
  for (std::size_t n = 0; n < 4; ++n) {
    const Bytes header = {0, 0, 0x08, 1};
    const Bytes part(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(n));
    expect_error([&] { (void)nabla::data::read_idx(dir.write("h.idx", part)); },
                 {"h.idx", "ends before its header", fmt::format("it has {} of 4 bytes", n)});
  }
  expect_error([&] { (void)nabla::data::read_idx(dir.write("gz1", {0x1f})); },
               {"gz1", "ends before its header"});
  expect_error(
      [&] {
        (void)nabla::data::read_idx(dir.write("m.idx", {1, 0, 0x08, 1, 0, 0, 0, 0}));
      },
      {"m.idx", "not an IDX file", "01 00 08 01", "expected 00 00"});
  expect_error(
      [&] {
        (void)nabla::data::read_idx(dir.write("m2.idx", {0, 7, 0x08, 1, 0, 0, 0, 0}));
      },
      {"m2.idx", "not an IDX file"});
  for (const unsigned char type : {0x00, 0x0A, 0x0F, 0xFF}) {
    expect_error(
        [&] {
          (void)nabla::data::read_idx(
              dir.write("t.idx", idx_file(type, {1}, {0, 0, 0, 0, 0, 0, 0, 0})));
        },
        {"t.idx", fmt::format("unknown IDX type code {:02x}", type), "expected 08, 09"});
  }
  expect_error([&] { (void)nabla::data::read_idx(dir.write("r0.idx", idx_file(0x08, {}, {5}))); },
               {"r0.idx", "has 0 dimensions", "expected 1 to 8"});
  expect_error(
      [&] {
        (void)nabla::data::read_idx(
            dir.write("r9.idx", idx_file(0x08, {1, 1, 1, 1, 1, 1, 1, 1, 1}, {5})));
      },
      {"r9.idx", "has 9 dimensions", "expected 1 to 8"});
  Bytes rank255 = {0, 0, 0x08, 255};
  rank255.resize(4 + 4 * 255 + 1, 1);
  expect_error([&] { (void)nabla::data::read_idx(dir.write("r255.idx", rank255)); },
               {"r255.idx", "has 255 dimensions", "expected 1 to 8"});
  // The dimensions cut short, plain and compressed.
  const Bytes cut = {0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0};
  expect_error([&] { (void)nabla::data::read_idx(dir.write("d.idx", cut)); },
               {"d.idx", "ends before its dimensions", "expected 6 more bytes"});
  expect_error([&] { (void)nabla::data::read_idx(dir.write("d.gz", gzip(cut))); },
               {"d.gz", "ends before its dimensions", "expected 6 more bytes"});
  // A gzip file holding nothing.
  expect_error([&] { (void)nabla::data::read_idx(dir.write("e.gz", gzip({}))); },
               {"e.gz", "ends before its header", "it has 0 of 4 bytes"});
}

BOOST_AUTO_TEST_CASE(bad_paths) {
  const TempDir dir;
  expect_error([] { (void)nabla::data::read_idx(""); },
               {"path is empty", "expected the path of an IDX file"});
  expect_error([] { (void)nabla::data::read_idx_labels(""); },
               {"read_idx_labels", "path is empty"});
  expect_error([&] { (void)nabla::data::read_idx(dir.path().string()); },
               {dir.path().string(), "is a directory", "expected an IDX file"});
  expect_error([&] { (void)nabla::data::read_idx((dir.path() / "missing.idx").string()); },
               {"missing.idx", "cannot open", "No such file or directory"});
  const std::string file = dir.write("f.idx", idx_file(0x08, {1}, {1}));
  expect_error([&] { (void)nabla::data::read_idx(file + "/x.idx"); },
               {"f.idx/x.idx", "cannot open", "Not a directory"});
  // Unreadable: permissions do not stop root, so only checked when they stop fopen.
  std::filesystem::permissions(file, std::filesystem::perms::none);
  if (std::FILE* f = std::fopen(file.c_str(), "rb")) {
    std::fclose(f);
    BOOST_TEST_MESSAGE("running as root: permission check skipped");
  } else {
    expect_error([&] { (void)nabla::data::read_idx(file); },
                 {"f.idx", "cannot open", "Permission denied"});
  }
  // Opens, but reading fails (Linux: address 0 of the process's memory is unmapped).
  if (std::filesystem::exists("/proc/self/mem")) {
    expect_error([] { (void)nabla::data::read_idx("/proc/self/mem"); },
                 {"cannot read '/proc/self/mem'", "Input/output error"});
  }
}

// Defect 4: labels were cast to int unchecked (UB for 1e300, NaN; 2.5 silently became 2).
BOOST_AUTO_TEST_CASE(labels_must_be_integers) {
  const TempDir dir;
  const auto doubles = [](std::initializer_list<double> values) {
    Bytes out;
    for (const double v : values) {
      std::uint64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      append_big_endian(out, bits, 8);
    }
    return out;
  };
  const std::string good =
      dir.write("good.idx", idx_file(0x0E, {4}, doubles({0, -3, 2147483647.0, -2147483648.0})));
  BOOST_TEST(
      nabla::data::read_idx_labels(good) ==
      std::vector<int>({0, -3, std::numeric_limits<int>::max(), std::numeric_limits<int>::min()}));
  struct Case {
    double value;
    std::string shown;
  };
  for (const Case& c :
       {Case{2.5, "2.5"}, Case{1e300, "1e+300"}, Case{-1e300, "-1e+300"}, Case{std::nan(""), "nan"},
        Case{std::numeric_limits<double>::infinity(), "inf"}, Case{2147483648.0, "2147483648"},
        Case{-2147483649.0, "-2147483649"}}) {
    const std::string path = dir.write("bad.idx", idx_file(0x0E, {3}, doubles({1, 2, c.value})));
    expect_error([&] { (void)nabla::data::read_idx_labels(path); },
                 {"read_idx_labels", "bad.idx", "label " + c.shown, "at index 2",
                  "expected an integer from -2147483648 to 2147483647"});
  }
  // Floats too.
  const std::string floats =
      dir.write("f.idx", idx_file(0x0D, {2}, {0x3f, 0x80, 0, 0, 0x40, 0x20, 0, 0}));
  expect_error([&] { (void)nabla::data::read_idx_labels(floats); }, {"label 2.5 at index 1"});
}

BOOST_AUTO_TEST_SUITE_END()
