#include "convnet/core/layers/pooling.hpp"

#include "kernels/kernels.hpp"
#include "convnet/core/im2col.hpp"

namespace convnet {

template <class T>
Pooling<T>::Pooling(std::size_t ph, std::size_t pw, std::size_t s, std::size_t p)
    : pool_h(ph), pool_w(pw), stride(s), pad(p) {
  if (ph == 0 || pw == 0) throw Error("Pooling: pool size must be >= 1");
  if (s == 0) throw Error("Pooling: stride must be >= 1, got 0");
}

template <class T>
const Tensor<T>& Pooling<T>::forward(const Tensor<T>& x, Mode) {
  if (x.ndim() != 4) throw Error("Pooling: expected an (N, C, H, W) input, got " + shape_str(x.shape()));
  const std::size_t N = x.shape(0), C = x.shape(1), H = x.shape(2), W = x.shape(3);
  const std::size_t oh = conv_output_size(H, pool_h, stride, pad, "Pooling");
  const std::size_t ow = conv_output_size(W, pool_w, stride, pad, "Pooling");
  if (x.size() > std::size_t(INT32_MAX)) throw Error("Pooling: input too large for int32 indices");
  const kernels::ConvGeom g{N, C, H, W, pool_h, pool_w, stride, pad};
  x_shape_ = x.shape();
  x_size_ = x.size();
  out_.resize({N, C, oh, ow}, false);
  arg_max_.resize(out_.size());
  if (pool_h == 2 && pool_w == 2 && stride == 2 && pad == 0)
    kernels::maxpool2_forward(N, C, H, W, x.data(), out_.data(), arg_max_.data());
  else
    kernels::maxpool_forward(g, x.data(), out_.data(), arg_max_.data());
  return out_;
}

template <class T>
const Tensor<T>& Pooling<T>::backward(const Tensor<T>& dout) {
  if (x_shape_.empty()) throw Error("Pooling.backward: called before forward");
  if (dout.shape() != out_.shape())  // the shape: a dout of another batch or layer is refused
    throw Error("Pooling.backward: expected dout " + shape_str(out_.shape()) + ", got " +
                shape_str(dout.shape()));
  dx_.resize(x_shape_, false);
  kernels::maxpool_backward(x_shape_[0] * x_shape_[1], x_size_, out_.size(), dout.data(), arg_max_.data(),
                            dx_.data());
  return dx_;
}

template class Pooling<float>;
template class Pooling<double>;

}  // namespace convnet
