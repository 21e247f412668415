// The standard AD workloads (docs/benchmarks.md, "Standard AD workloads"), written from their
// published definitions: ADBench's GMM with the Wishart prior, LSTM and bundle adjustment
// (Srajer, Kukelova, Fitzgibbon 2018, and the ADBench repository's C++ reference), and cmpad's
// an_ode, det_by_minor and llsq_obj (B. Bell's cmpad), plus a max-shifted log-sum-exp loop.
//
// Each workload is a struct holding its data with
//   std::size_t parameters() const;                       // the gradient's length
//   std::vector<double> start() const;                    // the point the benchmark uses
//   template <class T> T operator()(std::span<const T>);  // the objective, generic over T
//   double adjoint(std::span<const double> x, std::span<double> g) const;  // hand reverse code
// The objective is one template for double (the plain time), bench::Counted (the operation
// count), nabla::Var, stan::math::var, ...: everything is a scalar loop (no library reduction),
// so every library records the same operations. adjoint() is hand-written reverse-mode code in
// double (a forward pass that keeps what the reverse pass needs), returning the value.
//
// The second half is the runner shared by workloads_bench (nabla) and the peers: a gradient
// check per workload (the library's gradient vs the hand adjoint, and both vs central finite
// differences) and the timing rows.
#pragma once

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "suite.hpp"

#include "harness.hpp"

namespace bench {
// Operations the suite's counting type lacks, for the workloads below (counted like the others).
inline Counted sqrt(Counted a) {
  ++Counted::ops;
  return std::sqrt(a.v);
}
inline Counted cos(Counted a) {
  ++Counted::ops;
  return std::cos(a.v);
}
}  // namespace bench

namespace bench::workloads {

using std::cos;
using std::exp;
using std::log;
using std::sin;
using std::sqrt;
using std::tanh;

/// log Σ exp(xᵢ) as a scalar loop, shifted by the maximum (ADBench's logsumexp): the suite's
/// loop, called qualified so that no library's own log_sum_exp is found by argument lookup.
template <class T>
T log_sum_exp_loop(std::span<const T> x) {
  return bench::log_sum_exp(x);
}

/// The gradient of log_sum_exp_loop in double: g = softmax(x) · gbar; returns the value.
inline double log_sum_exp_adjoint(std::span<const double> x, double gbar, std::span<double> g) {
  double m = x[0], s = 0;
  for (double xi : x) m = std::max(m, xi);
  for (double xi : x) s += std::exp(xi - m);
  for (std::size_t i = 0; i < x.size(); ++i) g[i] += gbar * std::exp(x[i] - m) / s;
  return std::log(s) + m;
}

// ---- 1. ADBench GMM with the Wishart prior ---------------------------------------------------
//
// Parameters x = [α (k), μ (k·d), icf (k·d(d+1)/2)]; icf of component k holds log diag(Q_k)
// (d entries) then the strictly lower triangle of Q_k column by column. With Q_k (x_i − μ_k):
//   E = −nd/2 log 2π + Σ_i logsumexp_k(α_k + Σ_j q_kj − ½‖Q_k (x_i − μ_k)‖²) − n logsumexp(α)
//       + Σ_k [½γ² (Σ_j exp(q_kj)² + Σ_l L_kl²) − m Σ_j q_kj] − k C(d, γ, m),
//   C = N d (log γ − ½ log 2) − log Γ_d(N/2),  N = d + m + 1,
//   log Γ_d(a) = ¼ d(d−1) log π + Σ_{j=1..d} lgamma(a + (1 − j)/2).
struct Gmm {
  std::size_t d, k, n;
  double gamma = 1.0, m = 0.0;  // the Wishart parameters of ADBench's data files
  std::vector<double> points;   // n × d

  Gmm(std::size_t d_, std::size_t k_, std::size_t n_)
      : d(d_), k(k_), n(n_), points(random_vector(n_ * d_, 11, -1, 1)) {}
  std::size_t icf_size() const { return d * (d + 1) / 2; }
  std::size_t parameters() const { return k + k * d + k * icf_size(); }
  std::vector<double> start() const {
    auto x = random_vector(parameters(), 12, -0.5, 0.5);  // log-diagonals near 0: Q near I
    return x;
  }
  double constant() const {
    const double N = static_cast<double>(d) + m + 1, D = static_cast<double>(d);
    double log_gamma_d = 0.25 * D * (D - 1) * std::log(std::numbers::pi);
    for (std::size_t j = 1; j <= d; ++j)
      log_gamma_d += std::lgamma(0.5 * N + 0.5 * (1.0 - static_cast<double>(j)));
    const double C = N * D * (std::log(gamma) - 0.5 * std::log(2.0)) - log_gamma_d;
    return -static_cast<double>(n * d) * 0.5 * std::log(2 * std::numbers::pi) -
           static_cast<double>(k) * C;
  }

