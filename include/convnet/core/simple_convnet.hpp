#pragma once
// The notebook's network, In [9]:
//   conv - relu - pool - affine - relu - affine - softmax
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "convnet/core/architecture.hpp"
#include "convnet/core/memory.hpp"
#include "convnet/core/random.hpp"
#include "convnet/core/sequential.hpp"

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
// alone: nothing is allocated, products saturate. sequential_footprint of
// the configuration's architecture. Throws as simple_convnet_shape.
std::vector<LayerFootprint> simple_convnet_footprint(const SimpleConvNetConfig& config, bool float32 = true);

// The configuration's architecture: Architecture::simple_convnet with its
// fields. Throws as simple_convnet_shape (checked first, for its messages).
Architecture simple_convnet_architecture(const SimpleConvNetConfig& config);

// The notebook's SimpleConvNet(input_dim, conv_param, hidden_size,
// output_size, weight_init_std): a builder of the Sequential network
// conv - relu - pool - affine - relu - affine with the same layer and
// parameter names (Conv1, Relu1, Pool1, Affine1, Relu2, Affine2; W1..b3) and
// the same random draws in the same order (W1, W2, W3; biases zero).
// Everything else is Sequential's: with Kernels::Fast (float's default) the
// first three layers run as one ConvReluPool ("Conv1+Relu1+Pool1").
template <class T>
class SimpleConvNet : public Sequential<T> {
 public:
  // Throws convnet::Error on an impossible configuration (e.g. a filter
  // larger than the padded input).
  SimpleConvNet(const SimpleConvNetConfig& config, RandomState& rng, Kernels kernels = default_kernels<T>());
  // Same, drawing from a fresh RandomState(config.seed).
  explicit SimpleConvNet(const SimpleConvNetConfig& config = {}, Kernels kernels = default_kernels<T>());
  SimpleConvNet(std::array<std::size_t, 3> input_dim, ConvParam conv_param = {}, std::size_t hidden_size = 100,
                std::size_t output_size = 10, double weight_init_std = 0.01, std::uint32_t seed = 0);

  const SimpleConvNetConfig& config() const { return config_; }

 private:
  SimpleConvNetConfig config_;
};

}  // namespace convnet
