// Uses the installed library: the notebook's im2col example and one
// training step of SimpleConvNet<float>.
#include <convnet/convnet.hpp>
#include <cstdio>

int main() {
  convnet::Tensor<double> x({1, 1, 4, 4});
  for (std::size_t i = 0; i < 16; ++i) x[i] = double(i);
  const auto col = convnet::im2col(x, 3, 3);
  convnet::SimpleConvNet<float> net;
  convnet::Adam<float> adam;
  convnet::Tensor<float> batch({2, 1, 28, 28});
  const std::vector<std::int32_t> t{3, 7};
  const float before = net.loss(batch, t);
  adam.update(net.params(), net.gradient(batch, t));
  std::printf("col %zux%zu first row %g %g %g, loss %.4f\n", col.shape(0), col.shape(1), col[0], col[1], col[2],
              double(before));
  return col.shape(0) == 4 && col.shape(1) == 9 && col[1] == 1.0 ? 0 : 1;
}
