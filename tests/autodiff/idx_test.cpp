// IDX data files (nabla::data::read_idx): valid files, and corrupt or hostile ones.
#include <nabla/autodiff/idx.hpp>

#include <fmt/format.h>
#include <nabla/autodiff/error.hpp>
#include <nabla/autodiff/format.hpp>
#include <nabla/autodiff/tensor.hpp>
#include <unistd.h>
#include <zlib.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

using nabla::Tensor;

namespace {

template <class E>
void expect_error(E&& expression, std::initializer_list<std::string> parts) {
  try {
    expression();
    BOOST_ERROR("no nabla::Error thrown");
  } catch (const nabla::Error& e) {
    const std::string message = e.what();
    for (const std::string& p : parts) BOOST_TEST(message.find(p) != std::string::npos, message);
  }
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
  expect_error([&] { (void)nabla::data::read_idx(plain); }, {"a.idx", "ends before its data", "2 more bytes"});
  f = std::fopen(plain.c_str(), "wb");
  std::fputs("hello world", f);
  std::fclose(f);
  expect_error([&] { (void)nabla::data::read_idx(plain); }, {"not an IDX file"});
  expect_error([&] { (void)nabla::data::read_idx((dir / "missing.gz").string()); }, {"cannot open", "missing.gz"});
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