  template <class T>
  T operator()(std::span<const T> x) const {
    const std::size_t s = icf_size();
    const auto alphas = x.subspan(0, k), means = x.subspan(k, k * d),
               icf = x.subspan(k + k * d, k * s);
    std::vector<T> qdiag(k * d), sum_q(k), xc(d), qx(d), main_term(k);
    for (std::size_t c = 0; c < k; ++c) {
      sum_q[c] = 0.0;
      for (std::size_t j = 0; j < d; ++j) {
        sum_q[c] += icf[c * s + j];
        qdiag[c * d + j] = exp(icf[c * s + j]);
      }
    }
    T slse = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t c = 0; c < k; ++c) {
        for (std::size_t j = 0; j < d; ++j) xc[j] = points[i * d + j] - means[c * d + j];
        for (std::size_t j = 0; j < d; ++j) qx[j] = qdiag[c * d + j] * xc[j];
        std::size_t l = c * s + d;
        for (std::size_t a = 0; a < d; ++a)
          for (std::size_t b = a + 1; b < d; ++b) qx[b] += icf[l++] * xc[a];
        T sq = 0.0;
        for (std::size_t j = 0; j < d; ++j) sq += qx[j] * qx[j];
        main_term[c] = alphas[c] + sum_q[c] - 0.5 * sq;
      }
      slse += log_sum_exp_loop(std::span<const T>(main_term));
    }
    T err = slse - static_cast<double>(n) * log_sum_exp_loop(alphas);
    T prior = 0.0;
    for (std::size_t c = 0; c < k; ++c) {
      T frobenius = 0.0;
      for (std::size_t j = 0; j < d; ++j) frobenius += qdiag[c * d + j] * qdiag[c * d + j];
      for (std::size_t l = d; l < s; ++l) frobenius += icf[c * s + l] * icf[c * s + l];
      prior += 0.5 * gamma * gamma * frobenius - m * sum_q[c];
    }
    return err + prior + constant();
  }

  double adjoint(std::span<const double> x, std::span<double> g) const {
    const std::size_t s = icf_size();
    const double* alphas = x.data();
    const double* means = alphas + k;
    const double* icf = means + k * d;
    std::fill(g.begin(), g.end(), 0.0);
    double* g_alphas = g.data();
    double* g_means = g_alphas + k;
    double* g_icf = g_means + k * d;
    std::vector<double> qdiag(k * d), sum_q(k, 0.0), xc(k * d), qx(k * d), main_term(k), w(k);
    for (std::size_t c = 0; c < k; ++c)
      for (std::size_t j = 0; j < d; ++j) {
        sum_q[c] += icf[c * s + j];
        qdiag[c * d + j] = std::exp(icf[c * s + j]);
      }
    double slse = 0;
    for (std::size_t i = 0; i < n; ++i) {
      // Forward for point i: every component's centred point and Q (x − μ), kept.
      double mx = -INFINITY;
      for (std::size_t c = 0; c < k; ++c) {
        double* xcc = &xc[c * d];
        double* qxc = &qx[c * d];
        for (std::size_t j = 0; j < d; ++j) {
          xcc[j] = points[i * d + j] - means[c * d + j];
          qxc[j] = qdiag[c * d + j] * xcc[j];
        }
        const double* L = icf + c * s + d;
        for (std::size_t a = 0, l = 0; a < d; ++a)
          for (std::size_t b = a + 1; b < d; ++b) qxc[b] += L[l++] * xcc[a];
        double sq = 0;
        for (std::size_t j = 0; j < d; ++j) sq += qxc[j] * qxc[j];
        main_term[c] = alphas[c] + sum_q[c] - 0.5 * sq;
        mx = std::max(mx, main_term[c]);
      }
      double se = 0;
      for (std::size_t c = 0; c < k; ++c) se += (w[c] = std::exp(main_term[c] - mx));
      slse += std::log(se) + mx;
      // Reverse: ∂/∂main_c = w_c (the softmax); main_c = α_c + Σq − ½‖qx‖².
      for (std::size_t c = 0; c < k; ++c) {
        const double wc = w[c] / se;
        const double* xcc = &xc[c * d];
        const double* qxc = &qx[c * d];
        const double* L = icf + c * s + d;
        double* gL = g_icf + c * s + d;
        g_alphas[c] += wc;
        // qx̄ = −wc · qx;  xc̄ = Qᵀ qx̄;  μ̄ = −xc̄.
        for (std::size_t j = 0; j < d; ++j) {
          // ∂ main / ∂ q_cj: 1 (the log-determinant) − qx_j · exp(q_cj) · xc_j.
          g_icf[c * s + j] += wc * (1.0 - qxc[j] * qdiag[c * d + j] * xcc[j]);
          g_means[c * d + j] += wc * qxc[j] * qdiag[c * d + j];
        }
        for (std::size_t a = 0, l = 0; a < d; ++a)
          for (std::size_t b = a + 1; b < d; ++b, ++l) {
            gL[l] -= wc * qxc[b] * xcc[a];
            g_means[c * d + a] += wc * qxc[b] * L[l];
          }
      }
    }
    const double n_d = static_cast<double>(n);
    const double lse_alphas = log_sum_exp_adjoint(std::span<const double>(alphas, k), -n_d,
                                                  std::span<double>(g_alphas, k));
    double prior = 0;
    for (std::size_t c = 0; c < k; ++c) {
      double frobenius = 0;
      for (std::size_t j = 0; j < d; ++j) {
        const double q = qdiag[c * d + j];
        frobenius += q * q;
        g_icf[c * s + j] += gamma * gamma * q * q - m;  // ½γ² · 2 exp(q)² − m
      }
      for (std::size_t l = d; l < s; ++l) {
        frobenius += icf[c * s + l] * icf[c * s + l];
        g_icf[c * s + l] += gamma * gamma * icf[c * s + l];
      }
      prior += 0.5 * gamma * gamma * frobenius - m * sum_q[c];
    }
    return slse - n_d * lse_alphas + prior + constant();
  }
};

// ---- 2. ADBench LSTM -------------------------------------------------------------------------
//
// l layers of b cells, a sequence of c characters of b values each. Parameters
// x = [main (l · 2 · 4b: per layer the weights then the biases of the forget, input, output
// gates and the cell change), extra (3b: input weights, output weights, output biases)]; the
// initial state (l × [hidden b, cell b]) and the sequence are data. Per character t < c − 1:
// the input scaled by the input weights runs through the layers (a cell's gates take the
// input's and the hidden state's i-th entry only, as ADBench defines them), the last hidden
// state scaled and shifted gives ŷ, and the loss adds Σ y_{t+1,i} (ŷ_i − log(Σ exp ŷ + 2))
// (ADBench's logsumexp adds 2); the objective is −total / ((c − 1) b).
struct Lstm {
  std::size_t l, c, b;
  std::vector<double> state, sequence;

  Lstm(std::size_t l_, std::size_t c_, std::size_t b_)
      : l(l_),
        c(c_),
        b(b_),
        state(random_vector(2 * l_ * b_, 21, -1, 1)),
        sequence(random_vector(c_ * b_, 22, -1, 1)) {}
  std::size_t parameters() const { return 2 * l * 4 * b + 3 * b; }
  std::vector<double> start() const { return random_vector(parameters(), 23, -1, 1); }

  // decltype(auto): the expression's own type, an expression template (nabla), a value (double,
  // Stan, ADOL-C) or a reference to a tape node (Sacado::Rad's ADvari&, which `auto` would copy
  // into a dangling stack node).
  template <class E>
  static decltype(auto) sigmoid(const E& z) {
    return 1.0 / (1.0 + exp(-z));
  }

