// Layout changes between NCHW tensors and the (rows, channels) matrices the
// im2col GEMMs produce and consume — the notebook's reshape + transpose pairs
// in Convolution (In [7]), done as one pass each.
#include <algorithm>

#include "kernels.hpp"

namespace convnet::kernels {

template <class T>
void rows_to_nchw_add_bias(std::size_t N, std::size_t F, std::size_t P, const T* rows, const T* b, T* out) {
#pragma omp parallel for schedule(static) if (N * F * P >= kParallelMin)
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t f = 0; f < F; ++f)
      for (std::size_t p = 0; p < P; ++p) out[(n * F + f) * P + p] = rows[(n * P + p) * F + f] + b[f];
}

template <class T>
void nchw_to_rows(std::size_t N, std::size_t F, std::size_t P, const T* x, T* rows) {
#pragma omp parallel for schedule(static) if (N * F * P >= kParallelMin)
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t f = 0; f < F; ++f)
      for (std::size_t p = 0; p < P; ++p) rows[(n * P + p) * F + f] = x[(n * F + f) * P + p];
}

template <class T>
void nchw_to_channel_major(std::size_t N, std::size_t F, std::size_t P, const T* x, T* y) {
  const std::size_t M = N * P;
#pragma omp parallel for schedule(static) if (M * F >= kParallelMin)
  for (std::size_t f = 0; f < F; ++f)
    for (std::size_t n = 0; n < N; ++n) std::copy_n(x + (n * F + f) * P, P, y + f * M + n * P);
}

#define CONVNET_INSTANTIATE(T)                                                                           \
  template void rows_to_nchw_add_bias<T>(std::size_t, std::size_t, std::size_t, const T*, const T*, T*); \
  template void nchw_to_rows<T>(std::size_t, std::size_t, std::size_t, const T*, T*);                    \
  template void nchw_to_channel_major<T>(std::size_t, std::size_t, std::size_t, const T*, T*);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(double)
#undef CONVNET_INSTANTIATE

}  // namespace convnet::kernels
