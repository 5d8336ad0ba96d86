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

}  // namespace convnet::kernels
