#include "convnet/core/layers/conv_relu_pool.hpp"

#include "kernels/kernels.hpp"

namespace convnet {

template <class T>
ConvReluPool<T>::ConvReluPool(Tensor<T> W_, Tensor<T> b_, std::size_t pad_)
    : W(std::move(W_)), b(std::move(b_)), pad(pad_) {
  if (W.ndim() != 4 || b.ndim() != 1 || b.shape(0) != W.shape(0))
    throw Error("ConvReluPool: expected W (FN, C, FH, FW) and b (FN,), got W " + shape_str(W.shape()) +
                " and b " + shape_str(b.shape()));
  dW.resize(W.shape());
  db.resize(b.shape());
  dx_.resize({0});
}

// x (N,C,H,W) -> xpad_ (N, C*Hp*Wp + slack) -> out (N,FN,oh/2,ow/2), arg_ (same, Train only)
template <class T>
const Tensor<T>& ConvReluPool<T>::forward(const Tensor<T>& x, Mode mode) {
  const std::size_t FN = W.shape(0), C = W.shape(1), FH = W.shape(2), FW = W.shape(3);
  if (x.ndim() != 4 || x.shape(0) == 0 || x.shape(1) != C)
    throw Error("ConvReluPool: input " + shape_str(x.shape()) + " does not match W " + shape_str(W.shape()) +
                " (expected (N, " + std::to_string(C) + ", H, W))");
  const std::size_t N = x.shape(0), H = x.shape(2), Wd = x.shape(3), Hp = H + 2 * pad, Wp = Wd + 2 * pad;
  if (FH > Hp || FW > Wp || Hp - FH + 1 < 2 || Wp - FW + 1 < 2)
    throw Error("ConvReluPool: a " + std::to_string(FH) + "x" + std::to_string(FW) + " filter on " +
                std::to_string(H) + "x" + std::to_string(Wd) + " images padded by " + std::to_string(pad) +
                " leaves no 2x2 pooling window; expected a convolution output of at least 2x2");
  const std::size_t oh = Hp - FH + 1, ow = Wp - FW + 1;
  cached_ = Cached::Nothing;  // until this forward has finished
  xpad_.resize({N, kernels::conv_direct_padded_size<T>(C, Hp, Wp, FW)}, false);
  kernels::pad_images(x.data(), N, C, H, Wd, pad, FW, xpad_.data());
  out_.resize({N, FN, oh / 2, ow / 2}, false);
  const bool train = mode == Mode::Train;
  if (train) arg_.resize(out_.size());
  kernels::conv_relu_pool2_direct(xpad_.data(), N, C, Hp, Wp, W.data(), b.data(), FN, FH, FW, out_.data(),
                                  train ? arg_.data() : nullptr);
  N_ = N;
  Hp_ = Hp;
  Wp_ = Wp;
  cached_ = train ? Cached::Train : Cached::Eval;
  return out_;
}

// dout (N,FN,oh/2,ow/2) -> dW (FN,C,FH,FW), db (FN): the ReLU mask is out > 0,
// the pool's gradient goes to arg_; dx is not computed (empty).
template <class T>
const Tensor<T>& ConvReluPool<T>::backward(const Tensor<T>& dout) {
  if (cached_ == Cached::Nothing) throw Error("ConvReluPool.backward: called before forward");
  if (cached_ == Cached::Eval)
    throw Error("ConvReluPool.backward: the last forward was Mode::Eval, which keeps no argmax; "
                "run forward in Mode::Train first");
  if (dout.shape() != out_.shape())
    throw Error("ConvReluPool.backward: expected dout " + shape_str(out_.shape()) + ", got " +
                shape_str(dout.shape()));
  const std::size_t FN = W.shape(0), C = W.shape(1), FH = W.shape(2), FW = W.shape(3);
  kernels::conv_relu_pool2_direct_backward(xpad_.data(), N_, C, Hp_, Wp_, FN, FH, FW, out_.data(), arg_.data(),
                                           dout.data(), dW.data(), db.data());
  return dx_;
}

template class ConvReluPool<float>;
template class ConvReluPool<double>;

}  // namespace convnet
