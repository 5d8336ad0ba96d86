// SimpleConvNet (notebook In [9]): shapes, names, and the whole gradient
// against numerical differentiation, as the book's gradient_check.
#include <gtest/gtest.h>

#include <cmath>

#include "convnet/convnet.hpp"
#include "gradient_checker.hpp"
#include "network_gradient.hpp"
#include "test_util.hpp"

using namespace convnet;

TEST(SimpleConvNet, DefaultsAreTheNotebooksNetwork) {
  SimpleConvNet<float> net;
  const std::vector<std::pair<std::string, std::vector<std::size_t>>> expected = {
      {"W1", {30, 1, 5, 5}}, {"b1", {30}}, {"W2", {4320, 100}}, {"b2", {100}}, {"W3", {100, 10}}, {"b3", {10}}};
  ASSERT_EQ(net.params().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(net.params().item(i).first, expected[i].first);
    EXPECT_EQ(net.params().item(i).second->shape(), expected[i].second) << expected[i].first;
  }
  // float runs the first three as one ConvReluPool, named after them;
  // without fusion (and in double) they are the notebook's six layers.
  auto names = [](const auto& n) {
    std::vector<std::string> v;
    for (auto& [name, l] : n.layers()) v.push_back(name);
    return v;
  };
  EXPECT_EQ(names(net), (std::vector<std::string>{"Conv1+Relu1+Pool1", "Affine1", "Relu2", "Affine2"}));
  const std::vector<std::string> six{"Conv1", "Relu1", "Pool1", "Affine1", "Relu2", "Affine2"};
  EXPECT_EQ(names(SimpleConvNet<float>(SimpleConvNetConfig{}, Kernels::Layered)), six);
  EXPECT_EQ(names(SimpleConvNet<double>()), six);  // NumPy-exact by default in C++
  EXPECT_EQ(names(SimpleConvNet<double>(SimpleConvNetConfig{}, Kernels::Fast)), names(net));
  // weight_init_std * randn: std close to 0.01, biases zero.
  const auto& W2 = net.params()["W2"];
  double s2 = 0;
  for (float v : W2) s2 += double(v) * v;
  EXPECT_NEAR(std::sqrt(s2 / W2.size()), 0.01, 0.0002);
  for (float v : net.params()["b2"]) EXPECT_EQ(v, 0.0f);
}

TEST(SimpleConvNet, InitialWeightsAreNumpysRandnInNotebookOrder) {
  // np.random.seed(0); 0.01 * randn(30,1,5,5) starts 0.01*1.764052345967664
  SimpleConvNet<double> net;
  EXPECT_DOUBLE_EQ(net.params()["W1"][0], 0.01 * 1.764052345967664);
  EXPECT_DOUBLE_EQ(net.params()["W1"][1], 0.01 * 0.4001572083672233);
  // W2 continues the same stream after W1's 750 values.
  RandomState rng(0);
  for (int i = 0; i < 750; ++i) rng.randn();
  EXPECT_DOUBLE_EQ(net.params()["W2"][0], 0.01 * rng.randn());
}

TEST(SimpleConvNet, InitialLossIsLogOfClassCount) {
  SimpleConvNet<double> net;
  RandomState rng(1);
  auto x = test::random_tensor({8, 1, 28, 28}, rng);
  std::vector<std::int32_t> t{0, 1, 2, 3, 4, 5, 6, 7};
  EXPECT_NEAR(net.loss(x, t), std::log(10.0), 0.02);
}


