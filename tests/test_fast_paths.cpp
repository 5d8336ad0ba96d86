// The fast paths against the reference they replace (DESIGN.md §4): the
// per-image convolution and the fused direct conv+relu+pool evaluation
// against the notebook's batch im2col + GEMM.
#include <gtest/gtest.h>

#include <cmath>

#include "convnet/convnet.hpp"
#include "test_util.hpp"

using namespace convnet;
using convnet::test::cast;

namespace {
template <class T>
void expect_close(const Tensor<T>& a, const Tensor<T>& b, double tol, const char* what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(double(a[i]), double(b[i]), tol * std::max(1.0, std::fabs(double(b[i])))) << what << " at " << i;
}

// PerImage and TransposedCol against Reference: the notebook's 5x5 layer,
// DeepConvNet's shapes (3x3, pad 1 and 2, C up to 64), odd sizes, N = 1 and
// 3, strides 2 and 3 (the generic fill), "same" width with a different height
// (1x3 pad 1), 5x5 pad 2, 1x1, the first layer's case without dx, and 1x1 and
// 2x2 images with 3x3 filters, pad 1 (wide rows shorter than a vector).
template <class T>
void algorithm_matches_reference(ConvAlgo algo, double tol) {
  RandomState rng(23);
  struct Case { std::vector<std::size_t> x, w; std::size_t s, p; bool dx; };
  const std::vector<Case> cases{
      {{3, 1, 28, 28}, {30, 1, 5, 5}, 1, 0, true},   {{4, 2, 8, 8}, {5, 2, 5, 5}, 1, 2, true},
      {{3, 1, 28, 28}, {16, 1, 3, 3}, 1, 1, false}, {{1, 16, 28, 28}, {16, 16, 3, 3}, 1, 1, true},
      {{3, 16, 14, 14}, {32, 16, 3, 3}, 1, 1, true}, {{3, 32, 14, 14}, {32, 32, 3, 3}, 1, 2, true},
      {{3, 32, 8, 8}, {64, 32, 3, 3}, 1, 1, true},   {{1, 64, 8, 8}, {64, 64, 3, 3}, 1, 1, true},
      {{3, 3, 9, 7}, {5, 3, 3, 3}, 1, 2, true},      {{3, 2, 11, 13}, {4, 2, 3, 3}, 2, 1, true},
      {{2, 3, 9, 7}, {4, 3, 3, 3}, 2, 0, true},      {{3, 2, 10, 9}, {5, 2, 5, 4}, 3, 2, true},
      {{3, 16, 9, 9}, {7, 16, 3, 3}, 1, 0, false},   {{2, 2, 8, 8}, {5, 2, 5, 5}, 1, 2, true},
      {{2, 3, 6, 7}, {4, 3, 1, 3}, 1, 1, true},      {{2, 3, 5, 6}, {3, 3, 1, 1}, 1, 0, true},
      {{2, 3, 1, 1}, {3, 3, 3, 3}, 1, 1, true},      {{3, 2, 2, 2}, {5, 2, 3, 3}, 1, 1, true}};
  for (const Case& c : cases) {
    SCOPED_TRACE("x " + shape_str(c.x) + " W " + shape_str(c.w) + " stride " + std::to_string(c.s) + " pad " +
                 std::to_string(c.p));
    auto x = cast<T>(test::random_tensor(c.x, rng));
    auto W = cast<T>(test::random_tensor(c.w, rng));
    auto b = cast<T>(test::random_tensor({c.w[0]}, rng));
    Convolution<T> ref(W, b, c.s, c.p), fast(W, b, c.s, c.p);
    ref.set_algorithm(ConvAlgo::Reference);
    fast.set_algorithm(algo);
    ref.set_compute_dx(c.dx);
    fast.set_compute_dx(c.dx);
    // Twice: the second pass runs on the buffers of the first.
    for (int pass = 0; pass < 2; ++pass) {
      const Tensor<T> out_ref = ref.forward(x);
      expect_close(fast.forward(x), out_ref, tol, "forward");
      // col() is the notebook's im2col (PerImage) or its transpose
      // (TransposedCol); Direct keeps the padded input instead (not checked).
      const bool direct = algo == ConvAlgo::Direct && c.s == 1 && c.w[2] == c.w[3] && c.p < c.w[2];
      const Tensor<T>& cr = ref.col();
      const Tensor<T>& cf = fast.col();
      const bool t = algo == ConvAlgo::TransposedCol || (algo == ConvAlgo::Direct && !direct);
      if (!direct) {
        ASSERT_EQ(cf.shape(), t ? (std::vector<std::size_t>{cr.shape(1), cr.shape(0)}) : cr.shape());
      }
      for (std::size_t i = 0; i < (direct ? 0 : cr.shape(0)); ++i)
        for (std::size_t k = 0; k < cr.shape(1); ++k)
          ASSERT_EQ(cf[t ? k * cr.shape(0) + i : i * cr.shape(1) + k], cr[i * cr.shape(1) + k])
              << "col row " << i << " col " << k;
      auto dout = cast<T>(test::random_tensor(out_ref.shape(), rng));
      const Tensor<T> dx_ref = ref.backward(dout);
      expect_close(fast.backward(dout), dx_ref, tol, "dx");
      expect_close(fast.dW, ref.dW, tol, "dW");
      expect_close(fast.db, ref.db, tol, "db");
    }
  }
}
}  // namespace

