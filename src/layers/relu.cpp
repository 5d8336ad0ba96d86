#include "convnet/layers/relu.hpp"

#include "../kernels/kernels.hpp"

namespace convnet {

template <class T>
const Tensor<T>& Relu<T>::forward(const Tensor<T>& x, Mode) {
  out_.resize(x.shape(), false);
  const T* xp = x.data();
  T* o = out_.data();
  const std::size_t n = x.size();
#pragma omp parallel for simd schedule(static) if (n >= kernels::kParallelMin)
  for (std::size_t i = 0; i < n; ++i) o[i] = xp[i] <= T(0) ? T(0) : xp[i];  // out[x <= 0] = 0
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
  const T* o = out_.data();
  const T* d = dout.data();
  T* dx = dx_.data();
  const std::size_t n = out_.size();
#pragma omp parallel for simd schedule(static) if (n >= kernels::kParallelMin)
  for (std::size_t i = 0; i < n; ++i) dx[i] = o[i] <= T(0) ? T(0) : d[i];
  return dx_;
}

template class Relu<float>;
template class Relu<double>;

}  // namespace convnet
