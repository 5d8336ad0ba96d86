#pragma once
#include "convnet/core/layers/layer.hpp"

namespace convnet {

// The book's Sigmoid (common/layers.py): out = 1 / (1 + exp(-x));
// backward dx = dout * (1.0 - out) * out, from the kept output alone.
template <class T>
class Sigmoid : public Layer<T> {
 public:
  const Tensor<T>& forward(const Tensor<T>& x, Mode mode = Mode::Train) override;
  const Tensor<T>& backward(const Tensor<T>& dout) override;
  const Tensor<T>& out() const { return out_; }

 private:
  Tensor<T> out_, dx_;  // out_ is the book's self.out
};

}  // namespace convnet
