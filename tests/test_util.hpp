#pragma once
// Helpers shared by the tests: random tensors from a fixed seed.
#include <vector>

#include "convnet/random.hpp"
#include "convnet/tensor.hpp"

namespace convnet::test {

template <class T = double>
Tensor<T> random_tensor(std::vector<std::size_t> shape, RandomState& rng, double scale = 1.0) {
  Tensor<T> t(std::move(shape));
  for (auto& v : t) v = T(scale * rng.randn());
  return t;
}

}  // namespace convnet::test