TEST(SimpleConvNet, GradientMatchesNumericalGradient) {
  SimpleConvNetConfig cfg;
  cfg.input_dim = {2, 9, 8};
  cfg.conv_param = {4, 3, 1, 1};
  cfg.hidden_size = 7;
  cfg.output_size = 5;
  cfg.weight_init_std = 0.3;
  cfg.seed = 3;
  SimpleConvNet<double> net(cfg);
  RandomState rng(9);
  auto x = test::random_tensor({3, 2, 9, 8}, rng);
  const std::vector<std::int32_t> t{4, 0, 2};
  // Non-zero biases, so b1..b3 are exercised away from 0.
  for (const char* b : {"b1", "b2", "b3"})
    for (auto& v : net.params()[b]) v = 0.1 * rng.randn();
  const auto& grads = net.gradient(x, t);
  const auto base = test::kink_signature(net);
  const double h = 1e-6;
  for (const auto& [name, p] : net.params()) {
    const Tensor<double> analytic = grads[name];
    auto f = [&] { return test::exact_cross_entropy(net.predict(x), t); };
    auto kink = [&](std::size_t i) {
      const double orig = (*p)[i];
      bool changed = false;
      for (double d : {h, -h}) {
        (*p)[i] = orig + d;
        net.loss(x, t);
        changed |= test::kink_signature(net) != base;
      }
      (*p)[i] = orig;
      return changed;
    };
    // Relative error with a floor of 1e-3: the loss gradients are ~1e-2.
    auto r = test::check_gradient(*p, analytic, f, kink, h, 1e-3);
    EXPECT_LT(r.max_rel_error, 1e-6) << name << " worst at " << r.worst_index;
    EXPECT_GT(r.max_abs_grad, 1e-3) << name;
    EXPECT_GT(r.checked, p->size() * 9 / 10) << name;
  }
}

TEST(SimpleConvNet, AccuracyCountsArgmaxAndPartialBatches) {
  SimpleConvNetConfig cfg;
  cfg.input_dim = {1, 6, 6};
  cfg.conv_param = {2, 3, 0, 1};
  cfg.hidden_size = 4;
  cfg.output_size = 3;
  SimpleConvNet<double> net(cfg);
  RandomState rng(2);
  auto x = test::random_tensor({7, 1, 6, 6}, rng);
  // The labels are the network's own argmax predictions, except two.
  const auto& y = net.predict(x);
  std::vector<std::int32_t> t(7);
  for (int i = 0; i < 7; ++i) {
    int am = 0;
    for (int j = 1; j < 3; ++j)
      if (y[i * 3 + j] > y[i * 3 + am]) am = j;
    t[i] = am;
  }
  t[1] = (t[1] + 1) % 3;
  t[6] = (t[6] + 2) % 3;
  EXPECT_DOUBLE_EQ(net.accuracy(x, t, 3), 5.0 / 7.0);  // batches of 3, 3, 1
  EXPECT_DOUBLE_EQ(net.accuracy(x, t, 100), 5.0 / 7.0);
}

TEST(SimpleConvNet, AdamStepsReduceTheLossOnAFixedBatch) {
  SimpleConvNet<float> net;
  RandomState rng(4);
  auto x = test::random_tensor<float>({20, 1, 28, 28}, rng);
  std::vector<std::int32_t> t(20);
  for (int i = 0; i < 20; ++i) t[i] = i % 10;
  Adam<float> adam;
  const float first = net.loss(x, t);
  for (int i = 0; i < 30; ++i) adam.update(net.params(), net.gradient(x, t));
  EXPECT_LT(net.loss(x, t), first * 0.5f);
}

TEST(SimpleConvNet, ImpossibleConfigurationsThrow) {
  SimpleConvNetConfig cfg;
  cfg.conv_param.filter_size = 40;  // larger than 28 + 2*0
  try {
    SimpleConvNet<float> net(cfg);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("filter 40 is larger than the padded input 28"), std::string::npos)
        << e.what();
  }
  cfg = {};
  cfg.conv_param.stride = 0;
  EXPECT_THROW(SimpleConvNet<float>{cfg}, Error);
  cfg = {};
  cfg.hidden_size = 0;
  EXPECT_THROW(SimpleConvNet<float>{cfg}, Error);
  SimpleConvNet<float> net;
  Tensor<float> x({2, 3, 28, 28});
  try {
    net.predict(x);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(2, 3, 28, 28)"), std::string::npos) << e.what();
  }
  Tensor<float> ok({2, 1, 28, 28});
  EXPECT_THROW(net.loss(ok, std::vector<std::int32_t>{1, 2, 3}), Error);
}
