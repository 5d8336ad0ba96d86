// Small elementwise and bias kernels shared by the layers.
#include "kernels.hpp"

namespace convnet::kernels {

// NumPy's pairwise summation of a contiguous run (numpy/core/src/umath/
// loops_utils.h.src): used where the notebook calls np.sum over a row, so a
// float64 run adds in the same order as NumPy.
template <class T>
T pairwise_sum(const T* a, std::size_t n) {
  if (n < 8) {
    T res = T(0);
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    T r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

template <class T>
void relu_forward(std::size_t n, const T* x, T* out) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (std::size_t i = 0; i < n; ++i) out[i] = x[i] <= T(0) ? T(0) : x[i];  // out[x <= 0] = 0
}

template <class T>
void relu_backward(std::size_t n, const T* out, const T* dout, T* dx) {
  // The mask is taken from the output: out <= 0 exactly where x <= 0.
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (std::size_t i = 0; i < n; ++i) dx[i] = out[i] <= T(0) ? T(0) : dout[i];
}

template <class T>
void add_bias_rows(std::size_t N, std::size_t M, const T* b, T* y) {
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = 0; j < M; ++j) y[i * M + j] += b[j];
}

template <class T>
void sum_rows(std::size_t N, std::size_t M, const T* x, T* s) {
  for (std::size_t j = 0; j < M; ++j) s[j] = T(0);
  for (std::size_t i = 0; i < N; ++i)  // row after row, as np.sum(x, axis=0) adds them
    for (std::size_t j = 0; j < M; ++j) s[j] += x[i * M + j];
}

template <class T>
void sum_each_row(std::size_t R, std::size_t L, const T* x, T* s) {
  for (std::size_t r = 0; r < R; ++r) {
    T acc = T(0);
    for (std::size_t i = 0; i < L; ++i) acc += x[r * L + i];
    s[r] = acc;
  }
}

#define CONVNET_INSTANTIATE(T)                                                      \
  template T pairwise_sum<T>(const T*, std::size_t);                                \
  template void relu_forward<T>(std::size_t, const T*, T*);                         \
  template void relu_backward<T>(std::size_t, const T*, const T*, T*);              \
  template void add_bias_rows<T>(std::size_t, std::size_t, const T*, T*);           \
  template void sum_rows<T>(std::size_t, std::size_t, const T*, T*);                \
  template void sum_each_row<T>(std::size_t, std::size_t, const T*, T*);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(double)
#undef CONVNET_INSTANTIATE

}  // namespace convnet::kernels
