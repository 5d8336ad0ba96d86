#pragma once
#include <cstdint>
#include <vector>

#include "convnet/core/tensor.hpp"

namespace convnet {

// The last layer: softmax, then cross-entropy against integer labels or
// one-hot rows. Loss = -Σ log(y[i, t_i] + 1e-7) / N, as the book's
// cross_entropy_error; backward gives (y - t) / N.
template <class T>
class SoftmaxWithLoss {
 public:
  T forward(const Tensor<T>& x, const std::vector<std::int32_t>& t);
  T forward(const Tensor<T>& x, const Tensor<T>& t_one_hot);
  const Tensor<T>& backward(T dout = T(1));
  const Tensor<T>& y() const { return y_; }
  T loss() const { return loss_; }

 private:
  void softmax_(const Tensor<T>& x);
  Tensor<T> y_, dx_, t_one_hot_;
  std::vector<std::int32_t> t_;
  bool one_hot_ = false;
  T loss_ = T(0);
};

// Row-wise numerically stable softmax of (N, M) scores (x - max first).
template <class T>
void softmax(const Tensor<T>& x, Tensor<T>& y);

}  // namespace convnet
