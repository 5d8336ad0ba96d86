#include "convnet/core/layers/convolution.hpp"

#include <algorithm>

#include "convnet/core/im2col.hpp"
#include "convnet/core/threads.hpp"
#include "kernels/kernels.hpp"

namespace convnet {

template <class T>
Convolution<T>::Convolution(Tensor<T> W_, Tensor<T> b_, std::size_t stride_, std::size_t pad_)
    : W(std::move(W_)), b(std::move(b_)), stride(stride_), pad(pad_) {
  if (W.ndim() != 4 || b.ndim() != 1 || b.shape(0) != W.shape(0))
    throw Error("Convolution: expected W (FN, C, FH, FW) and b (FN,), got W " + shape_str(W.shape()) +
                " and b " + shape_str(b.shape()));
  if (stride == 0) throw Error("Convolution: stride must be >= 1, got 0");
  dW.resize(W.shape());
  db.resize(b.shape());
}

template <class T>
const Tensor<T>& Convolution<T>::forward(const Tensor<T>& x, Mode) {
  const std::size_t FN = W.shape(0), C = W.shape(1), FH = W.shape(2), FW = W.shape(3);
  if (x.ndim() != 4 || x.shape(1) != C)
    throw Error("Convolution: input " + shape_str(x.shape()) + " does not match W " +
                shape_str(W.shape()) + " (expected (N, " + std::to_string(C) + ", H, W))");
  const std::size_t N = x.shape(0), H = x.shape(2), Wd = x.shape(3);
  const std::size_t oh = conv_output_size(H, FH, stride, pad, "Convolution");
  const std::size_t ow = conv_output_size(Wd, FW, stride, pad, "Convolution");
  const kernels::ConvGeom g{N, C, H, Wd, FH, FW, stride, pad};
  const std::size_t M = g.rows(), K = g.cols(), P = oh * ow;

  x_shape_ = x.shape();
  out_.resize({N, FN, oh, ow}, false);
  if (direct_()) {
    const std::size_t Hp = H + 2 * pad, Wp = Wd + 2 * pad;
    col_.resize({N, kernels::conv_direct_padded_size<T>(C, Hp, Wp, FW)}, false);
    kernels::pad_images(x.data(), N, C, H, Wd, pad, FW, col_.data());
    kernels::conv_wide_forward(col_.data(), N, C, Hp, Wp, W.data(), b.data(), FN, FH, FW, out_.data(), relu_);
    return out_;
  }
  if (algo_ == ConvAlgo::TransposedCol || algo_ == ConvAlgo::Direct) {
    col_.resize({K, M}, false);
    kernels::conv_forward_colt(g, x.data(), W.data(), b.data(), FN, col_.data(), out_.data());
  } else if (algo_ == ConvAlgo::PerImage) {
    col_.resize({M, K}, false);
    kernels::conv_forward_per_image(g, x.data(), W.data(), b.data(), FN, col_.data(), out_.data());
  } else {
    col_.resize({M, K}, false);
    kernels::im2col(g, x.data(), col_.data());
    // np.dot(col, col_W) with col_W = W.reshape(FN, -1).T
    tmp_.resize({M, FN}, false);
    kernels::gemm<T>(false, true, M, FN, K, T(1), col_.data(), K, W.data(), K, T(0), tmp_.data(), FN);
    // + b, then reshape(N, oh, ow, FN).transpose(0, 3, 1, 2)
    kernels::rows_to_nchw_add_bias(N, FN, P, tmp_.data(), b.data(), out_.data());
  }
  if (relu_) kernels::relu_forward(out_.size(), out_.data(), out_.data());
  return out_;
}

template <class T>
const Tensor<T>& Convolution<T>::backward(const Tensor<T>& dout_in) {
  const std::size_t FN = W.shape(0), C = W.shape(1), FH = W.shape(2), FW = W.shape(3);
  if (x_shape_.empty()) throw Error("Convolution.backward: called before forward");
  const kernels::ConvGeom g{x_shape_[0], C, x_shape_[2], x_shape_[3], FH, FW, stride, pad};
  const std::size_t N = g.N, P = g.out_h() * g.out_w(), M = g.rows(), K = g.cols();
  if (dout_in.ndim() != 4 || dout_in.shape(0) != N || dout_in.shape(1) != FN || dout_in.size() != N * FN * P)
    throw Error("Convolution.backward: expected dout " + shape_str({N, FN, g.out_h(), g.out_w()}) +
                ", got " + shape_str(dout_in.shape()));
  if (direct_()) return backward_direct_(dout_in);
  // The fused ReLU's backward, as the Relu layer's, where Direct can't carry it.
  if (relu_) {
    dmask_.resize(out_.shape(), false);
    kernels::relu_backward(out_.size(), out_.data(), dout_in.data(), dmask_.data());
  }
  const Tensor<T>& dout = relu_ ? dmask_ : dout_in;
  if (algo_ == ConvAlgo::PerImage) return backward_per_image_(dout);
  if (algo_ == ConvAlgo::TransposedCol || algo_ == ConvAlgo::Direct) return backward_colt_(dout);
  // dout.transpose(0, 2, 3, 1).reshape(-1, FN)
  tmp_.resize({M, FN}, false);
  const T* t = tmp_.data();
  kernels::nchw_to_rows(N, FN, P, dout.data(), tmp_.data());
  // db = np.sum(dout, axis=0): rows in (n, y, x) order
  kernels::sum_rows(M, FN, t, db.data());
  // dW = (col.T · dout).T reshaped to (FN, C, FH, FW) = doutᵀ · col
  kernels::gemm<T>(true, false, FN, K, M, T(1), t, FN, col_.data(), K, T(0), dW.data(), K);
  if (!compute_dx_) {
    dx_.resize({0}, false);
    return dx_;
  }
  // dcol = dout · col_W.T = dout · W.reshape(FN, -1)
  dcol_.resize({M, K}, false);
  kernels::gemm<T>(false, false, M, K, FN, T(1), t, FN, W.data(), K, T(0), dcol_.data(), K);
  dx_.resize(x_shape_, false);
  kernels::col2im(g, dcol_.data(), dx_.data());
  return dx_;
}

// doutᵀ as (FN, N*P) in tmp_: plane f of every image side by side, columns
// in (n, y, x) order (the rows of col, the columns of colT); and db[f] = the
// sum of row f, in the notebook's row order.
template <class T>
const T* Convolution<T>::channel_major_dout_(const Tensor<T>& dout, std::size_t N, std::size_t FN, std::size_t P) {
  tmp_.resize({FN, N * P}, false);
  kernels::nchw_to_channel_major(N, FN, P, dout.data(), tmp_.data());
  kernels::sum_each_row(FN, N * P, tmp_.data(), db.data());
  return tmp_.data();
}

template <class T>
const Tensor<T>& Convolution<T>::backward_per_image_(const Tensor<T>& dout) {
  const std::size_t FN = W.shape(0), C = W.shape(1), FH = W.shape(2), FW = W.shape(3);
  const kernels::ConvGeom g{x_shape_[0], C, x_shape_[2], x_shape_[3], FH, FW, stride, pad};
  const std::size_t N = g.N, P = g.out_h() * g.out_w(), M = g.rows(), K = g.cols();
  // dW = doutᵀ · col is one GEMM over all N*P rows of col.
  const T* t = channel_major_dout_(dout, N, FN, P);
  kernels::gemm<T>(false, false, FN, K, M, T(1), t, M, col_.data(), K, T(0), dW.data(), K);
  if (!compute_dx_) {
    dx_.resize({0}, false);
    return dx_;
  }
  dcol_.resize({M, K}, false);
  dx_.resize(x_shape_, false);
  kernels::conv_backward_data_per_image(g, dout.data(), W.data(), FN, dcol_.data(), dx_.data());
  return dx_;
}

template <class T>
const Tensor<T>& Convolution<T>::backward_colt_(const Tensor<T>& dout) {
  const std::size_t FN = W.shape(0), C = W.shape(1), FH = W.shape(2), FW = W.shape(3);
  const kernels::ConvGeom g{x_shape_[0], C, x_shape_[2], x_shape_[3], FH, FW, stride, pad};
  const std::size_t N = g.N, P = g.out_h() * g.out_w(), M = g.rows(), K = g.cols();
  const T* t = channel_major_dout_(dout, N, FN, P);
  // dW (FN, K) = doutᵀ (FN, N*P) · colTᵀ (N*P, K): one GEMM over the batch.
  kernels::gemm<T>(false, true, FN, K, M, T(1), t, M, col_.data(), M, T(0), dW.data(), K);
  if (!compute_dx_) {
    dx_.resize({0}, false);
    return dx_;
  }
  // One (K, P) scratch block per thread; resize keeps the capacity.
  const std::size_t slots = std::size_t(std::max(1, num_threads()));
  dcol_.resize({slots, K * P}, false);
  dx_.resize(x_shape_, false);
  kernels::conv_backward_data_colt(g, dout.data(), W.data(), FN, dcol_.data(), slots, dx_.data());
  return dx_;
}

template <class T>
bool Convolution<T>::direct_() const {
  return algo_ == ConvAlgo::Direct && direct_supports(stride, W.shape(2), W.shape(3), pad);
}

template <class T>
const Tensor<T>& Convolution<T>::backward_direct_(const Tensor<T>& dout) {
  const std::size_t FN = W.shape(0), C = W.shape(1), FH = W.shape(2), FW = W.shape(3);
  const std::size_t N = x_shape_[0], H = x_shape_[2], Wd = x_shape_[3];
  const std::size_t Hp = H + 2 * pad, Wp = Wd + 2 * pad, oh = Hp - FH + 1, ow = Wp - FW + 1;
  const T* relu_out = relu_ ? out_.data() : nullptr;
  kernels::conv_wide_backward_weights(col_.data(), N, C, Hp, Wp, dout.data(), FN, FH, FW, dW.data(), db.data(),
                                      relu_out);
  if (!compute_dx_) {
    dx_.resize({0}, false);
    return dx_;
  }
  // dx = dout padded by FH-1-pad, correlated with the flipped filters.
  const std::size_t q = FH - 1 - pad, Dh = oh + 2 * q, Dw = ow + 2 * q;
  wflip_.resize({C, FN, FH, FW}, false);
  kernels::flip_filters(W.data(), FN, C, FH, FW, wflip_.data());
  dcol_.resize({N, kernels::conv_direct_padded_size<T>(FN, Dh, Dw, FW)}, false);
  kernels::pad_images(dout.data(), N, FN, oh, ow, q, FW, dcol_.data(), relu_out);
  dx_.resize(x_shape_, false);
  kernels::conv_wide_forward(dcol_.data(), N, FN, Dh, Dw, wflip_.data(), static_cast<const T*>(nullptr), C, FH, FW,
                             dx_.data());
  return dx_;
}

template class Convolution<float>;
template class Convolution<double>;

}  // namespace convnet
