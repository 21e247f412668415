// multistart(): finds the global minimum, lists the distinct minima, is deterministic for any
// number of threads; observers: progress, csv, combined.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

using namespace nabla::optim;

namespace {
// x⁴ − 4x² + 2x: global minimum near −1.5257, local minimum near 1.2670.
const auto quartic = [](const auto& x) { return pow(x[0], 4) - 4.0 * x[0] * x[0] + 2.0 * x[0]; };
}  // namespace

BOOST_AUTO_TEST_SUITE(multistart_suite)

BOOST_AUTO_TEST_CASE(finds_the_global_minimum_deterministically) {
  const auto one = multistart(quartic, {{-3.0, 3.0}}, LBFGS{}, 16, 7, 1);
  BOOST_TEST(one.runs.size() == 16u);
  BOOST_TEST(one.minima.size() == 2u);
  BOOST_TEST(one.best.x[0] == -1.52568, boost::test_tools::tolerance(1e-4));
  BOOST_TEST(one.minima[1].x[0] == 1.26704, boost::test_tools::tolerance(1e-4));
  for (int threads : {2, 4}) {
    const auto many = multistart(quartic, {{-3.0, 3.0}}, LBFGS{}, 16, 7, threads);
    for (std::size_t k = 0; k < 16; ++k) {
      BOOST_TEST(many.runs[k].x == one.runs[k].x);
      BOOST_TEST(many.runs[k].evaluations == one.runs[k].evaluations);
    }
    BOOST_TEST(many.best.x == one.best.x);
  }
  BOOST_CHECK_THROW(multistart(quartic, {}, LBFGS{}, 4, 1), nabla::Error);
  BOOST_CHECK_THROW(multistart(quartic, {{1.0, -1.0}}, LBFGS{}, 4, 1), nabla::Error);
  BOOST_CHECK_THROW(multistart(quartic, {{-1.0, 1.0}}, LBFGS{}, 0, 1), nabla::Error);
}

