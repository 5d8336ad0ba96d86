#pragma once
// The notebook's network, In [9]:
//   conv - relu - pool - affine - relu - affine - softmax
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "convnet/core/layers/affine.hpp"
#include "convnet/core/layers/convolution.hpp"
#include "convnet/core/layers/pooling.hpp"
#include "convnet/core/layers/relu.hpp"
#include "convnet/core/layers/softmax_with_loss.hpp"
#include "convnet/core/memory.hpp"
#include "convnet/core/network.hpp"
#include "convnet/core/random.hpp"

namespace convnet {

// The notebook's conv_param dict.
struct ConvParam {
  std::size_t filter_num = 30;
  std::size_t filter_size = 5;
  std::size_t pad = 0;
  std::size_t stride = 1;
};

// Everything that fixes the architecture and the initial weights; the
// defaults are the notebook's In [12].
struct SimpleConvNetConfig {
  std::array<std::size_t, 3> input_dim{1, 28, 28};  // (C, H, W)
  ConvParam conv_param{};
  std::size_t hidden_size = 100;
  std::size_t output_size = 10;
  double weight_init_std = 0.01;
  std::uint32_t seed = 0;  // np.random.seed(seed) before the network is built
};

// The sizes a configuration implies: Conv1's output (conv_h x conv_w) and
// Pool1's (pool_h x pool_w). Throws convnet::Error for an impossible one,
// naming the layer whose output would be empty and why, e.g.
// "Pool1: a 2x2 window with stride 2 does not fit the 1x1 output of Conv1
// (filter size 28, pad 0, stride 1 on 28x28 images); its output would be empty".
struct SimpleConvNetShape {
  std::size_t conv_h = 0, conv_w = 0, pool_h = 0, pool_w = 0;
};
SimpleConvNetShape simple_convnet_shape(const SimpleConvNetConfig& config);

// Per-layer memory of the network (convnet/core/memory.hpp), from the shapes
// alone: nothing is allocated, products saturate. float32: the buffers of
// SimpleConvNet<float> (the fused Conv1-Relu1-Pool1 path when stride is 1;
// set_fused(false) needs the im2col path's more), else of SimpleConvNet<double>.
// Throws as simple_convnet_shape.
std::vector<LayerFootprint> simple_convnet_footprint(const SimpleConvNetConfig& config, bool float32 = true);

template <class T>
class SimpleConvNet : public Network<T> {
 public:
  // Weights: weight_init_std * randn(...) drawn from `rng` in the notebook's
  // order W1, W2, W3 (biases zero). Throws convnet::Error on an impossible
  // configuration (e.g. a filter larger than the padded input).
  explicit SimpleConvNet(const SimpleConvNetConfig& config, RandomState& rng);
  // Same, drawing from a fresh RandomState(config.seed).
  explicit SimpleConvNet(const SimpleConvNetConfig& config = {});
  SimpleConvNet(std::array<std::size_t, 3> input_dim, ConvParam conv_param = {},
                std::size_t hidden_size = 100, std::size_t output_size = 10,
                double weight_init_std = 0.01, std::uint32_t seed = 0);

  SimpleConvNet(const SimpleConvNet&) = delete;
  SimpleConvNet& operator=(const SimpleConvNet&) = delete;

  // Scores (N, output_size) before softmax. Mode::Eval may take a fused
  // path that caches nothing for backward.
  const Tensor<T>& predict(const Tensor<T>& x, Mode mode = Mode::Train) override;
  // mode Eval: no backward will follow (e.g. the loss logged after update).
  T loss(const Tensor<T>& x, const std::vector<std::int32_t>& t, Mode mode = Mode::Train) override;
  T loss(const Tensor<T>& x, const Tensor<T>& t_one_hot) override;
  // accuracy() and count_correct() come from Network<T>.
  // Forward + backward; returns the gradients named W1..b3 (owned by the layers).
  const NamedTensors<T>& gradient(const Tensor<T>& x, const std::vector<std::int32_t>& t) override;
  const NamedTensors<T>& gradient(const Tensor<T>& x, const Tensor<T>& t_one_hot) override;

  // The parameters W1 b1 W2 b2 W3 b3 (the notebook's network.params).
  const NamedTensors<T>& params() const override { return params_; }
  const NamedTensors<T>& grads() const override { return grads_; }
  // The layers, in order, by the notebook's names.
  const std::vector<std::pair<std::string, Layer<T>*>>& layers() const { return layers_; }
  Layer<T>& layer(const std::string& name) const;
  const SimpleConvNetConfig& config() const { return config_; }
  T last_loss() const override { return last_layer_.loss(); }
  // Its description: Architecture::simple_convnet with this configuration.
  Architecture architecture() const override;

  // float, stride 1: gradient() runs Conv1 -> Relu1 -> Pool1 as one fused
  // direct kernel (forward and backward), tested against the layers; those
  // three layers' own caches are then not filled. Off: layer by layer.
  void set_fused(bool on) { fused_ = on; }
  bool fused() const;

  Convolution<T>& conv1() { return *conv1_; }
  Pooling<T>& pool1() { return *pool1_; }
  Affine<T>& affine1() { return *affine1_; }
  Affine<T>& affine2() { return *affine2_; }

 private:
  void build_(RandomState& rng);
  void check_input_(const Tensor<T>& x) const;
  // float, stride 1: pads x into xpad_ and runs Conv1+Relu1+Pool1 directly
  // into pooled_ (and the window argmax into arg8_ when asked).
  void direct_conv_relu_pool_(const Tensor<T>& x, bool keep_argmax);
  const NamedTensors<T>& backward_();
  SimpleConvNetConfig config_;
  std::unique_ptr<Convolution<T>> conv1_;
  std::unique_ptr<Relu<T>> relu1_;
  std::unique_ptr<Pooling<T>> pool1_;
  std::unique_ptr<Affine<T>> affine1_;
  std::unique_ptr<Relu<T>> relu2_;
  std::unique_ptr<Affine<T>> affine2_;
  SoftmaxWithLoss<T> last_layer_;
  std::vector<std::pair<std::string, Layer<T>*>> layers_;
  NamedTensors<T> params_, grads_;
  Tensor<T> pooled_;   // the fused paths' Pool1 output
  Tensor<T> xpad_;     // the fused training path's zero-padded input
  std::vector<std::uint8_t> arg8_;  // its window argmax (0..3)
  bool fused_ = true;
};

}  // namespace convnet
