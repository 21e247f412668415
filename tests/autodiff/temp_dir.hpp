// A temporary directory for the tests that read and write files (IDX, .npz).
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace nabla::test {

/// A fresh temporary directory, removed with everything in it at the end of the scope (even
/// when a test took its permissions away).
class TempDir {
 public:
  TempDir() {
    static int count = 0;
    path_ = std::filesystem::temp_directory_path() /
            fmt::format("nabla_test_{}_{}", ::getpid(), count++);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  /// Writes the bytes to a file of that name; returns its path.
  std::string write(const std::string& name, const std::vector<unsigned char>& bytes) const {
    const std::string path = file(name);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    BOOST_REQUIRE(f != nullptr);
    if (!bytes.empty())
      BOOST_REQUIRE(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
    BOOST_REQUIRE(std::fclose(f) == 0);
    return path;
  }
  /// Writes the characters to a file of that name; returns its path.
  std::string write(const std::string& name, std::string_view bytes) const {
    return write(name, std::vector<unsigned char>(bytes.begin(), bytes.end()));
  }
  /// The path of a file of that name in the directory.
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  /// The directory.
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace nabla::test
