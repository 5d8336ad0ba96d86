// Compiled with -ffp-contract=fast (CMakeLists.txt): float-only kernels,
// where a*b+c should be one FMA; the float64 NumPy-exact path never runs here.
//
// Direct convolution (stride 1) for float: each output row segment of 16
// pixels for 4 filters stays in vector registers while all FH*FW*C taps are
// added — no im2col matrix at all. Used by the fused evaluation forward; the
// tests hold it to the im2col + GEMM reference.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels.hpp"

namespace convnet::kernels {

namespace {
typedef float v16 __attribute__((vector_size(64)));
constexpr std::size_t kLanes = 16, kFilters = 4;

inline v16 load16(const float* p) {
  v16 v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}
typedef float v8 __attribute__((vector_size(32)));
inline v8 load8(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
}  // namespace

std::size_t conv_direct_padded_size(std::size_t C, std::size_t Hp, std::size_t Wp) {
  return C * Hp * Wp + 2 * kLanes;  // slack: the last vector of a row may run past it
}

namespace {

// One output row segment for 4 filters: a 16-lane chunk at x0 (if A) and an
// 8-lane chunk at x0+16 (if B), both accumulated in registers over all taps
// so each weight broadcast serves both. 24 = the notebook's output width.
template <bool A, bool B>
inline void conv_row(const float* in, std::size_t C, std::size_t Hp, std::size_t Wp, std::size_t FH,
                     std::size_t FW, const float* w, const float* b, std::size_t nf, std::size_t y, std::size_t x0,
                     std::size_t oh, std::size_t ow, float* out_f0) {
  v16 a[kFilters];
  v8 c[kFilters];
  for (std::size_t i = 0; i < kFilters; ++i) {
    const float bi = i < nf ? b[i] : 0.0f;
    a[i] = v16{} + bi;
    c[i] = v8{} + bi;
  }
  std::size_t t = 0;
  for (std::size_t ch = 0; ch < C; ++ch)
    for (std::size_t ky = 0; ky < FH; ++ky) {
      const float* row = in + (ch * Hp + y + ky) * Wp + x0;
      for (std::size_t kx = 0; kx < FW; ++kx, ++t) {
        const float* wt = w + t * kFilters;
        if (A) {
          const v16 v = load16(row + kx);
          for (std::size_t i = 0; i < kFilters; ++i) a[i] += wt[i] * v;  // FMA (this file: -ffp-contract=fast)
        }
        if (B) {
          const v8 v = load8(row + kx + (A ? kLanes : 0));
          for (std::size_t i = 0; i < kFilters; ++i) c[i] += wt[i] * v;
        }
      }
    }
  const std::size_t na = A ? std::min(kLanes, ow - x0) : 0;
  const std::size_t nb = B ? std::min<std::size_t>(8, ow - x0 - na) : 0;
  for (std::size_t i = 0; i < nf; ++i) {
    float* o = out_f0 + (i * oh + y) * ow + x0;
    if (A) std::memcpy(o, &a[i], na * sizeof(float));
    if (B) std::memcpy(o + na, &c[i], nb * sizeof(float));
  }
}
}  // namespace

void conv_direct_image(const float* in, std::size_t C, std::size_t Hp, std::size_t Wp, const float* Wpk,
                       const float* b, std::size_t FN, std::size_t FH, std::size_t FW, float* out) {
  const std::size_t oh = Hp - FH + 1, ow = Wp - FW + 1, taps = C * FH * FW;
  for (std::size_t f0 = 0; f0 < FN; f0 += kFilters) {
    const std::size_t nf = std::min(kFilters, FN - f0);
    const float* w = Wpk + f0 * taps;  // packed: (FN rounded up to 4, taps), tap-major per filter block
    float* out_f0 = out + f0 * oh * ow;
    for (std::size_t y = 0; y < oh; ++y) {
      for (std::size_t x0 = 0; x0 < ow;) {
        const std::size_t r = ow - x0;
        if (r > kLanes) {  // 16 + 8 lanes (the last ones may be slack)
          conv_row<true, true>(in, C, Hp, Wp, FH, FW, w, b + f0, nf, y, x0, oh, ow, out_f0);
          x0 += kLanes + 8;
        } else if (r > 8) {
          conv_row<true, false>(in, C, Hp, Wp, FH, FW, w, b + f0, nf, y, x0, oh, ow, out_f0);
          x0 += kLanes;
        } else {
          conv_row<false, true>(in, C, Hp, Wp, FH, FW, w, b + f0, nf, y, x0, oh, ow, out_f0);
          x0 += 8;
        }
      }
    }
  }
}

// W (FN, C, FH, FW) -> blocks of 4 filters, each tap's 4 weights adjacent.
void conv_direct_pack(const float* W, std::size_t FN, std::size_t taps, std::vector<float>& p) {
  const std::size_t FNp = (FN + kFilters - 1) / kFilters * kFilters;
  p.assign(FNp * taps, 0.0f);
  for (std::size_t f = 0; f < FN; ++f)
    for (std::size_t t = 0; t < taps; ++t)
      p[(f / kFilters) * kFilters * taps + t * kFilters + f % kFilters] = W[f * taps + t];
}

}  // namespace convnet::kernels

namespace convnet::kernels {

namespace {
// dw[kx] += Σ_y Σ_x d[y, x] · in[y, x + kx] for kx < FWc: the dout vector is
// loaded once for all FWc shifts, the accumulators stay in registers.
template <int FWc>
inline void correlate_row(const float* d, std::size_t dstride, const float* in, std::size_t Wp, std::size_t oh,
                          std::size_t ow, float* dw) {
  // 16-lane chunks while they fit, then 8-lane ones: d's rows are padded with
  // zeros, so an 8-lane chunk past ow adds nothing.
  const std::size_t full = ow / kLanes * kLanes;
  v16 acc[FWc];
  v8 acc8[FWc];
  for (int k = 0; k < FWc; ++k) acc[k] = v16{}, acc8[k] = v8{};
  for (std::size_t y = 0; y < oh; ++y) {
    const float* dr = d + y * dstride;
    const float* ir = in + y * Wp;
    for (std::size_t x0 = 0; x0 < full; x0 += kLanes) {
      const v16 dv = load16(dr + x0);
      for (int k = 0; k < FWc; ++k) acc[k] += dv * load16(ir + x0 + std::size_t(k));
    }
    for (std::size_t x0 = full; x0 < ow; x0 += 8) {
      const v8 dv = load8(dr + x0);
      for (int k = 0; k < FWc; ++k) acc8[k] += dv * load8(ir + x0 + std::size_t(k));
    }
  }
  for (int k = 0; k < FWc; ++k) {
    float s = 0.0f;
    for (std::size_t i = 0; i < kLanes; ++i) s += acc[k][i];
    for (std::size_t i = 0; i < 8; ++i) s += acc8[k][i];
    dw[k] += s;
  }
}
}  // namespace

namespace {
typedef std::int32_t v16i __attribute__((vector_size(64)));

// One row of 2x2/2 max pooling with ReLU over rows r0 and r0 + ow, 16
// outputs at a time: even and odd columns split by a shuffle, the first
// maximum in window order chosen by compares (as np.argmax, no branches):
// the best of each row, the second row only where strictly larger.
inline void relu_pool2_row(const float* r0, std::size_t ow, std::size_t pw, float* out, std::uint8_t* arg) {
  const float* r1 = r0 + ow;
  const v16i even = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
  const v16i odd = even + 1;
  for (std::size_t x0 = 0; x0 < pw; x0 += kLanes) {
    const v16 a0 = load16(r0 + 2 * x0), b0 = load16(r0 + 2 * x0 + kLanes);
    const v16 a1 = load16(r1 + 2 * x0), b1 = load16(r1 + 2 * x0 + kLanes);
    const v16 v0 = __builtin_shuffle(a0, b0, even), v1 = __builtin_shuffle(a0, b0, odd);
    const v16 v2 = __builtin_shuffle(a1, b1, even), v3 = __builtin_shuffle(a1, b1, odd);
    const v16i c1 = v1 > v0, c3 = v3 > v2;  // -1 where true
    const v16 m01 = c1 ? v1 : v0, m23 = c3 ? v3 : v2;
    const v16i lower = m23 > m01;
    const v16 m = lower ? m23 : m01;
    const v16 r = m <= 0.0f ? v16{} : m;
    const std::size_t n = std::min(kLanes, pw - x0);
    std::memcpy(out + x0, &r, n * sizeof(float));
    if (arg) {
      const v16i idx = lower ? 2 - c3 : -c1;  // window position dy*2+dx
      for (std::size_t i = 0; i < n; ++i) arg[x0 + i] = std::uint8_t(idx[i]);
    }
  }
}
}  // namespace

void pad_images(const float* x, std::size_t N, std::size_t C, std::size_t H, std::size_t W, std::size_t pad,
                float* xpad) {
  const std::size_t Hp = H + 2 * pad, Wp = W + 2 * pad, per = conv_direct_padded_size(C, Hp, Wp);
#pragma omp parallel for schedule(static) if (N * per >= kParallelMin)
  for (std::size_t n = 0; n < N; ++n) {
    float* dst = xpad + n * per;
    if (pad) std::fill(dst, dst + per, 0.0f);
    else std::fill(dst + C * Hp * Wp, dst + per, 0.0f);
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t r = 0; r < H; ++r)
        std::copy_n(x + ((n * C + c) * H + r) * W, W, dst + (c * Hp + r + pad) * Wp + pad);
  }
}

void conv_relu_pool2_direct(const float* xpad, std::size_t N, std::size_t C, std::size_t Hp, std::size_t Wp,
                            const float* W, const float* b, std::size_t FN, std::size_t FH, std::size_t FW,
                            float* pooled, std::uint8_t* arg) {
  const std::size_t oh = Hp - FH + 1, ow = Wp - FW + 1, ph = oh / 2, pw = ow / 2;
  const std::size_t per = conv_direct_padded_size(C, Hp, Wp);
  // Scratch kept per thread between calls: no allocation once warm (the
  // OpenMP team's threads persist).
  static thread_local std::vector<float> packed;
  conv_direct_pack(W, FN, C * FH * FW, packed);
  const float* pk = packed.data();
#pragma omp parallel if (N > 1)
  {
    static thread_local std::vector<float> conv;
    conv.resize(FN * oh * ow + 2 * kLanes);  // one image's conv output (+ slack), in cache
#pragma omp for schedule(static)
    for (std::size_t n = 0; n < N; ++n) {
      conv_direct_image(xpad + n * per, C, Hp, Wp, pk, b, FN, FH, FW, conv.data());
      float* o = pooled + n * FN * ph * pw;
      std::uint8_t* a = arg ? arg + n * FN * ph * pw : nullptr;
      for (std::size_t f = 0; f < FN; ++f)
        for (std::size_t y = 0; y < ph; ++y) {
          const std::size_t k = (f * ph + y) * pw;
          relu_pool2_row(conv.data() + (f * oh + 2 * y) * ow, ow, pw, o + k, a ? a + k : nullptr);
        }
    }
  }
}

void conv_relu_pool2_direct_backward(const float* xpad, std::size_t N, std::size_t C, std::size_t Hp,
                                     std::size_t Wp, std::size_t FN, std::size_t FH, std::size_t FW,
                                     const float* pooled, const std::uint8_t* arg, const float* dpooled,
                                     float* dW, float* db) {
  const std::size_t oh = Hp - FH + 1, ow = Wp - FW + 1, ph = oh / 2, pw = ow / 2;
  const std::size_t per = conv_direct_padded_size(C, Hp, Wp);
  const std::size_t stride = (ow + kLanes - 1) / kLanes * kLanes;  // dconv rows padded with zeros
  // Parallel over filters, images in order inside: each dW[f] is summed in
  // the same order whatever the thread count.
#pragma omp parallel if (N * FN * oh * ow >= kParallelMin)
  {
    static thread_local std::vector<float> dconv;
    dconv.resize(oh * stride + kLanes);
#pragma omp for schedule(static)
    for (std::size_t f = 0; f < FN; ++f) {
      float* dwf = dW + f * C * FH * FW;
      std::fill(dwf, dwf + C * FH * FW, 0.0f);
      float dbf = 0.0f;
      for (std::size_t n = 0; n < N; ++n) {
        // dconv: the pooled gradient routed to each window's argmax, where
        // the ReLU passed it (pooled > 0); zero elsewhere.
        std::fill(dconv.begin(), dconv.end(), 0.0f);
        const std::size_t base = (n * FN + f) * ph * pw;
        for (std::size_t y = 0; y < ph; ++y)
          for (std::size_t xx = 0; xx < pw; ++xx) {
            const std::size_t k = base + y * pw + xx;
            const float g = pooled[k] > 0.0f ? dpooled[k] : 0.0f;  // branch-free ReLU mask
            const std::uint8_t a = arg[k];
            dconv[(2 * y + (a >> 1)) * stride + 2 * xx + (a & 1)] = g;
            dbf += g;
          }
        // dW[f, c, ky, kx] += Σ_y Σ_x dconv[y, x] · x[c, y+ky, x+kx]
        const float* img = xpad + n * per;
        for (std::size_t c = 0; c < C; ++c)
          for (std::size_t ky = 0; ky < FH; ++ky) {
            float* dw = dwf + (c * FH + ky) * FW;
            const float* in0 = img + (c * Hp + ky) * Wp;
            if (FW == 5)
              correlate_row<5>(dconv.data(), stride, in0, Wp, oh, ow, dw);
            else if (FW == 3)
              correlate_row<3>(dconv.data(), stride, in0, Wp, oh, ow, dw);
            else
              for (std::size_t kx = 0; kx < FW; ++kx) correlate_row<1>(dconv.data(), stride, in0 + kx, Wp, oh, ow, dw + kx);
          }
      }
      db[f] = dbf;
    }
  }
}

}  // namespace convnet::kernels
