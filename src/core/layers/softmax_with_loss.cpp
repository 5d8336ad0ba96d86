#include "convnet/core/layers/softmax_with_loss.hpp"

#include <string>

#include "kernels/kernels.hpp"

namespace convnet {

template <class T>
void softmax(const Tensor<T>& x, Tensor<T>& y) {
  if (x.ndim() != 2) throw Error("softmax: expected (N, M) scores, got " + shape_str(x.shape()));
  const std::size_t N = x.shape(0), M = x.shape(1);
  y.resize(x.shape(), false);
  kernels::softmax_rows(N, M, x.data(), y.data());
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
  loss_ = kernels::cross_entropy(N, M, y_.data(), t.data(), dx_.data());
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
  kernels::argmax_rows(N, M, t.data(), labels.data());
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
  if (one_hot_)
    kernels::softmax_cross_entropy_backward_one_hot(N, M, y_.data(), t_one_hot_.data(), dout, dx_.data());
  else
    kernels::softmax_cross_entropy_backward(N, M, y_.data(), t_.data(), dout, dx_.data());
  return dx_;
}

template class SoftmaxWithLoss<float>;
template class SoftmaxWithLoss<double>;
template void softmax<float>(const Tensor<float>&, Tensor<float>&);
template void softmax<double>(const Tensor<double>&, Tensor<double>&);

}  // namespace convnet