  template <class T>
  T operator()(std::span<const T> x) const {
    const auto main = x.subspan(0, 8 * l * b);
    const auto in_weight = x.subspan(8 * l * b, b), out_weight = x.subspan(8 * l * b + b, b),
               out_bias = x.subspan(8 * l * b + 2 * b, b);
    std::vector<T> st(state.begin(), state.end()), input(b), ypred(b);
    T total = 0.0;
    for (std::size_t t = 0; t + 1 < c; ++t) {
      const double* chr = &sequence[t * b];
      for (std::size_t i = 0; i < b; ++i) input[i] = chr[i] * in_weight[i];
      const T* layer_input = input.data();
      for (std::size_t layer = 0; layer < l; ++layer) {
        const T* W = &main[layer * 8 * b];
        const T* B = W + 4 * b;
        T* hidden = &st[layer * 2 * b];
        T* cell = hidden + b;
        for (std::size_t i = 0; i < b; ++i) {
          const T forget = sigmoid(layer_input[i] * W[i] + B[i]);
          const T ingate = sigmoid(hidden[i] * W[b + i] + B[b + i]);
          const T outgate = sigmoid(layer_input[i] * W[2 * b + i] + B[2 * b + i]);
          const T change = tanh(hidden[i] * W[3 * b + i] + B[3 * b + i]);
          cell[i] = cell[i] * forget + ingate * change;
          hidden[i] = outgate * tanh(cell[i]);
        }
        layer_input = hidden;
      }
      for (std::size_t i = 0; i < b; ++i) ypred[i] = layer_input[i] * out_weight[i] + out_bias[i];
      T sum_exp = 0.0;
      for (std::size_t i = 0; i < b; ++i) sum_exp += exp(ypred[i]);
      const T lse = log(sum_exp + 2.0);
      const double* gold = &sequence[(t + 1) * b];
      for (std::size_t i = 0; i < b; ++i) total += gold[i] * (ypred[i] - lse);
    }
    return -total / static_cast<double>((c - 1) * b);
  }

  double adjoint(std::span<const double> x, std::span<double> g) const {
    std::fill(g.begin(), g.end(), 0.0);
    const double* main = x.data();
    const double* in_weight = main + 8 * l * b;
    const double* out_weight = in_weight + b;
    const double* out_bias = out_weight + b;
    double* g_main = g.data();
    double* g_in = g_main + 8 * l * b;
    double* g_out_w = g_in + b;
    double* g_out_b = g_out_w + b;
    const std::size_t steps = c - 1;
    // Kept per (step, layer, cell): input, previous hidden, previous cell, the four gates and
    // tanh of the new cell: 8 values (the new hidden is the next layer's input).
    enum { IN, H, C, F, I, O, G, TC, KEPT };
    std::vector<double> tape(steps * l * b * KEPT), st(state.begin(), state.end()), input(b),
        top(steps * b), ypred(b);
    const auto at = [&](std::size_t t, std::size_t layer, std::size_t i) {
      return &tape[((t * l + layer) * b + i) * KEPT];
    };
    const auto sig = [](double z) { return 1.0 / (1.0 + std::exp(-z)); };
    double total = 0;
    std::vector<double> sum_exp(steps);
    for (std::size_t t = 0; t < steps; ++t) {
      const double* chr = &sequence[t * b];
      for (std::size_t i = 0; i < b; ++i) input[i] = chr[i] * in_weight[i];
      const double* layer_input = input.data();
      for (std::size_t layer = 0; layer < l; ++layer) {
        const double* W = main + layer * 8 * b;
        const double* B = W + 4 * b;
        double* hidden = &st[layer * 2 * b];
        double* cell = hidden + b;
        for (std::size_t i = 0; i < b; ++i) {
          double* k = at(t, layer, i);
          k[IN] = layer_input[i];
          k[H] = hidden[i];
          k[C] = cell[i];
          k[F] = sig(k[IN] * W[i] + B[i]);
          k[I] = sig(k[H] * W[b + i] + B[b + i]);
          k[O] = sig(k[IN] * W[2 * b + i] + B[2 * b + i]);
          k[G] = std::tanh(k[H] * W[3 * b + i] + B[3 * b + i]);
          cell[i] = k[C] * k[F] + k[I] * k[G];
          k[TC] = std::tanh(cell[i]);
          hidden[i] = k[O] * k[TC];
        }
        layer_input = hidden;
      }
      double se = 0;
      for (std::size_t i = 0; i < b; ++i) {
        top[t * b + i] = layer_input[i];
        ypred[i] = layer_input[i] * out_weight[i] + out_bias[i];
        se += std::exp(ypred[i]);
      }
      sum_exp[t] = se + 2.0;
      const double lse = std::log(sum_exp[t]);
      const double* gold = &sequence[(t + 1) * b];
      for (std::size_t i = 0; i < b; ++i) total += gold[i] * (ypred[i] - lse);
    }
    // Reverse. dh, dc: adjoints of each layer's hidden and cell state, carried back in time.
    const double dtotal = -1.0 / static_cast<double>(steps * b);
    std::vector<double> dh(l * b, 0.0), dc(l * b, 0.0), dinput(b);
    for (std::size_t t = steps; t-- > 0;) {
      const double* gold = &sequence[(t + 1) * b];
      double gold_sum = 0;
      for (std::size_t i = 0; i < b; ++i) gold_sum += gold[i];
      for (std::size_t i = 0; i < b; ++i) {
        const double h = top[t * b + i];
        const double yp = h * out_weight[i] + out_bias[i];
        const double dy = dtotal * (gold[i] - gold_sum * std::exp(yp) / sum_exp[t]);
        g_out_w[i] += dy * h;
        g_out_b[i] += dy;
        dh[(l - 1) * b + i] += dy * out_weight[i];
      }
      for (std::size_t layer = l; layer-- > 0;) {
        const double* W = main + layer * 8 * b;
        double* gW = g_main + layer * 8 * b;
        double* gB = gW + 4 * b;
        for (std::size_t i = 0; i < b; ++i) {
          const double* k = at(t, layer, i);
          const double dhi = dh[layer * b + i];
          const double dcell = dc[layer * b + i] + dhi * k[O] * (1 - k[TC] * k[TC]);
          const double zf = dcell * k[C] * k[F] * (1 - k[F]);
          const double zi = dcell * k[G] * k[I] * (1 - k[I]);
          const double zo = dhi * k[TC] * k[O] * (1 - k[O]);
          const double zg = dcell * k[I] * (1 - k[G] * k[G]);
          gW[i] += zf * k[IN];
          gB[i] += zf;
          gW[b + i] += zi * k[H];
          gB[b + i] += zi;
          gW[2 * b + i] += zo * k[IN];
          gB[2 * b + i] += zo;
          gW[3 * b + i] += zg * k[H];
          gB[3 * b + i] += zg;
          dinput[i] = zf * W[i] + zo * W[2 * b + i];
          dh[layer * b + i] = zi * W[b + i] + zg * W[3 * b + i];  // the previous step's
          dc[layer * b + i] = dcell * k[F];
        }
        if (layer > 0) {
          for (std::size_t i = 0; i < b; ++i) dh[(layer - 1) * b + i] += dinput[i];
        } else {
          for (std::size_t i = 0; i < b; ++i) g_in[i] += dinput[i] * sequence[t * b + i];
        }
      }
    }
    return dtotal * total;
  }
};

