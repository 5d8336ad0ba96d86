#pragma once
#include <cstdint>
#include <vector>

#include "convnet/core/layers/layer.hpp"
#include "convnet/core/random.hpp"

namespace convnet {

// The book's Dropout (common/layers.py), not inverted dropout:
//   Train: mask = np.random.rand(*x.shape) > dropout_ratio; out = x * mask
//   Eval:  out = x * (1.0 - dropout_ratio)
//   backward: dx = dout * mask
// rand is rng->random_sample(), one draw per element in C order, so the mask
// is NumPy's for the same seed and stream position. The RandomState is the
// run's (owned by whoever builds the network, not by the layer); Train
// without one throws, Eval needs none.
template <class T>
class Dropout : public Layer<T> {
 public:
  // 0 <= dropout_ratio < 1.
  explicit Dropout(double dropout_ratio = 0.5, RandomState* rng = nullptr);
  const Tensor<T>& forward(const Tensor<T>& x, Mode mode = Mode::Train) override;
  // Throws unless the last forward was Mode::Train (Eval keeps no mask).
  const Tensor<T>& backward(const Tensor<T>& dout) override;

  void set_random_state(RandomState* rng) { rng_ = rng; }
  // Data-parallel training: x is rows [offset, offset + x's rows) of a batch
  // of `total` rows. A Train forward then consumes the whole batch's draws
  // and keeps its rows' masks, so a share sees the single-process masks and
  // every process's stream stays in step. total = 0: x is the whole batch.
  void set_batch_share(std::size_t offset, std::size_t total) { share_offset_ = offset, share_total_ = total; }
  RandomState* random_state() const { return rng_; }
  double dropout_ratio() const { return dropout_ratio_; }
  // The last Train forward's mask, 1 where x was kept (C order, x's size).
  const std::vector<std::uint8_t>& mask() const { return mask_; }

 private:
  double dropout_ratio_;
  RandomState* rng_;
  enum class Cached { Nothing, Train, Eval } cached_ = Cached::Nothing;
  std::size_t share_offset_ = 0, share_total_ = 0;
  std::vector<std::uint8_t> mask_;  // one byte per element, reused: no allocation after the first step
  Tensor<T> out_, dx_;
};

}  // namespace convnet
