#pragma once
// Helpers shared by the tests: random tensors from a fixed seed, and casts.
#include <vector>

#include "convnet/core/random.hpp"
#include "convnet/core/tensor.hpp"

namespace convnet::test {

template <class T = double>
Tensor<T> random_tensor(std::vector<std::size_t> shape, RandomState& rng, double scale = 1.0) {
  Tensor<T> t(std::move(shape));
  for (auto& v : t) v = T(scale * rng.randn());
  return t;
}

// The same values in another element type (float tests from double draws).
template <class T>
Tensor<T> cast(const Tensor<double>& d) {
  Tensor<T> t(d.shape());
  for (std::size_t i = 0; i < d.size(); ++i) t[i] = T(d[i]);
  return t;
}

}  // namespace convnet::test
