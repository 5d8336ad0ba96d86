// Layers against naive loops (forward) and central differences (backward).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "convnet/convnet.hpp"
#include "gradient_checker.hpp"
#include "test_util.hpp"

using namespace convnet;
using convnet::test::same_bits;
using convnet::test::check_gradient;
using convnet::test::random_tensor;

namespace {

// Direct convolution, 7 nested loops, zero padding: the definition.
Tensor<double> naive_conv(const Tensor<double>& x, const Tensor<double>& W, const Tensor<double>& b,
                          std::size_t s, std::size_t p) {
  const std::size_t N = x.shape(0), C = x.shape(1), H = x.shape(2), Wd = x.shape(3);
  const std::size_t FN = W.shape(0), FH = W.shape(2), FW = W.shape(3);
  const std::size_t oh = (H + 2 * p - FH) / s + 1, ow = (Wd + 2 * p - FW) / s + 1;
  Tensor<double> out({N, FN, oh, ow});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t f = 0; f < FN; ++f)
      for (std::size_t y = 0; y < oh; ++y)
        for (std::size_t xx = 0; xx < ow; ++xx) {
          double acc = b[f];
          for (std::size_t c = 0; c < C; ++c)
            for (std::size_t ky = 0; ky < FH; ++ky)
              for (std::size_t kx = 0; kx < FW; ++kx) {
                const long iy = long(y * s + ky) - long(p), ix = long(xx * s + kx) - long(p);
                if (iy < 0 || ix < 0 || iy >= long(H) || ix >= long(Wd)) continue;
                acc += W[((f * C + c) * FH + ky) * FW + kx] *
                       x[((n * C + c) * H + std::size_t(iy)) * Wd + std::size_t(ix)];
              }
          out[((n * FN + f) * oh + y) * ow + xx] = acc;
        }
  return out;
}

// Max over each window (padding counts as 0, as np.pad in im2col).
Tensor<double> naive_pool(const Tensor<double>& x, std::size_t ph, std::size_t pw, std::size_t s, std::size_t p) {
  const std::size_t N = x.shape(0), C = x.shape(1), H = x.shape(2), W = x.shape(3);
  const std::size_t oh = (H + 2 * p - ph) / s + 1, ow = (W + 2 * p - pw) / s + 1;
  Tensor<double> out({N, C, oh, ow});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t y = 0; y < oh; ++y)
        for (std::size_t xx = 0; xx < ow; ++xx) {
          double m = -INFINITY;
          for (std::size_t ky = 0; ky < ph; ++ky)
            for (std::size_t kx = 0; kx < pw; ++kx) {
              const long iy = long(y * s + ky) - long(p), ix = long(xx * s + kx) - long(p);
              const bool in = iy >= 0 && ix >= 0 && iy < long(H) && ix < long(W);
              m = std::max(m, in ? x[((n * C + c) * H + std::size_t(iy)) * W + std::size_t(ix)] : 0.0);
            }
          out[((n * C + c) * oh + y) * ow + xx] = m;
        }
  return out;
}

double dot(const Tensor<double>& a, const Tensor<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

struct ConvCase {
  std::vector<std::size_t> x, w;
  std::size_t stride, pad;
};
const std::vector<ConvCase> kConvCases = {
    {{2, 1, 6, 6}, {3, 1, 3, 3}, 1, 0}, {{2, 3, 7, 5}, {4, 3, 3, 2}, 2, 1},
    {{1, 2, 8, 8}, {2, 2, 5, 5}, 3, 2}, {{3, 2, 5, 5}, {5, 2, 1, 1}, 1, 0},
    {{2, 1, 28, 28}, {30, 1, 5, 5}, 1, 0}};

}  // namespace

