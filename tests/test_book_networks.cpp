// The book's chapter 6 and 8 networks in the architecture description:
// sigmoid, dropout, batchnorm layers, He/Xavier initialisation and
// DeepConvNet (ch08/deep_convnet.py) built by Sequential.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "convnet/convnet.hpp"
#include "network_gradient.hpp"
#include "test_util.hpp"

using namespace convnet;

TEST(DeepConvNet, ParametersAreTheBooksW1ToW8WithItsShapes) {
  Sequential<float> net(Architecture::deep_convnet());
  // book: ch08/deep_convnet.py; W7 takes 64 * 4 * 4 (conv4 pads by 2: 14 -> 16 -> pool 8 -> pool 4).
  const std::vector<std::pair<std::string, std::vector<std::size_t>>> expected = {
      {"W1", {16, 1, 3, 3}},  {"b1", {16}}, {"W2", {16, 16, 3, 3}}, {"b2", {16}}, {"W3", {32, 16, 3, 3}},
      {"b3", {32}},           {"W4", {32, 32, 3, 3}}, {"b4", {32}}, {"W5", {64, 32, 3, 3}}, {"b5", {64}},
      {"W6", {64, 64, 3, 3}}, {"b6", {64}}, {"W7", {64 * 4 * 4, 50}}, {"b7", {50}}, {"W8", {50, 10}},
      {"b8", {10}}};
  ASSERT_EQ(net.params().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(net.params().item(i).first, expected[i].first);
    EXPECT_EQ(net.params().item(i).second->shape(), expected[i].second) << expected[i].first;
  }
  EXPECT_EQ(sequential_param_shapes(Architecture::deep_convnet()), expected);
  // The book's 20 layers; with the fast kernels its six conv+relu pairs run as one layer each.
  std::vector<std::string> names;
  Sequential<float> layered(Architecture::deep_convnet(), 0, Kernels::Layered);
  for (auto& [n, l] : layered.layers()) names.push_back(n);
  EXPECT_EQ(names.back(), "Dropout2");
  EXPECT_EQ(names.size(), 20u);
  names.clear();
  for (auto& [n, l] : net.layers()) names.push_back(n);
  EXPECT_EQ(names.size(), 14u);
}

TEST(DeepConvNet, HeInitialisationDrawsTheBooksScalesInOrder) {
  // weight_init_scales = np.sqrt(2.0 / pre_node_nums), pre_node_nums =
  // [1*3*3, 16*3*3, 16*3*3, 32*3*3, 32*3*3, 64*3*3, 64*4*4, hidden_size]
  const double fan_in[] = {9, 144, 144, 288, 288, 576, 1024, 50};
  Sequential<double> net(Architecture::deep_convnet(), 7u);
  RandomState rng(7);
  for (int k = 0; k < 8; ++k) {
    const Tensor<double>& W = net.params()["W" + std::to_string(k + 1)];
    const double scale = std::sqrt(2.0 / fan_in[k]);
    for (std::size_t i = 0; i < W.size(); ++i) ASSERT_EQ(W[i], scale * rng.randn()) << "W" << k + 1 << " " << i;
    for (double b : net.params()["b" + std::to_string(k + 1)]) ASSERT_EQ(b, 0.0);
  }
}

TEST(DeepConvNet, TheShippedJsonIsTheBuiltInNetwork) {
  std::ifstream f(std::string(CONVNET_SOURCE_DIR) + "/examples/deep_convnet.json");
  ASSERT_TRUE(f) << "examples/deep_convnet.json";
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(Architecture::from_json(ss.str(), "deep_convnet.json"), Architecture::deep_convnet());
}

TEST(DeepConvNet, WholeNetworkGradientMatchesNumericalOnASmallInput) {
  // The book's layer list on 1x10x10 pictures (so Affine1 takes 64*2*2), with
  // dropout masks frozen; relu and pooling kinks are skipped by the checker.
  // About 40 elements of each of W1..b8 (every element would take minutes).
  test::check_network_gradient(Architecture::deep_convnet({1, 10, 10}, 6, 4), 3, 1e-5, {}, 40);
}

