#include "convnet/core/simple_convnet.hpp"

#include <algorithm>

namespace convnet {

namespace {
std::string sizes(std::size_t h, std::size_t w) { return std::to_string(h) + "x" + std::to_string(w); }
}  // namespace

SimpleConvNetShape simple_convnet_shape(const SimpleConvNetConfig& c) {
  const auto& cp = c.conv_param;
  if (c.input_dim[0] == 0 || c.input_dim[1] == 0 || c.input_dim[2] == 0)
    throw Error("SimpleConvNet: input_dim " + shape_str({c.input_dim[0], c.input_dim[1], c.input_dim[2]}) +
                " must be positive");
  if (cp.filter_num == 0 || c.hidden_size == 0 || c.output_size == 0)
    throw Error("SimpleConvNet: filter_num, hidden_size and output_size must be >= 1");
  if (!(c.weight_init_std >= 0)) throw Error("SimpleConvNet: weight_init_std must be >= 0");
  if (cp.stride == 0) throw Error("Conv1: stride must be >= 1, got 0");
  if (cp.filter_size == 0) throw Error("Conv1: filter size must be >= 1, got 0");
  const std::size_t H = c.input_dim[1], W = c.input_dim[2];
  const std::string setting = "filter size " + std::to_string(cp.filter_size) + ", pad " + std::to_string(cp.pad) +
                              ", stride " + std::to_string(cp.stride) + " on " + sizes(H, W) + " images";
  // H + 2*pad must not wrap (a pad near SIZE_MAX/2 would look small).
  if (cp.pad > (SIZE_MAX - std::max(H, W)) / 2) throw Error("Conv1: pad " + std::to_string(cp.pad) + " is too large");
  for (std::size_t side : {H, W})
    if (cp.filter_size > side + 2 * cp.pad)
      throw Error("Conv1: filter " + std::to_string(cp.filter_size) + " is larger than the padded input " +
                  std::to_string(side) + " + 2*" + std::to_string(cp.pad) + " (" + setting +
                  "); its output would be empty");
  SimpleConvNetShape s;
  s.conv_h = (H + 2 * cp.pad - cp.filter_size) / cp.stride + 1;
  s.conv_w = (W + 2 * cp.pad - cp.filter_size) / cp.stride + 1;
  // Pool1: 2x2 windows with stride 2, no pad (floor, as the layer computes it).
  if (s.conv_h < 2 || s.conv_w < 2)
    throw Error("Pool1: a 2x2 window with stride 2 does not fit the " + sizes(s.conv_h, s.conv_w) +
                " output of Conv1 (" + setting + "); its output would be empty");
  s.pool_h = s.conv_h / 2;
  s.pool_w = s.conv_w / 2;
  return s;
}

Architecture simple_convnet_architecture(const SimpleConvNetConfig& c) {
  simple_convnet_shape(c);  // its messages name Conv1/Pool1 and the setting
  const auto& cp = c.conv_param;
  return Architecture::simple_convnet(c.input_dim, cp.filter_num, cp.filter_size, cp.pad, cp.stride, c.hidden_size,
                                      c.output_size, c.weight_init_std);
}

std::vector<LayerFootprint> simple_convnet_footprint(const SimpleConvNetConfig& c, bool float32) {
  return sequential_footprint(simple_convnet_architecture(c),
                              float32 ? default_kernels<float>() : default_kernels<double>());
}

template <class T>
SimpleConvNet<T>::SimpleConvNet(const SimpleConvNetConfig& config, RandomState& rng, Kernels kernels)
    : Sequential<T>(simple_convnet_architecture(config), rng, kernels), config_(config) {}

template <class T>
SimpleConvNet<T>::SimpleConvNet(const SimpleConvNetConfig& config, Kernels kernels)
    : Sequential<T>(simple_convnet_architecture(config), config.seed, kernels), config_(config) {}

template <class T>
SimpleConvNet<T>::SimpleConvNet(std::array<std::size_t, 3> input_dim, ConvParam conv_param,
                                std::size_t hidden_size, std::size_t output_size, double weight_init_std,
                                std::uint32_t seed)
    : SimpleConvNet(SimpleConvNetConfig{input_dim, conv_param, hidden_size, output_size, weight_init_std, seed}) {}

template class SimpleConvNet<float>;
template class SimpleConvNet<double>;

}  // namespace convnet