TEST(Convolution, ForwardEqualsNaiveDirectConvolution) {
  RandomState rng(1);
  for (const auto& cc : kConvCases) {
    auto x = random_tensor(cc.x, rng), W = random_tensor(cc.w, rng), b = random_tensor({cc.w[0]}, rng);
    Convolution<double> conv(W, b, cc.stride, cc.pad);
    const auto& out = conv.forward(x);
    const auto ref = naive_conv(x, W, b, cc.stride, cc.pad);
    ASSERT_EQ(out.shape(), ref.shape());
    for (std::size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(out[i], ref[i], 1e-12) << i;
  }
}

TEST(Convolution, FloatForwardMatchesDouble) {
  RandomState rng(2);
  auto x = random_tensor({2, 3, 9, 9}, rng), W = random_tensor({4, 3, 3, 3}, rng), b = random_tensor({4}, rng);
  Tensor<float> xf(x.shape()), Wf(W.shape()), bf(b.shape());
  for (std::size_t i = 0; i < x.size(); ++i) xf[i] = float(x[i]);
  for (std::size_t i = 0; i < W.size(); ++i) Wf[i] = float(W[i]);
  for (std::size_t i = 0; i < b.size(); ++i) bf[i] = float(b[i]);
  Convolution<float> cf(Wf, bf, 2, 1);
  const auto ref = naive_conv(x, W, b, 2, 1);
  const auto& out = cf.forward(xf);
  for (std::size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(out[i], ref[i], 1e-4);
}

TEST(Convolution, BackwardMatchesNumericalGradient) {
  RandomState rng(11);
  for (const auto& cc : kConvCases) {
    if (cc.w[0] == 30) continue;  // the notebook shape is covered in forward; keep this fast
    auto x = random_tensor(cc.x, rng), W = random_tensor(cc.w, rng), b = random_tensor({cc.w[0]}, rng);
    Convolution<double> conv(W, b, cc.stride, cc.pad);
    const auto out_shape = conv.forward(x).shape();
    const auto R = random_tensor(out_shape, rng);  // f = sum(out * R), so dout = R
    conv.forward(x);
    const Tensor<double> dx = conv.backward(R);
    const Tensor<double> dW = conv.dW, db = conv.db;
    auto f = [&] { return dot(conv.forward(x), R); };
    auto rx = check_gradient(x, dx, f);
    auto rW = check_gradient(conv.W, dW, f);
    auto rb = check_gradient(conv.b, db, f);
    for (auto* r : {&rx, &rW, &rb}) {
      EXPECT_LT(r->max_rel_error, 1e-6) << shape_str(cc.x) << " worst " << r->worst_index;
      EXPECT_GT(r->max_abs_grad, 0.1);
      EXPECT_EQ(r->skipped, 0u);
    }
  }
}

// The same dW and db bit for bit with and without dx, for every algorithm,
// with and without the fused ReLU.
template <class T>
void without_dx_still_gives_parameter_gradients() {
  RandomState rng(5);
  for (const ConvAlgo algo : {ConvAlgo::Reference, ConvAlgo::PerImage, ConvAlgo::TransposedCol, ConvAlgo::Direct})
    for (std::size_t pad : {0, 1})
      for (bool relu : {false, true}) {
        auto x = test::cast<T>(random_tensor({3, 2, 6, 6}, rng)), W = test::cast<T>(random_tensor({4, 2, 3, 3}, rng));
        auto b = test::cast<T>(random_tensor({4}, rng));
        Convolution<T> a(W, b, 1, pad), c(W, b, 1, pad);
        for (auto* l : {&a, &c}) l->set_algorithm(algo), l->set_fused_relu(relu);
        c.set_compute_dx(false);
        const auto R = test::cast<T>(random_tensor(a.forward(x).shape(), rng));
        c.forward(x);
        EXPECT_EQ(a.backward(R).shape(), x.shape());
        EXPECT_EQ(c.backward(R).size(), 0u);
        for (std::size_t i = 0; i < W.size(); ++i) ASSERT_EQ(a.dW[i], c.dW[i]) << int(algo) << " pad " << pad;
        for (std::size_t i = 0; i < b.size(); ++i) ASSERT_EQ(a.db[i], c.db[i]) << int(algo) << " pad " << pad;
      }
}
TEST(Convolution, WithoutDxStillGivesParameterGradients) { without_dx_still_gives_parameter_gradients<double>(); }
TEST(Convolution, WithoutDxStillGivesParameterGradientsFloat) { without_dx_still_gives_parameter_gradients<float>(); }

namespace {
// Convolution with its ReLU fused against Convolution then Relu, bit for bit
// (a ReLU is exact, so the fused copies must give the very same values), for
// every algorithm: Direct carries the ReLU in its kernels, the others apply it
// after. The cases: the ones above (Direct falls back to TransposedCol on
// stride 2 and 3), a DeepConvNet conv with pad 2, and 16 channels in.
template <class T>
void fused_relu_equals_convolution_then_relu() {
  std::vector<ConvCase> cases = kConvCases;
  cases.push_back({{3, 4, 14, 14}, {6, 4, 3, 3}, 1, 2});
  cases.push_back({{2, 16, 8, 8}, {9, 16, 3, 3}, 1, 1});
  RandomState rng(23);
  for (const ConvAlgo algo : {ConvAlgo::Reference, ConvAlgo::PerImage, ConvAlgo::TransposedCol, ConvAlgo::Direct})
    for (const auto& cc : cases) {
      SCOPED_TRACE(shape_str(cc.x) + " W " + shape_str(cc.w) + " algo " + std::to_string(int(algo)));
      auto x = test::cast<T>(random_tensor(cc.x, rng)), W = test::cast<T>(random_tensor(cc.w, rng));
      auto b = test::cast<T>(random_tensor({cc.w[0]}, rng));
      Convolution<T> plain(W, b, cc.stride, cc.pad), fused(W, b, cc.stride, cc.pad);
      Relu<T> relu;
      plain.set_algorithm(algo);
      fused.set_algorithm(algo);
      fused.set_fused_relu(true);
      const Tensor<T>& expected = relu.forward(plain.forward(x));
      const Tensor<T>& out = fused.forward(x);
      ASSERT_TRUE(same_bits(out, expected));
      std::size_t zeros = 0;
      for (T v : out) zeros += v == T(0);
      ASSERT_GT(zeros, 0u);  // the mask matters
      ASSERT_LT(zeros, out.size());
      const auto R = test::cast<T>(random_tensor(out.shape(), rng));
      const Tensor<T> dx_expected = plain.backward(relu.backward(R));
      const Tensor<T>& dx = fused.backward(R);
      EXPECT_TRUE(same_bits(dx, dx_expected));
      EXPECT_TRUE(same_bits(fused.dW, plain.dW));
      EXPECT_TRUE(same_bits(fused.db, plain.db));
    }
}
}  // namespace

TEST(Convolution, FusedReluEqualsConvolutionThenRelu) { fused_relu_equals_convolution_then_relu<float>(); }
TEST(Convolution, FusedReluEqualsConvolutionThenReluDouble) { fused_relu_equals_convolution_then_relu<double>(); }

TEST(Pooling, ForwardEqualsNaiveLoop) {
  RandomState rng(2);
  struct P { std::vector<std::size_t> x; std::size_t ph, pw, s, p; };
  for (const P& pc : std::vector<P>{{{2, 3, 6, 6}, 2, 2, 2, 0}, {{1, 2, 7, 5}, 3, 2, 1, 1},
                                    {{2, 1, 9, 9}, 3, 3, 2, 1}, {{100, 30, 24, 24}, 2, 2, 2, 0}}) {
    auto x = random_tensor(pc.x, rng);
    Pooling<double> pool(pc.ph, pc.pw, pc.s, pc.p);
    const auto& out = pool.forward(x);
    const auto ref = naive_pool(x, pc.ph, pc.pw, pc.s, pc.p);
    ASSERT_EQ(out.shape(), ref.shape());
    for (std::size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(out[i], ref[i]) << i;
  }
}

TEST(Pooling, FirstIndexWinsOnTiesLikeArgmax) {
  Tensor<double> x({1, 1, 2, 2});
  x.fill(3.0);  // all four equal: np.argmax picks index 0 of the window
  Pooling<double> pool(2, 2, 2);
  pool.forward(x);
  Tensor<double> dout({1, 1, 1, 1});
  dout[0] = 5.0;
  const auto& dx = pool.backward(dout);
  EXPECT_EQ(dx[0], 5.0);
  EXPECT_EQ(dx[1], 0.0);
  EXPECT_EQ(dx[2], 0.0);
  EXPECT_EQ(dx[3], 0.0);
}

TEST(Pooling, BackwardMatchesNumericalGradient) {
  RandomState rng(12);
  struct P { std::vector<std::size_t> x; std::size_t ph, pw, s, p; };
  for (const P& pc : std::vector<P>{{{2, 3, 6, 6}, 2, 2, 2, 0}, {{1, 2, 7, 5}, 3, 2, 1, 1}, {{2, 1, 9, 9}, 3, 3, 2, 1}}) {
    auto x = random_tensor(pc.x, rng);
    Pooling<double> pool(pc.ph, pc.pw, pc.s, pc.p);
    const auto R = random_tensor(pool.forward(x).shape(), rng);
    const auto base_arg = pool.arg_max();
    const Tensor<double> dx = pool.backward(R);
    const double h = 1e-5;
    // A point is at a kink when moving it by h changes some window's argmax.
    auto kink = [&](std::size_t i) {
      const double orig = x[i];
      bool changed = false;
      for (double d : {h, -h}) {
        x[i] = orig + d;
        pool.forward(x);
        changed |= pool.arg_max() != base_arg;
      }
      x[i] = orig;
      return changed;
    };
    auto r = check_gradient(x, dx, [&] { return dot(pool.forward(x), R); }, kink, h);
    EXPECT_LT(r.max_rel_error, 1e-6);
    EXPECT_GT(r.max_abs_grad, 0.1);
    EXPECT_GT(r.checked, x.size() / 2);
  }
}

// Planes run in parallel; overlapping windows (3x3, stride 1, pad 1) add
// into an element in output order whatever the thread count: dx equals the
// serial scatter of the argmax, written out here, bit for bit.
TEST(Pooling, BackwardInParallelIsTheSerialScatter) {
  RandomState rng(13);
  auto x = random_tensor({4, 8, 33, 35}, rng);  // > kParallelMin elements
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Pooling<double> pool(3, 3, 1, 1);
    const auto R = random_tensor(pool.forward(x).shape(), rng);
    const Tensor<double>& dx = pool.backward(R);
    Tensor<double> expected(x.shape());
    for (std::size_t i = 0; i < R.size(); ++i)
      if (pool.arg_max()[i] >= 0) expected[std::size_t(pool.arg_max()[i])] += R[i];
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(dx[i], expected[i]) << threads << " threads, at " << i;
  }
  set_num_threads(0);
}

TEST(Relu, ForwardAndBackward) {
  RandomState rng(3);
  auto x = random_tensor({4, 3, 5, 5}, rng);
  Relu<double> relu;
  const auto& out = relu.forward(x);
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(out[i], x[i] > 0 ? x[i] : 0.0);
  const auto R = random_tensor(x.shape(), rng);
  const Tensor<double> dx = relu.backward(R);
  const double h = 1e-5;
  auto r = check_gradient(x, dx, [&] { return dot(relu.forward(x), R); },
                          [&](std::size_t i) { return std::fabs(x[i]) < h; }, h);
  EXPECT_LT(r.max_rel_error, 1e-6);
  EXPECT_GT(r.max_abs_grad, 0.1);
}

TEST(Affine, BackwardMatchesNumericalGradientAndKeepsInputShape) {
  RandomState rng(4);
  auto x = random_tensor({3, 2, 3, 4}, rng), W = random_tensor({24, 5}, rng), b = random_tensor({5}, rng);
  Affine<double> aff(W, b);
  const auto& out = aff.forward(x);
  ASSERT_EQ(out.shape(), (std::vector<std::size_t>{3, 5}));
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t j = 0; j < 5; ++j) {
      double acc = b[j];
      for (std::size_t k = 0; k < 24; ++k) acc += x[n * 24 + k] * W[k * 5 + j];
      ASSERT_NEAR(out[n * 5 + j], acc, 1e-12);
    }
  const auto R = random_tensor({3, 5}, rng);
  const Tensor<double> dx = aff.backward(R);
  EXPECT_EQ(dx.shape(), x.shape());
  const Tensor<double> dW = aff.dW, db = aff.db;
  auto f = [&] { return dot(aff.forward(x), R); };
  for (auto r : {check_gradient(x, dx, f), check_gradient(aff.W, dW, f), check_gradient(aff.b, db, f)}) {
    EXPECT_LT(r.max_rel_error, 1e-6);
    EXPECT_GT(r.max_abs_grad, 0.1);
  }
}

TEST(SoftmaxWithLoss, LossAndGradientIntegerAndOneHotLabels) {
  RandomState rng(6);
  auto x = random_tensor({4, 5}, rng, 3.0);
  const std::vector<std::int32_t> t{1, 0, 4, 2};
  Tensor<double> onehot({4, 5});
  for (int i = 0; i < 4; ++i) onehot[i * 5 + t[i]] = 1.0;
  SoftmaxWithLoss<double> a, b;
  const double la = a.forward(x, t), lb = b.forward(x, onehot);
  // By hand: -mean(log(softmax + 1e-7)) of the true class.
  double ref = 0;
  for (int i = 0; i < 4; ++i) {
    double s = 0;
    for (int j = 0; j < 5; ++j) s += std::exp(x[i * 5 + j]);
    ref -= std::log(std::exp(x[i * 5 + t[i]]) / s + 1e-7);
  }
  EXPECT_NEAR(la, ref / 4, 1e-12);
  EXPECT_DOUBLE_EQ(la, lb);
  const Tensor<double> dxa = a.backward(), dxb = b.backward();
  for (std::size_t i = 0; i < dxa.size(); ++i) EXPECT_NEAR(dxa[i], dxb[i], 1e-15);
  // (y - t)/N is the exact derivative of the cross-entropy without the
  // book's 1e-7 inside the log (which bends it by a relative 1e-7/y), so
  // the numerical side differentiates that exact loss.
  auto exact = [&] {
    double total = 0;
    for (int i = 0; i < 4; ++i) {
      double s = 0;
      for (int j = 0; j < 5; ++j) s += std::exp(x[i * 5 + j]);
      total += std::log(s) - x[i * 5 + t[i]];
    }
    return total / 4;
  };
  auto r = check_gradient(x, dxa, exact, nullptr, 1e-5, 1e-3);
  EXPECT_LT(r.max_rel_error, 1e-6);
  EXPECT_GT(r.max_abs_grad, 0.05);
}

TEST(SoftmaxWithLoss, StableForHugeScores) {
  Tensor<double> x({1, 3});
  x[0] = 1000;
  x[1] = 999;
  x[2] = -1000;
  SoftmaxWithLoss<double> s;
  const double l = s.forward(x, std::vector<std::int32_t>{0});
  EXPECT_TRUE(std::isfinite(l));
  EXPECT_NEAR(s.y()[0], 1 / (1 + std::exp(-1.0)), 1e-12);
}

TEST(GradientChecker, ReportsAPerturbedGradient) {
  // The checker must fail when the analytic gradient is wrong in one place.
  RandomState rng(8);
  auto x = random_tensor({2, 2, 5, 5}, rng), W = random_tensor({3, 2, 3, 3}, rng), b = random_tensor({3}, rng);
  Convolution<double> conv(W, b, 1, 1);
  const auto R = random_tensor(conv.forward(x).shape(), rng);
  conv.backward(R);
  Tensor<double> dW = conv.dW;
  dW[7] += 1e-3;
  auto r = check_gradient(conv.W, dW, [&] { return dot(conv.forward(x), R); });
  EXPECT_GT(r.max_rel_error, 1e-6);
  EXPECT_EQ(r.worst_index, 7u);
}

TEST(Layers, BadShapesThrowErrorsNamingTheShapes) {
  Tensor<double> W({4, 3, 3, 3}), b({4});
  Convolution<double> conv(W, b);
  Tensor<double> x({2, 1, 8, 8});  // 1 channel for a 3-channel filter
  try {
    conv.forward(x);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(2, 1, 8, 8)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(4, 3, 3, 3)"), std::string::npos) << e.what();
  }
  Tensor<double> small({1, 3, 2, 2});
  EXPECT_THROW(conv.forward(small), Error);  // 3x3 filter on 2x2, no pad
  EXPECT_THROW(Convolution<double>(W, b, 0, 0), Error);
  EXPECT_THROW(Convolution<double>(W, Tensor<double>({5})), Error);
  EXPECT_THROW(Pooling<double>(2, 2, 0), Error);
  SoftmaxWithLoss<double> s;
  Tensor<double> scores({3, 10});
  try {
    s.forward(scores, std::vector<std::int32_t>{1, 2});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 labels for scores of shape (3, 10)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(s.forward(scores, std::vector<std::int32_t>{1, 2, 10}), Error);
  Affine<double> aff(Tensor<double>({6, 2}), Tensor<double>({2}));
  EXPECT_THROW(aff.forward(Tensor<double>({2, 5})), Error);
}