// ---- 3. cmpad an_ode -------------------------------------------------------------------------
//
// y(0) = 0, y₀′ = x₀, y_i′ = x_i y_{i−1} (i = 1..n−1), integrated over [0, 2] by ns fixed
// steps of the classical Runge–Kutta method (cmpad's runge_kutta); the objective is the last
// component y_{n−1}(2), which depends on every x_i.
struct Ode {
  std::size_t n, steps;
  Ode(std::size_t n_, std::size_t steps_) : n(n_), steps(steps_) {}
  std::size_t parameters() const { return n; }
  std::vector<double> start() const { return random_vector(n, 31, 0.5, 1.5); }

  template <class T>
  static void rhs(std::span<const T> x, std::span<const T> y, std::vector<T>& dy) {
    dy[0] = x[0];
    for (std::size_t i = 1; i < y.size(); ++i) dy[i] = x[i] * y[i - 1];
  }

  template <class T>
  T operator()(std::span<const T> x) const {
    const double h = 2.0 / static_cast<double>(steps);
    std::vector<T> y(n, T(0.0)), z(n), k1(n), k2(n), k3(n), k4(n);
    const auto Y = std::span<const T>(y), Z = std::span<const T>(z);
    for (std::size_t s = 0; s < steps; ++s) {
      rhs(x, Y, k1);
      for (std::size_t i = 0; i < n; ++i) z[i] = y[i] + (0.5 * h) * k1[i];
      rhs(x, Z, k2);
      for (std::size_t i = 0; i < n; ++i) z[i] = y[i] + (0.5 * h) * k2[i];
      rhs(x, Z, k3);
      for (std::size_t i = 0; i < n; ++i) z[i] = y[i] + h * k3[i];
      rhs(x, Z, k4);
      for (std::size_t i = 0; i < n; ++i)
        y[i] += (h / 6.0) * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
    return y[n - 1];
  }

  double adjoint(std::span<const double> x, std::span<double> g) const {
    using S = std::span<const double>;
    const double h = 2.0 / static_cast<double>(steps);
    std::vector<double> ys(steps * n), y(n, 0.0), z2(n), z3(n), z4(n), k1(n), k2(n), k3(n), k4(n);
    const auto stages = [&](const double* y0) {  // k1..k3 and the stage points z2..z4
      rhs(x, S(y0, n), k1);
      for (std::size_t i = 0; i < n; ++i) z2[i] = y0[i] + 0.5 * h * k1[i];
      rhs(x, S(z2), k2);
      for (std::size_t i = 0; i < n; ++i) z3[i] = y0[i] + 0.5 * h * k2[i];
      rhs(x, S(z3), k3);
      for (std::size_t i = 0; i < n; ++i) z4[i] = y0[i] + h * k3[i];
    };
    for (std::size_t s = 0; s < steps; ++s) {  // forward, keeping y at the start of each step
      std::copy(y.begin(), y.end(), ys.begin() + static_cast<std::ptrdiff_t>(s * n));
      stages(y.data());
      rhs(x, S(z4), k4);
      for (std::size_t i = 0; i < n; ++i)
        y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
    std::fill(g.begin(), g.end(), 0.0);
    // ye: the adjoint of y at the end of the step being reversed; yb: at its start.
    std::vector<double> ye(n, 0.0), yb(n), kb(n), zb(n);
    ye[n - 1] = 1.0;
    // The adjoint of dy = rhs(x, z) for the adjoint kb of dy: adds to x̄, writes z̄ to zb.
    const auto rhs_adjoint = [&](const double* z) {
      g[0] += kb[0];
      zb[n - 1] = 0.0;
      for (std::size_t i = 1; i < n; ++i) {
        g[i] += kb[i] * z[i - 1];
        zb[i - 1] = kb[i] * x[i];
      }
    };
    for (std::size_t s = steps; s-- > 0;) {
      const double* y0 = &ys[s * n];
      stages(y0);
      // y_end = y0 + h/6 (k1 + 2k2 + 2k3 + k4), k4 = rhs(z4), z4 = y0 + h k3, ...
      for (std::size_t i = 0; i < n; ++i) kb[i] = h / 6.0 * ye[i];
      rhs_adjoint(z4.data());
      for (std::size_t i = 0; i < n; ++i) {
        yb[i] = ye[i] + zb[i];
        kb[i] = h / 3.0 * ye[i] + h * zb[i];
      }
      rhs_adjoint(z3.data());
      for (std::size_t i = 0; i < n; ++i) {
        yb[i] += zb[i];
        kb[i] = h / 3.0 * ye[i] + 0.5 * h * zb[i];
      }
      rhs_adjoint(z2.data());
      for (std::size_t i = 0; i < n; ++i) {
        yb[i] += zb[i];
        kb[i] = h / 6.0 * ye[i] + 0.5 * h * zb[i];
      }
      rhs_adjoint(y0);
      for (std::size_t i = 0; i < n; ++i) ye[i] = yb[i] + zb[i];
    }
    return y[n - 1];
  }
};

// ---- 4. cmpad det_by_minor -------------------------------------------------------------------
//
// The determinant of an ℓ×ℓ matrix x (row-major) by expansion in minors along the first row,
// recursively: det = Σ_j (−1)^j x_{0j} det(minor_{0j}); ℓ!·e multiplications and additions.
struct DetByMinor {
  std::size_t ell;
  explicit DetByMinor(std::size_t ell_) : ell(ell_) {}
  std::size_t parameters() const { return ell * ell; }
  std::vector<double> start() const { return random_vector(ell * ell, 41, -1, 1); }

  // The determinant of the minor of rows r.. and the columns not in `used` (a bit mask).
  template <class T>
  T minor_det(std::span<const T> x, std::size_t r, std::uint32_t used) const {
    if (r + 1 == ell) {
      std::size_t j = 0;
      while (used & (1u << j)) ++j;
      return x[r * ell + j];
    }
    T det = 0.0;
    bool plus = true;
    for (std::size_t j = 0; j < ell; ++j) {
      if (used & (1u << j)) continue;
      const T sub = minor_det(x, r + 1, used | (1u << j));
      if (plus) {
        det += x[r * ell + j] * sub;
      } else {
        det -= x[r * ell + j] * sub;
      }
      plus = !plus;
    }
    return det;
  }
  template <class T>
  T operator()(std::span<const T> x) const {
    return minor_det(x, 0, 0);
  }

  // Hand reverse: the forward pass keeps every minor's value in pre-order; the reverse pass
  // walks the same tree in the same order, so each minor's value is read, not recomputed.
  double forward(std::span<const double> x, std::size_t r, std::uint32_t used,
                 std::vector<double>& kept) const {
    const std::size_t slot = kept.size();
    kept.push_back(0.0);
    double det = 0;
    if (r + 1 == ell) {
      std::size_t j = 0;
      while (used & (1u << j)) ++j;
      det = x[r * ell + j];
    } else {
      double sign = 1;
      for (std::size_t j = 0; j < ell; ++j) {
        if (used & (1u << j)) continue;
        det += sign * x[r * ell + j] * forward(x, r + 1, used | (1u << j), kept);
        sign = -sign;
      }
    }
    kept[slot] = det;
    return det;
  }
  void reverse(std::span<const double> x, std::size_t r, std::uint32_t used, double bar,
               const std::vector<double>& kept, std::size_t& next, std::span<double> g) const {
    ++next;  // this minor's own slot
    if (r + 1 == ell) {
      std::size_t j = 0;
      while (used & (1u << j)) ++j;
      g[r * ell + j] += bar;
      return;
    }
    double sign = 1;
    for (std::size_t j = 0; j < ell; ++j) {
      if (used & (1u << j)) continue;
      g[r * ell + j] += bar * sign * kept[next];  // the child's value is its pre-order slot
      reverse(x, r + 1, used | (1u << j), bar * sign * x[r * ell + j], kept, next, g);
      sign = -sign;
    }
  }
  double adjoint(std::span<const double> x, std::span<double> g) const {
    thread_local std::vector<double> kept;
    kept.clear();
    const double det = forward(x, 0, 0, kept);
    std::fill(g.begin(), g.end(), 0.0);
    std::size_t next = 0;
    reverse(x, 0, 0, 1.0, kept, next, g);
    return det;
  }
};

// ---- 5. ADBench bundle adjustment ------------------------------------------------------------
//
// n cameras of 11 parameters [Rodrigues rotation r (3), centre C (3), focal f, principal point
// (u₀, v₀), radial distortion (k₁, k₂)], m points X (3 each), p observations (camera, point,
// measured feature) with a weight w each. Per observation: X_cam = R(r)(X − C) (Rodrigues'
// formula, the θ = 0 branch as ADBench's), p = X_cam[0:2] / X_cam[2], distorted by
// 1 + k₁|p|² + k₂|p|⁴, projection = f · p + (u₀, v₀); residuals w (projection − feature) (2),
// and 1 − w² per observation. ADBench differentiates the residual vector (its Jacobian, sparse
// with one 2 × 15 block per observation and 1 × 1 per weight: jacobian_block below); the
// gradient workload is the sum of squares of all residuals.
// Parameters x = [cameras (11n), points (3m), weights (p)].
struct BundleAdjustment {
  std::size_t n, m, p;
  std::vector<std::size_t> cam_of, point_of;
  std::vector<double> features;

  BundleAdjustment(std::size_t n_, std::size_t m_, std::size_t p_)
      : n(n_), m(m_), p(p_), cam_of(p_), point_of(p_), features(random_vector(2 * p_, 51, -1, 1)) {
    for (std::size_t i = 0; i < p; ++i) {  // every camera and every point observed
      cam_of[i] = i % n;
      point_of[i] = (i * 7 + i / n) % m;
    }
  }
  std::size_t parameters() const { return 11 * n + 3 * m + p; }
  std::vector<double> start() const {
    std::vector<double> x = random_vector(parameters(), 52, -0.2, 0.2);
    for (std::size_t c = 0; c < n; ++c) {
      double* cam = &x[11 * c];
      cam[5] -= 5.0;  // centres at z ≈ −5, points near the origin: X_cam[2] ≈ 5
      cam[6] += 1.0;  // focal length ≈ 1
      cam[9] *= 0.1;
      cam[10] *= 0.1;
    }
    for (std::size_t i = 0; i < p; ++i) x[11 * n + 3 * m + i] += 1.0;  // weights ≈ 1
    return x;
  }

  /// The two reprojection residuals of one observation (ADBench's computeReprojError).
  template <class T>
  static void reprojection(const T* cam, const T* X, const T& w, const double* feature, T* err) {
    T Xo[3], Xcam[3];
    for (int i = 0; i < 3; ++i) Xo[i] = X[i] - cam[3 + i];
    const T sqtheta = cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2];
    if (0.0 < sqtheta) {
      const T theta = sqrt(sqtheta);
      const T costheta = cos(theta), sintheta = sin(theta), theta_inverse = 1.0 / theta;
      const T a[3] = {cam[0] * theta_inverse, cam[1] * theta_inverse, cam[2] * theta_inverse};
      const T cross[3] = {a[1] * Xo[2] - a[2] * Xo[1], a[2] * Xo[0] - a[0] * Xo[2],
                          a[0] * Xo[1] - a[1] * Xo[0]};
      const T tmp = (a[0] * Xo[0] + a[1] * Xo[1] + a[2] * Xo[2]) * (1.0 - costheta);
      for (int i = 0; i < 3; ++i) Xcam[i] = Xo[i] * costheta + cross[i] * sintheta + a[i] * tmp;
    } else {
      Xcam[0] = Xo[0] + (cam[1] * Xo[2] - cam[2] * Xo[1]);
      Xcam[1] = Xo[1] + (cam[2] * Xo[0] - cam[0] * Xo[2]);
      Xcam[2] = Xo[2] + (cam[0] * Xo[1] - cam[1] * Xo[0]);
    }
    T proj[2] = {Xcam[0] / Xcam[2], Xcam[1] / Xcam[2]};
    const T rsq = proj[0] * proj[0] + proj[1] * proj[1];
    const T L = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq;
    for (int i = 0; i < 2; ++i) {
      proj[i] = proj[i] * L * cam[6] + cam[7 + i];
      err[i] = w * (proj[i] - feature[i]);
    }
  }

  template <class T>
  T operator()(std::span<const T> x) const {
    const T* cams = x.data();
    const T* points = cams + 11 * n;
    const T* weights = points + 3 * m;
    T f = 0.0;
    T err[2];
    for (std::size_t i = 0; i < p; ++i) {
      reprojection(cams + 11 * cam_of[i], points + 3 * point_of[i], weights[i], &features[2 * i],
                   err);
      f += err[0] * err[0] + err[1] * err[1];
    }
    for (std::size_t i = 0; i < p; ++i) {
      const T e = 1.0 - weights[i] * weights[i];
      f += e * e;
    }
    return f;
  }

  /// Hand reverse of one observation's residuals: given ē (2), adds to the camera's (11), the
  /// point's (3) and the weight's adjoints; returns the residuals in err.
  static void reprojection_adjoint(const double* cam, const double* X, double w,
                                   const double* feature, const double* eb, double* err,
                                   double* camb, double* Xb, double& wb) {
    double Xo[3], Xcam[3];
    for (int i = 0; i < 3; ++i) Xo[i] = X[i] - cam[3 + i];
    const double sqtheta = cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2];
    double theta = 0, c = 0, s = 0, ti = 0, a[3] = {}, cross[3] = {}, dot = 0, tmp = 0;
    if (0.0 < sqtheta) {
      theta = std::sqrt(sqtheta);
      c = std::cos(theta);
      s = std::sin(theta);
      ti = 1.0 / theta;
      for (int i = 0; i < 3; ++i) a[i] = cam[i] * ti;
      cross[0] = a[1] * Xo[2] - a[2] * Xo[1];
      cross[1] = a[2] * Xo[0] - a[0] * Xo[2];
      cross[2] = a[0] * Xo[1] - a[1] * Xo[0];
      dot = a[0] * Xo[0] + a[1] * Xo[1] + a[2] * Xo[2];
      tmp = dot * (1.0 - c);
      for (int i = 0; i < 3; ++i) Xcam[i] = Xo[i] * c + cross[i] * s + a[i] * tmp;
    } else {
      Xcam[0] = Xo[0] + (cam[1] * Xo[2] - cam[2] * Xo[1]);
      Xcam[1] = Xo[1] + (cam[2] * Xo[0] - cam[0] * Xo[2]);
      Xcam[2] = Xo[2] + (cam[0] * Xo[1] - cam[1] * Xo[0]);
    }
    const double pp[2] = {Xcam[0] / Xcam[2], Xcam[1] / Xcam[2]};
    const double rsq = pp[0] * pp[0] + pp[1] * pp[1];
    const double L = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq;
    double proj[2];
    for (int i = 0; i < 2; ++i) {
      proj[i] = pp[i] * L * cam[6] + cam[7 + i];
      err[i] = w * (proj[i] - feature[i]);
    }
    // Reverse.
    double ppb[2], Lb = 0;
    for (int i = 0; i < 2; ++i) {
      wb += eb[i] * (proj[i] - feature[i]);
      const double projb = w * eb[i];
      camb[7 + i] += projb;
      camb[6] += projb * pp[i] * L;
      ppb[i] = projb * L * cam[6];
      Lb += projb * pp[i] * cam[6];
    }
    camb[9] += Lb * rsq;
    camb[10] += Lb * rsq * rsq;
    const double rsqb = Lb * (cam[9] + 2.0 * cam[10] * rsq);
    for (int i = 0; i < 2; ++i) ppb[i] += 2.0 * pp[i] * rsqb;
    const double Xcamb[3] = {ppb[0] / Xcam[2], ppb[1] / Xcam[2],
                             -(ppb[0] * pp[0] + ppb[1] * pp[1]) / Xcam[2]};
    double Xob[3];
    if (0.0 < sqtheta) {
      double ab[3], crossb[3], cb = 0, sb = 0, tmpb = 0;
      for (int i = 0; i < 3; ++i) {
        Xob[i] = Xcamb[i] * c;
        cb += Xcamb[i] * Xo[i];
        crossb[i] = Xcamb[i] * s;
        sb += Xcamb[i] * cross[i];
        ab[i] = Xcamb[i] * tmp;
        tmpb += Xcamb[i] * a[i];
      }
      const double dotb = tmpb * (1.0 - c);
      cb -= tmpb * dot;
      for (int i = 0; i < 3; ++i) {
        ab[i] += dotb * Xo[i];
        Xob[i] += dotb * a[i];
      }
      // cross = a × Xo: ā += Xo × c̄ross, X̄o += c̄ross × a.
      ab[0] += Xo[1] * crossb[2] - Xo[2] * crossb[1];
      ab[1] += Xo[2] * crossb[0] - Xo[0] * crossb[2];
      ab[2] += Xo[0] * crossb[1] - Xo[1] * crossb[0];
      Xob[0] += crossb[1] * a[2] - crossb[2] * a[1];
      Xob[1] += crossb[2] * a[0] - crossb[0] * a[2];
      Xob[2] += crossb[0] * a[1] - crossb[1] * a[0];
      double tib = 0;
      for (int i = 0; i < 3; ++i) {
        camb[i] += ab[i] * ti;
        tib += ab[i] * cam[i];
      }
      const double thetab = -tib * ti * ti - cb * s + sb * c;
      for (int i = 0; i < 3; ++i) camb[i] += thetab * cam[i] / theta;  // θ = √Σr²
    } else {
      // Xcam = Xo + r × Xo: r̄ += Xo × X̄cam, X̄o = X̄cam + X̄cam × r.
      camb[0] += Xo[1] * Xcamb[2] - Xo[2] * Xcamb[1];
      camb[1] += Xo[2] * Xcamb[0] - Xo[0] * Xcamb[2];
      camb[2] += Xo[0] * Xcamb[1] - Xo[1] * Xcamb[0];
      Xob[0] = Xcamb[0] + Xcamb[1] * cam[2] - Xcamb[2] * cam[1];
      Xob[1] = Xcamb[1] + Xcamb[2] * cam[0] - Xcamb[0] * cam[2];
      Xob[2] = Xcamb[2] + Xcamb[0] * cam[1] - Xcamb[1] * cam[0];
    }
    for (int i = 0; i < 3; ++i) {
      Xb[i] += Xob[i];
      camb[3 + i] -= Xob[i];
    }
  }

