// The book's Sigmoid and Dropout (common/layers.py): elementwise kernels.
#include <cmath>

#include "kernels.hpp"

namespace convnet::kernels {

template <class T>
void sigmoid_forward(std::size_t n, const T* x, T* out) {
  // book: common/functions.py sigmoid; exp(-x) = inf for very negative x gives 0, not NaN
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (std::size_t i = 0; i < n; ++i) out[i] = T(1) / (T(1) + std::exp(-x[i]));
}

template <class T>
void sigmoid_backward(std::size_t n, const T* out, const T* dout, T* dx) {
  // The book's order: (dout * (1.0 - out)) * out.
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (std::size_t i = 0; i < n; ++i) dx[i] = dout[i] * (T(1) - out[i]) * out[i];
}

template <class T>
void dropout_apply(std::size_t n, const T* x, const std::uint8_t* mask, T* out) {
  // A multiplication, as NumPy's x * mask: -x * 0 = -0 and NaN * 0 = NaN stay so.
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (std::size_t i = 0; i < n; ++i) out[i] = x[i] * T(mask[i]);
}

template <class T>
void scale_copy(std::size_t n, T scale, const T* x, T* out) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (std::size_t i = 0; i < n; ++i) out[i] = x[i] * scale;
}

#define CONVNET_INSTANTIATE(T)                                                               \
  template void sigmoid_forward<T>(std::size_t, const T*, T*);                               \
  template void sigmoid_backward<T>(std::size_t, const T*, const T*, T*);                    \
  template void dropout_apply<T>(std::size_t, const T*, const std::uint8_t*, T*);            \
  template void scale_copy<T>(std::size_t, T, const T*, T*);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(double)
#undef CONVNET_INSTANTIATE

}  // namespace convnet::kernels
