#include "convnet/core/layers/affine.hpp"

#include "kernels/kernels.hpp"

namespace convnet {

template <class T>
Affine<T>::Affine(Tensor<T> W_, Tensor<T> b_) : W(std::move(W_)), b(std::move(b_)) {
  if (W.ndim() != 2 || b.ndim() != 1 || b.shape(0) != W.shape(1))
    throw Error("Affine: expected W (D, M) and b (M,), got W " + shape_str(W.shape()) + " and b " +
                shape_str(b.shape()));
  dW.resize(W.shape());
  db.resize(b.shape());
}

template <class T>
const Tensor<T>& Affine<T>::forward(const Tensor<T>& x, Mode) {
  const std::size_t D = W.shape(0), M = W.shape(1);
  const std::size_t N = x.ndim() ? x.shape(0) : 0;
  if (N == 0 || x.size() != N * D)
    throw Error("Affine: input " + shape_str(x.shape()) + " does not flatten to (N, " +
                std::to_string(D) + ") for W " + shape_str(W.shape()));
  x_ = &x;
  out_.resize({N, M}, false);
  // out = np.dot(x, W) + b
  kernels::gemm<T>(false, false, N, M, D, T(1), x.data(), D, W.data(), M, T(0), out_.data(), M);
  kernels::add_bias_rows(N, M, b.data(), out_.data());
  return out_;
}

template <class T>
const Tensor<T>& Affine<T>::backward(const Tensor<T>& dout) {
  const std::size_t D = W.shape(0), M = W.shape(1);
  if (!x_) throw Error("Affine.backward: called before forward");
  const std::size_t N = x_->shape(0);
  if (dout.size() != N * M)
    throw Error("Affine.backward: expected dout (" + std::to_string(N) + ", " + std::to_string(M) +
                "), got " + shape_str(dout.shape()));
  dx_.resize(x_->shape(), false);  // dx in x's original shape
  kernels::gemm<T>(false, true, N, D, M, T(1), dout.data(), M, W.data(), M, T(0), dx_.data(), D);
  kernels::gemm<T>(true, false, D, M, N, T(1), x_->data(), D, dout.data(), M, T(0), dW.data(), M);
  kernels::sum_rows(N, M, dout.data(), db.data());  // db = np.sum(dout, axis=0)
  return dx_;
}

template class Affine<float>;
template class Affine<double>;

}  // namespace convnet
