// Internal: the eigendecomposition of a small dense symmetric matrix, for the Newton method's
// trust-region subproblem and for covariance().
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace nabla::optim::detail {

/// A = Q·diag(values)·Qᵀ with the values ascending; column k of Q (vectors[i·n + k], row-major
/// n×n) is the unit eigenvector of values[k].
struct SymmetricEigen {
  std::vector<double> values;
  std::vector<double> vectors;
};

/// The eigendecomposition of the symmetric n×n row-major matrix a (its lower triangle is not
/// read: a is taken as symmetric from its upper one) by cyclic Jacobi rotations, to a residual
/// of a few ε·‖A‖. The matrix is scaled by its largest entry first, so any finite magnitude works.
/// O(n³) per sweep, a handful of sweeps: meant for n up to a few hundred. a must be finite.
SymmetricEigen symmetric_eigen(std::span<const double> a, std::size_t n);

}  // namespace nabla::optim::detail
