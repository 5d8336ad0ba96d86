#pragma once
#include <cstddef>
#include <vector>

#include "convnet/layers/layer.hpp"

namespace convnet {

// Convolution by im2col + one GEMM, notebook In [7].
// W (FN, C, FH, FW), b (FN); x (N, C, H, W) -> out (N, FN, out_h, out_w).
template <class T>
class Convolution : public Layer<T> {
 public:
  Convolution(Tensor<T> W, Tensor<T> b, std::size_t stride = 1, std::size_t pad = 0);
  const Tensor<T>& forward(const Tensor<T>& x, Mode mode = Mode::Train) override;
  const Tensor<T>& backward(const Tensor<T>& dout) override;
  std::vector<ParamRef<T>> params() override { return {{"W", &W, &dW}, {"b", &b, &db}}; }

  // The first layer's input (the data) needs no gradient: skipping dx saves
  // a GEMM and a col2im per step. backward then returns an empty tensor.
  void set_compute_dx(bool on) { compute_dx_ = on; }

  Tensor<T> W, b;
  Tensor<T> dW, db;
  std::size_t stride, pad;
  const Tensor<T>& col() const { return col_; }

 private:
  std::vector<std::size_t> x_shape_;
  Tensor<T> col_;     // im2col(x): (N*oh*ow, C*FH*FW), kept for dW
  Tensor<T> tmp_;     // (N*oh*ow, FN): GEMM output / transposed dout
  Tensor<T> dcol_;    // (N*oh*ow, C*FH*FW)
  Tensor<T> out_, dx_;
  bool compute_dx_ = true;
};

}  // namespace convnet
