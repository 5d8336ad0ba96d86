#include "convnet/core/layers/batch_normalization.hpp"

#include <string>

#include "kernels/kernels.hpp"

namespace convnet {

template <class T>
BatchNormalization<T>::BatchNormalization(Tensor<T> gamma_, Tensor<T> beta_, double momentum, bool per_channel)
    : gamma(std::move(gamma_)), beta(std::move(beta_)), momentum_(momentum), per_channel_(per_channel) {
  if (gamma.ndim() != 1 || gamma.empty() || beta.shape() != gamma.shape())
    throw Error("BatchNormalization: expected gamma and beta of the same shape (F,), got gamma " +
                shape_str(gamma.shape()) + " and beta " + shape_str(beta.shape()));
  if (!(momentum >= 0.0 && momentum <= 1.0))  // also refuses NaN
    throw Error("BatchNormalization: momentum must be in [0, 1], got " + std::to_string(momentum));
  dgamma.resize(gamma.shape());
  dbeta.resize(beta.shape());
  // The book starts them at np.zeros(D) on the first forward.
  running_mean.resize(gamma.shape());
  running_var.resize(gamma.shape());
}

// book: common/layers.py BatchNormalization.forward / __forward
template <class T>
const Tensor<T>& BatchNormalization<T>::forward(const Tensor<T>& x, Mode mode) {
  const std::size_t F = gamma.size();
  const std::size_t N = x.ndim() ? x.shape(0) : 0;
  std::size_t C = 0, P = 0;
  if (per_channel_) {
    if (x.ndim() != 4 || N == 0 || x.shape(1) != F)
      throw Error("BatchNormalization (per channel): input " + shape_str(x.shape()) + " does not match gamma " +
                  shape_str(gamma.shape()) + " (expected (N, " + std::to_string(F) + ", H, W))");
    C = F, P = x.shape(2) * x.shape(3);
  } else {
    // x.reshape(N, -1) for a 4-D input: the C*H*W values are the features.
    if ((x.ndim() != 2 && x.ndim() != 4) || N == 0 || x.size() != N * F)
      throw Error("BatchNormalization: input " + shape_str(x.shape()) + " does not match gamma " +
                  shape_str(gamma.shape()) + " (expected (N, " + std::to_string(F) +
                  ") or (N, C, H, W) with C*H*W = " + std::to_string(F) + ")");
    C = F, P = 1;
  }
  if (P == 0) throw Error("BatchNormalization: input " + shape_str(x.shape()) + " has empty planes");
  cached_ = Cached::Nothing;  // until this forward has finished
  out_.resize(x.shape(), false);
  if (mode == Mode::Train) {
    xc_.resize(x.shape(), false);
    xn_.resize(x.shape(), false);
    std_.resize({C}, false);
    kernels::batchnorm_forward_train(N, C, P, x.data(), gamma.data(), beta.data(), T(eps), T(momentum_),
                                     T(1 - momentum_), running_mean.data(), running_var.data(), xc_.data(),
                                     xn_.data(), std_.data(), out_.data());
    N_ = N, C_ = C, P_ = P;
    cached_ = Cached::Train;
  } else {
    kernels::batchnorm_forward_eval(N, C, P, x.data(), gamma.data(), beta.data(), T(eps), running_mean.data(),
                                    running_var.data(), out_.data());
    cached_ = Cached::Eval;
  }
  return out_;
}

// book: common/layers.py BatchNormalization.backward / __backward
template <class T>
const Tensor<T>& BatchNormalization<T>::backward(const Tensor<T>& dout) {
  if (cached_ == Cached::Nothing) throw Error("BatchNormalization.backward: called before forward");
  if (cached_ == Cached::Eval)
    throw Error("BatchNormalization.backward: the last forward was Mode::Eval, which keeps no batch "
                "statistics; run forward in Mode::Train first");
  if (dout.shape() != xc_.shape())
    throw Error("BatchNormalization.backward: expected dout " + shape_str(xc_.shape()) + ", got " +
                shape_str(dout.shape()));
  dx_.resize(xc_.shape(), false);
  kernels::batchnorm_backward(N_, C_, P_, dout.data(), gamma.data(), xc_.data(), xn_.data(), std_.data(),
                              dgamma.data(), dbeta.data(), dx_.data());
  return dx_;
}

template class BatchNormalization<float>;
template class BatchNormalization<double>;

}  // namespace convnet
