// Sequential (a network built from an Architecture) against SimpleConvNet,
// bit for bit; ConvReluPool against the three plain layers it replaces;
// whole-network numerical gradients of architectures other than the notebook's.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "convnet/convnet.hpp"
#include "gradient_checker.hpp"
#include "network_gradient.hpp"
#include "test_util.hpp"

using namespace convnet;
using convnet::test::same_bits;
using convnet::test::cast;

namespace {

// The notebook's network (In [9]) as a person would write it.
const char* kNotebookJson = R"({"input": [1, 28, 28],
  "layers": [{"type": "conv", "filters": 30, "size": 5, "stride": 1, "pad": 0}, {"type": "relu"},
             {"type": "pool", "size": 2, "stride": 2}, {"type": "affine", "units": 100}, {"type": "relu"},
             {"type": "affine", "units": 10}],
  "weight_init_std": 0.01})";


template <class T>
void expect_same_named(const NamedTensors<T>& a, const NamedTensors<T>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a.item(i).first, b.item(i).first) << what;
    EXPECT_TRUE(same_bits(*a.item(i).second, *b.item(i).second)) << what << " " << a.item(i).first;
  }
}

std::vector<std::int32_t> labels(std::size_t n, int classes) {
  std::vector<std::int32_t> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = std::int32_t((i * 7 + 3) % std::size_t(classes));
  return t;
}

template <class T>
void notebook_network_equals_simple_convnet() {
  const Architecture arch = Architecture::from_json(kNotebookJson, "notebook.json");
  SimpleConvNetConfig cfg;
  cfg.seed = 42;
  SimpleConvNet<T> ref(cfg);
  Sequential<T> seq(arch, 42);
  EXPECT_EQ(ref.architecture(), arch);
  if constexpr (std::is_same_v<T, float>) {
    ASSERT_TRUE(ref.fused());
    ASSERT_TRUE(seq.fused());
  } else {
    ASSERT_FALSE(seq.fused());
  }
  expect_same_named(seq.params(), ref.params(), "initial params");

  RandomState rng(7);
  Adam<T> adam_ref, adam_seq;
  // Batches of different sizes: a gradient must not see the batch before it.
  // Adam steps in between: training runs stay equal, not only one gradient.
  for (std::size_t N : {13, 6, 9}) {
    SCOPED_TRACE("batch " + std::to_string(N));
    auto x = cast<T>(test::random_tensor({N, 1, 28, 28}, rng));
    const auto t = labels(N, 10);
    const auto& gr = ref.gradient(x, t);
    const auto& gs = seq.gradient(x, t);
    EXPECT_EQ(seq.last_loss(), ref.last_loss());
    expect_same_named(gs, gr, "gradients");
    // Eval (both fused for float), and the training-mode loss for double
    // (float's SimpleConvNet::loss(Train) runs the im2col layers instead).
    EXPECT_EQ(seq.loss(x, t, Mode::Eval), ref.loss(x, t, Mode::Eval));
    if constexpr (std::is_same_v<T, double>) {
      EXPECT_EQ(seq.loss(x, t), ref.loss(x, t));
    }
    EXPECT_TRUE(same_bits(Tensor<T>(seq.predict(x, Mode::Eval)), ref.predict(x, Mode::Eval)));
    adam_ref.update(ref.params(), ref.gradient(x, t));
    adam_seq.update(seq.params(), seq.gradient(x, t));
    expect_same_named(seq.params(), ref.params(), "params after an Adam step");
  }
  auto x = cast<T>(test::random_tensor({250, 1, 28, 28}, rng));
  const auto t = labels(250, 10);
  EXPECT_EQ(seq.accuracy(x, t, 100), ref.accuracy(x, t, 100));  // batches of 100, 100, 50
}

}  // namespace

TEST(Sequential, NotebookNetworkFromJsonEqualsSimpleConvNetFloat) { notebook_network_equals_simple_convnet<float>(); }
TEST(Sequential, NotebookNetworkFromJsonEqualsSimpleConvNetDouble) { notebook_network_equals_simple_convnet<double>(); }