  double adjoint(std::span<const double> x, std::span<double> g) const {
    std::fill(g.begin(), g.end(), 0.0);
    const double* cams = x.data();
    const double* points = cams + 11 * n;
    const double* weights = points + 3 * m;
    double* camsb = g.data();
    double* pointsb = camsb + 11 * n;
    double* weightsb = pointsb + 3 * m;
    double f = 0;
    for (std::size_t i = 0; i < p; ++i) {
      // The residuals first (ē = 2e needs them), then the reverse pass with ē.
      double err[2], eb[2] = {0, 0}, scratch[11] = {}, scratch_x[3] = {}, scratch_w = 0;
      reprojection_adjoint(cams + 11 * cam_of[i], points + 3 * point_of[i], weights[i],
                           &features[2 * i], eb, err, scratch, scratch_x, scratch_w);
      f += err[0] * err[0] + err[1] * err[1];
      eb[0] = 2.0 * err[0];
      eb[1] = 2.0 * err[1];
      reprojection_adjoint(cams + 11 * cam_of[i], points + 3 * point_of[i], weights[i],
                           &features[2 * i], eb, err, camsb + 11 * cam_of[i],
                           pointsb + 3 * point_of[i], weightsb[i]);
    }
    for (std::size_t i = 0; i < p; ++i) {
      const double e = 1.0 - weights[i] * weights[i];
      f += e * e;
      weightsb[i] += -4.0 * e * weights[i];
    }
    return f;
  }