TEST(BookLayers, ArchitectureRoundTripsTheNewLayersAndInitialisations) {
  const Architecture a = Architecture::from_json(R"({"input": [2, 6, 6], "weight_init_std": "xavier", "layers": [
      {"type": "conv", "filters": 3, "size": 3, "weight_init_std": 0.3}, {"type": "batchnorm", "per_channel": true},
      {"type": "sigmoid"}, {"type": "affine", "units": 5, "weight_init_std": "relu"}, {"type": "batchnorm", "momentum": 0.8},
      {"type": "relu"}, {"type": "dropout", "ratio": 0.25}, {"type": "affine", "units": 3}]})",
                                                 "book.json");
  EXPECT_EQ(a.weight_init, InitScheme::Xavier);
  EXPECT_TRUE(a.layers[0].has_init);
  EXPECT_EQ(a.layers[0].init, (WeightInit{InitScheme::Std, 0.3}));
  EXPECT_EQ(a.layers[3].init.scheme, InitScheme::He);
  EXPECT_TRUE(a.layers[1].per_channel);
  EXPECT_EQ(a.layers[4].momentum, 0.8);
  EXPECT_EQ(a.layers[6].ratio, 0.25);
  EXPECT_EQ(Architecture::from_json(a.to_json(), "again"), a);
  // Scales: layer 0 its own std, layer 3 He over 3*4*4 inputs, layer 7 Xavier over 5.
  EXPECT_EQ(a.init_scale(0, 18), 0.3);
  EXPECT_EQ(a.init_scale(3, 48), std::sqrt(2.0 / 48));
  EXPECT_EQ(a.init_scale(7, 5), std::sqrt(1.0 / 5));
  // Parameters and buffers, numbered per family as the book's MultiLayerNetExtend.
  Sequential<double> net(a, 1u);
  std::vector<std::string> names, buffers;
  for (const auto& [n, t] : net.params()) names.push_back(n);
  for (const auto& [n, t] : net.buffers()) buffers.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"}));
  EXPECT_EQ(buffers, (std::vector<std::string>{"running_mean1", "running_var1", "running_mean2", "running_var2"}));
  EXPECT_EQ(net.params()["gamma1"].shape(), std::vector<std::size_t>{3});  // per channel
  EXPECT_EQ(net.params()["gamma2"].shape(), std::vector<std::size_t>{5});
  std::vector<std::pair<std::string, std::vector<std::size_t>>> shapes;
  for (const auto& [n, t] : net.params()) shapes.push_back({n, t->shape()});
  for (const auto& [n, t] : net.buffers()) shapes.push_back({n, t->shape()});
  auto listed = sequential_param_shapes(a);
  std::sort(listed.begin(), listed.end());
  std::sort(shapes.begin(), shapes.end());
  EXPECT_EQ(listed, shapes);
}

TEST(BookLayers, TheLossModeIsTheNetworksOwnAndRoundTrips) {
  // DeepConvNet.loss() predicts with train_flg=True; MultiLayerNetExtend's
  // and the notebook's default to evaluation.
  EXPECT_TRUE(Architecture::deep_convnet().loss_train_mode);
  EXPECT_FALSE(Architecture::notebook().loss_train_mode);
  const std::string head = R"({"input": [1, 4, 4], "layers": [{"type": "affine", "units": 2}])";
  EXPECT_FALSE(Architecture::from_json(head + "}", "m.json").loss_train_mode);
  const Architecture t = Architecture::from_json(head + R"(, "loss_mode": "train"})", "m.json");
  EXPECT_TRUE(t.loss_train_mode);
  EXPECT_EQ(Architecture::from_json(t.to_json(), "again"), t);
  try {
    Architecture::from_json(head + R"(, "loss_mode": "dropout"})", "m.json");
    ADD_FAILURE() << "loss_mode dropout accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "m.json: \"loss_mode\" must be \"eval\" or \"train\", got \"dropout\"");
  }
}

TEST(BookLayers, BadValuesAreRefusedNamingTheLayer) {
  const std::string head = R"({"input": [1, 4, 4], "layers": [)";
  for (const auto& [layers, expect] : std::vector<std::pair<std::string, std::string>>{
           {R"({"type": "dropout", "ratio": 1.0}, {"type": "affine", "units": 2})",
            "b.json: layers[0] (dropout): \"ratio\" must be at least 0 and below 1, got 1"},
           {R"({"type": "batchnorm", "momentum": 2}, {"type": "affine", "units": 2})",
            "b.json: layers[0] (batchnorm): \"momentum\" must be between 0 and 1, got 2"},
           {R"({"type": "affine", "units": 3}, {"type": "batchnorm", "per_channel": true}, {"type": "affine", "units": 2})",
            "b.json: layers[1] (batchnorm): \"per_channel\" needs an image input (C, H, W)"},
           {R"({"type": "affine", "units": 2, "weight_init_std": "gauss"})",
            "b.json: layers[0] (affine): \"weight_init_std\" must be a number, \"he\" (or \"relu\") or \"xavier\""},
           {R"({"type": "sigmoid", "ratio": 0.5}, {"type": "affine", "units": 2})",
            "b.json: layers[0] (sigmoid): unknown field \"ratio\""}}) {
    try {
      Architecture::from_json(head + layers + "]}", "b.json");
      ADD_FAILURE() << layers;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
    }
  }
}

TEST(BookLayers, GradientOfASigmoidBatchNormMlpMatchesNumerical) {
  // The book's ch. 6 MultiLayerNetExtend shape: affine - batchnorm - sigmoid, twice, affine.
  test::check_network_gradient(Architecture::from_json(R"({"input": [1, 3, 4], "weight_init_std": "xavier", "layers": [
      {"type": "affine", "units": 6}, {"type": "batchnorm"}, {"type": "sigmoid"},
      {"type": "affine", "units": 5}, {"type": "batchnorm"}, {"type": "sigmoid"}, {"type": "affine", "units": 3}]})",
                                                      "mlp_bn.json"),
                               6, 1e-6, {"b1", "b2"});
}

TEST(BookLayers, GradientOfAConvNetWithPerChannelBatchNormAndDropoutMatchesNumerical) {
  test::check_network_gradient(Architecture::from_json(R"({"input": [2, 6, 6], "weight_init_std": "he", "layers": [
      {"type": "conv", "filters": 3, "size": 3, "pad": 1}, {"type": "batchnorm", "per_channel": true},
      {"type": "relu"}, {"type": "pool", "size": 2, "stride": 2},
      {"type": "affine", "units": 5}, {"type": "relu"}, {"type": "dropout", "ratio": 0.3},
      {"type": "affine", "units": 3}]})",
                                                      "conv_bn.json"),
                               5, 1e-6, {"b1"});
}