TEST(Sequential, NamesLayersAndParametersAsTheNotebook) {
  const Architecture arch = Architecture::notebook();
  Sequential<double> d(arch);
  std::vector<std::string> names;
  for (auto& [n, l] : d.layers()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"Conv1", "Relu1", "Pool1", "Affine1", "Relu2", "Affine2"}));
  Sequential<float> f(arch);
  names.clear();
  for (auto& [n, l] : f.layers()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"Conv1+Relu1+Pool1", "Affine1", "Relu2", "Affine2"}));
  EXPECT_NE(dynamic_cast<ConvReluPool<float>*>(&f.layer("Conv1+Relu1+Pool1")), nullptr);
  for (auto* p : {&d.params(), &d.grads()}) {
    std::vector<std::string> pn;
    for (auto& [n, t] : *p) pn.push_back(n);
    EXPECT_EQ(pn, (std::vector<std::string>{"W1", "b1", "W2", "b2", "W3", "b3"}));
  }
  EXPECT_EQ(f.params()["W2"].shape(), (std::vector<std::size_t>{4320, 100}));
  Sequential<float> plain(arch, 0, Kernels::Layered);
  EXPECT_FALSE(plain.fused());
  EXPECT_EQ(plain.layers().size(), 6u);
  try {
    f.layer("Conv1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no layer named 'Conv1' (the layers: Conv1+Relu1+Pool1, Affine1"),
              std::string::npos)
        << e.what();
  }
}

TEST(Sequential, SubstitutionRule) {
  auto arch = [](std::vector<LayerSpec> l) {
    Architecture a;
    a.input = {2, 12, 12};
    a.layers = std::move(l);
    a.layers.push_back(LayerSpec::affine(3));
    return a;
  };
  using L = LayerSpec;
  EXPECT_TRUE(fuses_conv_relu_pool(arch({L::conv(4, 3, 1, 1), L::relu(), L::pool(2, 2)}), 0));
  EXPECT_FALSE(fuses_conv_relu_pool(arch({L::conv(4, 3, 2, 1), L::relu(), L::pool(2, 2)}), 0));  // conv stride
  EXPECT_FALSE(fuses_conv_relu_pool(arch({L::conv(4, 3), L::relu(), L::pool(2, 1)}), 0));        // pool stride
  EXPECT_FALSE(fuses_conv_relu_pool(arch({L::conv(4, 3), L::relu(), L::pool(3, 3)}), 0));        // pool size
  EXPECT_FALSE(fuses_conv_relu_pool(arch({L::conv(4, 3), L::relu(), L::pool(2, 2, 1)}), 0));     // pool pad
  EXPECT_FALSE(fuses_conv_relu_pool(arch({L::conv(4, 3), L::pool(2, 2), L::relu()}), 0));        // order
  // Only the first layer: a later conv's input needs a gradient, which the fused layer has not.
  const Architecture two = arch({L::conv(4, 3), L::relu(), L::pool(2, 2), L::conv(3, 2), L::relu(), L::pool(2, 2)});
  EXPECT_TRUE(fuses_conv_relu_pool(two, 0));
  EXPECT_FALSE(fuses_conv_relu_pool(two, 3));
  Sequential<float> net(two);
  std::vector<std::string> names;
  for (auto& [n, l] : net.layers()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"Conv1+Relu1+Pool1", "Conv2+Relu2", "Pool2", "Affine1"}));
  EXPECT_FALSE(Sequential<float>(arch({L::relu(), L::conv(4, 3), L::relu(), L::pool(2, 2)})).fused());
  // The second rule: conv then relu on the direct kernels' shapes, where the first does not apply.
  EXPECT_FALSE(fuses_conv_relu(two, 0));  // taken by the first rule
  EXPECT_TRUE(fuses_conv_relu(two, 3));
  EXPECT_TRUE(fuses_conv_relu(arch({L::conv(4, 3, 1, 2), L::relu()}), 0));    // pad 2 < 3
  EXPECT_FALSE(fuses_conv_relu(arch({L::conv(4, 3, 2, 1), L::relu()}), 0));   // stride 2: TransposedCol
  EXPECT_FALSE(fuses_conv_relu(arch({L::conv(4, 3, 1, 3), L::relu()}), 0));   // pad 3 = FH: TransposedCol
  EXPECT_FALSE(fuses_conv_relu(arch({L::conv(4, 3), L::sigmoid()}), 0));     // not a relu
  EXPECT_FALSE(fuses_conv_relu(arch({L::conv(4, 3), L::pool(2, 2), L::relu()}), 0));
  EXPECT_FALSE(fuses_conv_relu(arch({L::relu(), L::conv(4, 3)}), 0));
  names.clear();
  Sequential<float> deep(Architecture::deep_convnet()), deep_layered(Architecture::deep_convnet(), 0, Kernels::Layered);
  for (auto& [n, l] : deep.layers()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"Conv1+Relu1", "Conv2+Relu2", "Pool1", "Conv3+Relu3", "Conv4+Relu4",
                                             "Pool2", "Conv5+Relu5", "Conv6+Relu6", "Pool3", "Affine1", "Relu7",
                                             "Dropout1", "Affine2", "Dropout2"}));
  names.clear();
  for (auto& [n, l] : deep_layered.layers()) names.push_back(n);
  EXPECT_EQ(names.size(), 20u);
}

