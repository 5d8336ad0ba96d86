// The book's BatchNormalization (common/layers.py) over x seen as (N, C, P):
// one set of statistics per c, over the N*P values x[n, c, p]. The book's
// form is (N, D, 1), PyTorch's per-channel BatchNorm2d (N, C, H*W).
//
// Channels are taken in blocks: a thread owns a block and walks n, then c in
// the block, then p, so every memory access is a contiguous run (a row of
// (N, D) when P = 1, a plane when P is large) and each sum adds its values in
// the same order (n, then p) whatever the thread count. Every formula keeps
// the book's operation order, so float64 matches NumPy to rounding.
#include <algorithm>
#include <cmath>

#include "kernels.hpp"

namespace convnet::kernels {

namespace {
constexpr std::size_t kBlock = 64;

// Calls f(c0, c1) for blocks of channels, in parallel for large inputs. With
// long planes (P >= 16) a block is one channel: its planes are runs enough.
template <class F>
void for_channel_blocks(std::size_t N, std::size_t C, std::size_t P, F f) {
  const std::size_t B = P >= 16 ? 1 : kBlock;
  const std::size_t blocks = (C + B - 1) / B;
#pragma omp parallel for schedule(static) if (N * C * P >= kParallelMin && blocks > 1)
  for (std::size_t b = 0; b < blocks; ++b) f(b * B, std::min(C, (b + 1) * B));
}
}  // namespace

template <class T>
void batchnorm_forward_train(std::size_t N, std::size_t C, std::size_t P, const T* x, const T* gamma,
                             const T* beta, T eps, T momentum, T one_m_momentum, T* running_mean,
                             T* running_var, T* xc, T* xn, T* std_dev, T* out) {
  const T M = T(N * P);  // the book's batch_size (N*H*W per channel)
  for_channel_blocks(N, C, P, [&](std::size_t c0, std::size_t c1) {
    T mu[kBlock], var[kBlock];
    std::fill(mu, mu + (c1 - c0), T(0));
    std::fill(var, var + (c1 - c0), T(0));
    // mu = x.mean(axis=0): the sum, then one division (NumPy's mean)
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t c = c0; c < c1; ++c) {
        const T* xr = x + (n * C + c) * P;
        for (std::size_t p = 0; p < P; ++p) mu[c - c0] += xr[p];
      }
    for (std::size_t c = c0; c < c1; ++c) mu[c - c0] /= M;
    // xc = x - mu; var = np.mean(xc**2, axis=0)
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t c = c0; c < c1; ++c) {
        const std::size_t o = (n * C + c) * P;
        for (std::size_t p = 0; p < P; ++p) {
          const T d = x[o + p] - mu[c - c0];
          xc[o + p] = d;
          var[c - c0] += d * d;
        }
      }
    for (std::size_t c = c0; c < c1; ++c) {
      var[c - c0] /= M;
      std_dev[c] = std::sqrt(var[c - c0] + eps);
      running_mean[c] = momentum * running_mean[c] + one_m_momentum * mu[c - c0];
      running_var[c] = momentum * running_var[c] + one_m_momentum * var[c - c0];
    }
    // xn = xc / std; out = gamma * xn + beta
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t c = c0; c < c1; ++c) {
        const std::size_t o = (n * C + c) * P;
        const T s = std_dev[c], g = gamma[c], b = beta[c];
        for (std::size_t p = 0; p < P; ++p) {
          const T v = xc[o + p] / s;
          xn[o + p] = v;
          out[o + p] = g * v + b;
        }
      }
  });
}

