#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "convnet/core/layers/layer.hpp"

namespace convnet {

// Max pooling, notebook In [8]: each output is the max of its window; the
// gradient goes back to the argmax (the first one on ties, as np.argmax).
// Padding (if any) is zeros, like im2col's np.pad; the notebook computes
// out_h without pad, which only works for pad = 0 — here pad is counted.
template <class T>
class Pooling : public Layer<T> {
 public:
  Pooling(std::size_t pool_h, std::size_t pool_w, std::size_t stride = 1, std::size_t pad = 0);
  const Tensor<T>& forward(const Tensor<T>& x, Mode mode = Mode::Train) override;
  const Tensor<T>& backward(const Tensor<T>& dout) override;

  std::size_t pool_h, pool_w, stride, pad;
  const std::vector<std::int32_t>& arg_max() const { return arg_max_; }

 private:
  std::vector<std::size_t> x_shape_;
  std::size_t x_size_ = 0;
  std::vector<std::int32_t> arg_max_;
  Tensor<T> out_, dx_;
};

}  // namespace convnet