// Kernels::Fast against Layered on DeepConvNet's layer list (no first-layer
// ConvReluPool there, so only the fused conv+relu layers differ): the same
// scores, loss and gradients bit for bit, for float and double, on a small
// input that keeps each conv's shape class (pad 1, the pad-2 conv, 3 pools).
template <class T>
void fast_deep_network_equals_layered() {
  const Architecture a = Architecture::deep_convnet({1, 12, 12});
  Sequential<T> fast(a, 3, Kernels::Fast), layered(a, 3, Kernels::Layered);
  expect_same_named(fast.params(), layered.params(), "initial params");
  RandomState rng(6);
  auto x = cast<T>(test::random_tensor({5, 1, 12, 12}, rng));
  const auto t = labels(5, 10);
  EXPECT_TRUE(same_bits(fast.predict(x, Mode::Eval), layered.predict(x, Mode::Eval)));
  // The dropout masks: each network draws from its own RandomState(3), the same draws.
  const auto& gf = fast.gradient(x, t);
  const auto& gl = layered.gradient(x, t);
  EXPECT_EQ(fast.last_loss(), layered.last_loss());
  expect_same_named(gf, gl, "gradients");
}
TEST(Sequential, FastDeepNetworkEqualsLayeredBitForBit) { fast_deep_network_equals_layered<float>(); }
TEST(Sequential, FastDeepNetworkEqualsLayeredBitForBitDouble) { fast_deep_network_equals_layered<double>(); }

TEST(Sequential, FusedAndPlainFloatNetworksAgree) {
  Architecture a;
  a.input = {3, 13, 11};
  a.layers = {LayerSpec::conv(7, 3, 1, 1), LayerSpec::relu(), LayerSpec::pool(2, 2), LayerSpec::conv(5, 2),
              LayerSpec::relu(), LayerSpec::affine(9), LayerSpec::relu(), LayerSpec::affine(4)};
  a.weight_init_std = 0.3;
  Sequential<float> fused(a, 5), plain(a, 5, Kernels::Layered);
  ASSERT_TRUE(fused.fused());
  expect_same_named(fused.params(), plain.params(), "initial params");
  RandomState rng(8);
  auto x = cast<float>(test::random_tensor({9, 3, 13, 11}, rng));
  const auto t = labels(9, 4);
  const auto& gf = fused.gradient(x, t);
  const auto& gp = plain.gradient(x, t);
  EXPECT_NEAR(fused.last_loss(), plain.last_loss(), 1e-5);
  for (const auto& [name, g] : gp) {
    double scale = 0;
    for (float v : *g) scale = std::max(scale, double(std::fabs(v)));
    ASSERT_GT(scale, 0.0) << name;
    const Tensor<float>& f = gf[name];
    for (std::size_t i = 0; i < g->size(); ++i) ASSERT_NEAR(f[i], (*g)[i], 1e-4 * scale) << name << " at " << i;
  }
}

