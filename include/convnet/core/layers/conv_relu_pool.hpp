#pragma once
// ConvReluPool: Convolution (stride 1) -> Relu -> Pooling (2x2, stride 2, no
// pad) as one layer, on the direct kernels (src/kernels/conv_direct.cpp)
// — the notebook's Conv1 -> Relu1 -> Pool1 (In [7]-[9]) in one pass, without
// an im2col matrix. An ordinary layer: it owns its padded input, window
// argmax and output, and reports the same parameters ("W", "b") as the
// Convolution it replaces. Tested against the three plain layers.
//
// It computes no dx (the kernel has no input-gradient path): backward
// returns an empty tensor, so it may only stand where the input needs no
// gradient — the first layer, whose input is the data. Sequential's builder
// applies that rule (sequential.hpp), for float and for float64's fast path
// (Kernels::Fast); NumPy-exact float64 runs keep the three plain layers.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "convnet/core/layers/layer.hpp"

namespace convnet {

template <class T>
class ConvReluPool : public Layer<T> {
 public:
  // W (FN, C, FH, FW), b (FN); pad: the convolution's zero padding.
  ConvReluPool(Tensor<T> W, Tensor<T> b, std::size_t pad = 0);
  // x (N, C, H, W) -> out (N, FN, oh/2, ow/2), oh = H + 2*pad - FH + 1.
  // Mode::Eval keeps no argmax: a backward after it throws.
  const Tensor<T>& forward(const Tensor<T>& x, Mode mode = Mode::Train) override;
  // dout (N, FN, oh/2, ow/2) -> dW (FN, C, FH, FW), db (FN); returns an empty dx.
  // Throws unless the last forward was Mode::Train and dout has its output's shape.
  const Tensor<T>& backward(const Tensor<T>& dout) override;
  std::vector<ParamRef<T>> params() override { return {{"W", &W, &dW}, {"b", &b, &db}}; }

  // Whether the geometry suits the direct kernels: stride 1 conv and the
  // 2x2/2 pool with no pad (the caller checks; the layer has no stride).
  static bool supports(std::size_t conv_stride, std::size_t pool_size, std::size_t pool_stride,
                       std::size_t pool_pad) {
    return conv_stride == 1 && pool_size == 2 && pool_stride == 2 && pool_pad == 0;
  }

  Tensor<T> W, b;
  Tensor<T> dW, db;
  std::size_t pad;

 private:
  enum class Cached { Nothing, Eval, Train };  // what the last forward kept
  Cached cached_ = Cached::Nothing;
  std::size_t N_ = 0, Hp_ = 0, Wp_ = 0;       // the last forward's batch and padded size
  Tensor<T> xpad_;                             // (N, padded image + slack), the kernel's input
  Tensor<T> out_;                              // (N, FN, oh/2, ow/2)
  std::vector<std::uint8_t> arg_;              // out's window argmax, 0..3 (dy*2+dx)
  Tensor<T> dx_;                               // always empty
};

}  // namespace convnet
