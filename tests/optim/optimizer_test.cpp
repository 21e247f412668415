// The update rules: the first three steps of every method on f(x) = 3x² − 6x + 4 and on a 2-D
// quadratic, against the published rule re-computed here step by step; option checks.
#include <nabla/optim.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <vector>

using namespace nabla::optim;

namespace {

// ∇ of the test functions: 1-D f = 3x² − 6x + 4; 2-D f = ½xᵀAx − bᵀx, A = [[3, 1], [1, 2]].
std::vector<double> grad(const std::vector<double>& x) {
  if (x.size() == 1) return {6 * x[0] - 6};
  return {3 * x[0] + x[1] - 1, x[0] + 2 * x[1] + 1};
}

// Runs `steps` steps of the library's optimizer and of a reference rule (written here from the
// paper's formulas, coordinate-wise, with its own state) and compares every iterate.
void expect_same_steps(
    const char* name, Optimizer& opt, std::vector<double> x,
    const std::function<void(std::vector<double>&, const std::vector<double>&, int)>& rule) {
  std::vector<double> ref = x;
  for (int t = 1; t <= 3; ++t) {
    const auto g = grad(x);
    opt.step(x, g);
    rule(ref, grad(ref), t);
    for (std::size_t i = 0; i < x.size(); ++i)
      BOOST_TEST(x[i] == ref[i], name << " step " << t << " coordinate " << i
                                      << boost::test_tools::tolerance(1e-14));
  }
  BOOST_TEST(opt.steps() == 3);
}

const std::vector<std::vector<double>> starts = {{1.5}, {0.5, -1.0}};

}  // namespace

BOOST_AUTO_TEST_SUITE(optimizer)

BOOST_AUTO_TEST_CASE(gradient_descent_first_steps_by_hand) {
  // x₁ = 1.5 − 0.1·3 = 1.2, x₂ = 1.2 − 0.1·1.2 = 1.08, x₃ = 1.08 − 0.1·0.48 = 1.032.
  auto opt = make_optimizer(GradientDescent{.lr = 0.1}, 1);
  std::vector<double> x = {1.5};
  const double expected[3] = {1.2, 1.08, 1.032};
  for (double e : expected) {
    opt->step(x, grad(x));
    BOOST_TEST(x[0] == e, boost::test_tools::tolerance(1e-15));
  }
}