TEST(Sequential, RefusesInputsOfAnotherShape) {
  Sequential<float> net(Architecture::notebook());
  Tensor<float> x({2, 3, 28, 28});
  try {
    net.predict(x);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Sequential: input (2, 3, 28, 28) does not match the architecture's input; expected "
                           "(N, 1, 28, 28)");
  }
  Tensor<float> ok({2, 1, 28, 28});
  EXPECT_THROW(net.loss(ok, std::vector<std::int32_t>{1, 2, 3}), Error);
  EXPECT_THROW(net.accuracy(ok, std::vector<std::int32_t>{1}), Error);
}

// ---- ConvReluPool against Convolution -> Relu -> Pooling ---------------------

namespace {
struct Geo {
  std::vector<std::size_t> x;  // (N, C, H, W)
  std::size_t FN, F, pad;
};
// C 1-3, odd conv outputs (the pool drops a row/column), filters 1-7, counts
// that are not whole register blocks, padding, 70x70 inputs.
const std::vector<Geo> kGeos{{{4, 1, 28, 28}, 30, 5, 0}, {{3, 2, 9, 9}, 1, 2, 0},   {{5, 3, 17, 17}, 13, 4, 1},
                             {{2, 2, 21, 21}, 11, 7, 3}, {{3, 1, 45, 45}, 4, 1, 0},  {{2, 1, 70, 70}, 21, 5, 0},
                             {{3, 3, 10, 13}, 7, 3, 2},  {{1, 1, 6, 6}, 17, 6, 1}};

struct Plain {
  Convolution<float> conv;
  Relu<float> relu;
  Pooling<float> pool{2, 2, 2};
  Plain(const Tensor<float>& W, const Tensor<float>& b, std::size_t pad) : conv(W, b, 1, pad) {
    conv.set_compute_dx(false);
  }
  const Tensor<float>& forward(const Tensor<float>& x) { return pool.forward(relu.forward(conv.forward(x))); }
  void backward(const Tensor<float>& dout) { conv.backward(relu.backward(pool.backward(dout))); }
};

void expect_close(const Tensor<float>& a, const Tensor<float>& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  double scale = 0;
  for (float v : b) scale = std::max(scale, double(std::fabs(v)));
  ASSERT_GT(scale, 0.0) << what;
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4 * scale) << what << " at " << i;
}
}  // namespace

TEST(ConvReluPool, MatchesConvolutionReluPoolingForwardAndBackward) {
  RandomState rng(11);
  for (const Geo& g : kGeos) {
    SCOPED_TRACE(shape_str(g.x) + " filters " + std::to_string(g.FN) + "x" + std::to_string(g.F) + " pad " +
                 std::to_string(g.pad));
    auto W = cast<float>(test::random_tensor({g.FN, g.x[1], g.F, g.F}, rng, 0.3));
    auto b = cast<float>(test::random_tensor({g.FN}, rng, 0.1));
    auto x = cast<float>(test::random_tensor(g.x, rng));
    ConvReluPool<float> fused(W, b, g.pad);
    Plain plain(W, b, g.pad);
    const Tensor<float>& ref = plain.forward(x);
    expect_close(fused.forward(x), ref, "forward");
    expect_close(fused.forward(x, Mode::Eval), ref, "forward, Eval");
    fused.forward(x);
    auto dout = cast<float>(test::random_tensor(ref.shape(), rng));
    EXPECT_EQ(fused.backward(dout).size(), 0u);  // no dx: the first layer only
    plain.backward(dout);
    expect_close(fused.dW, plain.conv.dW, "dW");
    expect_close(fused.db, plain.conv.db, "db");
    const auto p = fused.params();
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0].name, "W");
    EXPECT_EQ(p[1].name, "b");
  }
}

TEST(ConvReluPool, BackwardUsesTheLastForwardsBatch) {
  RandomState rng(12);
  for (const Geo& g : {kGeos[0], kGeos[2], kGeos[6]}) {
    auto W = cast<float>(test::random_tensor({g.FN, g.x[1], g.F, g.F}, rng, 0.3));
    auto b = cast<float>(test::random_tensor({g.FN}, rng, 0.1));
    auto a = cast<float>(test::random_tensor(g.x, rng));
    std::vector<std::size_t> shape_b = g.x;
    shape_b[0] += 2;  // another batch size too
    auto xb = cast<float>(test::random_tensor(shape_b, rng));
    ConvReluPool<float> layer(W, b, g.pad), fresh(W, b, g.pad);
    const Tensor<float> out_a = layer.forward(a);
    const Tensor<float>& out_b = layer.forward(xb);
    EXPECT_TRUE(same_bits(out_b, fresh.forward(xb)));
    auto dout = cast<float>(test::random_tensor(out_b.shape(), rng));
    layer.backward(dout);
    fresh.backward(dout);
    EXPECT_TRUE(same_bits(layer.dW, fresh.dW));  // batch b's gradient, not a's
    EXPECT_TRUE(same_bits(layer.db, fresh.db));
    // A dout of batch a's shape no longer fits.
    auto dout_a = cast<float>(test::random_tensor(out_a.shape(), rng));
    EXPECT_THROW(layer.backward(dout_a), Error);
  }
}

