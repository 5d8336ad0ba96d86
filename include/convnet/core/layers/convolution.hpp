#pragma once
#include <cstddef>
#include <type_traits>
#include <vector>

#include "convnet/core/layers/layer.hpp"

namespace convnet {

// How Convolution computes (all three are im2col + GEMM):
//  - Reference: the notebook's In [7] literally — one im2col of the whole
//    batch, one GEMM, a transpose to NCHW; backward through the transposed dout.
//  - PerImage: the same products blocked by image (im2col and GEMM per image,
//    output straight into NCHW, images in parallel); dW as one GEMM.
//  - TransposedCol: col stored transposed, (C*FH*FW, N*oh*ow), filled by
//    whole shifted rows (no per-pixel bounds checks); out_n = W · colT_n per
//    image, dW = doutᵀ · colTᵀ as one GEMM, dx per image through Wᵀ · dout_n.
//  - Direct: no im2col matrix. Each output row is computed as
//    wide as the zero-padded input, so every tap reads one contiguous run
//    (src/kernels/conv_direct.cpp); dx is the same kernel on the padded dout
//    with flipped filters, dW a correlation of dout with the padded input.
//    It covers stride 1, square filters and pad < FH; other shapes run
//    TransposedCol.
// Tests hold every algorithm to Reference. float defaults to Direct; double
// to Reference, whose operation order the NumPy-exact runs rely on (a
// network built with Kernels::Fast sets Direct in both).
enum class ConvAlgo { Reference, PerImage, TransposedCol, Direct };

// Convolution by im2col + GEMM, notebook In [7].
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
  // Convolution -> Relu as one layer: forward returns relu(conv(x)) and
  // backward takes the gradient of that output. With Direct the ReLU rides
  // on the kernels' copies (the output's, and dout's into dW's and dx's
  // scratch), so neither pass goes over memory again; other algorithms apply
  // it as the Relu layer does. Same values as Convolution then Relu.
  void set_fused_relu(bool on) { relu_ = on; }
  bool fused_relu() const { return relu_; }
  // Whether Direct computes this geometry (stride 1, square filters, pad < FH);
  // TransposedCol runs the others.
  static bool direct_supports(std::size_t stride, std::size_t FH, std::size_t FW, std::size_t pad) {
    return stride == 1 && FH == FW && pad < FH;
  }
  void set_algorithm(ConvAlgo a) { algo_ = a; }
  ConvAlgo algorithm() const { return algo_; }

  Tensor<T> W, b;
  Tensor<T> dW, db;
  std::size_t stride, pad;
  // The last forward's im2col: (N*oh*ow, C*FH*FW) for Reference and
  // PerImage, its transpose (C*FH*FW, N*oh*ow) for TransposedCol; for Direct
  // the zero-padded input (N, kernels' padded size).
  const Tensor<T>& col() const { return col_; }

 private:
  const Tensor<T>& backward_per_image_(const Tensor<T>& dout);
  const T* channel_major_dout_(const Tensor<T>& dout, std::size_t N, std::size_t FN, std::size_t P);
  const Tensor<T>& backward_colt_(const Tensor<T>& dout);
  bool direct_() const;  // Direct chosen and applicable to this layer
  const Tensor<T>& backward_direct_(const Tensor<T>& dout);
  std::vector<std::size_t> x_shape_;
  Tensor<T> col_;     // im2col(x): (N*oh*ow, C*FH*FW), or its transpose; kept for dW
  Tensor<T> tmp_;     // Reference: (N*oh*ow, FN) GEMM output / dout; PerImage: doutᵀ (FN, N*oh*ow)
  Tensor<T> dcol_;    // (N*oh*ow, C*FH*FW); TransposedCol: (threads, C*FH*FW * oh*ow)
  Tensor<T> out_, dx_;
  Tensor<T> wflip_;   // Direct: the flipped, transposed filters for dx
  Tensor<T> dmask_;   // fused ReLU, other than Direct: dout through the ReLU
  bool compute_dx_ = true;
  bool relu_ = false;
  ConvAlgo algo_ = std::is_same_v<T, double> ? ConvAlgo::Reference : ConvAlgo::Direct;
};

}  // namespace convnet
