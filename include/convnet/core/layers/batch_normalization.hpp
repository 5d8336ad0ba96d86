#pragma once
#include <string>
#include <utility>
#include <vector>

#include "convnet/core/layers/layer.hpp"

namespace convnet {

// The book's BatchNormalization (common/layers.py), eps = 10e-7 (sic: 1e-6).
//   Train: mu = mean(x), xc = x - mu, var = mean(xc**2), std = sqrt(var + eps),
//          xn = xc / std, out = gamma * xn + beta;
//          running_mean = momentum * running_mean + (1 - momentum) * mu, and
//          running_var the same with var (the biased variance).
//   Eval:  out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta.
//   backward: the book's __backward (dgamma, dbeta kept in the layer).
// Two forms:
//   per_channel = false (the book's): x (N, D), or (N, C, H, W) seen as
//     (N, C*H*W); every one of the D values is a feature: gamma, beta and the
//     running statistics have D values, the means run over N.
//   per_channel = true (PyTorch's BatchNorm2d): x (N, C, H, W); one feature
//     per channel (gamma etc. of C values), means over N*H*W, and the
//     backward's batch_size is N*H*W. running_var stays the biased variance,
//     as the book keeps it (PyTorch stores the unbiased one).
// running_mean and running_var start as zeros (the book creates them lazily
// at the first forward; here at construction, sized from gamma) and are the
// layer's buffers(): saved with a model, not trained.
template <class T>
class BatchNormalization : public Layer<T> {
 public:
  static constexpr double eps = 10e-7;  // the book's literal

  // gamma, beta (F,) with F the feature count (D or C); 0 <= momentum <= 1.
  BatchNormalization(Tensor<T> gamma, Tensor<T> beta, double momentum = 0.9, bool per_channel = false);
  // Throws when x's feature count is not gamma's size (or x is not 2-D/4-D).
  const Tensor<T>& forward(const Tensor<T>& x, Mode mode = Mode::Train) override;
  // Throws unless the last forward was Mode::Train and dout has its output's shape.
  const Tensor<T>& backward(const Tensor<T>& dout) override;
  std::vector<ParamRef<T>> params() override { return {{"gamma", &gamma, &dgamma}, {"beta", &beta, &dbeta}}; }
  std::vector<std::pair<std::string, Tensor<T>*>> buffers() override {
    return {{"running_mean", &running_mean}, {"running_var", &running_var}};
  }

  double momentum() const { return momentum_; }
  bool per_channel() const { return per_channel_; }
  // What the last Train forward kept for backward (the book's self.xc, self.xn, self.std).
  const Tensor<T>& xc() const { return xc_; }
  const Tensor<T>& xn() const { return xn_; }
  const Tensor<T>& std_dev() const { return std_; }

  Tensor<T> gamma, beta;
  Tensor<T> dgamma, dbeta;
  Tensor<T> running_mean, running_var;

 private:
  double momentum_;
  bool per_channel_;
  enum class Cached { Nothing, Train, Eval } cached_ = Cached::Nothing;
  std::size_t N_ = 0, C_ = 0, P_ = 0;  // x seen as (N, C, P): P = 1 in the book's form, H*W per channel
  Tensor<T> xc_, xn_, std_, out_, dx_;
};

}  // namespace convnet
