// Softmax and the cross-entropy loss of SoftmaxWithLoss, row by row.
#include <cmath>

#include "kernels.hpp"

namespace convnet::kernels {

template <class T>
void softmax_rows(std::size_t N, std::size_t M, const T* x, T* y) {
  for (std::size_t i = 0; i < N; ++i) {
    const T* xi = x + i * M;
    T* yi = y + i * M;
    T mx = xi[0];
    for (std::size_t j = 1; j < M; ++j) mx = xi[j] > mx ? xi[j] : mx;
    T sum = T(0);
    for (std::size_t j = 0; j < M; ++j) sum += (yi[j] = std::exp(xi[j] - mx));  // x - max: no overflow
    for (std::size_t j = 0; j < M; ++j) yi[j] /= sum;
  }
}

template <class T>
T cross_entropy(std::size_t N, std::size_t M, const T* y, const std::int32_t* t, T* scratch) {
  for (std::size_t i = 0; i < N; ++i) scratch[i] = std::log(y[i * M + std::size_t(t[i])] + T(1e-7));
  return -pairwise_sum(scratch, N) / T(N);  // np.sum's order
}

template <class T>
void softmax_cross_entropy_backward(std::size_t N, std::size_t M, const T* y, const std::int32_t* t, T dout,
                                    T* dx) {
  // The book's order: dx = y.copy(); dx[arange, t] -= 1; dx /= batch_size.
  const T bs = T(N);
  for (std::size_t i = 0; i < N * M; ++i) dx[i] = y[i];
  for (std::size_t i = 0; i < N; ++i) dx[i * M + std::size_t(t[i])] -= T(1);
  for (std::size_t i = 0; i < N * M; ++i) dx[i] /= bs;
  if (dout != T(1))
    for (std::size_t i = 0; i < N * M; ++i) dx[i] *= dout;
}

template <class T>
void softmax_cross_entropy_backward_one_hot(std::size_t N, std::size_t M, const T* y, const T* t, T dout, T* dx) {
  const T bs = T(N);
  for (std::size_t i = 0; i < N * M; ++i) dx[i] = (y[i] - t[i]) / bs;  // (y - t) / batch_size
  if (dout != T(1))
    for (std::size_t i = 0; i < N * M; ++i) dx[i] *= dout;
}

#define CONVNET_INSTANTIATE(T)                                                                                \
  template void softmax_rows<T>(std::size_t, std::size_t, const T*, T*);                                      \
  template T cross_entropy<T>(std::size_t, std::size_t, const T*, const std::int32_t*, T*);                   \
  template void softmax_cross_entropy_backward<T>(std::size_t, std::size_t, const T*, const std::int32_t*, T, \
                                                  T*);                                                        \
  template void softmax_cross_entropy_backward_one_hot<T>(std::size_t, std::size_t, const T*, const T*, T, T*);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(double)
#undef CONVNET_INSTANTIATE

}  // namespace convnet::kernels