BOOST_AUTO_TEST_CASE(every_method_follows_its_rule) {
  for (const auto& x0 : starts) {
    const std::size_t n = x0.size();
    {
      auto opt = make_optimizer(Momentum{.lr = 0.05, .rho = 0.9}, n);
      std::vector<double> v(n, 0.0);
      expect_same_steps("Momentum", *opt, x0, [&](auto& x, const auto& g, int) {
        for (std::size_t i = 0; i < n; ++i) {
          v[i] = 0.9 * v[i] + g[i];
          x[i] -= 0.05 * v[i];
        }
      });
    }
    {
      auto opt = make_optimizer(Nesterov{.lr = 0.05, .rho = 0.8}, n);
      std::vector<double> v(n, 0.0);
      expect_same_steps("Nesterov", *opt, x0, [&](auto& x, const auto& g, int) {
        for (std::size_t i = 0; i < n; ++i) {
          v[i] = 0.8 * v[i] + g[i];
          x[i] -= 0.05 * (g[i] + 0.8 * v[i]);
        }
      });
    }
    {
      auto opt = make_optimizer(AdaGrad{.lr = 0.3, .eps = 1e-10}, n);
      std::vector<double> s(n, 0.0);
      expect_same_steps("AdaGrad", *opt, x0, [&](auto& x, const auto& g, int) {
        for (std::size_t i = 0; i < n; ++i) {
          s[i] += g[i] * g[i];
          x[i] -= 0.3 * g[i] / (std::sqrt(s[i]) + 1e-10);
        }
      });
    }
    for (bool centered : {false, true})
      for (double mu : {0.0, 0.5}) {
        auto opt = make_optimizer(
            RMSProp{.lr = 0.02, .alpha = 0.9, .eps = 1e-8, .momentum = mu, .centered = centered},
            n);
        std::vector<double> s(n, 0.0), m(n, 0.0), b(n, 0.0);
        expect_same_steps("RMSProp", *opt, x0, [&](auto& x, const auto& g, int) {
          for (std::size_t i = 0; i < n; ++i) {
            s[i] = 0.9 * s[i] + 0.1 * g[i] * g[i];
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            const double denom = std::sqrt(centered ? s[i] - m[i] * m[i] : s[i]) + 1e-8;
            b[i] = mu * b[i] + g[i] / denom;
            x[i] -= 0.02 * (mu > 0 ? b[i] : g[i] / denom);
          }
        });
      }
    for (bool amsgrad : {false, true})
      for (double wd : {0.0, 0.1}) {
        auto opt = make_optimizer(Adam{.lr = 0.1,
                                       .beta1 = 0.8,
                                       .beta2 = 0.95,
                                       .eps = 1e-8,
                                       .weight_decay = wd,
                                       .amsgrad = amsgrad},
                                  n);
        std::vector<double> m(n, 0.0), v(n, 0.0), vmax(n, 0.0);
        expect_same_steps("Adam", *opt, x0, [&](auto& x, const auto& g0, int t) {
          for (std::size_t i = 0; i < n; ++i) {
            const double g = g0[i] + wd * x[i];
            m[i] = 0.8 * m[i] + 0.2 * g;
            v[i] = 0.95 * v[i] + 0.05 * g * g;
            vmax[i] = std::max(vmax[i], v[i]);
            const double mhat = m[i] / (1 - std::pow(0.8, t));
            const double vhat = (amsgrad ? vmax[i] : v[i]) / (1 - std::pow(0.95, t));
            x[i] -= 0.1 * mhat / (std::sqrt(vhat) + 1e-8);
          }
        });
      }
    {
      auto opt = make_optimizer(AdamW{.lr = 0.1, .weight_decay = 0.2}, n);
      std::vector<double> m(n, 0.0), v(n, 0.0);
      expect_same_steps("AdamW", *opt, x0, [&](auto& x, const auto& g, int t) {
        for (std::size_t i = 0; i < n; ++i) {
          x[i] -= 0.1 * 0.2 * x[i];  // decoupled decay, multiplied by lr
          m[i] = 0.9 * m[i] + 0.1 * g[i];
          v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
          x[i] -= 0.1 * (m[i] / (1 - std::pow(0.9, t))) /
                  (std::sqrt(v[i] / (1 - std::pow(0.999, t))) + 1e-8);
        }
      });
    }
  }
}

BOOST_AUTO_TEST_CASE(reset_restarts_the_state) {
  auto opt = make_optimizer(Adam{.lr = 0.1}, 1);
  std::vector<double> a = {1.5}, b = {1.5};
  opt->step(a, grad(a));
  opt->step(a, grad(a));
  opt->reset();
  BOOST_TEST(opt->steps() == 0);
  opt->step(b, grad(b));
  auto fresh = make_optimizer(Adam{.lr = 0.1}, 1);
  std::vector<double> c = {1.5};
  fresh->step(c, grad(c));
  BOOST_TEST(b[0] == c[0]);
}

BOOST_AUTO_TEST_CASE(invalid_options_and_sizes_throw) {
  BOOST_CHECK_THROW(make_optimizer(GradientDescent{.lr = 0}, 1), nabla::Error);
  BOOST_CHECK_THROW(make_optimizer(GradientDescent{.lr = std::nan("")}, 1), nabla::Error);
  BOOST_CHECK_THROW(make_optimizer(Momentum{.rho = 1.0}, 1), nabla::Error);
  BOOST_CHECK_THROW(make_optimizer(Adam{.beta2 = -0.1}, 1), nabla::Error);
  BOOST_CHECK_THROW(make_optimizer(AdamW{.weight_decay = -1}, 1), nabla::Error);
  BOOST_CHECK_THROW(make_optimizer(RMSProp{.eps = 0}, 1), nabla::Error);
  try {
    (void)make_optimizer(Adam{.lr = -1}, 1);
  } catch (const nabla::Error& e) {
    BOOST_TEST(std::string(e.what()) ==
               "nabla::optim::Adam: invalid option lr (got -1, expected a finite value > 0)");
  }
  auto opt = make_optimizer(Adam{}, 2);
  std::vector<double> x(3), g(2);
  BOOST_CHECK_THROW(opt->step(x, g), nabla::Error);
}

BOOST_AUTO_TEST_SUITE_END()
