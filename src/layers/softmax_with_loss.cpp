#include "convnet/layers/softmax_with_loss.hpp"

#include <cmath>
#include <string>

#include "../kernels/kernels.hpp"

namespace convnet {

template <class T>
void softmax(const Tensor<T>& x, Tensor<T>& y) {
  if (x.ndim() != 2) throw Error("softmax: expected (N, M) scores, got " + shape_str(x.shape()));
  const std::size_t N = x.shape(0), M = x.shape(1);
  y.resize(x.shape(), false);
  for (std::size_t i = 0; i < N; ++i) {
    const T* xi = x.data() + i * M;
    T* yi = y.data() + i * M;
    T mx = xi[0];
    for (std::size_t j = 1; j < M; ++j) mx = xi[j] > mx ? xi[j] : mx;
    T sum = T(0);
    for (std::size_t j = 0; j < M; ++j) sum += (yi[j] = std::exp(xi[j] - mx));  // x - max: no overflow
    for (std::size_t j = 0; j < M; ++j) yi[j] /= sum;
  }
}

template <class T>
void SoftmaxWithLoss<T>::softmax_(const Tensor<T>& x) {
  softmax(x, y_);
}

template <class T>
T SoftmaxWithLoss<T>::forward(const Tensor<T>& x, const std::vector<std::int32_t>& t) {
  if (x.ndim() != 2 || x.shape(0) != t.size())
    throw Error("SoftmaxWithLoss: " + std::to_string(t.size()) + " labels for scores of shape " +
                shape_str(x.shape()) + " (expected one label per row)");
  const std::size_t N = x.shape(0), M = x.shape(1);
  for (std::size_t i = 0; i < N; ++i)
    if (t[i] < 0 || std::size_t(t[i]) >= M)
      throw Error("SoftmaxWithLoss: label " + std::to_string(t[i]) + " at row " + std::to_string(i) +
                  " is outside 0.." + std::to_string(M - 1));
  softmax_(x);
  t_ = t;
  one_hot_ = false;
  // -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size
  dx_.resize({N}, false);  // scratch for the N log terms, reused as dx later
  for (std::size_t i = 0; i < N; ++i) dx_[i] = std::log(y_[i * M + std::size_t(t[i])] + T(1e-7));
  loss_ = -kernels::pairwise_sum(dx_.data(), N) / T(N);
  return loss_;
}

template <class T>
T SoftmaxWithLoss<T>::forward(const Tensor<T>& x, const Tensor<T>& t) {
  if (x.ndim() != 2 || t.shape() != x.shape())
    throw Error("SoftmaxWithLoss: one-hot labels of shape " + shape_str(t.shape()) +
                " for scores of shape " + shape_str(x.shape()) + " (expected the same shape)");
  const std::size_t N = x.shape(0), M = x.shape(1);
  // cross_entropy_error turns one-hot rows into t.argmax(axis=1).
  std::vector<std::int32_t> labels(N);
  for (std::size_t i = 0; i < N; ++i) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < M; ++j)
      if (t[i * M + j] > t[i * M + best]) best = j;
    labels[i] = std::int32_t(best);
  }
  forward(x, labels);
  t_one_hot_ = t;
  one_hot_ = true;
  return loss_;
}

template <class T>
const Tensor<T>& SoftmaxWithLoss<T>::backward(T dout) {
  if (y_.empty()) throw Error("SoftmaxWithLoss.backward: called before forward");
  const std::size_t N = y_.shape(0), M = y_.shape(1);
  dx_.resize(y_.shape(), false);
  const T bs = T(N);
  if (one_hot_) {
    for (std::size_t i = 0; i < N * M; ++i) dx_[i] = (y_[i] - t_one_hot_[i]) / bs;  // (y - t) / N
  } else {
    for (std::size_t i = 0; i < N * M; ++i) dx_[i] = y_[i];
    for (std::size_t i = 0; i < N; ++i) dx_[i * M + std::size_t(t_[i])] -= T(1);
    for (std::size_t i = 0; i < N * M; ++i) dx_[i] /= bs;
  }
  if (dout != T(1))
    for (std::size_t i = 0; i < N * M; ++i) dx_[i] *= dout;
  return dx_;
}

template class SoftmaxWithLoss<float>;
template class SoftmaxWithLoss<double>;
template void softmax<float>(const Tensor<float>&, Tensor<float>&);
template void softmax<double>(const Tensor<double>&, Tensor<double>&);

}  // namespace convnet