TEST(ConvReluPool, RefusesBackwardWithoutATrainingForward) {
  RandomState rng(13);
  auto W = cast<float>(test::random_tensor({3, 1, 3, 3}, rng));
  auto x = cast<float>(test::random_tensor({2, 1, 8, 8}, rng));
  ConvReluPool<float> layer(W, Tensor<float>({3}));
  Tensor<float> dout({2, 3, 3, 3});
  try {
    layer.backward(dout);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "ConvReluPool.backward: called before forward");
  }
  layer.forward(x);
  layer.backward(dout);  // fine
  layer.forward(x, Mode::Eval);
  try {
    layer.backward(dout);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the last forward was Mode::Eval"), std::string::npos) << e.what();
  }
  EXPECT_THROW(layer.forward(Tensor<float>({2, 2, 8, 8})), Error);  // channels
  EXPECT_THROW(layer.forward(Tensor<float>({2, 1, 3, 3})), Error);  // 1x1 conv output: no 2x2 window
  EXPECT_THROW(ConvReluPool<float>(W, Tensor<float>({2})), Error);
}

TEST(ConvReluPool, PlainLayersRefuseStaleOrMismatchedBackward) {
  Relu<double> relu;
  EXPECT_THROW(relu.backward(Tensor<double>({2, 3})), Error);
  relu.forward(Tensor<double>({2, 3}));
  EXPECT_THROW(relu.backward(Tensor<double>({3, 2})), Error);  // same size, another shape
  Pooling<double> pool(2, 2, 2);
  pool.forward(Tensor<double>({4, 1, 4, 4}));
  EXPECT_THROW(pool.backward(Tensor<double>({2, 2, 2, 2})), Error);  // same size, another batch
}

// ---- whole-network numerical gradients (double) ------------------------------


TEST(Sequential, GradientOfTwoConvLayersMatchesNumerical) {
  // The second conv takes 3 channels from the first.
  const Architecture a = Architecture::from_json(R"({"input": [2, 9, 9], "weight_init_std": 0.4, "layers": [
      {"type": "conv", "filters": 3, "size": 3, "pad": 1}, {"type": "relu"}, {"type": "pool", "size": 2, "stride": 2},
      {"type": "conv", "filters": 4, "size": 2}, {"type": "relu"}, {"type": "affine", "units": 5}]})",
                                                 "two_conv.json");
  test::check_network_gradient(a, 3);
}

TEST(Sequential, GradientWithPadStrideAndThreeChannelsMatchesNumerical) {
  const Architecture a = Architecture::from_json(R"({"input": [3, 8, 7], "weight_init_std": 0.4, "layers": [
      {"type": "conv", "filters": 4, "size": 3, "stride": 2, "pad": 1}, {"type": "relu"},
      {"type": "pool", "size": 3, "stride": 2, "pad": 1},
      {"type": "affine", "units": 6}, {"type": "relu"}, {"type": "affine", "units": 4}]})",
                                                 "strided.json");
  test::check_network_gradient(a, 4);
}

TEST(Sequential, GradientOfAnAffineOnlyNetworkMatchesNumerical) {
  const Architecture a = Architecture::from_json(R"({"input": [1, 4, 5], "weight_init_std": 0.5, "layers": [
      {"type": "affine", "units": 7}, {"type": "relu"}, {"type": "affine", "units": 6}, {"type": "relu"},
      {"type": "affine", "units": 3}]})",
                                                 "mlp.json");
  test::check_network_gradient(a, 5);
}