  /// The Jacobian block of observation i by the hand reverse code: 2 rows over the 15 local
  /// parameters [camera (11), point (3), weight].
  std::vector<double> jacobian_block(std::span<const double> x, std::size_t i) const {
    std::vector<double> J(2 * 15, 0.0);
    const double* cam = x.data() + 11 * cam_of[i];
    const double* X = x.data() + 11 * n + 3 * point_of[i];
    const double w = x[11 * n + 3 * m + i];
    for (int row = 0; row < 2; ++row) {
      const double eb[2] = {row == 0 ? 1.0 : 0.0, row == 1 ? 1.0 : 0.0};
      double err[2];
      reprojection_adjoint(cam, X, w, &features[2 * i], eb, err, &J[row * 15], &J[row * 15 + 11],
                           J[row * 15 + 14]);
    }
    return J;
  }
};

// ---- 6. cmpad llsq_obj -----------------------------------------------------------------------
//
// ½ Σ_i (s_i − x₀ − x₁ t_i − … − x_{q−1} t_i^{q−1})², t_i = −1 + 2i/(N − 1), s_i = sign(t_i),
// i < N: a polynomial fit of degree q − 1 to a step, as cmpad defines it (not a dense ‖Ax − b‖²;
// that one is in the scalar suite).
struct Llsq {
  std::size_t q, N;
  std::vector<double> t, s;
  Llsq(std::size_t q_, std::size_t N_) : q(q_), N(N_), t(N_), s(N_) {
    for (std::size_t i = 0; i < N; ++i) {
      t[i] = N == 1 ? 0.0 : -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(N - 1);
      s[i] = t[i] < 0 ? -1.0 : (t[i] > 0 ? 1.0 : 0.0);
    }
  }
  std::size_t parameters() const { return q; }
  std::vector<double> start() const { return random_vector(q, 61, -1, 1); }
  template <class T>
  T operator()(std::span<const T> x) const {
    T f = 0.0;
    for (std::size_t i = 0; i < N; ++i) {
      T model = x[0];
      double power = 1.0;
      for (std::size_t j = 1; j < q; ++j) {
        power *= t[i];
        model += x[j] * power;
      }
      const T r = s[i] - model;
      f += r * r;
    }
    return 0.5 * f;
  }
  double adjoint(std::span<const double> x, std::span<double> g) const {
    std::fill(g.begin(), g.end(), 0.0);
    double f = 0;
    for (std::size_t i = 0; i < N; ++i) {
      double model = x[0], power = 1.0;
      for (std::size_t j = 1; j < q; ++j) {
        power *= t[i];
        model += x[j] * power;
      }
      const double r = s[i] - model;
      f += r * r;
      power = 1.0;
      for (std::size_t j = 0; j < q; ++j) {
        g[j] -= r * power;
        power *= t[i];
      }
    }
    return 0.5 * f;
  }
};

