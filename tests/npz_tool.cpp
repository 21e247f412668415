// The C++ side of tests/npz_numpy.py: writes an .npz archive of known parameters with
// nn::save, and loads one written by numpy.savez with nn::load.
//   npz_tool write PATH   the parameters below, saved
//   npz_tool check PATH   loads them and checks every value bit for bit (exit 1 if one differs)
//   npz_tool fail PATH    loading must throw nabla::Error: prints its message (exit 1 if none)
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/npz.hpp>

#include <fmt/format.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <string>

namespace {

// W [2, 3] = k/2 − 1; b [3] = −0, ∞, the smallest subnormal; scalar [] = 2.5; empty [0, 2];
// deep.layer [2, 2, 2] = k/3 (the same formulas as in npz_numpy.py).
void add(nabla::nn::Parameters& params) {
  nabla::Tensor w({2, 3}), deep({2, 2, 2});
  for (std::size_t k = 0; k < 6; ++k) w[k] = static_cast<double>(k) / 2 - 1;
  for (std::size_t k = 0; k < 8; ++k) deep[k] = static_cast<double>(k) / 3;
  params.add("W", w);
  params.add("b", nabla::Tensor({3}, {-0.0, std::numeric_limits<double>::infinity(),
                                      std::numeric_limits<double>::denorm_min()}));
  params.add("scalar", nabla::Tensor(nabla::Shape{}, {2.5}));
  params.add("empty", {0, 2}, nabla::nn::Init::zeros);
  params.add("deep.layer", deep);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fmt::print(stderr, "usage: npz_tool write|check|fail PATH\n");
    return 2;
  }
  const std::string mode = argv[1], path = argv[2];
  nabla::nn::Parameters expected(0);
  add(expected);
  if (mode == "write") {
    nabla::nn::save(expected, path);
    return 0;
  }
  nabla::nn::Parameters loaded(0);
  loaded.add("W", {2, 3});
  loaded.add("b", {3});
  loaded.add("scalar", nabla::Tensor(nabla::Shape{}, {0.0}));
  loaded.add("empty", {0, 2});
  loaded.add("deep.layer", {2, 2, 2});
  try {
    nabla::nn::load(loaded, path);
  } catch (const nabla::Error& e) {
    fmt::print("{}\n", e.what());
    return mode == "fail" ? 0 : 1;
  }
  if (mode == "fail") {
    fmt::print(stderr, "loading {} did not throw\n", path);
    return 1;
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (std::bit_cast<std::uint64_t>(expected.values()[i]) !=
        std::bit_cast<std::uint64_t>(loaded.values()[i])) {
      fmt::print(stderr, "value {}: expected {}, loaded {}\n", i, expected.values()[i],
                 loaded.values()[i]);
      return 1;
    }
  }
  return 0;
}