template <class T>
void batchnorm_forward_eval(std::size_t N, std::size_t C, std::size_t P, const T* x, const T* gamma,
                            const T* beta, T eps, const T* running_mean, const T* running_var, T* out) {
  for_channel_blocks(N, C, P, [&](std::size_t c0, std::size_t c1) {
    T s[kBlock];  // np.sqrt(running_var + 10e-7), once per channel (same bits as per element)
    for (std::size_t c = c0; c < c1; ++c) s[c - c0] = std::sqrt(running_var[c] + eps);
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t c = c0; c < c1; ++c) {
        const std::size_t o = (n * C + c) * P;
        const T m = running_mean[c], sd = s[c - c0], g = gamma[c], b = beta[c];
        for (std::size_t p = 0; p < P; ++p) out[o + p] = g * ((x[o + p] - m) / sd) + b;
      }
  });
}

template <class T>
void batchnorm_backward(std::size_t N, std::size_t C, std::size_t P, const T* dout, const T* gamma,
                        const T* xc, const T* xn, const T* std_dev, T* dgamma, T* dbeta, T* dx) {
  const std::size_t batch = N * P;
  const T M = T(batch);
  const T two_over_M = T(2.0 / double(batch));  // Python's 2.0 / self.batch_size, a float64
  for_channel_blocks(N, C, P, [&](std::size_t c0, std::size_t c1) {
    T db[kBlock], dg[kBlock], dstd[kBlock], dvar[kBlock], dmu[kBlock];
    const std::size_t B = c1 - c0;
    std::fill(db, db + B, T(0));
    std::fill(dg, dg + B, T(0));
    std::fill(dstd, dstd + B, T(0));
    std::fill(dmu, dmu + B, T(0));
    // dbeta = dout.sum(axis=0); dgamma = np.sum(xn * dout, axis=0);
    // dxn = gamma * dout; dstd = -np.sum((dxn * xc) / (std * std), axis=0)
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t c = c0; c < c1; ++c) {
        const std::size_t o = (n * C + c) * P;
        const T g = gamma[c], s2 = std_dev[c] * std_dev[c];
        for (std::size_t p = 0; p < P; ++p) {
          const T d = dout[o + p], dxn = g * d;
          db[c - c0] += d;
          dg[c - c0] += xn[o + p] * d;
          dstd[c - c0] += (dxn * xc[o + p]) / s2;
        }
      }
    for (std::size_t c = c0; c < c1; ++c) {
      dbeta[c] = db[c - c0];
      dgamma[c] = dg[c - c0];
      dvar[c - c0] = T(0.5) * -dstd[c - c0] / std_dev[c];  // dvar = 0.5 * dstd / std, dstd negated (exact)
    }
    // dxc = dxn / std; dxc += (2.0 / batch_size) * xc * dvar; dmu = np.sum(dxc, axis=0)
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t c = c0; c < c1; ++c) {
        const std::size_t o = (n * C + c) * P;
        const T g = gamma[c], s = std_dev[c], dv = dvar[c - c0];
        for (std::size_t p = 0; p < P; ++p) {
          const T dxc = (g * dout[o + p]) / s + two_over_M * xc[o + p] * dv;
          dx[o + p] = dxc;
          dmu[c - c0] += dxc;
        }
      }
    // dx = dxc - dmu / batch_size
    for (std::size_t c = c0; c < c1; ++c) dmu[c - c0] /= M;
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t c = c0; c < c1; ++c) {
        const std::size_t o = (n * C + c) * P;
        const T q = dmu[c - c0];
        for (std::size_t p = 0; p < P; ++p) dx[o + p] -= q;
      }
  });
}

#define CONVNET_INSTANTIATE(T)                                                                             \
  template void batchnorm_forward_train<T>(std::size_t, std::size_t, std::size_t, const T*, const T*,      \
                                           const T*, T, T, T, T*, T*, T*, T*, T*, T*);                     \
  template void batchnorm_forward_eval<T>(std::size_t, std::size_t, std::size_t, const T*, const T*,       \
                                          const T*, T, const T*, const T*, T*);                            \
  template void batchnorm_backward<T>(std::size_t, std::size_t, std::size_t, const T*, const T*, const T*, \
                                      const T*, const T*, T*, T*, T*);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(double)
#undef CONVNET_INSTANTIATE

}  // namespace convnet::kernels
