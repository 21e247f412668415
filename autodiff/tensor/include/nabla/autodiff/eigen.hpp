// nabla ↔ Eigen: Eigen::Matrix<nabla::Var, …> and zero-copy maps of tensors. Include this
// header (the rest of nabla does not include Eigen) and link Eigen (Debian libeigen3-dev).
#pragma once

#include <fmt/format.h>

#include <Eigen/Core>
#include <limits>

#include "nabla/autodiff/arithmetic.hpp"
#include "nabla/autodiff/error.hpp"
#include "nabla/autodiff/math.hpp"
#include "nabla/autodiff/tensor.hpp"
#include "nabla/autodiff/tensor_var.hpp"
#include "nabla/autodiff/var.hpp"

namespace Eigen {

/// Var as an Eigen scalar: Eigen::Matrix<nabla::Var, Rows, Cols> records its arithmetic
/// (products, sums, decompositions) on the active tape like any other code.
template <>
struct NumTraits<nabla::Var> : GenericNumTraits<nabla::Var> {
  using Real = nabla::Var;
  using NonInteger = nabla::Var;
  using Literal = nabla::Var;
  using Nested = nabla::Var;
  enum {
    IsComplex = 0,
    IsInteger = 0,
    IsSigned = 1,
    RequireInitialization = 1,
    ReadCost = 1,
    AddCost = 3,
    MulCost = 3,
  };
  static nabla::Var epsilon() { return std::numeric_limits<double>::epsilon(); }
  static nabla::Var dummy_precision() { return 1e-12; }
  static nabla::Var highest() { return std::numeric_limits<double>::max(); }
  static nabla::Var lowest() { return std::numeric_limits<double>::lowest(); }
  static int digits10() { return std::numeric_limits<double>::digits10; }
};

/// Var with double in one Eigen expression (`M * 2.0`, `M.cast<Var>() + D`) gives Var.
template <class Op>
struct ScalarBinaryOpTraits<nabla::Var, double, Op> {
  using ReturnType = nabla::Var;
};
/// @copydoc ScalarBinaryOpTraits<nabla::Var, double, Op>
template <class Op>
struct ScalarBinaryOpTraits<double, nabla::Var, Op> {
  using ReturnType = nabla::Var;
};

}  // namespace Eigen

namespace nabla {

/// A row-major dynamic matrix of doubles (the layout of Tensor).
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace detail {
inline void eigen_rank_error(const Shape& shape) {
  detail::fail("nabla::as_eigen", fmt::format("shape {} has rank {} (expected rank 1 or 2)",
                                              to_string(shape), shape.rank()));
}
inline Eigen::Index rows_of(const Shape& s) {
  if (s.rank() < 1 || s.rank() > 2) eigen_rank_error(s);
  return static_cast<Eigen::Index>(s.rank() == 1 ? s[0] : s[0]);
}
inline Eigen::Index cols_of(const Shape& s) {
  return static_cast<Eigen::Index>(s.rank() == 1 ? 1 : s[1]);
}
}  // namespace detail

/// A read-only Eigen map of a rank-1 (column) or rank-2 tensor's data: no copy.
/// @throws nabla::Error for other ranks, or a view with elements but no data.
inline Eigen::Map<const RowMatrix> as_eigen(TensorView t) {
  const Eigen::Index rows = detail::rows_of(t.shape()), cols = detail::cols_of(t.shape());
  return {detail::view_values(t, "nabla::as_eigen").data(), rows, cols};
}
/// A writable Eigen map of a rank-1 or rank-2 tensor's data: no copy.
/// @throws nabla::Error for other ranks, or a view with elements but no data.
inline Eigen::Map<RowMatrix> as_eigen(MutableTensorView t) {
  const Eigen::Index rows = detail::rows_of(t.shape()), cols = detail::cols_of(t.shape());
  (void)detail::view_values(t, "nabla::as_eigen");
  return {t.data(), rows, cols};
}
/// @copydoc as_eigen(MutableTensorView)
inline Eigen::Map<RowMatrix> as_eigen(Tensor& t) { return as_eigen(MutableTensorView(t)); }
/// @copydoc as_eigen(TensorView)
inline Eigen::Map<const RowMatrix> as_eigen(const Tensor& t) { return as_eigen(TensorView(t)); }

/// A view of a row-major Eigen matrix's data as a rank-2 tensor: no copy.
inline TensorView as_tensor(const RowMatrix& m) {
  return {m.data(), Shape{static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())}};
}
/// A tensor copied from any Eigen expression (any layout).
template <class Derived>
Tensor to_tensor(const Eigen::MatrixBase<Derived>& m) {
  Tensor t({static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())});
  as_eigen(t) = m.template cast<double>();
  return t;
}

/// A recorded variable matrix with the values of m (one variable per entry, row-major order).
template <class Derived>
Eigen::Matrix<Var, Derived::RowsAtCompileTime, Derived::ColsAtCompileTime> variables(
    const Eigen::MatrixBase<Derived>& m) {
  Eigen::Matrix<Var, Derived::RowsAtCompileTime, Derived::ColsAtCompileTime> out(m.rows(),
                                                                                 m.cols());
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) out(i, j) = variable(m(i, j));
  return out;
}

/// The values of a matrix of Vars.
template <class Derived>
Eigen::Matrix<double, Derived::RowsAtCompileTime, Derived::ColsAtCompileTime> values(
    const Eigen::MatrixBase<Derived>& m) {
  return m.unaryExpr([](const Var& x) { return x.value(); });
}

/// The adjoints of a matrix of Vars on the active tape (after a sweep); 0 for constants.
template <class Derived>
Eigen::Matrix<double, Derived::RowsAtCompileTime, Derived::ColsAtCompileTime> adjoints(
    const Eigen::MatrixBase<Derived>& m) {
  const Tape& tape = Tape::active();
  return m.unaryExpr([&tape](const Var& x) { return tape.adjoint_value(x); });
}

}  // namespace nabla
