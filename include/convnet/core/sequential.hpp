#pragma once
// Sequential<T>: an ordered list of named layers plus SoftmaxWithLoss, built
// from an Architecture — the notebook's OrderedDict network (In [9]) for any
// layer list. Parameters are collected from each layer's params() and named
// as the book names them: the layer's own names ("W", "b") followed by the
// layer's number among the layers that have parameters (W1, b1, W2, ...).
// Layers are named per type in order: Conv1, Relu1, Pool1, Affine1, Relu2, ...
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <type_traits>
#include <vector>

#include "convnet/core/architecture.hpp"
#include "convnet/core/layers/layer.hpp"
#include "convnet/core/layers/softmax_with_loss.hpp"
#include "convnet/core/memory.hpp"
#include "convnet/core/network.hpp"
#include "convnet/core/random.hpp"

namespace convnet {

// THE substitution rule (the only place it is decided): layers i, i+1, i+2
// of `arch` run as one ConvReluPool layer when
//   - they are conv, relu, pool, in that order;
//   - the conv has stride 1 and the pool is 2x2 with stride 2 and no pad
//     (the direct kernels' preconditions, ConvReluPool::supports);
//   - i == 0: the fused layer computes no dx, and only the first layer's
//     input (the data) needs none.
// A network built with Kernels::Fast applies it. Shapes are assumed valid.
bool fuses_conv_relu_pool(const Architecture& arch, std::size_t i);
// The second rule: layers i, i+1 run as one Convolution with its ReLU fused
// (Convolution::set_fused_relu) when they are conv, relu, the first rule does
// not take them, and the direct kernels compute the conv
// (Convolution::direct_supports) — which then apply the ReLU on the way
// (DeepConvNet: all six of its convs). Named "Conv2+Relu2".
bool fuses_conv_relu(const Architecture& arch, std::size_t i);

// Which kernels a network runs:
//  - Fast: the direct convolutions (ConvAlgo::Direct, other shapes
//    TransposedCol), the fused first conv+relu+pool layer and the fused
//    conv+relu layers where the rules above allow. float's default, and
//    float64's fast path: the same arithmetic as NumPy's, summed in another
//    order (results equal up to rounding, ~1e-15 relative per operation).
//  - Layered: Fast without the fused layers (tests compare the two).
//  - NumpyExact: the notebook's algorithms in NumPy's operation order
//    (ConvAlgo::Reference, no fusion): float64's default in C++, so that a
//    run from a seed is the NumPy notebook's bit for bit (--numpy-compatible).
enum class Kernels { Fast, Layered, NumpyExact };
template <class T>
constexpr Kernels default_kernels() {
  return std::is_same_v<T, double> ? Kernels::NumpyExact : Kernels::Fast;
}

// What each layer of a Sequential built from `arch` with `kernels` keeps, in
// elements (convnet/core/memory.hpp), from the shapes alone: nothing
// is allocated, products saturate, and fields beyond what validate() allows
// are counted rather than refused (so that a huge request reads "needs about
// ..."). A window that does not fit counts as an empty output.
std::vector<LayerFootprint> sequential_footprint(const Architecture& arch, Kernels kernels = Kernels::Fast);

// The arrays Sequential builds from `arch` and a model file holds, in order,
// by name and shape: W (FN, C, FH, FW) and b (FN) for a conv layer, W (D,
// units) and b (units) for an affine one (numbered W1, b1, W2, ...), and
// gamma, beta, running_mean, running_var (F) for a BatchNorm layer (numbered
// gamma1, ...). Validates `arch` (throws as Architecture::validate).
std::vector<std::pair<std::string, std::vector<std::size_t>>> sequential_param_shapes(const Architecture& arch);

template <class T>
class Sequential : public Network<T> {
 public:
  // Validates `arch` (throws convnet::Error) and draws the initial weights
  // scale * randn(shape) from `rng`, W1 first, in layer order, with zero
  // biases — for the notebook's architecture exactly the draws of
  // SimpleConvNet. Dropout layers draw their masks from `rng` too, so it
  // must outlive the network (the run's random state, as NumPy's global
  // one). `kernels`: see Kernels.
  Sequential(const Architecture& arch, RandomState& rng, Kernels kernels = default_kernels<T>());
  // Same, with its own RandomState(seed) (np.random.seed(seed)).
  explicit Sequential(const Architecture& arch, std::uint32_t seed = 0, Kernels kernels = default_kernels<T>());

  Sequential(const Sequential&) = delete;
  Sequential& operator=(const Sequential&) = delete;

  const Tensor<T>& predict(const Tensor<T>& x, Mode mode = Mode::Train) override;
  T loss(const Tensor<T>& x, const std::vector<std::int32_t>& t, Mode mode = Mode::Train) override;
  T loss(const Tensor<T>& x, const Tensor<T>& t_one_hot) override;
  const NamedTensors<T>& gradient(const Tensor<T>& x, const std::vector<std::int32_t>& t) override;
  const NamedTensors<T>& gradient(const Tensor<T>& x, const Tensor<T>& t_one_hot) override;

  const NamedTensors<T>& params() const override { return params_; }
  const NamedTensors<T>& grads() const override { return grads_; }
  const NamedTensors<T>& buffers() const override { return buffers_; }
  Architecture architecture() const override { return arch_; }
  T last_loss() const override { return last_layer_.loss(); }
  void set_batch_share(std::size_t offset, std::size_t total) override;

  // The layers as they run, in order. A fused layer is named after the
  // layers it replaces: "Conv1+Relu1+Pool1", "Conv2+Relu2".
  const std::vector<std::pair<std::string, Layer<T>*>>& layers() const { return layers_; }
  Layer<T>& layer(const std::string& name) const;
  // Whether a ConvReluPool was substituted (fuses_conv_relu_pool).
  bool fused() const { return fused_; }
  Kernels kernels() const { return kernels_; }

 private:
  void build_(RandomState& rng);
  void check_input_(const Tensor<T>& x) const;
  const NamedTensors<T>& backward_();
  Architecture arch_;
  std::unique_ptr<RandomState> own_rng_;  // the seed constructor's
  RandomState* rng_ = nullptr;            // the dropout masks' source
  std::vector<std::unique_ptr<Layer<T>>> owned_;
  std::vector<std::pair<std::string, Layer<T>*>> layers_;
  SoftmaxWithLoss<T> last_layer_;
  NamedTensors<T> params_, grads_, buffers_;
  Kernels kernels_;
  bool fused_ = false;
};

}  // namespace convnet
