#pragma once
// Helpers shared by the tests: random tensors from a fixed seed, casts, and
// bit-for-bit comparison.
#include <cstring>
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

// Same shape and the same bits (memcmp: -0 differs from 0, NaNs compare by payload).
template <class T>
bool same_bits(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

}  // namespace convnet::test
