#pragma once
#include "convnet/core/layers/layer.hpp"

namespace convnet {

// out = max(x, 0); backward passes dout where x > 0 (the book's mask = x <= 0).
template <class T>
class Relu : public Layer<T> {
 public:
  const Tensor<T>& forward(const Tensor<T>& x, Mode mode = Mode::Train) override;
  const Tensor<T>& backward(const Tensor<T>& dout) override;
  const Tensor<T>& out() const { return out_; }

 private:
  Tensor<T> out_, dx_;  // out_ > 0 is the mask: no separate mask buffer
};

}  // namespace convnet
