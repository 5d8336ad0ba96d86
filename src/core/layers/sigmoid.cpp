#include "convnet/core/layers/sigmoid.hpp"

#include "kernels/kernels.hpp"

namespace convnet {

// book: common/layers.py Sigmoid.forward
template <class T>
const Tensor<T>& Sigmoid<T>::forward(const Tensor<T>& x, Mode) {
  out_.resize(x.shape(), false);
  kernels::sigmoid_forward(x.size(), x.data(), out_.data());
  return out_;
}

// book: common/layers.py Sigmoid.backward
template <class T>
const Tensor<T>& Sigmoid<T>::backward(const Tensor<T>& dout) {
  if (out_.empty()) throw Error("Sigmoid.backward: called before forward");
  if (dout.shape() != out_.shape())
    throw Error("Sigmoid.backward: dout shape " + shape_str(dout.shape()) + " does not match out " +
                shape_str(out_.shape()));
  dx_.resize(out_.shape(), false);
  kernels::sigmoid_backward(out_.size(), out_.data(), dout.data(), dx_.data());
  return dx_;
}

template class Sigmoid<float>;
template class Sigmoid<double>;

}  // namespace convnet
