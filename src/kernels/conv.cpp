// Convolution kernels blocked by image: each image's im2col (P x K) and its
// product stay in cache, and images run in parallel.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "kernels.hpp"

namespace convnet::kernels {

template <class T>
void conv_forward_image(const ConvGeom& g1, const T* x_n, const T* W, const T* b, std::size_t FN, T* col_n,
                        T* out_n) {
  const std::size_t P = g1.out_h() * g1.out_w(), K = g1.cols();
  im2col(g1, x_n, col_n);  // g1.N == 1: single-threaded inside
  gemm<T>(false, true, FN, P, K, T(1), W, K, col_n, K, T(0), out_n, P);
  for (std::size_t f = 0; f < FN; ++f) {
    T* o = out_n + f * P;
    const T bf = b[f];
    for (std::size_t p = 0; p < P; ++p) o[p] += bf;
  }
}

template <class T>
void conv_forward_per_image(const ConvGeom& g, const T* x, const T* W, const T* b, std::size_t FN, T* col, T* out) {
  const std::size_t P = g.out_h() * g.out_w(), K = g.cols();
  ConvGeom g1 = g;
  g1.N = 1;
#pragma omp parallel for schedule(static) if (g.N > 1 && g.rows() * K >= kParallelMin)
  for (std::size_t n = 0; n < g.N; ++n)
    conv_forward_image(g1, x + n * g.C * g.H * g.W, W, b, FN, col + n * P * K, out + n * FN * P);
}

template <class T>
void conv_backward_data_per_image(const ConvGeom& g, const T* dout, const T* W, std::size_t FN, T* dcol, T* dx) {
  const std::size_t P = g.out_h() * g.out_w(), K = g.cols(), img = g.C * g.H * g.W;
  ConvGeom g1 = g;
  g1.N = 1;
#pragma omp parallel for schedule(static) if (g.N > 1 && g.rows() * K >= kParallelMin)
  for (std::size_t n = 0; n < g.N; ++n) {
    gemm<T>(true, false, P, K, FN, T(1), dout + n * FN * P, P, W, K, T(0), dcol + n * P * K, K);
    col2im(g1, dcol + n * P * K, dx + n * img);
  }
}

template <class T>
void conv_forward_colt(const ConvGeom& g, const T* x, const T* W, const T* b, std::size_t FN, T* colT, T* out) {
  const std::size_t P = g.out_h() * g.out_w(), K = g.cols(), NP = g.N * P;
  ConvGeom g1 = g;
  g1.N = 1;
  // Fill and multiply one image at a time: its (K, P) block of colT is still
  // in cache for the GEMM. gemm() runs single-threaded inside this region.
#pragma omp parallel for schedule(static) if (g.N > 1 && NP * K >= kParallelMin)
  for (std::size_t n = 0; n < g.N; ++n) {
    T* colT_n = colT + n * P;
    T* out_n = out + n * FN * P;
    im2col_t(g1, x + n * g.C * g.H * g.W, colT_n, NP);
    // out_n starts as the bias and the GEMM adds to it (beta 1): no separate
    // pass to zero C, none to add b.
    for (std::size_t f = 0; f < FN; ++f) std::fill(out_n + f * P, out_n + (f + 1) * P, b[f]);
    gemm<T>(false, false, FN, P, K, T(1), W, K, colT_n, NP, T(1), out_n, P);
  }
}

template <class T>
void conv_backward_data_colt(const ConvGeom& g, const T* dout, const T* W, std::size_t FN, T* dcol,
                             std::size_t slots, T* dx) {
  const std::size_t P = g.out_h() * g.out_w(), K = g.cols(), img = g.C * g.H * g.W;
  ConvGeom g1 = g;
  g1.N = 1;
  const bool par = g.N > 1 && slots > 1 && g.N * P * K >= kParallelMin;
#pragma omp parallel num_threads(int(slots)) if (par)
  {
    // One (K, P) block per thread, reused image after image (stays in cache).
    T* d = dcol + std::size_t(omp_get_thread_num()) * K * P;
#pragma omp for schedule(static)
    for (std::size_t n = 0; n < g.N; ++n) {
      gemm<T>(true, false, K, P, FN, T(1), W, K, dout + n * FN * P, P, T(0), d, P);
      col2im_t(g1, d, P, dx + n * img);
    }
  }
}

template <class T>
void maxpool2_forward(std::size_t N, std::size_t C, std::size_t H, std::size_t W, const T* x, T* out,
                      std::int32_t* arg) {
  const std::size_t oh = (H - 2) / 2 + 1, ow = (W - 2) / 2 + 1;
#pragma omp parallel for schedule(static) if (N * C * H * W >= kParallelMin)
  for (std::size_t nc = 0; nc < N * C; ++nc) {
    const std::size_t base = nc * H * W;
    const T* plane = x + base;
    T* o = out + nc * oh * ow;
    std::int32_t* a = arg + nc * oh * ow;
    for (std::size_t y = 0; y < oh; ++y)
      for (std::size_t xx = 0; xx < ow; ++xx) {
        const std::size_t i0 = 2 * y * W + 2 * xx;
        // Window order (0,0) (0,1) (1,0) (1,1); strict '>' keeps the first max.
        std::size_t bi = i0;
        T best = plane[i0];
        for (std::size_t i : {i0 + 1, i0 + W, i0 + W + 1})
          if (plane[i] > best) best = plane[i], bi = i;
        o[y * ow + xx] = best;
        a[y * ow + xx] = std::int32_t(base + bi);
      }
  }
}

template void conv_forward_image<float>(const ConvGeom&, const float*, const float*, const float*, std::size_t,
                                        float*, float*);
template void conv_forward_image<double>(const ConvGeom&, const double*, const double*, const double*,
                                         std::size_t, double*, double*);
template void conv_forward_per_image<float>(const ConvGeom&, const float*, const float*, const float*,
                                            std::size_t, float*, float*);
template void conv_forward_per_image<double>(const ConvGeom&, const double*, const double*, const double*,
                                             std::size_t, double*, double*);
template void conv_backward_data_per_image<float>(const ConvGeom&, const float*, const float*, std::size_t,
                                                  float*, float*);
template void conv_backward_data_per_image<double>(const ConvGeom&, const double*, const double*, std::size_t,
                                                   double*, double*);
template void maxpool2_forward<float>(std::size_t, std::size_t, std::size_t, std::size_t, const float*, float*,
                                      std::int32_t*);
template void maxpool2_forward<double>(std::size_t, std::size_t, std::size_t, std::size_t, const double*,
                                       double*, std::int32_t*);

template void conv_forward_colt<float>(const ConvGeom&, const float*, const float*, const float*, std::size_t,
                                       float*, float*);
template void conv_forward_colt<double>(const ConvGeom&, const double*, const double*, const double*,
                                        std::size_t, double*, double*);
template void conv_backward_data_colt<float>(const ConvGeom&, const float*, const float*, std::size_t, float*,
                                             std::size_t, float*);
template void conv_backward_data_colt<double>(const ConvGeom&, const double*, const double*, std::size_t,
                                              double*, std::size_t, double*);

}  // namespace convnet::kernels
