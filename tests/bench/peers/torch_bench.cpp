// The scalar benchmark suite on libtorch's autograd (Debian's libtorch-dev), one thread, float64:
// the same templated functions with T = a 0-dimensional tensor. Eager autograd costs
// microseconds per scalar operation, so only the small sizes run (`small-sizes`): the 10⁶ rows
// would take minutes per sample. libtorch is built for tensors; the tensor issue compares it on
// tensor code.
#include <torch/torch.h>

#include <span>
#include <vector>

namespace bench {

// A recorded scalar for the suite's templates: a 0-d float64 tensor.
struct TorchScalar {
  torch::Tensor t;
  TorchScalar() : t(torch::zeros({}, torch::kFloat64)) {}
  TorchScalar(double v) : t(torch::full({}, v, torch::kFloat64)) {}  // NOLINT: like a Var
  explicit TorchScalar(torch::Tensor x) : t(std::move(x)) {}
};
using S = TorchScalar;
inline S operator+(const S& a, const S& b) { return S(a.t + b.t); }
inline S operator-(const S& a, const S& b) { return S(a.t - b.t); }
inline S operator*(const S& a, const S& b) { return S(a.t * b.t); }
inline S operator/(const S& a, const S& b) { return S(a.t / b.t); }
inline S operator+(const S& a, double b) { return S(a.t + b); }
inline S operator-(const S& a, double b) { return S(a.t - b); }
inline S operator*(const S& a, double b) { return S(a.t * b); }
inline S operator/(const S& a, double b) { return S(a.t / b); }
inline S operator+(double a, const S& b) { return S(b.t + a); }
inline S operator-(double a, const S& b) { return S(a - b.t); }
inline S operator*(double a, const S& b) { return S(b.t * a); }
inline S operator/(double a, const S& b) { return S(a / b.t); }
inline S operator-(const S& a) { return S(-a.t); }
inline S& operator+=(S& a, const S& b) { return a = a + b; }
inline S& operator*=(S& a, const S& b) { return a = a * b; }
inline bool operator<(const S& a, const S& b) { return a.t.item<double>() < b.t.item<double>(); }
inline S exp(const S& a) { return S(torch::exp(a.t)); }
inline S log(const S& a) { return S(torch::log(a.t)); }
inline S sin(const S& a) { return S(torch::sin(a.t)); }
inline S tanh(const S& a) { return S(torch::tanh(a.t)); }
inline S softplus(const S& a) { return S(torch::softplus(a.t)); }

}  // namespace bench

#include "../harness.hpp"

namespace {

struct Torch {
  static constexpr const char* name = "libtorch";
  template <class F>
  void gradient(const F& f, std::span<const double> x, std::span<double> g) const {
    std::vector<bench::TorchScalar> xs;
    xs.reserve(x.size());
    for (double xi : x)
      xs.emplace_back(torch::full({}, xi, torch::kFloat64).requires_grad_(true));
    bench::TorchScalar y = f(std::span<const bench::TorchScalar>(xs));
    y.t.backward();
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = xs[i].t.grad().item<double>();
  }
  template <class F>
  double tape_bytes(const F&, std::span<const double>) const {
    return -1;
  }
};

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(1);
  return bench::run_suite<Torch>(argc, argv);
}