BOOST_AUTO_TEST_CASE(bounds_keep_every_local_search_in_the_box) {
  // On [-1, 3] the quartic's global minimum −1.5257 lies outside: within the bounds the lowest
  // point is the lower bound x = −1 (f' = 6 > 0 there), and the local minimum 1.2670 stays.
  const Box box{{-1.0, 3.0}};
  const auto free = multistart(quartic, box, LBFGS{}, 16, 7, 1);
  BOOST_TEST(free.best.x[0] == -1.52568, boost::test_tools::tolerance(1e-4));  // left the box
  const auto one = multistart(quartic, box, LBFGS{}, to_bounds(box), 16, 7, 1);
  BOOST_TEST(one.runs.size() == 16u);
  for (const Result& r : one.runs) {
    BOOST_TEST(r.x[0] >= -1.0);
    BOOST_TEST(r.x[0] <= 3.0);
    BOOST_TEST(r.active.size() == 1u);
  }
  BOOST_REQUIRE(one.minima.size() == 2u);
  BOOST_TEST(one.best.x[0] == -1.0);  // exactly on the bound
  BOOST_TEST(one.best.active == std::vector<int>{-1});
  BOOST_TEST(one.best.value == -5.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(one.minima[1].x[0] == 1.26704, boost::test_tools::tolerance(1e-4));
  BOOST_TEST(one.minima[1].active == std::vector<int>{0});
  for (int threads : {2, 4}) {
    const auto many = multistart(quartic, box, LBFGS{}, to_bounds(box), 16, 7, threads);
    for (std::size_t k = 0; k < 16; ++k) {
      BOOST_TEST(many.runs[k].x == one.runs[k].x);
      BOOST_TEST(many.runs[k].evaluations == one.runs[k].evaluations);
    }
    BOOST_TEST(many.best.x == one.best.x);
  }

  // A bowl centred at (3, −3), outside the box [−1, 1]²: every run, of L-BFGS-B and of projected
  // gradient descent, ends at the corner (1, −1), on the upper bound of x₀ and the lower of x₁.
  const auto bowl = [](const auto& x) { return pow(x[0] - 3.0, 2) + pow(x[1] + 3.0, 2); };
  const Box square{{-1.0, 1.0}, {-1.0, 1.0}};
  const auto lbfgsb = multistart(bowl, square, LBFGS{}, to_bounds(square), 8, 3, 2);
  const auto projected = multistart(bowl, square, GradientDescent{.lr = 1, .line_search = true},
                                    to_bounds(square), 8, 3, 2);
  for (const auto* m : {&lbfgsb, &projected}) {
    for (const Result& r : m->runs) {
      BOOST_TEST(r.x == (std::vector<double>{1.0, -1.0}));
      BOOST_TEST(r.active == (std::vector<int>{1, -1}));
    }
    BOOST_TEST(m->minima.size() == 1u);
  }
  // Bounds narrower than the box: starts outside them are projected, runs end within them.
  const auto half = multistart(bowl, square, LBFGS{}, Bounds{.upper = {0.5, 0.5}}, 8, 3, 1);
  for (const Result& r : half.runs) {
    BOOST_TEST(r.x[0] == 0.5);
    BOOST_TEST(std::abs(r.x[1] + 3.0) < 1e-6);
    BOOST_TEST(r.active == (std::vector<int>{1, 0}));
  }

  // Invalid bounds throw before any run.
  int calls = 0;
  const auto counted = [&](const auto& x) {
    ++calls;
    return quartic(x);
  };
  BOOST_CHECK_THROW(multistart(counted, box, LBFGS{}, Bounds{.lower = {0, 0}}, 4, 1), nabla::Error);
  BOOST_CHECK_THROW(multistart(counted, box, LBFGS{}, Bounds{.lower = {2}, .upper = {1}}, 4, 1),
                    nabla::Error);
  BOOST_TEST(calls == 0);
  std::string message;
  try {
    multistart(counted, box, LBFGS{}, Bounds{.upper = {1, 2, 3}}, 4, 1);
  } catch (const nabla::Error& e) {
    message = e.what();
  }
  BOOST_TEST(message.find("bounds.upper has 3 values (expected 1") != std::string::npos, message);
  BOOST_TEST(to_bounds(square).lower == (std::vector<double>{-1.0, -1.0}));
  BOOST_TEST(to_bounds(square).upper == (std::vector<double>{1.0, 1.0}));
}

BOOST_AUTO_TEST_CASE(csv_and_combined_observers) {
  const std::string path = "optim_test_trace.csv";
  int calls = 0;
  const Result r = minimize(quartic, {0.5}, Adam{.lr = 0.05}, Stop{.max_iterations = 20},
                            csv(path) | history() | Observer{[&](const Iteration&) {
                              ++calls;
                              return true;
                            }});
  BOOST_TEST(calls == 20);
  BOOST_TEST(r.history.iterations.size() == 20u);
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  std::getline(in, line);
  BOOST_TEST(line == "iteration,value,grad_norm,step,lr,evaluations,elapsed_s");
  while (std::getline(in, line)) ++lines;
  BOOST_TEST(lines == 20);
  std::remove(path.c_str());
  BOOST_CHECK_THROW(csv("/nonexistent-dir/trace.csv"), nabla::Error);
}

BOOST_AUTO_TEST_CASE(progress_writes_lines_and_a_final_status) {
  // A file is not a terminal: a line every 2 iterations, then the final status line.
  std::FILE* out = std::tmpfile();
  BOOST_REQUIRE(out != nullptr);
  const Result r = minimize(quartic, {0.5}, LBFGS{}, Stop{}, progress(2, out));
  BOOST_TEST((r.status == Status::gradient_converged));
  std::rewind(out);
  std::string text;
  for (int c = std::fgetc(out); c != EOF; c = std::fgetc(out)) text += static_cast<char>(c);
  std::fclose(out);
  int lines = 0;
  for (char c : text) lines += c == '\n';
  BOOST_TEST(lines == r.iterations / 2 + 1, text);
  BOOST_TEST(text.find("iteration 2 f = ") == 0u, text);
  BOOST_TEST(
      text.find("gradient_converged after " + std::to_string(r.iterations)) != std::string::npos,
      text);
}

BOOST_AUTO_TEST_SUITE_END()
