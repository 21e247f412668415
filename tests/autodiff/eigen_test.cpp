// Eigen interoperability: Eigen::Matrix<Var> code differentiates correctly, and tensors map to
// Eigen without copies.
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/eigen.hpp>

#include <Eigen/Dense>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <vector>

using nabla::Var;

BOOST_AUTO_TEST_SUITE(eigen)

BOOST_AUTO_TEST_CASE(matrix_of_vars) {
  // f(A, b) = ‖A·x − b‖² + trace(AᵀA) + det(A) with Eigen's own products, norms, LU solve.
  const auto f = [](std::span<const Var> p) {
    using M = Eigen::Matrix<Var, 3, 3>;
    using V = Eigen::Matrix<Var, 3, 1>;
    M a;
    V b;
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) a(i, j) = p[static_cast<std::size_t>(3 * i + j)];
      b(i) = p[static_cast<std::size_t>(9 + i)];
    }
    const V x = a.lu().solve(b);  // x = A⁻¹ b: differentiates through the LU
    const Var fit = (a * x - 2.0 * b).squaredNorm();
    return Var(fit + (a.transpose() * a).trace() + a.determinant() + x.sum());
  };
  const std::vector<double> p = {4, 1, 0.5, 1, 3, -1, 0.2, 0.4, 5, 1, -2, 0.5};
  const nabla::GradientCheck c = nabla::check_gradient(f, p);
  BOOST_TEST(c.ok, nabla::to_string(c));
  // A closed form: d/db of x.sum() + ‖b‖² (A x − 2b = −b) is A⁻ᵀ·1 + 2b.
  const auto r = nabla::value_and_gradient(f, p);
  Eigen::Matrix3d a;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) a(i, j) = p[static_cast<std::size_t>(3 * i + j)];
  const Eigen::Vector3d expected = a.transpose().inverse() * Eigen::Vector3d::Ones();
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(r.gradient[static_cast<std::size_t>(9 + i)] ==
                   expected(i) + 2 * p[static_cast<std::size_t>(9 + i)],
               boost::test_tools::tolerance(1e-10));
  }
}

BOOST_AUTO_TEST_CASE(variables_values_adjoints) {
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const Eigen::Matrix2d m0{{1, 2}, {3, 4}};
  const auto m = nabla::variables(m0);
  const Var y = (m * m).sum();
  nabla::backward(y);
  BOOST_TEST((nabla::values(m) == m0));
  // d/dM Σ(M M) = 1 Mᵀ + Mᵀ 1 (1 the all-ones matrix).
  const Eigen::Matrix2d ones = Eigen::Matrix2d::Ones();
  const Eigen::Matrix2d expected = ones * m0.transpose() + m0.transpose() * ones;
  BOOST_TEST((nabla::adjoints(m) == expected));
}

BOOST_AUTO_TEST_CASE(zero_copy_maps) {
  nabla::Tensor t({2, 3}, {1, 2, 3, 4, 5, 6});
  auto map = nabla::as_eigen(t);
  BOOST_TEST(map.data() == t.data());
  map(1, 2) = 60;
  BOOST_TEST(t(1, 2) == 60.0);
  const nabla::RowMatrix r = map * 2.0;
  const nabla::TensorView back = nabla::as_tensor(r);
  BOOST_TEST(back.data() == r.data());
  BOOST_TEST(back(1, 2) == 120.0);
  const Eigen::Matrix2d col{{1, 2}, {3, 4}};  // column-major: copied
  BOOST_TEST(nabla::to_tensor(col) == nabla::Tensor({2, 2}, {1, 2, 3, 4}));
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  const nabla::TensorVar w = nabla::variable(t);
  nabla::backward(nabla::sum(w * w));
  BOOST_TEST((nabla::as_eigen(nabla::adjoint(w)) == 2 * nabla::as_eigen(t)));
  BOOST_CHECK_THROW((void)nabla::as_eigen(nabla::Tensor({2, 2, 2})), nabla::Error);
}

BOOST_AUTO_TEST_SUITE_END()
