// The tensor rows on Stan Math (Debian's r-cran-stanheaders) with its vectorised matrix
// functions: multiply (double × var and var × var matrices), dot_self,
// bernoulli_logit_glm_lpmf, log_softmax. ReLU and the bias additions have no vectorised form
// in this Stan version: they are elementwise var operations. Checked against the same closed
// forms as nabla's rows.
#include <stan/math.hpp>

#include "../tensor_rows.hpp"

using namespace tensor_rows;
using stan::math::var;

namespace {
using VarMatrix = Eigen::Matrix<var, Eigen::Dynamic, Eigen::Dynamic>;
using VarVector = Eigen::Matrix<var, Eigen::Dynamic, 1>;
}  // namespace

int main(int argc, char** argv) {
  const bool small = argc > 1 && std::strcmp(argv[1], "small") == 0;
  const double budget = small ? 0.002 : 0.05;
  print_header();
  {
    const LeastSquares p(small);
    const Eigen::MatrixXd a = p.a;
    Eigen::VectorXd g(p.n);
    const auto grad = [&] {
      const VarVector w = p.w.cast<var>();
      var loss = stan::math::dot_self(stan::math::subtract(stan::math::multiply(a, w), p.b));
      loss.grad();
      for (long i = 0; i < p.n; ++i) g(i) = w(i).adj();
      stan::math::recover_memory();
    };
    grad();
    require_close(g, p.gradient(), "least squares");
    print_row(p.name(), seconds_per_call([&] { sink = p.plain(); }, budget), seconds_per_call(grad, budget));
  }
  {
    const Logistic p(small);
    const Eigen::MatrixXd x = p.x;
    std::vector<int> y(static_cast<std::size_t>(p.m));
    for (long i = 0; i < p.m; ++i) y[static_cast<std::size_t>(i)] = static_cast<int>(p.y(i));
    Eigen::VectorXd g(p.d);
    const auto grad = [&] {
      const VarVector w = p.w.cast<var>();
      var loss = -stan::math::bernoulli_logit_glm_lpmf(y, x, 0.0, w) / static_cast<double>(p.m);
      loss.grad();
      for (long i = 0; i < p.d; ++i) g(i) = w(i).adj();
      stan::math::recover_memory();
    };
    grad();
    require_close(g, p.gradient(), "logistic regression");
    print_row(p.name(), seconds_per_call([&] { sink = p.plain(); }, budget), seconds_per_call(grad, budget));
  }
  {
    const Mlp p;
    const Eigen::MatrixXd x = p.x;
    Eigen::MatrixXd gw2(Mlp::hidden, Mlp::out);
    const auto grad = [&] {
      const VarMatrix w1 = Eigen::MatrixXd(p.w1).cast<var>(), w2 = Eigen::MatrixXd(p.w2).cast<var>();
      const VarVector b1 = p.b1.cast<var>(), b2 = p.b2.cast<var>();
      VarMatrix h = stan::math::multiply(x, w1);
      for (long r = 0; r < h.rows(); ++r)
        for (long c = 0; c < h.cols(); ++c) h(r, c) = stan::math::fmax(h(r, c) + b1(c), 0.0);
      VarMatrix z = stan::math::multiply(h, w2);
      var loss = 0;
      for (long r = 0; r < z.rows(); ++r) {
        VarVector row(z.cols());
        for (long c = 0; c < z.cols(); ++c) row(c) = z(r, c) + b2(c);
        loss -= stan::math::log_softmax(row)(p.labels[static_cast<std::size_t>(r)]);
      }
      loss = loss / static_cast<double>(Mlp::batch);
      loss.grad();
      for (long r = 0; r < gw2.rows(); ++r)
        for (long c = 0; c < gw2.cols(); ++c) gw2(r, c) = w2(r, c).adj();
      stan::math::recover_memory();
    };
    grad();
    const RowMatrix expected = p.gradient_w2();
    require_close(Eigen::Map<const Eigen::VectorXd>(RowMatrix(gw2).data(), gw2.size()),
                  Eigen::Map<const Eigen::VectorXd>(expected.data(), expected.size()), "MLP");
    print_row(p.name(), seconds_per_call([&] { sink = p.plain(); }, budget), seconds_per_call(grad, budget));
  }
}