// ---- 7. log-sum-exp as a scalar loop ---------------------------------------------------------
struct LogSumExpLoop {
  std::size_t n;
  explicit LogSumExpLoop(std::size_t n_) : n(n_) {}
  std::size_t parameters() const { return n; }
  std::vector<double> start() const { return random_vector(n, 71, -3, 3); }
  template <class T>
  T operator()(std::span<const T> x) const {
    return log_sum_exp_loop(x);
  }
  double adjoint(std::span<const double> x, std::span<double> g) const {
    std::fill(g.begin(), g.end(), 0.0);
    return log_sum_exp_adjoint(x, 1.0, g);
  }
};

// ---- The runner: gradient checks and timing rows, for one library ---------------------------

inline double max_abs(std::span<const double> v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

/// Checks one workload at its start point: the library's gradient against the hand adjoint
/// (max |difference| / max |gradient| ≤ 1e-10), the hand adjoint's value against the plain
/// function, and, with `fd`, both gradients against central finite differences (≤ 1e-6 of the
/// largest gradient entry). Prints a row; returns whether it passed.
template <class Library, class W>
bool check(std::string_view name, const W& w, const std::vector<double>& x, bool fd) {
  const std::size_t P = x.size();
  std::vector<double> gl(P), gh(P);
  Library library;
  library.gradient(w, x, gl);
  const double fh = w.adjoint(x, gh);
  const double f = w(std::span<const double>(x));
  const double scale = max_abs(gh);
  double vs_hand = 0, vs_fd = 0;
  for (std::size_t i = 0; i < P; ++i) vs_hand = std::max(vs_hand, std::abs(gl[i] - gh[i]) / scale);
  const double value_error = std::abs(fh - f) / (1 + std::abs(f));
  if (fd) {
    std::vector<double> xp = x;
    for (std::size_t i = 0; i < P; ++i) {
      const double h = 1e-6 * std::max(1.0, std::abs(x[i]));
      xp[i] = x[i] + h;
      const double up = w(std::span<const double>(xp));
      xp[i] = x[i] - h;
      const double down = w(std::span<const double>(xp));
      xp[i] = x[i];
      const double d = (up - down) / (2 * h);
      vs_fd = std::max({vs_fd, std::abs(d - gh[i]) / scale, std::abs(d - gl[i]) / scale});
    }
  }
  // NaN fails every comparison: written so that it fails the check.
  const bool ok = scale > 0 && vs_hand <= 1e-10 && value_error <= 1e-12 && (!fd || vs_fd <= 1e-6);
  fmt::print("| {} | {} | {:.1e} | {} | {} |\n", name, P, vs_hand,
             fd ? fmt::format("{:.1e}", vs_fd) : std::string("–"), ok ? "ok" : "FAILED");
  std::fflush(stdout);
  return ok;
}

template <class Library, class W>
bool check(std::string_view name, const W& w, bool fd) {
  return check<Library>(name, w, w.start(), fd);
}

/// The gradient checks at small sizes (finite differences included); true if all pass.
template <class Library>
bool check_all() {
  fmt::print(
      "| check ({} vs hand adjoint vs finite differences) | parameters | max |Δ| / max |g|, "
      "library vs hand | vs central differences | |\n|---|---|---|---|---|\n",
      Library::name);
  bool ok = true;
  ok &= check<Library>("GMM d = 2, k = 3, n = 5", Gmm(2, 3, 5), true);
  ok &= check<Library>("GMM d = 4, k = 3, n = 7", Gmm(4, 3, 7), true);
  Gmm prior(3, 2, 4);  // the Wishart prior's m and γ enter the gradient
  prior.gamma = 1.7;
  prior.m = 2;
  ok &= check<Library>("GMM d = 3, k = 2, n = 4, γ = 1.7, m = 2", prior, true);
  ok &= check<Library>("LSTM l = 2, c = 4, b = 3", Lstm(2, 4, 3), true);
  ok &= check<Library>("LSTM l = 1, c = 6, b = 5", Lstm(1, 6, 5), true);
  ok &= check<Library>("ODE n = 5, 4 steps", Ode(5, 4), true);
  ok &= check<Library>("ODE n = 1, 3 steps", Ode(1, 3), true);
  ok &= check<Library>("det by minors, ℓ = 2", DetByMinor(2), true);
  ok &= check<Library>("det by minors, ℓ = 5", DetByMinor(5), true);
  const BundleAdjustment ba(3, 5, 12);
  ok &= check<Library>("bundle adjustment n = 3, m = 5, p = 12", ba, true);
  auto zero_rotation = ba.start();  // camera 0 takes ADBench's θ = 0 branch
  zero_rotation[0] = zero_rotation[1] = zero_rotation[2] = 0.0;
  ok &= check<Library>("bundle adjustment, a camera at θ = 0", ba, zero_rotation, false);
  ok &= check<Library>("llsq q = 4, N = 9", Llsq(4, 9), true);
  ok &= check<Library>("log-sum-exp loop, n = 7", LogSumExpLoop(7), true);
  fmt::print("\n");
  return ok;
}

/// One timing row: plain double, the library's gradient, the hand adjoint (interleaved
/// samples, medians), after checking the library against the hand adjoint at this size.
template <class Library, class W>
void time_row(std::string_view name, std::string_view size, const W& w) {
  const std::vector<double> x = w.start();
  const std::size_t P = x.size();
  std::vector<double> gl(P), gh(P);
  Library library;
  library.gradient(w, x, gl);
  (void)w.adjoint(x, gh);
  // Norm-wise here (‖Δ‖₂ ≤ 1e-10 ‖g‖₂): at n = 10⁶ the log-sum-exp's maximum receives
  // 1 − Σ softmax, which is 0 only up to n·ε, so entry-wise 1e-10 of max |g| is too tight there.
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < P; ++i) {
    diff += (gl[i] - gh[i]) * (gl[i] - gh[i]);
    norm += gh[i] * gh[i];
  }
  if (!(std::sqrt(diff) <= 1e-10 * std::sqrt(norm))) {
    fmt::print(stderr, "{}, {}: gradient mismatch: ‖Δ‖ = {:.3g}, ‖g‖ = {:.3g}\n", name, size,
               std::sqrt(diff), std::sqrt(norm));
    std::exit(1);
  }
  const std::vector<Counted> xc(x.begin(), x.end());
  Counted::ops = 0;
  (void)w(std::span<const Counted>(xc));
  const double ops = static_cast<double>(Counted::ops);
  const auto plain = [&] { sink = sink + w(std::span<const double>(x)); };
  const auto grad = [&] { library.gradient(w, x, gl); };
  const auto hand = [&] { sink = sink + w.adjoint(x, gh); };
  if (reps > 0) {  // --reps=N: instruction counts under callgrind, no timing
    count_instructions(fmt::format("{}, {} [{}]", name, size, Library::name), grad);
    count_instructions(fmt::format("{}, {} [hand adjoint]", name, size), hand);
    count_instructions(fmt::format("{}, {} [plain]", name, size), plain);
    fmt::print("| {} | {} | {:.0f} | {} gradients counted |\n", name, size, ops, reps);
    std::fflush(stdout);
    return;
  }
  const double bytes = library.tape_bytes(w, x);
  const long plain_calls = calibrate(plain), grad_calls = calibrate(grad),
             hand_calls = calibrate(hand);
  std::vector<double> tp, tg, th;
  for (int rep = 0; rep < samples; ++rep) {
    tp.push_back(seconds_per_call(plain, plain_calls));
    tg.push_back(seconds_per_call(grad, grad_calls));
    th.push_back(seconds_per_call(hand, hand_calls));
  }
  const double p = median(tp), q = median(tg), h = median(th);
  fmt::print(
      "| {} | {} | {} | {:.0f} | {:.3g} | {:.3g} | {:.3g} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {} "
      "|\n",
      name, size, P, ops, p * 1e6, q * 1e6, h * 1e6, q / p, h / p, q / h, q / ops * 1e9,
      bytes < 0 ? std::string("–") : fmt::format("{:.1f}", bytes / ops));
  std::fflush(stdout);
}

