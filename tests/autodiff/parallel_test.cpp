// parallel_sum and ThreadPool: bit-identical results for any thread count, the serial gradient
// to rounding, finite differences, L-BFGS trajectories, tensor losses, errors, nesting, memory.
#include <nabla/autodiff.hpp>
#include <nabla/optim.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using nabla::Shard;
using nabla::Shards;
using nabla::ThreadPool;
using nabla::Var;

namespace {

// A logistic regression with an intercept and 3 features: n observations drawn with a fixed
// seed (42).
struct Data {
  static constexpr std::size_t d = 4;  // intercept + 3 features
  std::vector<double> x;               // n × d, row-major, x[i·d] = 1
  std::vector<double> y;               // 0 or 1
  explicit Data(std::size_t n) : x(n * d), y(n) {
    std::mt19937_64 rng(42);
    std::normal_distribution<double> normal;
    const double w[d] = {0.3, -1.0, 0.5, 2.0};
    for (std::size_t i = 0; i < n; ++i) {
      double eta = 0;
      for (std::size_t j = 0; j < d; ++j) {
        x[i * d + j] = j == 0 ? 1.0 : normal(rng);
        eta += w[j] * x[i * d + j];
      }
      y[i] = std::uniform_real_distribution<double>()(rng) < 1 / (1 + std::exp(-eta)) ? 1 : 0;
    }
  }
  [[nodiscard]] std::size_t size() const { return y.size(); }
  // The negative log-likelihood of observations [begin, end).
  template <class T>
  T nll(std::span<const T> w, std::size_t begin, std::size_t end) const {
    T sum = T(0.0);
    for (std::size_t i = begin; i < end; ++i) {
      const double* xi = &x[i * d];
      const T eta = w[0] * xi[0] + w[1] * xi[1] + w[2] * xi[2] + w[3] * xi[3];
      sum += softplus(eta) - y[i] * eta;
    }
    return sum;
  }
};

const Data& data() {
  static const Data d(20000);
  return d;
}

auto nll_shard() {
  return [](std::span<const Var> w, Shard s) { return data().nll(w, s.begin, s.end); };
}

// The same, generic in its number type: the Newton methods take its second derivatives.
auto nll_shard_any() {
  return [](const auto& w, Shard s) { return data().nll(w, s.begin, s.end); };
}

const std::vector<double> theta = {0.1, -0.2, 0.3, 0.4};

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), 8 * a.size()) == 0;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, 8) == 0; }

