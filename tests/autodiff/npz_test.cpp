// NumPy .npz archives (nabla/autodiff/npz.hpp): parameters saved and loaded bit for bit, a
// model's buffers, and corrupt, truncated or mismatched files. (tests/npz_numpy.py checks the
// files against numpy itself.)
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/layers.hpp>
#include <nabla/autodiff/npz.hpp>

#include <zlib.h>

#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "expect_error.hpp"
#include "temp_dir.hpp"

namespace nn = nabla::nn;
using nabla::Shape;
using nabla::Tensor;
using nabla::test::expect_error;

namespace {

using nabla::test::TempDir;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Awkward values: signed zero, infinities, NaN, subnormals, the extremes.
const std::vector<double> awkward{-0.0,
                                  std::numeric_limits<double>::infinity(),
                                  -std::numeric_limits<double>::infinity(),
                                  std::numeric_limits<double>::quiet_NaN(),
                                  std::numeric_limits<double>::denorm_min(),
                                  std::numeric_limits<double>::max(),
                                  -std::numeric_limits<double>::min(),
                                  0.1};

// A set with parameters of ranks 0 to 3, an empty one and awkward values.
void fill(nn::Parameters& params) {
  params.add("W", {3, 4}, nn::Init::glorot_normal);
  params.add("b", Tensor({8}, awkward));
  params.add("scalar", Tensor(Shape{}, {2.5}));
  params.add("empty", {0, 3}, nn::Init::zeros);
  params.add("deep/block.weight", {2, 2, 2}, nn::Init::he_uniform);
}

bool same_bits(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<std::uint64_t>(a[i]) != std::bit_cast<std::uint64_t>(b[i])) return false;
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(npz)

BOOST_AUTO_TEST_CASE(parameters_round_trip_bit_for_bit) {
  const TempDir dir;
  nn::Parameters params(1);
  fill(params);
  const std::string path = dir.file("params.npz");
  nn::save(params, path);
  BOOST_TEST(!std::filesystem::exists(path + ".tmp"));
  nn::Parameters loaded(2);  // another seed: other values until loaded
  fill(loaded);
  BOOST_TEST(!same_bits(params.values(), loaded.values()));
  nn::load(loaded, path);
  BOOST_TEST(same_bits(params.values(), loaded.values()));
  // read_npz: the names, in order, and shapes.
  const std::vector<nabla::data::NpzEntry> entries = nabla::data::read_npz(path);
  BOOST_TEST_REQUIRE(entries.size() == 5u);
  const std::vector<std::string> names{"W", "b", "scalar", "empty", "deep/block.weight"};
  for (std::size_t k = 0; k < 5; ++k) {
    BOOST_TEST(entries[k].name == names[k]);
    BOOST_TEST((entries[k].value.shape() == params.at(k).shape()));
    BOOST_TEST(same_bits(entries[k].value.span(), params.at(k).value().span()));
  }
  // The .npy header, as numpy writes it (format 1.0, data aligned to 64 bytes).
  const std::string bytes = read_bytes(path);
  const std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }";
  const std::size_t at = bytes.find(header);
  BOOST_TEST_REQUIRE(at != std::string::npos);
  BOOST_TEST(bytes.compare(at - 10, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
  const std::size_t length =
      static_cast<unsigned char>(bytes[at - 2]) +
      256 * static_cast<std::size_t>(static_cast<unsigned char>(bytes[at - 1]));
  BOOST_TEST((10 + length) % 64 == 0u);
  BOOST_TEST(bytes[at - 10 + 10 + length - 1] == '\n');
  BOOST_TEST(bytes.find("'shape': (8,), }") != std::string::npos);
  BOOST_TEST(bytes.find("'shape': (), }") != std::string::npos);
  BOOST_TEST(bytes.find("'shape': (0, 3), }") != std::string::npos);
  // Saving twice gives the same bytes (no time stamps).
  nn::save(params, path);
  BOOST_TEST(read_bytes(path) == bytes);
}

BOOST_AUTO_TEST_CASE(unnamed_arrays_and_buffers) {
  const TempDir dir;
  const std::string path = dir.file("arrays.npz");
  const Tensor a({2}, {1, 2}), b({1}, {3});
  const std::vector<nabla::data::NpzArray> arrays{{"", a}, {"x", b}, {"", b}};
  nabla::data::write_npz(path, arrays);
  const auto entries = nabla::data::read_npz(path);
  BOOST_TEST_REQUIRE(entries.size() == 3u);
  BOOST_TEST(entries[0].name == "arr_0");  // numpy.savez's names for positional arrays
  BOOST_TEST(entries[2].name == "arr_2");
  expect_error(
      [&] {
        const std::vector<nabla::data::NpzArray> twice{{"x", a}, {"x", b}};
        nabla::data::write_npz(path, twice);
      },
      {"two arrays are named 'x'"});
  // BatchNorm1d's running statistics travel with save(params, model, path).
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  nn::Parameters params(1), fresh(1);
  nn::Sequential model(nn::Linear(params, "0", 2, 2), nn::BatchNorm1d(params, "1", 2));
  nn::Sequential copy(nn::Linear(fresh, "0", 2, 2), nn::BatchNorm1d(fresh, "1", 2));
  (void)model(nabla::constant(Tensor({3, 2}, {1, 5, 2, -1, 0, 4})));
  const std::string with_buffers = dir.file("model.npz");
  nn::save(params, model, with_buffers);
  nn::load(fresh, copy, with_buffers);
  auto& bn = dynamic_cast<nn::BatchNorm1d&>(model[1]);
  auto& bn_copy = dynamic_cast<nn::BatchNorm1d&>(copy[1]);
  BOOST_TEST(bn.running_mean()[0] != 0.0);
  BOOST_TEST(same_bits(bn.running_mean().span(), bn_copy.running_mean().span()));
  BOOST_TEST(same_bits(bn.running_var().span(), bn_copy.running_var().span()));
  BOOST_TEST(same_bits(params.values(), fresh.values()));
  // Loading the parameters alone from it: the buffers are entries no parameter names.
  expect_error([&] { nn::load(fresh, with_buffers); },
               {"entry '1.running_mean'", "matches no parameter"});
}

BOOST_AUTO_TEST_CASE(mismatches_are_errors_and_load_is_all_or_nothing) {
  const TempDir dir;
  nn::Parameters params(1);
  fill(params);
  const std::string path = dir.file("params.npz");
  nn::save(params, path);
  // A shape mismatch names the entry and both shapes, and writes nothing.
  nn::Parameters other(3);
  const auto w = other.add("W", {3, 4});
  other.add("b", {8});
  other.add("scalar", Tensor(Shape{}, {0.0}));
  other.add("empty", {0, 3});
  other.add("deep/block.weight", {2, 4});
  const std::vector<double> before(other.values().begin(), other.values().end());
  expect_error([&] { nn::load(other, path); },
               {"'deep/block.weight'", "shape [2, 2, 2]", "expected shape [2, 4]"});
  BOOST_TEST(same_bits(before, other.values()));
  BOOST_TEST(w.value()[0] == before[0]);
  // A missing entry.
  nn::Parameters more(1);
  fill(more);
  more.add("extra", {2});
  expect_error([&] { nn::load(more, path); }, {"no entry 'extra'", "shape [2]"});
  // An entry no parameter names.
  nn::Parameters fewer(1);
  fewer.add("W", {3, 4});
  expect_error([&] { nn::load(fewer, path); }, {"entry 'b'", "matches no parameter"});
}

BOOST_AUTO_TEST_CASE(corrupt_and_truncated_files_are_errors) {
  const TempDir dir;
  nn::Parameters params(1);
  fill(params);
  const std::string path = dir.file("params.npz");
  nn::save(params, path);
  const std::string good = read_bytes(path);
  const std::string bad = dir.file("bad.npz");
  // Every truncation fails (the end record or the data is cut).
  for (std::size_t keep : {std::size_t{0}, std::size_t{10}, good.size() / 2, good.size() - 1}) {
    dir.write("bad.npz", good.substr(0, keep));
    expect_error([&] { (void)nabla::data::read_npz(bad); }, {"nabla::data::read_npz", bad});
  }
  // A flipped bit in a value: the CRC-32 catches it.
  std::string flipped = good;
  const std::size_t value = good.find("'shape': (3, 4), }") + 100;
  flipped[value] = static_cast<char>(flipped[value] ^ 0x10);
  dir.write("bad.npz", flipped);
  expect_error([&] { (void)nabla::data::read_npz(bad); }, {"entry 'W.npy'", "CRC-32"});
  // Not a zip archive at all; a missing file; a directory.
  dir.write("bad.npz", std::string(100, 'x'));
  expect_error([&] { (void)nabla::data::read_npz(bad); }, {"no end of central directory"});
  expect_error([&] { (void)nabla::data::read_npz(dir.file("missing.npz")); },
               {"cannot open", "missing.npz"});
  expect_error([&] { nn::load(params, dir.file("")); }, {"directory"});
  // Another dtype: '<f4' in place of '<f8' in W, the first entry, with its CRC-32 fixed up in
  // its local header (byte 14) and its central directory record (byte 16) so that the header
  // is what fails.
  std::string f4 = good;
  const std::size_t d = f4.find("'<f8'");
  f4[d + 2] = 'f';
  f4[d + 3] = '4';
  const auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int b = 3; b >= 0; --b)
      v = (v << 8) | static_cast<unsigned char>(f4[at + static_cast<std::size_t>(b)]);
    return v;
  };
  const std::size_t size = u32(18), start = 30 + 5;  // "W.npy"
  const std::uint32_t crc = static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(f4.data() + start), static_cast<uInt>(size)));
  const std::size_t central = f4.find(std::string("PK\x01\x02"));
  for (std::size_t at : {std::size_t{14}, central + 16})
    for (std::size_t b = 0; b < 4; ++b) f4[at + b] = static_cast<char>((crc >> (8 * b)) & 0xff);
  dir.write("bad.npz", f4);
  expect_error([&] { (void)nabla::data::read_npz(bad); }, {"entry 'W.npy'", "dtype '<f4'"});
  // A write into a directory that does not exist.
  expect_error([&] { nn::save(params, dir.file("no/such/dir/p.npz")); }, {"cannot write"});
}

BOOST_AUTO_TEST_SUITE_END()
