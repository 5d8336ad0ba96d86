// Explicit instantiations of the public class templates, compiled only (see
// CMakeLists.txt): a warning in any inline member body fails the build.
#include <convnet/convnet.hpp>
#include <cstddef>
#include <cstdint>

namespace convnet {
template class Tensor<float>;
template class Tensor<double>;
template struct ParamRef<float>;
template struct ParamRef<double>;
template class NamedTensors<float>;
template class NamedTensors<double>;
template class Layer<float>;
template class Layer<double>;
template class Optimizer<float>;
template class Optimizer<double>;
template class SGD<float>;
template class SGD<double>;
template class Momentum<float>;
template class Momentum<double>;
template class Nesterov<float>;
template class Nesterov<double>;
template class AdaGrad<float>;
template class AdaGrad<double>;
template class RMSprop<float>;
template class RMSprop<double>;
template class Adam<float>;
template class Adam<double>;
template class Affine<float>;
template class Affine<double>;
template class Convolution<float>;
template class Convolution<double>;
template class Pooling<float>;
template class Pooling<double>;
template class Relu<float>;
template class Relu<double>;
template class SoftmaxWithLoss<float>;
template class SoftmaxWithLoss<double>;
template class SimpleConvNet<float>;
template class SimpleConvNet<double>;
template class Trainer<float>;
template class Trainer<double>;
template void RandomState::choice<std::int32_t>(std::uint64_t, std::size_t, std::int32_t*);
template void RandomState::choice<std::size_t>(std::uint64_t, std::size_t, std::size_t*);
}  // namespace convnet
