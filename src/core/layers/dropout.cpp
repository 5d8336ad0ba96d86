#include "convnet/core/layers/dropout.hpp"

#include <string>

#include "kernels/kernels.hpp"

namespace convnet {

template <class T>
Dropout<T>::Dropout(double ratio, RandomState* rng) : dropout_ratio_(ratio), rng_(rng) {
  if (!(ratio >= 0.0 && ratio < 1.0))  // also refuses NaN
    throw Error("Dropout: dropout_ratio must be in [0, 1), got " + std::to_string(ratio));
}

// book: common/layers.py Dropout.forward
template <class T>
const Tensor<T>& Dropout<T>::forward(const Tensor<T>& x, Mode mode) {
  if (mode == Mode::Train && !rng_)
    throw Error("Dropout: forward in Mode::Train needs a RandomState (constructor or set_random_state)");
  cached_ = Cached::Nothing;  // until this forward has finished
  out_.resize(x.shape(), false);
  if (mode == Mode::Train) {
    // np.random.rand(*x.shape) > dropout_ratio: the draws stay on this
    // thread and in C order, the stream NumPy would consume.
    mask_.resize(x.size());
    const std::size_t rows = x.ndim() ? x.shape(0) : 1, per_row = rows ? x.size() / rows : 0;
    if (share_total_ && share_offset_ + rows > share_total_)
      throw Error("Dropout: rows [" + std::to_string(share_offset_) + ", " + std::to_string(share_offset_ + rows) +
                  ") are not inside the batch of " + std::to_string(share_total_));
    const std::size_t before = share_total_ ? share_offset_ * per_row : 0,
                      after = share_total_ ? (share_total_ - share_offset_ - rows) * per_row : 0;
    for (std::size_t i = 0; i < before; ++i) rng_->random_sample();
    for (std::size_t i = 0; i < mask_.size(); ++i) mask_[i] = rng_->random_sample() > dropout_ratio_;
    for (std::size_t i = 0; i < after; ++i) rng_->random_sample();
    kernels::dropout_apply(x.size(), x.data(), mask_.data(), out_.data());
    cached_ = Cached::Train;
  } else {
    kernels::scale_copy(x.size(), T(1.0 - dropout_ratio_), x.data(), out_.data());
    cached_ = Cached::Eval;
  }
  return out_;
}

// book: common/layers.py Dropout.backward
template <class T>
const Tensor<T>& Dropout<T>::backward(const Tensor<T>& dout) {
  if (cached_ == Cached::Nothing) throw Error("Dropout.backward: called before forward");
  if (cached_ == Cached::Eval)
    throw Error("Dropout.backward: the last forward was Mode::Eval, which keeps no mask; "
                "run forward in Mode::Train first");
  if (dout.shape() != out_.shape())
    throw Error("Dropout.backward: expected dout " + shape_str(out_.shape()) + ", got " +
                shape_str(dout.shape()));
  dx_.resize(out_.shape(), false);
  kernels::dropout_apply(dout.size(), dout.data(), mask_.data(), dx_.data());
  return dx_;
}

template class Dropout<float>;
template class Dropout<double>;

}  // namespace convnet
