#include "eigen.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace nabla::optim::detail {

SymmetricEigen symmetric_eigen(std::span<const double> a_in, std::size_t n) {
  // A full symmetric copy of the upper triangle, scaled so that its largest entry is ±1.
  std::vector<double> a(n * n);
  double largest = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i; j < n; ++j) largest = std::max(largest, std::abs(a_in[i * n + j]));
  const double scale = largest > 0 ? largest : 1.0;
  double frobenius = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i; j < n; ++j) {
      a[i * n + j] = a[j * n + i] = a_in[i * n + j] / scale;
      frobenius += (i == j ? 1.0 : 2.0) * a[i * n + j] * a[i * n + j];
    }
  }
  frobenius = std::sqrt(frobenius);
  std::vector<double> v(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) v[i * n + i] = 1.0;
  // Cyclic Jacobi (Golub & Van Loan, Algorithm 8.5.3): rotate away each off-diagonal entry above
  // ε²·‖A‖_F until a whole sweep finds none; convergence is quadratic, so a few sweeps suffice.
  const double negligible = 1e-18 * frobenius;
  for (int sweep = 0; sweep < 100; ++sweep) {
    bool rotated = false;
    for (std::size_t p = 0; p + 1 < n; ++p) {
      for (std::size_t q = p + 1; q < n; ++q) {
        const double apq = a[p * n + q];
        if (std::abs(apq) <= negligible) continue;
        rotated = true;
        // t = tan of the angle zeroing a_pq: the smaller root of t² + 2θt − 1 = 0.
        const double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::hypot(theta, 1.0));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (std::size_t k = 0; k < n; ++k) {  // columns p and q: A·J
          const double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (std::size_t k = 0; k < n; ++k) {  // rows p and q: Jᵀ·(A·J)
          const double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        a[p * n + q] = a[q * n + p] = 0.0;
        for (std::size_t k = 0; k < n; ++k) {  // Q·J
          const double vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
    if (!rotated) break;
  }
  // Ascending order, scaled back.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t i, std::size_t j) { return a[i * n + i] < a[j * n + j]; });
  SymmetricEigen out{std::vector<double>(n), std::vector<double>(n * n)};
  for (std::size_t k = 0; k < n; ++k) {
    out.values[k] = a[order[k] * n + order[k]] * scale;
    for (std::size_t i = 0; i < n; ++i) out.vectors[i * n + k] = v[i * n + order[k]];
  }
  return out;
}

}  // namespace nabla::optim::detail
