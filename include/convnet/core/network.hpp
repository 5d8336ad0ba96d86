#pragma once
// Network<T>: the one interface the trainer, model files, checkpoints,
// evaluation and prediction use (DESIGN.md §1) — the notebook's network
// object: predict, loss, accuracy, gradient, params.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "convnet/core/architecture.hpp"
#include "convnet/core/layers/layer.hpp"

namespace convnet {

template <class T>
class Network {
 public:
  virtual ~Network() = default;

  // Scores (N, classes) before softmax, owned by the network. Mode::Eval:
  // no backward will follow (a layer may then keep less).
  virtual const Tensor<T>& predict(const Tensor<T>& x, Mode mode = Mode::Train) = 0;
  // Softmax cross-entropy of predict(x) against integer labels.
  virtual T loss(const Tensor<T>& x, const std::vector<std::int32_t>& t, Mode mode = Mode::Train) = 0;
  virtual T loss(const Tensor<T>& x, const Tensor<T>& t_one_hot) = 0;
  // Fraction of correct argmax predictions, in batches of batch_size; the
  // last partial batch counts too (the notebook drops it). notebook In [9]
  double accuracy(const Tensor<T>& x, const std::vector<std::int32_t>& t, std::size_t batch_size = 100);
  // Correct predictions in one batch, predict(x, Eval) (accuracy's building block).
  std::size_t count_correct(const Tensor<T>& x, const std::vector<std::int32_t>& t);
  // np.argmax(predict(x, Eval), axis=1): one class per input, owned by the network.
  const std::vector<std::int32_t>& predict_classes(const Tensor<T>& x);
  // Forward + backward: the gradients named as params (W1, b1, ...), owned by the layers.
  virtual const NamedTensors<T>& gradient(const Tensor<T>& x, const std::vector<std::int32_t>& t) = 0;
  virtual const NamedTensors<T>& gradient(const Tensor<T>& x, const Tensor<T>& t_one_hot) = 0;

  // The notebook's network.params: name -> tensor in layer order (W1, b1, W2, ...).
  virtual const NamedTensors<T>& params() const = 0;
  // The same names -> the gradients of the last gradient() call.
  virtual const NamedTensors<T>& grads() const = 0;
  // Non-trainable state saved with the model, not updated by the optimizer
  // (BatchNorm's running_mean1, running_var1, ...).
  virtual const NamedTensors<T>& buffers() const = 0;
  // The architecture as a value that can be written (to_json) and built again.
  virtual Architecture architecture() const = 0;
  // The loss of the last loss()/gradient() call.
  virtual T last_loss() const = 0;
  // Data-parallel training: the inputs that follow are rows [offset, offset
  // + their count) of a minibatch of `total` rows; layers that draw random
  // numbers per row (Dropout) draw the whole batch's and keep these rows'.
  // total = 0 (the default): each input is a whole batch.
  virtual void set_batch_share(std::size_t /*offset*/, std::size_t /*total*/) {}

 private:
  Tensor<T> batch_x_;  // accuracy()'s batch, reused
  std::vector<std::int32_t> batch_t_;
  std::vector<std::int32_t> classes_;  // predict_classes()'s result
};

}  // namespace convnet
