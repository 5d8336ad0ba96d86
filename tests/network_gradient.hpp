#pragma once
// Whole-network numerical gradient checks (double) for any architecture:
// every parameter's analytic gradient against central differences of the
// exact cross-entropy, skipping indices whose perturbation crosses a ReLU or
// max-pooling kink. Dropout masks are frozen by restoring the network's
// random state before every forward.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/convnet.hpp"
#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace convnet::test {

// Cross-entropy of softmax(scores) without the book's 1e-7 inside the log:
// backward's (y - t) / N is the exact derivative of this, while the 1e-7
// bends the loss's own derivative by a relative 1e-7 / y.
inline double exact_cross_entropy(const Tensor<double>& s, const std::vector<std::int32_t>& t) {
  const std::size_t N = s.shape(0), M = s.shape(1);
  double total = 0;
  for (std::size_t i = 0; i < N; ++i) {
    double mx = s[i * M], z = 0;
    for (std::size_t j = 1; j < M; ++j) mx = std::max(mx, s[i * M + j]);
    for (std::size_t j = 0; j < M; ++j) z += std::exp(s[i * M + j] - mx);
    total += std::log(z) - (s[i * M + std::size_t(t[i])] - mx);
  }
  return total / double(N);
}

// Every ReLU's sign pattern and every pooling argmax: a perturbation that
// changes them crossed a kink.
inline std::vector<std::int64_t> kink_signature(Sequential<double>& net) {
  std::vector<std::int64_t> sig;
  for (auto& [name, layer] : net.layers()) {
    if (auto* r = dynamic_cast<Relu<double>*>(layer))
      for (double v : r->out()) sig.push_back(v > 0);
    if (auto* p = dynamic_cast<Pooling<double>*>(layer))
      for (auto a : p->arg_max()) sig.push_back(a);
  }
  return sig;
}

inline std::vector<std::int32_t> cyclic_labels(std::size_t n, int classes) {
  std::vector<std::int32_t> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = std::int32_t((i * 7 + 3) % std::size_t(classes));
  return t;
}

// zero_grads: parameters whose gradient is exactly zero by construction (a
// bias followed by batch normalisation, which subtracts the batch mean):
// checked to be below 1e-12 instead of being required to be non-trivial.
// max_points: at most about this many elements checked per parameter.
inline void check_network_gradient(const Architecture& arch, std::size_t N, double tolerance = 1e-6,
                                   const std::vector<std::string>& zero_grads = {}, std::size_t max_points = 0) {
  RandomState net_rng(3);
  Sequential<double> net(arch, net_rng);
  const RandomState::State masks = net_rng.state();  // every forward draws the same dropout masks
  RandomState rng(9);
  auto x = random_tensor({N, arch.input[0], arch.input[1], arch.input[2]}, rng);
  const auto t = cyclic_labels(N, int(arch.classes()));
  for (const auto& [name, p] : net.params())
    if (name[0] == 'b' && name.rfind("beta", 0) != 0)
      for (auto& v : *p) v = 0.1 * rng.randn();  // biases away from 0
  net_rng.set_state(masks);
  const auto& grads = net.gradient(x, t);
  const auto base = kink_signature(net);
  const double h = 1e-6;
  for (const auto& [name, p] : net.params()) {
    const Tensor<double> analytic = grads[name];
    auto f = [&] {
      net_rng.set_state(masks);
      return exact_cross_entropy(net.predict(x), t);
    };
    auto kink = [&](std::size_t i) {
      const double orig = (*p)[i];
      bool changed = false;
      for (double d : {h, -h}) {
        (*p)[i] = orig + d;
        net_rng.set_state(masks);
        net.loss(x, t);
        changed |= kink_signature(net) != base;
      }
      (*p)[i] = orig;
      return changed;
    };
    const std::size_t stride = max_points && p->size() > max_points ? (p->size() + max_points - 1) / max_points : 1;
    auto r = check_gradient(*p, analytic, f, kink, h, 1e-3, stride);
    EXPECT_LT(r.max_rel_error, tolerance) << name << " worst at " << r.worst_index;
    if (std::find(zero_grads.begin(), zero_grads.end(), name) != zero_grads.end())
      EXPECT_LT(r.max_abs_grad, 1e-12) << name;
    else
      EXPECT_GT(r.max_abs_grad, 1e-3) << name;
    EXPECT_GT(r.checked, (p->size() + stride - 1) / stride * 9 / 10) << name;
  }
}

}  // namespace convnet::test