// The statements left on the tapes of the pool's workers (each task waits a little, so that
// every worker takes some).
std::size_t statements_on_workers(ThreadPool& pool) {
  std::atomic<std::size_t> left{0};
  pool.run(8 * pool.size(), [&](std::size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    left += nabla::active_tape().statistics().statements;
  });
  return left.load();
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// A generic objective that also has members named hessian and hessian_vector_product, wrong on
// purpose: minimize must still differentiate it itself.
struct Quadratic {
  template <class T>
  T operator()(std::span<const T> x) const {
    return (x[0] - 1.0) * (x[0] - 1.0) + 10.0 * (x[1] + 2.0) * (x[1] + 2.0);
  }
  void hessian(std::span<const double>, std::span<double> h) const {
    std::fill(h.begin(), h.end(), -1.0);
  }
  void hessian_vector_product(std::span<const double>, std::span<const double>,
                              std::span<double> hv) const {
    std::fill(hv.begin(), hv.end(), -1.0);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(identical_for_any_thread_count_and_serial_to_rounding) {
  ThreadPool one(1), two(2), four(4);
  const Shards shards(data().size(), 1000);
  auto r1 = nabla::parallel_sum(nll_shard(), shards, one).value_and_gradient(theta);
  auto r2 = nabla::parallel_sum(nll_shard(), shards, two).value_and_gradient(theta);
  auto r4 = nabla::parallel_sum(nll_shard(), shards, four).value_and_gradient(theta);
  BOOST_TEST(same_bits(r1.value, r2.value));
  BOOST_TEST(same_bits(r1.value, r4.value));
  BOOST_TEST(same_bits(r1.gradient, r2.gradient));
  BOOST_TEST(same_bits(r1.gradient, r4.gradient));
  // Again on the same object: the same bits.
  auto sum4 = nabla::parallel_sum(nll_shard(), shards, four);
  for (int repeat = 0; repeat < 20; ++repeat) {
    const auto again = sum4.value_and_gradient(theta);
    BOOST_TEST(same_bits(again.value, r1.value));
    BOOST_TEST(same_bits(again.gradient, r1.gradient));
  }
  // One recording of the whole sum on this thread: equal to rounding.
  const auto serial = nabla::value_and_gradient(
      [](std::span<const Var> w) { return data().nll(w, 0, data().size()); }, theta);
  BOOST_TEST(r1.value == serial.value, boost::test_tools::tolerance(1e-12));
  for (std::size_t j = 0; j < theta.size(); ++j)
    BOOST_TEST(r1.gradient[j] == serial.gradient[j], boost::test_tools::tolerance(1e-10));
}

BOOST_AUTO_TEST_CASE(the_default_pool_and_shard_sizes) {
  // Shard sizes change the order of additions, not the value beyond rounding; the last shard
  // is shorter (20000 = 6·3000 + 2000).
  const Shards uneven(data().size(), 3000);
  BOOST_TEST(uneven.count() == 7u);
  BOOST_TEST(uneven[6].begin == 18000u);
  BOOST_TEST(uneven[6].size() == 2000u);
  auto a = nabla::parallel_sum(nll_shard(), uneven).value_and_gradient(theta);
  auto b = nabla::parallel_sum(nll_shard(), Shards(data().size(), 20000)).value_and_gradient(theta);
  BOOST_TEST(a.value == b.value, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(nabla::default_thread_pool().size() == ThreadPool::default_size());
}

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
  ThreadPool pool(2);
  auto f = nabla::parallel_sum(nll_shard(), Shards(2000, 250), pool);
  const auto r = f.value_and_gradient(theta);
  std::vector<double> g(theta.size());
  for (std::size_t j = 0; j < theta.size(); ++j) {
    const double h = 1e-5;
    std::vector<double> up = theta, down = theta;
    up[j] += h;
    down[j] -= h;
    const double fd = (f(up, g) - f(down, g)) / (2 * h);
    BOOST_TEST(r.gradient[j] == fd, boost::test_tools::tolerance(1e-6));
  }
}

BOOST_AUTO_TEST_CASE(lbfgs_trajectory_is_identical_for_1_and_4_threads) {
  ThreadPool one(1), four(4);
  const Shards shards(data().size(), 500);
  auto run = [&](ThreadPool& pool) {
    return nabla::optim::minimize(nabla::parallel_sum(nll_shard(), shards, pool),
                                  {0.0, 0.0, 0.0, 0.0}, nabla::optim::LBFGS{}, {.grad_tol = 1e-6},
                                  nabla::optim::history());
  };
  const auto a = run(one), b = run(four);
  BOOST_TEST((a.status == nabla::optim::Status::gradient_converged));
  BOOST_TEST(a.iterations == b.iterations);
  BOOST_TEST(a.evaluations == b.evaluations);
  BOOST_TEST(same_bits(a.x, b.x));
  BOOST_REQUIRE(a.history.iterations.size() == b.history.iterations.size());
  for (std::size_t k = 0; k < a.history.iterations.size(); ++k) {
    BOOST_TEST(same_bits(a.history.iterations[k].value, b.history.iterations[k].value));
    BOOST_TEST(same_bits(a.history.iterations[k].grad_norm, b.history.iterations[k].grad_norm));
  }
  // The maximum-likelihood estimate is near the weights the data were drawn with.
  BOOST_TEST(std::abs(a.x[3] - 2.0) < 0.15);
}

BOOST_AUTO_TEST_CASE(second_derivatives_and_newton_methods_for_any_thread_count) {
  namespace optim = nabla::optim;
  ThreadPool one(1), four(4);
  const Shards shards(data().size(), 1000);
  auto sum1 = nabla::parallel_sum(nll_shard_any(), shards, one);
  auto sum4 = nabla::parallel_sum(nll_shard_any(), shards, four);
  const std::size_t n = theta.size();
  const std::vector<double> v = {1.0, -0.5, 0.25, 2.0};
  // H·v and H: the same bits on 1 and 4 threads, the whole function's to rounding.
  std::vector<double> hv1(n), hv4(n), h1(n * n), h4(n * n);
  sum1.hessian_vector_product(theta, v, hv1);
  sum4.hessian_vector_product(theta, v, hv4);
  sum1.hessian(theta, h1);
  sum4.hessian(theta, h4);
  BOOST_TEST(same_bits(hv1, hv4));
  BOOST_TEST(same_bits(h1, h4));
  const auto whole = [](const auto& w) { return data().nll(w, 0, data().size()); };
  const std::vector<double> hv = nabla::hessian_vector_product(whole, theta, v);
  const nabla::Hessian h = nabla::hessian(whole, theta);
  for (std::size_t i = 0; i < n; ++i) {
    BOOST_TEST(hv1[i] == hv[i], boost::test_tools::tolerance(1e-10));
    double row = 0;
    for (std::size_t j = 0; j < n; ++j) {
      BOOST_TEST(h1[i * n + j] == h(i, j), boost::test_tools::tolerance(1e-10));
      BOOST_TEST(same_bits(h1[i * n + j], h1[j * n + i]));  // a sum of symmetric matrices
      row += h1[i * n + j] * v[j];
    }
    BOOST_TEST(row == hv1[i], boost::test_tools::tolerance(1e-10));  // H·v from either
  }
  // Newton-CG and Newton: the same trajectory, bit for bit, on 1 and 4 threads; the optimum
  // L-BFGS finds.
  const auto run = [](auto& f, auto method) {
    return optim::minimize(f, {0.0, 0.0, 0.0, 0.0}, method, {.grad_tol = 1e-8}, optim::history());
  };
  const auto lbfgs = run(sum4, optim::LBFGS{});
  for (const bool dense : {false, true}) {
    const auto a = dense ? run(sum1, optim::Newton{}) : run(sum1, optim::NewtonCG{});
    const auto b = dense ? run(sum4, optim::Newton{}) : run(sum4, optim::NewtonCG{});
    const std::string method = dense ? "Newton" : "NewtonCG";
    BOOST_TEST_CONTEXT(method) {
      BOOST_TEST((a.status == optim::Status::gradient_converged));
      BOOST_TEST(a.iterations == b.iterations);
      BOOST_TEST(a.hessian_evaluations == b.hessian_evaluations);
      BOOST_TEST(a.hessian_evaluations > 0);
      BOOST_TEST(same_bits(a.x, b.x));
      BOOST_TEST(a.iterations < 15);  // second order: few iterations
      for (std::size_t j = 0; j < n; ++j)
        BOOST_TEST(a.x[j] == lbfgs.x[j], boost::test_tools::tolerance(1e-5));
    }
  }
  // Sizes: v, hv and h are checked; a shard function written for Var alone has no second
  // derivatives (minimize's static_assert names the members it would need).
  std::vector<double> short_v(n - 1), h_wrong(n * n - 1);
  BOOST_CHECK_EXCEPTION(
      sum4.hessian_vector_product(theta, short_v, hv4), nabla::Error, [](const nabla::Error& e) {
        return std::strstr(e.what(), "the direction v has 3 entries for 4") != nullptr;
      });
  BOOST_CHECK_EXCEPTION(sum4.hessian_vector_product(theta, v, short_v), nabla::Error,
                        [](const nabla::Error& e) {
                          return std::strstr(e.what(), "the product hv has 3 entries") != nullptr;
                        });
  BOOST_CHECK_EXCEPTION(sum4.hessian(theta, h_wrong), nabla::Error, [](const nabla::Error& e) {
    return std::strstr(e.what(), "the Hessian h has 15 entries for 4 parameters (expected 4×4") !=
           nullptr;
  });
  using VarOnly = decltype(nabla::parallel_sum(nll_shard(), shards, one));
  static_assert(!optim::detail::SuppliesHessian<VarOnly>);
  static_assert(!optim::detail::SuppliesHessianVectorProduct<VarOnly>);
  static_assert(optim::detail::SuppliesHessian<decltype(sum1)>);
  static_assert(!nabla::TwiceDifferentiableShardFunction<decltype(nll_shard())>);
  static_assert(nabla::TwiceDifferentiableShardFunction<decltype(nll_shard_any())>);
  // A shard that throws while taking its Hessian: the error, then the object works again.
  auto throwing = nabla::parallel_sum(
      [](const auto& w, Shard s) {
        if (s.index == 3 && w.size() == 4 && !std::is_same_v<decltype(w[0]), const Var&>)
          throw std::runtime_error("shard 3");
        return data().nll(w, s.begin, s.end);
      },
      shards, four);
  BOOST_CHECK_THROW(throwing.hessian(theta, h4), std::runtime_error);
  std::vector<double> g(n);
  BOOST_TEST(std::isfinite(throwing(theta, g)));
}

BOOST_AUTO_TEST_CASE(second_derivatives_take_only_what_the_method_needs) {
  namespace optim = nabla::optim;
  ThreadPool two(2);
  const Shards shards(2000, 500);
  // A generic lambda whose body only works for Var: first-order methods compile and run as
  // before (nothing asks for its second derivatives).
  auto var_only = nabla::parallel_sum(
      [](const auto& w, Shard s) { return data().nll(std::span<const Var>(w), s.begin, s.end); },
      shards, two);
  const auto adam = optim::minimize(var_only, {0.0, 0.0, 0.0, 0.0}, optim::Adam{.lr = 0.05},
                                    {.max_iterations = 5});
  BOOST_TEST(adam.iterations == 5);
  // A shard function with Var and Dual<Var> overloads only (no Dual<Var, 4>): its dense Hessian
  // is taken a column at a time, the same as the generic function's four at a time.
  struct Overloads {
    Var operator()(std::span<const Var> w, Shard s) const { return data().nll(w, s.begin, s.end); }
    nabla::Dual<Var> operator()(std::span<const nabla::Dual<Var>> w, Shard s) const {
      return data().nll(w, s.begin, s.end);
    }
  };
  auto overloads = nabla::parallel_sum(Overloads{}, shards, two);
  auto generic = nabla::parallel_sum(nll_shard_any(), shards, two);
  const std::size_t n = theta.size();
  std::vector<double> h1(n * n), h4(n * n);
  overloads.hessian(theta, h1);
  generic.hessian(theta, h4);
  for (std::size_t k = 0; k < n * n; ++k)
    BOOST_TEST(h1[k] == h4[k], boost::test_tools::tolerance(1e-12));
  const auto newton =
      optim::minimize(overloads, {0.0, 0.0, 0.0, 0.0}, optim::Newton{}, {.grad_tol = 1e-8});
  BOOST_TEST((newton.status == optim::Status::gradient_converged));
  // A generic objective that also has members named hessian / hessian_vector_product of its
  // own (Quadratic's are wrong on purpose) is still differentiated by nabla, as before such
  // members were looked at.
  const Quadratic q;
  const auto qn = optim::minimize(q, {0.0, 0.0}, optim::Newton{}, {.grad_tol = 1e-10});
  const auto qcg = optim::minimize(q, {0.0, 0.0}, optim::NewtonCG{}, {.grad_tol = 1e-10});
  for (const auto& r : {qn, qcg}) {
    BOOST_TEST((r.status == optim::Status::gradient_converged));
    BOOST_TEST(r.x[0] == 1.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(r.x[1] == -2.0, boost::test_tools::tolerance(1e-9));
  }
}

BOOST_AUTO_TEST_CASE(tensor_losses) {
  // The same likelihood as one tensor expression per shard: logits = X·w, a one-element loss.
  auto shard = [](std::span<const Var> w, Shard s) {
    const nabla::TensorVar wt = nabla::tensor(w, {Data::d, 1});
    const std::span<const double> x(data().x), y(data().y);
    const nabla::Tensor xs({s.size(), Data::d}, x.subspan(s.begin * Data::d, s.size() * Data::d));
    const nabla::Tensor ys({s.size(), 1}, y.subspan(s.begin, s.size()));
    const nabla::TensorVar eta = nabla::matmul(nabla::constant(xs), wt);
    return nabla::sum(nabla::softplus(eta) - nabla::constant(ys) * eta);
  };
  ThreadPool one(1), four(4);
  const Shards shards(data().size(), 2500);
  const auto a = nabla::parallel_sum(shard, shards, one).value_and_gradient(theta);
  const auto b = nabla::parallel_sum(shard, shards, four).value_and_gradient(theta);
  BOOST_TEST(same_bits(a.value, b.value));
  BOOST_TEST(same_bits(a.gradient, b.gradient));
  const auto scalar = nabla::parallel_sum(nll_shard(), shards, four).value_and_gradient(theta);
  BOOST_TEST(a.value == scalar.value, boost::test_tools::tolerance(1e-12));
  for (std::size_t j = 0; j < theta.size(); ++j)
    BOOST_TEST(a.gradient[j] == scalar.gradient[j], boost::test_tools::tolerance(1e-10));
}

BOOST_AUTO_TEST_CASE(a_throwing_shard_propagates_the_first_in_shard_order) {
  ThreadPool pool(4);
  std::atomic<int> calls{0};
  auto f = nabla::parallel_sum(
      [&](std::span<const Var> w, Shard s) {
        ++calls;
        const Var partial = data().nll(w, s.begin, s.end);  // recorded, then the throw
        if (s.index == 7) throw std::runtime_error("shard 7");
        if (s.index == 13) throw std::invalid_argument("shard 13");
        return partial;
      },
      Shards(data().size(), 500), pool);
  for (int repeat = 0; repeat < 20; ++repeat) {
    std::vector<double> g(theta.size());
    try {
      f(theta, g);
      BOOST_FAIL("no exception");
    } catch (const std::runtime_error& e) {
      BOOST_TEST(std::string(e.what()) == "shard 7");
    }
  }
  BOOST_TEST(calls.load() > 0);
  // No tape keeps anything, and the pool still works, with the same result as before.
  BOOST_TEST(statements_on_workers(pool) == 0u);
  const auto good =
      nabla::parallel_sum(nll_shard(), Shards(data().size(), 500), pool).value_and_gradient(theta);
  const auto ref =
      nabla::parallel_sum(nll_shard(), Shards(data().size(), 500), pool).value_and_gradient(theta);
  BOOST_TEST(same_bits(good.gradient, ref.gradient));
}

BOOST_AUTO_TEST_CASE(misuse_is_a_clear_error) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const nabla::Error& e) {
      return std::string(e.what());
    }
    return std::string("no nabla::Error");
  };
  BOOST_TEST(message([] { ThreadPool pool(0); }) ==
             "nabla::ThreadPool: threads = 0 (expected at least 1)");
  BOOST_TEST(message([] { (void)Shards(0, 10); }) ==
             "nabla::Shards: items = 0: the data is empty (expected at least one item)");
  BOOST_TEST(message([] { (void)Shards(10, 0); }) ==
             "nabla::Shards: shard_size = 0 for 10 items (expected at least 1)");
  BOOST_TEST(message([] { (void)Shards(10, 3)[4]; }) ==
             "nabla::Shards: shard 4 is out of range (expected below 4)");
  ThreadPool pool(2);
  auto f = nabla::parallel_sum(nll_shard(), Shards(100, 10), pool);
  std::vector<double> g(3);
  BOOST_TEST(message([&] { f(theta, g); }) ==
             "nabla::parallel_sum: the gradient has 3 entries for 4 parameters (expected one "
             "gradient entry per parameter)");
  // A tensor loss of more than one element names its shard.
  auto rows = nabla::parallel_sum(
      [](std::span<const Var> w, Shard s) {
        return nabla::tensor(w, {2, 2}) * (s.index == 2 ? 1.0 : 0.0);
      },
      Shards(4), pool);
  BOOST_TEST(message([&] { (void)rows.value_and_gradient(theta); }) ==
             "nabla::parallel_sum: shard 0 returned a loss of 4 elements (expected a one-element "
             "tensor, a Var or a scalar expression)");
  // An object called from its own shard function.
  std::function<double(std::span<const double>, std::span<double>)> self;
  auto recursive = nabla::parallel_sum(
      [&](std::span<const Var> w, Shard) {
        std::vector<double> inner(4);
        (void)self(theta, inner);
        return w[0];
      },
      Shards(2), pool);
  self = [&](std::span<const double> x, std::span<double> gr) { return recursive(x, gr); };
  const std::string m = message([&] { (void)recursive.value_and_gradient(theta); });
  BOOST_TEST(m.find("nabla::parallel_sum: this object is already running") == 0u, m);
  // All of it left the workers' tapes clean and the object usable.
  BOOST_TEST(statements_on_workers(pool) == 0u);
  std::vector<double> g4(4);
  BOOST_CHECK_NO_THROW(f(theta, g4));
}

BOOST_AUTO_TEST_CASE(nested_and_from_other_threads) {
  ThreadPool pool(2);
  const Shards inner_shards(1000, 100);
  const auto expected =
      nabla::parallel_sum(nll_shard(), inner_shards, pool).value_and_gradient(theta);
  // A shard function that runs a parallel_sum of its own (on the same pool: inline, in order).
  std::atomic<int> wrong{0};
  auto outer = nabla::parallel_sum(
      [&](std::span<const Var> w, Shard) {
        auto inner = nabla::parallel_sum(nll_shard(), inner_shards, pool);
        if (!same_bits(inner.value_and_gradient(theta).gradient, expected.gradient)) ++wrong;
        return w[0] * w[1];
      },
      Shards(6), pool);
  const auto r = outer.value_and_gradient(theta);
  BOOST_TEST(wrong.load() == 0);
  BOOST_TEST(r.value == 6 * theta[0] * theta[1], boost::test_tools::tolerance(1e-15));
  // Plain threads sharing one pool take turns, each with its own object.
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      auto mine = nabla::parallel_sum(nll_shard(), inner_shards, pool);
      for (int k = 0; k < 20; ++k)
        if (!same_bits(mine.value_and_gradient(theta).gradient, expected.gradient)) ++wrong;
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST(wrong.load() == 0);
}

BOOST_AUTO_TEST_CASE(empty_shards_contribute_nothing) {
  // One shard per group; groups 1 and 3 have no observations (a constant loss, no recording).
  const std::vector<std::pair<std::size_t, std::size_t>> groups = {
      {0, 300}, {300, 300}, {300, 800}, {800, 800}, {800, 1000}};
  ThreadPool pool(4);
  auto f = nabla::parallel_sum(
      [&](std::span<const Var> w, Shard s) {
        const auto [begin, end] = groups[s.index];
        return data().nll(w, begin, end);
      },
      Shards(groups.size()), pool);
  const auto r = f.value_and_gradient(theta);
  const auto whole =
      nabla::parallel_sum(nll_shard(), Shards(1000, 1000), pool).value_and_gradient(theta);
  BOOST_TEST(r.value == whole.value, boost::test_tools::tolerance(1e-12));
  for (std::size_t j = 0; j < theta.size(); ++j)
    BOOST_TEST(r.gradient[j] == whole.gradient[j], boost::test_tools::tolerance(1e-10));
  // A point with no parameters: nothing to differentiate, the values still add up.
  auto constant = nabla::parallel_sum(
      [](std::span<const Var>, Shard s) { return Var(1.0 * s.index); }, Shards(5), pool);
  BOOST_TEST(constant.value_and_gradient(std::vector<double>{}).value == 10.0);
}

BOOST_AUTO_TEST_CASE(a_long_loop_of_calls_keeps_memory_flat) {
  ThreadPool pool(2);
  auto f = nabla::parallel_sum(nll_shard(), Shards(2000, 100), pool);
  std::vector<double> g(theta.size());
  for (int k = 0; k < 200; ++k) f(theta, g);  // warm
  const long before = peak_rss_kib();
  for (int k = 0; k < 5000; ++k) f(theta, g);
  BOOST_TEST(peak_rss_kib() - before < 4 * 1024);
  BOOST_TEST(statements_on_workers(pool) == 0u);
}

BOOST_AUTO_TEST_CASE(a_pool_runs_every_index_once) {
  for (std::size_t threads : {1u, 3u, 8u}) {
    ThreadPool pool(threads);
    BOOST_TEST(pool.size() == threads);
    std::vector<std::atomic<int>> hits(1000);
    for (int round = 0; round < 10; ++round)
      pool.run(hits.size(), [&](std::size_t i) { ++hits[i]; });
    pool.run(0, [](std::size_t) { throw std::logic_error("never called"); });
    int wrong = 0;
    for (auto& h : hits) wrong += h.load() != 10;
    BOOST_TEST(wrong == 0);
  }
}

BOOST_AUTO_TEST_CASE(a_wide_gradient_is_reduced_on_threads_with_the_same_bits) {
  // 20 shards × 5000 parameters: the rows are added by blocks of coordinates on the pool
  // (on one thread, in one block); the same bits either way, and the exact sum.
  const std::size_t n = 5000;
  auto f = [](std::span<const Var> w, Shard s) {
    const double c = 0.1 * static_cast<double>(s.index + 1);
    std::vector<double> coef(w.size());
    for (std::size_t j = 0; j < w.size(); ++j) coef[j] = c / static_cast<double>(j + 1);
    return nabla::dot(std::span<const double>(coef), w) * w[0];
  };
  std::vector<double> x(n, 0.5);
  x[0] = 1.0;
  ThreadPool one(1), four(4);
  const auto a = nabla::parallel_sum(f, Shards(20), one).value_and_gradient(x);
  const auto b = nabla::parallel_sum(f, Shards(20), four).value_and_gradient(x);
  BOOST_TEST(same_bits(a.gradient, b.gradient));
  BOOST_TEST(same_bits(a.value, b.value));
  // ∂/∂w_j of Σ_k c_k (Σ_i w_i / (i+1)) w_0 for j > 0: w_0 Σ_k c_k / (j+1), Σ_k c_k = 21.
  BOOST_TEST(a.gradient[n - 1] == 21.0 / static_cast<double>(n),
             boost::test_tools::tolerance(1e-13));
}
