// Threads differentiating different functions at the same time get correct results.
#include <nabla/autodiff.hpp>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <thread>
#include <vector>

using nabla::Var;

BOOST_AUTO_TEST_CASE(threads_differentiate_independently) {
  constexpr int threads = 4;
  std::atomic<int> wrong{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([t, &wrong] {
      const double k = t + 1.0;
      for (int i = 0; i < 2000; ++i) {
        const double x = 0.001 * i;
        // Thread t differentiates f_t(x, y) = sin(k x) · y^k + k.
        const auto r = nabla::value_and_gradient(
            [k](const auto& v) { return sin(k * v[0]) * pow(v[1], k) + k; }, {x, 1.5});
        const double dx = k * std::cos(k * x) * std::pow(1.5, k);
        const double dy = std::sin(k * x) * k * std::pow(1.5, k - 1);
        if (std::abs(r.gradient[0] - dx) > 1e-12 * (1 + std::abs(dx)) ||
            std::abs(r.gradient[1] - dy) > 1e-12 * (1 + std::abs(dy)))
          ++wrong;
      }
    });
  }
  for (auto& th : pool) th.join();
  BOOST_TEST(wrong.load() == 0);
}

BOOST_AUTO_TEST_CASE(a_var_from_another_thread_is_rejected) {
  Var foreign;
  std::thread([&] { foreign = nabla::variable(2.0); }).join();
  BOOST_CHECK_THROW((void)Var(foreign * 3.0), nabla::Error);
}
