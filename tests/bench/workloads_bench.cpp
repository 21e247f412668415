// The standard AD workloads (workloads.hpp: ADBench's GMM, LSTM and bundle adjustment, cmpad's
// an_ode, det_by_minor and llsq, a log-sum-exp loop) on nabla: the gradient checks (nabla vs
// the hand-written adjoint vs finite differences, and the bundle-adjustment Jacobian blocks),
// then plain / nabla gradient / hand adjoint times. Prints Markdown tables.
//   workloads_bench            checks, then every workload at a small and a large size
//   workloads_bench small      checks, then the small sizes briefly (the CI test)
//   workloads_bench check      checks only
//   workloads_bench --reps=N   instruction counts per gradient under callgrind (no timing)
#include <nabla/autodiff.hpp>

#include "nabla_policy.hpp"

#include "workloads.hpp"

namespace {

using bench::Nabla;

// The Jacobian form of bundle adjustment: nabla::jacobian of one observation's two residuals
// over its 15 parameters against the hand reverse code's rows.
bool check_ba_jacobian() {
  using bench::workloads::BundleAdjustment;
  const BundleAdjustment ba(3, 5, 12);
  auto x = ba.start();
  x[11] = x[12] = x[13] = 0.0;  // camera 1 at θ = 0 (observations 1, 4, ...)
  double worst = 0;
  for (std::size_t i = 0; i < ba.p; ++i) {
    const std::size_t cam = 11 * ba.cam_of[i], point = 11 * ba.n + 3 * ba.point_of[i],
                      weight = 11 * ba.n + 3 * ba.m + i;
    std::vector<double> local(x.begin() + static_cast<std::ptrdiff_t>(cam),
                              x.begin() + static_cast<std::ptrdiff_t>(cam + 11));
    local.insert(local.end(), x.begin() + static_cast<std::ptrdiff_t>(point),
                 x.begin() + static_cast<std::ptrdiff_t>(point + 3));
    local.push_back(x[weight]);
    const double* feature = &ba.features[2 * i];
    const auto residuals = [feature](std::span<const nabla::Var> v) {
      std::vector<nabla::Var> err(2);
      BundleAdjustment::reprojection(v.data(), v.data() + 11, v[14], feature, err.data());
      return err;
    };
    const auto J = nabla::jacobian(residuals, local, 2);
    const auto hand = ba.jacobian_block(x, i);
    const double scale = bench::workloads::max_abs(hand);
    for (std::size_t r = 0; r < 2; ++r)
      for (std::size_t c = 0; c < 15; ++c)
        worst = std::max(worst, std::abs(J(r, c) - hand[r * 15 + c]) / scale);
  }
  const bool ok = worst <= 1e-10;
  fmt::print(
      "bundle adjustment Jacobian blocks (2 × 15 per observation), nabla::jacobian vs "
      "hand: max |Δ| / max |J| = {:.1e} {}\n\n",
      worst, ok ? "ok" : "FAILED");
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  bool counting = false;
  for (int i = 1; i < argc; ++i)
    counting = counting || std::string_view(argv[i]).starts_with("--reps=");
  if (!counting && !check_ba_jacobian()) return 1;
  return bench::workloads::run<Nabla>(argc, argv);
}
