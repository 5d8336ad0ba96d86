#pragma once
#include <vector>

#include "convnet/core/layers/layer.hpp"

namespace convnet {

// out = x·W + b, x flattened from (N, ...) to (N, D); W (D, M), b (M).
// backward: dx = dout·Wᵀ (in x's original shape), dW = xᵀ·dout, db = Σ dout.
template <class T>
class Affine : public Layer<T> {
 public:
  Affine(Tensor<T> W, Tensor<T> b);
  const Tensor<T>& forward(const Tensor<T>& x, Mode mode = Mode::Train) override;
  const Tensor<T>& backward(const Tensor<T>& dout) override;
  std::vector<ParamRef<T>> params() override { return {{"W", &W, &dW}, {"b", &b, &db}}; }

  Tensor<T> W, b;
  Tensor<T> dW, db;

 private:
  const Tensor<T>* x_ = nullptr;  // the input, as the notebook keeps self.x
  Tensor<T> out_, dx_;
};

}  // namespace convnet
