#include "convnet/core/layers/relu.hpp"

#include "kernels/kernels.hpp"

namespace convnet {

template <class T>
const Tensor<T>& Relu<T>::forward(const Tensor<T>& x, Mode) {
  out_.resize(x.shape(), false);
  kernels::relu_forward(x.size(), x.data(), out_.data());
  return out_;
}

template <class T>
const Tensor<T>& Relu<T>::backward(const Tensor<T>& dout) {
  if (out_.empty()) throw Error("Relu.backward: called before forward");
  // The shape, not just the size: a dout of another batch or layer is refused.
  if (dout.shape() != out_.shape())
    throw Error("Relu.backward: dout shape " + shape_str(dout.shape()) + " does not match out " +
                shape_str(out_.shape()));
  dx_.resize(out_.shape(), false);
  kernels::relu_backward(out_.size(), out_.data(), dout.data(), dx_.data());
  return dx_;
}

template class Relu<float>;
template class Relu<double>;

}  // namespace convnet