TEST(FastPaths, PerImageConvolutionMatchesReferenceDouble) {
  algorithm_matches_reference<double>(ConvAlgo::PerImage, 1e-12);
}
TEST(FastPaths, PerImageConvolutionMatchesReferenceFloat) { algorithm_matches_reference<float>(ConvAlgo::PerImage, 1e-4); }
TEST(FastPaths, TransposedColConvolutionMatchesReferenceDouble) {
  algorithm_matches_reference<double>(ConvAlgo::TransposedCol, 1e-12);
}
TEST(FastPaths, TransposedColConvolutionMatchesReferenceFloat) {
  algorithm_matches_reference<float>(ConvAlgo::TransposedCol, 1e-4);
}

// Direct (float, and double's fast path); its shapes outside stride 1,
// square filters and pad < FH run TransposedCol, which the same cases check.
TEST(FastPaths, DirectConvolutionMatchesReferenceFloat) {
  algorithm_matches_reference<float>(ConvAlgo::Direct, 1e-4);
}
TEST(FastPaths, DirectConvolutionMatchesReferenceDouble) {
  algorithm_matches_reference<double>(ConvAlgo::Direct, 1e-12);
}

TEST(FastPaths, FloatConvolutionDefaultsToDirect) {
  Convolution<float> f(Tensor<float>({2, 1, 3, 3}), Tensor<float>({2}));
  Convolution<double> d(Tensor<double>({2, 1, 3, 3}), Tensor<double>({2}));
  EXPECT_EQ(f.algorithm(), ConvAlgo::Direct);
  EXPECT_EQ(d.algorithm(), ConvAlgo::Reference);
}

namespace {
// Shapes for the direct kernel's edges: several channels, odd conv outputs
// (the pooling drops a row and a column), filter counts that are not whole
// register blocks (10 forward, 5 backward), 1x1 and 7x7 filters, rows wider
// than several 16-pixel chunks, padding.
struct Geometry {
  std::array<std::size_t, 3> input_dim;
  ConvParam cp;
};
const std::vector<Geometry>& direct_geometries() {
  static const std::vector<Geometry> g{{{1, 28, 28}, {30, 5, 0, 1}}, {{1, 28, 28}, {8, 3, 1, 1}},
                                       {{1, 28, 28}, {6, 5, 2, 2}},  {{3, 17, 17}, {13, 4, 1, 1}},
                                       {{2, 21, 21}, {11, 7, 3, 1}}, {{1, 45, 45}, {4, 1, 0, 1}},
                                       {{2, 9, 9}, {1, 2, 0, 1}},    {{1, 70, 70}, {21, 5, 0, 1}}};
  return g;
}
SimpleConvNetConfig config_for(const Geometry& g) {
  SimpleConvNetConfig cfg;
  cfg.input_dim = g.input_dim;
  cfg.conv_param = g.cp;
  cfg.hidden_size = 17;
  cfg.weight_init_std = 0.1;
  return cfg;
}
}  // namespace

namespace {
// The fast network (ConvReluPool first) against the NumPy-exact one (the
// notebook's im2col + GEMM layers), same weights; tol relative: 1e-4 in
// float, 1e-12 in double (the fast float64 path differs only by rounding).
template <class T>
void fused_eval_forward_matches_layer_by_layer(double tol) {
  RandomState rng(5);
  for (const Geometry& geo : direct_geometries()) {
    SimpleConvNet<T> plain(config_for(geo), Kernels::NumpyExact), net(config_for(geo), Kernels::Fast);
    ASSERT_EQ(net.fused(), geo.cp.stride == 1);  // otherwise the plain layers, Direct or TransposedCol
    for (const char* bn : {"b1", "b2"}) {
      for (auto& v : net.params()[bn]) v = T(0.1 * rng.randn());
      plain.params()[bn] = net.params()[bn];
    }
    const auto& d = geo.input_dim;
    auto x = cast<T>(test::random_tensor({7, d[0], d[1], d[2]}, rng));
    const Tensor<T> layered = plain.predict(x, Mode::Train);
    const Tensor<T>& fused = net.predict(x, Mode::Eval);
    expect_close(fused, layered, tol, ("scores, " + shape_str({d[0], d[1], d[2]}) + " filter " +
                                       std::to_string(geo.cp.filter_size)).c_str());
  }
}
}  // namespace