/// Checks, then times every workload at its small and (unless `small`) large size.
/// Arguments: `small` (the CI test: small sizes, brief sampling), `check` (checks only),
/// `--reps=N` (instruction counts, instructions.hpp).
template <class Library>
int run(int argc, char** argv) {
  bool small = false, check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "small") small = true;
    if (arg == "check") check_only = true;
    if (arg.starts_with("--reps=")) reps = std::stol(std::string(arg.substr(7)));
  }
  if (small) {
    sample_seconds = 0.002;
    samples = 3;
  }
  if (reps == 0 && !check_all<Library>()) {
    fmt::print(stderr, "gradient check failed\n");
    return 1;
  }
  if (check_only) return 0;
  if (reps == 0) {
    fmt::print(
        "| workload | size | parameters | elementary ops | plain (µs) | {0} (µs) | hand adjoint "
        "(µs) | {0} / plain | hand / plain | {0} / hand | {0} ns per op | tape bytes per op "
        "|\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        Library::name);
  }
  for (const bool large : {false, true}) {
    if (large && small) break;
    if (!large) {
      time_row<Library>("GMM", "d = 2, k = 5, n = 1000", Gmm(2, 5, 1000));
      time_row<Library>("LSTM", "l = 2, c = 1024, b = 14", Lstm(2, 1024, 14));
      time_row<Library>("ODE (RK4)", "n = 10, 10 steps", Ode(10, 10));
      time_row<Library>("det by minors", "ℓ = 5", DetByMinor(5));
      time_row<Library>("bundle adjustment", "n = 5, m = 50, p = 200",
                        BundleAdjustment(5, 50, 200));
      time_row<Library>("llsq", "q = 4, N = 100", Llsq(4, 100));
      time_row<Library>("log-sum-exp loop", "n = 100", LogSumExpLoop(100));
    } else {
      time_row<Library>("GMM", "d = 10, k = 25, n = 1000", Gmm(10, 25, 1000));
      time_row<Library>("LSTM", "l = 4, c = 4096, b = 14", Lstm(4, 4096, 14));
      time_row<Library>("ODE (RK4)", "n = 100, 1000 steps", Ode(100, 1000));
      time_row<Library>("det by minors", "ℓ = 9", DetByMinor(9));
      time_row<Library>("bundle adjustment", "n = 49, m = 7776, p = 31843",
                        BundleAdjustment(49, 7776, 31843));
      time_row<Library>("llsq", "q = 10, N = 10⁵", Llsq(10, 100000));
      time_row<Library>("log-sum-exp loop", "n = 10⁶", LogSumExpLoop(1000000));
    }
  }
  return 0;
}

}  // namespace bench::workloads
