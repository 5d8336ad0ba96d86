// Each optimizer's first three steps against closed forms worked out by hand
// for a constant gradient g (two elements, g = 0.5 and g = -2).
#include <gtest/gtest.h>

#include <cmath>

#include "convnet/core/optimizer.hpp"

using namespace convnet;

namespace {
struct Fixture {
  Tensor<double> p{2}, g{2};
  NamedTensors<double> params, grads;
  Fixture() {
    p[0] = 1.0, p[1] = -3.0;
    g[0] = 0.5, g[1] = -2.0;
    params.add("W", &p);
    grads.add("W", &g);
  }
};
const double p0[2] = {1.0, -3.0}, gv[2] = {0.5, -2.0};
}  // namespace

TEST(Optimizer, SGD) {
  Fixture f;
  SGD<double> opt;  // lr 0.01
  for (int t = 1; t <= 3; ++t) {
    opt.update(f.params, f.grads);
    for (int i = 0; i < 2; ++i) EXPECT_NEAR(f.p[i], p0[i] - t * 0.01 * gv[i], 1e-15);
  }
}

TEST(Optimizer, Momentum) {
  Fixture f;
  Momentum<double> opt;  // lr 0.01, momentum 0.9: v_t = -lr g (1 + m + ... + m^(t-1))
  const double cum[4] = {0, 1, 1 + 1.9, 1 + 1.9 + 2.71};
  for (int t = 1; t <= 3; ++t) {
    opt.update(f.params, f.grads);
    for (int i = 0; i < 2; ++i) EXPECT_NEAR(f.p[i], p0[i] - 0.01 * gv[i] * cum[t], 1e-14);
  }
}

TEST(Optimizer, Nesterov) {
  Fixture f;
  Nesterov<double> opt;  // p += m^2 v_t - (1+m) lr g, v_t as Momentum
  const double vsum[4] = {0, 1, 1.9, 2.71};
  double expect[2] = {p0[0], p0[1]};
  for (int t = 1; t <= 3; ++t) {
    opt.update(f.params, f.grads);
    for (int i = 0; i < 2; ++i) {
      expect[i] += 0.81 * (-0.01 * gv[i] * vsum[t]) - 1.9 * 0.01 * gv[i];
      EXPECT_NEAR(f.p[i], expect[i], 1e-14);
    }
  }
}

TEST(Optimizer, AdaGrad) {
  Fixture f;
  AdaGrad<double> opt;  // h_t = t g^2
  double expect[2] = {p0[0], p0[1]};
  for (int t = 1; t <= 3; ++t) {
    opt.update(f.params, f.grads);
    for (int i = 0; i < 2; ++i) {
      expect[i] -= 0.01 * gv[i] / (std::sqrt(t) * std::fabs(gv[i]) + 1e-7);
      EXPECT_NEAR(f.p[i], expect[i], 1e-14);
    }
  }
}

TEST(Optimizer, RMSprop) {
  Fixture f;
  RMSprop<double> opt;  // h_t = (1 - 0.99^t) g^2
  double expect[2] = {p0[0], p0[1]};
  for (int t = 1; t <= 3; ++t) {
    opt.update(f.params, f.grads);
    for (int i = 0; i < 2; ++i) {
      expect[i] -= 0.01 * gv[i] / (std::sqrt(1 - std::pow(0.99, t)) * std::fabs(gv[i]) + 1e-7);
      EXPECT_NEAR(f.p[i], expect[i], 1e-14);
    }
  }
  // Literal values for step 1, worked on paper: h = 0.01 * 0.25 = 0.0025,
  // step = 0.01 * 0.5 / (0.05 + 1e-7).
  Fixture f1;
  RMSprop<double> one;
  one.update(f1.params, f1.grads);
  EXPECT_NEAR(f1.p[0], 1.0 - 0.005 / 0.0500001, 1e-15);
}

TEST(Optimizer, AdamIsTheBooksVariant) {
  Fixture f;
  Adam<double> opt;  // m_t = (1-b1^t) g, v_t = (1-b2^t) g^2, lr_t = lr sqrt(1-b2^t)/(1-b1^t)
  double expect[2] = {p0[0], p0[1]};
  for (int t = 1; t <= 3; ++t) {
    opt.update(f.params, f.grads);
    const double c2 = std::sqrt(1 - std::pow(0.999, t));
    for (int i = 0; i < 2; ++i) {
      expect[i] -= 0.001 * c2 * gv[i] / (c2 * std::fabs(gv[i]) + 1e-7);
      EXPECT_NEAR(f.p[i], expect[i], 1e-14);
    }
  }
  EXPECT_EQ(opt.iter(), 3);
  // Step 1 by hand: lr_t = 0.001*sqrt(0.001)/0.1, m = 0.05, v = 0.00025:
  // p -= lr_t * 0.05 / (sqrt(0.00025) + 1e-7) = 0.001 * 0.5 / (0.5 + 1e-7 / sqrt(0.001)) ~ 0.000999999
  Fixture f1;
  Adam<double> a1;
  a1.update(f1.params, f1.grads);
  EXPECT_NEAR(f1.p[0], 1.0 - 0.001 * 0.5 / (0.5 + 1e-7 / std::sqrt(0.001)), 1e-15);
}

TEST(Optimizer, FactoryAndMismatches) {
  for (const auto& n : optimizer_names()) EXPECT_EQ(make_optimizer<float>(n)->name(), n);
  EXPECT_THROW(make_optimizer<float>("adamw"), Error);
  auto adam = make_optimizer<double>("adam", 0.5);
  EXPECT_DOUBLE_EQ(dynamic_cast<Adam<double>&>(*adam).lr, 0.5);
  Fixture f;
  Tensor<double> other{3};
  NamedTensors<double> bad;
  bad.add("W", &other);
  EXPECT_THROW(adam->update(f.params, bad), Error);
}