TEST(FastPaths, FusedEvalForwardMatchesLayerByLayer) { fused_eval_forward_matches_layer_by_layer<float>(1e-4); }
TEST(FastPaths, FusedEvalForwardMatchesLayerByLayerDouble) {
  fused_eval_forward_matches_layer_by_layer<double>(1e-12);
}

namespace {
// Evaluation pools without the argmax (rows first, then columns), training
// in window order with it: the same scores, to the bit, on every geometry.
template <class T>
void fused_eval_forward_equals_train_forward() {
  RandomState rng(6);
  for (const Geometry& geo : direct_geometries()) {
    if (geo.cp.stride != 1) continue;
    SimpleConvNet<T> net(config_for(geo), Kernels::Fast);
    ASSERT_TRUE(net.fused());
    for (auto& v : net.params()["b1"]) v = T(0.1 * rng.randn());
    const auto& d = geo.input_dim;
    auto x = cast<T>(test::random_tensor({5, d[0], d[1], d[2]}, rng));
    const Tensor<T> train = net.predict(x, Mode::Train);
    const Tensor<T>& eval = net.predict(x, Mode::Eval);
    EXPECT_TRUE(test::same_bits(eval, train)) << shape_str({d[0], d[1], d[2]}) << " filter " << geo.cp.filter_size;
  }
}
}  // namespace

TEST(FastPaths, FusedEvalForwardEqualsTrainForward) { fused_eval_forward_equals_train_forward<float>(); }
TEST(FastPaths, FusedEvalForwardEqualsTrainForwardDouble) { fused_eval_forward_equals_train_forward<double>(); }

namespace {
template <class T>
void thread_count_does_not_change_the_gradient() {
  SimpleConvNet<T> a({}, Kernels::Fast), b({}, Kernels::Fast);
  RandomState rng(9);
  auto x = cast<T>(test::random_tensor({64, 1, 28, 28}, rng));
  std::vector<std::int32_t> t(64);
  for (int i = 0; i < 64; ++i) t[i] = i % 10;
  set_num_threads(1);
  const auto& g1 = a.gradient(x, t);
  set_num_threads(2);
  const auto& g2 = b.gradient(x, t);
  set_num_threads(0);
  for (const auto& [name, g] : g1) {
    const Tensor<T>& other = g2[name];
    for (std::size_t i = 0; i < g->size(); ++i) ASSERT_EQ((*g)[i], other[i]) << name << " " << i;
  }
}
}  // namespace

TEST(FastPaths, ThreadCountDoesNotChangeTheGradient) { thread_count_does_not_change_the_gradient<float>(); }
TEST(FastPaths, ThreadCountDoesNotChangeTheGradientDouble) { thread_count_does_not_change_the_gradient<double>(); }

namespace {
template <class T>
void fused_training_gradient_matches_layer_by_layer(double tol) {
  for (const Geometry& geo : direct_geometries()) {
    if (geo.cp.stride != 1) continue;  // the fused training path is stride 1 only
    SCOPED_TRACE(shape_str({geo.input_dim[0], geo.input_dim[1], geo.input_dim[2]}) + " filter " +
                 std::to_string(geo.cp.filter_num) + "x" + std::to_string(geo.cp.filter_size));
    const SimpleConvNetConfig cfg = config_for(geo);
    SimpleConvNet<T> fused(cfg, Kernels::Fast), layered(cfg, Kernels::NumpyExact);
    ASSERT_TRUE(fused.fused());
    ASSERT_FALSE(layered.fused());
    RandomState rng(31);
    for (const char* bn : {"b1", "b2"}) {
      for (auto& v : fused.params()[bn]) v = T(0.1 * rng.randn());
      layered.params()[bn] = fused.params()[bn];
    }
    const auto& d = geo.input_dim;
    auto x = cast<T>(test::random_tensor({12, d[0], d[1], d[2]}, rng));
    std::vector<std::int32_t> t(12);
    for (int i = 0; i < 12; ++i) t[i] = (i * 7) % 10;
    const auto& gf = fused.gradient(x, t);
    const auto& gl = layered.gradient(x, t);
    for (const auto& [name, g] : gl) {
      double scale = 0;
      for (T v : *g) scale = std::max(scale, double(std::fabs(v)));
      ASSERT_GT(scale, 0.0) << name;
      const Tensor<T>& f = gf[name];
      for (std::size_t i = 0; i < g->size(); ++i)
        ASSERT_NEAR(double(f[i]), double((*g)[i]), tol * scale) << name << " at " << i;
    }
  }
}
}  // namespace

TEST(FastPaths, FusedTrainingGradientMatchesLayerByLayer) {
  fused_training_gradient_matches_layer_by_layer<float>(1e-4);
}
TEST(FastPaths, FusedTrainingGradientMatchesLayerByLayerDouble) {
  fused_training_gradient_matches_layer_by_layer<double>(1e-12);
}
