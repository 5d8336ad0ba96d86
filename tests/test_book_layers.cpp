// The book's Sigmoid, Dropout and BatchNormalization (common/layers.py)
// against values worked out here (std::exp, a second RandomState, sums by
// hand, naive loops) and central differences for every backward.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "convnet/convnet.hpp"
#include "gradient_checker.hpp"
#include "test_util.hpp"

using namespace convnet;
using convnet::test::cast;
using convnet::test::check_gradient;
using convnet::test::random_tensor;

namespace {

double dot(const Tensor<double>& a, const Tensor<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

Tensor<double> filled(std::vector<std::size_t> shape, std::initializer_list<double> v) {
  Tensor<double> t(std::move(shape));
  std::size_t i = 0;
  for (double d : v) t[i++] = d;
  return t;
}

// "what" of the Error thrown by f, or "" when nothing is thrown.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// ---- Sigmoid ---------------------------------------------------------------

TEST(Sigmoid, ValuesAtAFewPoints) {
  const Tensor<double> x = filled({1, 7}, {-1000.0, -3.0, -0.5, 0.0, 0.5, 3.0, 40.0});
  Sigmoid<double> s;
  const auto& out = s.forward(x);
  ASSERT_EQ(out.shape(), x.shape());
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_DOUBLE_EQ(out[i], 1.0 / (1.0 + std::exp(-x[i]))) << x[i];
  EXPECT_EQ(out[0], 0.0);  // exp(1000) = inf: 0, not NaN
  EXPECT_EQ(out[3], 0.5);
  Sigmoid<float> sf;
  const auto& outf = sf.forward(cast<float>(x));
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(outf[i], 1.0 / (1.0 + std::exp(-x[i])), 1e-7);
}

TEST(Sigmoid, BackwardMatchesNumericalGradient) {
  RandomState rng(21);
  auto x = random_tensor({3, 2, 4, 5}, rng, 2.0);
  Sigmoid<double> s;
  s.forward(x);
  const auto R = random_tensor(x.shape(), rng);
  const Tensor<double> dx = s.backward(R);
  for (std::size_t i = 0; i < x.size(); ++i) {  // the book's formula, dout * (1 - y) * y
    const double y = 1.0 / (1.0 + std::exp(-x[i]));
    ASSERT_NEAR(dx[i], R[i] * (1.0 - y) * y, 1e-15);
  }
  auto r = check_gradient(x, dx, [&] { return dot(s.forward(x), R); });
  EXPECT_LT(r.max_rel_error, 1e-8);
  EXPECT_GT(r.max_abs_grad, 0.1);
  EXPECT_THROW(s.backward(Tensor<double>({3, 40})), Error);
}

// ---- Dropout ---------------------------------------------------------------

TEST(Dropout, MaskIsRandGreaterThanRatioFromTheSameSeed) {
  RandomState rng(42), ref(42);
  auto x = random_tensor({4, 3, 5}, ref);  // drawn before the layer's stream: x from another state
  ref.seed_(42);
  Dropout<double> d(0.3, &rng);
  for (int pass = 0; pass < 2; ++pass) {  // the second forward continues the stream
    const auto& out = d.forward(x, Mode::Train);
    ASSERT_EQ(d.mask().size(), x.size());
    std::size_t kept = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const bool keep = ref.random_sample() > 0.3;  // np.random.rand(*x.shape) > dropout_ratio
      ASSERT_EQ(d.mask()[i], keep ? 1 : 0) << pass << " " << i;
      ASSERT_EQ(out[i], keep ? x[i] : 0.0);
      kept += keep;
    }
    EXPECT_GT(kept, 0u);
    EXPECT_LT(kept, x.size());
  }
  // float draws the same mask from the same stream
  RandomState rf(42), rd(42);
  Dropout<float> df(0.5, &rf);
  Dropout<double> dd(0.5, &rd);
  df.forward(cast<float>(x));
  dd.forward(x);
  EXPECT_EQ(df.mask(), dd.mask());
}

TEST(Dropout, EvalMultipliesByExactlyOneMinusRatioAndDrawsNothing) {
  RandomState rng(5);
  auto x = random_tensor({6, 7}, rng);
  const auto before = rng.state();
  Dropout<double> d(0.3, &rng);
  const auto& out = d.forward(x, Mode::Eval);
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(out[i], x[i] * (1.0 - 0.3));
  EXPECT_EQ(rng.state().pos, before.pos);
  EXPECT_EQ(rng.state().key, before.key);
  Dropout<double> no_rng(0.25);  // Eval needs no random state
  const auto& o2 = no_rng.forward(x, Mode::Eval);
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(o2[i], x[i] * 0.75);
  EXPECT_NE(error_of([&] { d.backward(x); }).find("Mode::Eval"), std::string::npos);
}

TEST(Dropout, TrainWithoutRandomStateThrowsAndRatioIsChecked) {
  Tensor<double> x({2, 3});
  Dropout<double> d(0.5);
  const std::string e = error_of([&] { d.forward(x, Mode::Train); });
  EXPECT_NE(e.find("Dropout"), std::string::npos) << e;
  EXPECT_NE(e.find("RandomState"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { d.backward(x); }).find("before forward"), std::string::npos);
  RandomState rng(0);
  d.set_random_state(&rng);
  EXPECT_EQ(d.random_state(), &rng);
  EXPECT_NO_THROW(d.forward(x, Mode::Train));
  EXPECT_THROW(d.backward(Tensor<double>({3, 2})), Error);
  EXPECT_THROW(Dropout<double>(-0.1), Error);
  EXPECT_THROW(Dropout<double>(1.0), Error);
  EXPECT_THROW(Dropout<double>(std::numeric_limits<double>::quiet_NaN()), Error);
  EXPECT_NE(error_of([] { Dropout<float>(1.5); }).find("[0, 1)"), std::string::npos);
  EXPECT_NO_THROW(Dropout<double>(0.0));
}

TEST(Dropout, BackwardMatchesNumericalGradientWithTheMaskFrozen) {
  RandomState data(9), rng(0);
  auto x = random_tensor({3, 4, 5}, data);
  const auto R = random_tensor(x.shape(), data);
  Dropout<double> d(0.4, &rng);
  // Re-seeding before every forward draws the same mask each time.
  auto forward = [&]() -> const Tensor<double>& {
    rng.seed_(7);
    return d.forward(x, Mode::Train);
  };
  forward();
  const Tensor<double> dx = d.backward(R);
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(dx[i], d.mask()[i] ? R[i] : 0.0);
  auto r = check_gradient(x, dx, [&] { return dot(forward(), R); });
  EXPECT_LT(r.max_rel_error, 1e-8);
  EXPECT_GT(r.max_abs_grad, 0.1);
}

// ---- BatchNormalization ------------------------------------------------------

namespace {

// Checks dx, dgamma, dbeta of a training forward against central differences.
void check_batchnorm_gradients(const std::vector<std::size_t>& shape, std::size_t F, bool per_channel,
                               std::uint32_t seed) {
  SCOPED_TRACE(shape_str(shape) + (per_channel ? " per channel" : " book"));
  RandomState rng(seed);
  auto x = random_tensor(shape, rng, 2.0);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += double(i % 3);  // means away from 0
  BatchNormalization<double> bn(random_tensor({F}, rng), random_tensor({F}, rng), 0.9, per_channel);
  const auto R = random_tensor(shape, rng);
  bn.forward(x, Mode::Train);
  const Tensor<double> dx = bn.backward(R);
  ASSERT_EQ(dx.shape(), x.shape());
  const Tensor<double> dgamma = bn.dgamma, dbeta = bn.dbeta;
  auto f = [&] { return dot(bn.forward(x, Mode::Train), R); };
  auto rx = check_gradient(x, dx, f);
  auto rg = check_gradient(bn.gamma, dgamma, f);
  auto rb = check_gradient(bn.beta, dbeta, f);
  for (auto* r : {&rx, &rg, &rb}) {
    EXPECT_LT(r->max_rel_error, 1e-7) << "worst " << r->worst_index;
    EXPECT_GT(r->max_abs_grad, 0.1);
  }
}

}  // namespace

TEST(BatchNormalization, BackwardMatchesNumericalGradientBookForm2D) {
  check_batchnorm_gradients({5, 4}, 4, false, 31);
  check_batchnorm_gradients({3, 7}, 7, false, 32);  // N = 3 (with N = 2, xn = ±1 whatever x: dx ~ 0)
}

TEST(BatchNormalization, BackwardMatchesNumericalGradientBookForm4D) {
  check_batchnorm_gradients({4, 2, 3, 2}, 12, false, 33);  // features = C*H*W
}

TEST(BatchNormalization, BackwardMatchesNumericalGradientPerChannel) {
  check_batchnorm_gradients({3, 2, 3, 2}, 2, true, 34);
  check_batchnorm_gradients({2, 3, 5, 4}, 3, true, 35);  // planes of 20: the one-channel blocks
}

TEST(BatchNormalization, RunningStatisticsAfterTwoForwardsWorkedOutByHand) {
  // Feature 0: batch 1 = 1, 2, 3 (mean 2, var 2/3); batch 2 = 0, 4, 8 (mean 4, var 32/3).
  // Feature 1: batch 1 = 2, 4, 9 (mean 5, var (9+1+16)/3 = 26/3); batch 2 = 1, 1, 1 (mean 1, var 0).
  const Tensor<double> x1 = filled({3, 2}, {1, 2, 2, 4, 3, 9}), x2 = filled({3, 2}, {0, 1, 4, 1, 8, 1});
  BatchNormalization<double> bn(filled({2}, {2.0, 0.5}), filled({2}, {0.1, -1.0}));  // momentum 0.9
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(bn.running_mean[i], 0.0);  // zeros before the first forward, as the book's np.zeros(D)
    EXPECT_EQ(bn.running_var[i], 0.0);
  }
  const auto& out1 = bn.forward(x1, Mode::Train);
  // Training output: gamma * (x - mean) / sqrt(var + 1e-6) + beta
  EXPECT_NEAR(out1[0], 2.0 * -1.0 / std::sqrt(2.0 / 3 + 1e-6) + 0.1, 1e-12);
  EXPECT_NEAR(out1[5], 0.5 * 4.0 / std::sqrt(26.0 / 3 + 1e-6) - 1.0, 1e-12);
  EXPECT_NEAR(bn.running_mean[0], 0.1 * 2, 1e-15);
  EXPECT_NEAR(bn.running_var[1], 0.1 * 26.0 / 3, 1e-15);
  bn.forward(x2, Mode::Train);
  // 0.9 * (0.1 * batch 1) + 0.1 * batch 2
  const double rm0 = 0.9 * 0.2 + 0.1 * 4, rm1 = 0.9 * 0.5 + 0.1 * 1;  // 0.58, 0.55
  const double rv0 = 0.9 * (0.2 / 3) + 0.1 * (32.0 / 3), rv1 = 0.9 * (2.6 / 3) + 0.0;  // 1.12666.., 0.78
  EXPECT_NEAR(bn.running_mean[0], 0.58, 1e-15);
  EXPECT_NEAR(bn.running_mean[1], 0.55, 1e-15);
  EXPECT_NEAR(bn.running_var[0], rv0, 1e-15);
  EXPECT_NEAR(bn.running_var[1], 0.78, 1e-15);
  // Eval uses them, and leaves them as they are.
  const Tensor<double> xe = filled({2, 2}, {1.0, 0.0, -2.0, 3.0});
  const auto& oe = bn.forward(xe, Mode::Eval);
  EXPECT_NEAR(oe[0], 2.0 * (1.0 - rm0) / std::sqrt(rv0 + 1e-6) + 0.1, 1e-12);
  EXPECT_NEAR(oe[1], 0.5 * (0.0 - rm1) / std::sqrt(rv1 + 1e-6) - 1.0, 1e-12);
  EXPECT_NEAR(oe[2], 2.0 * (-2.0 - rm0) / std::sqrt(rv0 + 1e-6) + 0.1, 1e-12);
  EXPECT_NEAR(oe[3], 0.5 * (3.0 - rm1) / std::sqrt(rv1 + 1e-6) - 1.0, 1e-12);
  EXPECT_NEAR(bn.running_mean[0], 0.58, 1e-15);
  EXPECT_NEAR(bn.running_var[1], 0.78, 1e-15);
  EXPECT_NE(error_of([&] { bn.backward(xe); }).find("Mode::Eval"), std::string::npos);
}

TEST(BatchNormalization, StatisticsOverNForEachValueOrOverNHWForEachChannel) {
  RandomState rng(36);
  const std::size_t N = 4, C = 3, H = 2, W = 5, P = H * W;
  auto x = random_tensor({N, C, H, W}, rng);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += double((i / P) % C) * 3.0;  // channel offsets
  for (bool per_channel : {false, true}) {
    SCOPED_TRACE(per_channel ? "per channel" : "book");
    const std::size_t F = per_channel ? C : C * P;
    auto gamma = random_tensor({F}, rng), beta = random_tensor({F}, rng);
    // momentum = 0: the running statistics are the batch's own
    BatchNormalization<double> bn(gamma, beta, 0.0, per_channel);
    const auto& out = bn.forward(x, Mode::Train);
    ASSERT_EQ(out.shape(), x.shape());
    ASSERT_EQ(bn.running_mean.size(), F);
    for (std::size_t f = 0; f < F; ++f) {
      // The values of feature f: x[n, c, p] with f = c (per channel) or f = c*P + p.
      std::vector<std::size_t> idx;
      for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < C; ++c)
          for (std::size_t p = 0; p < P; ++p)
            if ((per_channel ? c : c * P + p) == f) idx.push_back((n * C + c) * P + p);
      ASSERT_EQ(idx.size(), per_channel ? N * P : N);
      double mean = 0, var = 0;
      for (auto i : idx) mean += x[i];
      mean /= double(idx.size());
      for (auto i : idx) var += (x[i] - mean) * (x[i] - mean);
      var /= double(idx.size());  // biased, as the book keeps it
      EXPECT_NEAR(bn.running_mean[f], mean, 1e-12) << f;
      EXPECT_NEAR(bn.running_var[f], var, 1e-12) << f;
      for (auto i : idx) ASSERT_NEAR(out[i], gamma[f] * (x[i] - mean) / std::sqrt(var + 1e-6) + beta[f], 1e-12);
    }
    // Eval with these statistics gives the training output back.
    const Tensor<double> train_out = out;
    const auto& ev = bn.forward(x, Mode::Eval);
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(ev[i], train_out[i], 1e-12);
  }
}

TEST(BatchNormalization, FloatMatchesDouble) {
  RandomState rng(37);
  for (bool per_channel : {false, true}) {
    auto x = random_tensor({6, 4, 3, 3}, rng);
    const std::size_t F = per_channel ? 4 : 36;
    auto gamma = random_tensor({F}, rng), beta = random_tensor({F}, rng), R = random_tensor(x.shape(), rng);
    BatchNormalization<double> bd(gamma, beta, 0.9, per_channel);
    BatchNormalization<float> bf(cast<float>(gamma), cast<float>(beta), 0.9, per_channel);
    const Tensor<double> od = bd.forward(x);
    const Tensor<float> of = bf.forward(cast<float>(x));
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(of[i], od[i], 1e-4);
    const Tensor<double> dxd = bd.backward(R);
    const Tensor<float> dxf = bf.backward(cast<float>(R));
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(dxf[i], dxd[i], 1e-3);
    for (std::size_t f = 0; f < F; ++f) {
      EXPECT_NEAR(bf.dgamma[f], bd.dgamma[f], 1e-3);
      EXPECT_NEAR(bf.running_var[f], bd.running_var[f], 1e-5);
    }
  }
}

TEST(BatchNormalization, ParamsBuffersAndBadShapes) {
  BatchNormalization<double> bn(Tensor<double>({5}), Tensor<double>({5}));
  const auto p = bn.params();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "gamma");
  EXPECT_EQ(p[0].value, &bn.gamma);
  EXPECT_EQ(p[0].grad, &bn.dgamma);
  EXPECT_EQ(p[1].name, "beta");
  EXPECT_EQ(p[1].grad, &bn.dbeta);
  const auto b = bn.buffers();
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].first, "running_mean");
  EXPECT_EQ(b[0].second, &bn.running_mean);
  EXPECT_EQ(b[1].first, "running_var");
  EXPECT_EQ(b[1].second, &bn.running_var);
  EXPECT_EQ(BatchNormalization<double>::eps, 1e-6);
  EXPECT_DOUBLE_EQ(bn.momentum(), 0.9);
  EXPECT_FALSE(bn.per_channel());

  EXPECT_NE(error_of([&] { bn.backward(Tensor<double>({2, 5})); }).find("before forward"), std::string::npos);
  const std::string e = error_of([&] { bn.forward(Tensor<double>({4, 6})); });
  EXPECT_NE(e.find("BatchNormalization"), std::string::npos) << e;
  EXPECT_NE(e.find("(4, 6)"), std::string::npos) << e;
  EXPECT_NE(e.find("(5,)"), std::string::npos) << e;
  EXPECT_THROW(bn.forward(Tensor<double>({2, 5, 1})), Error);  // 3-D: neither (N, D) nor (N, C, H, W)
  EXPECT_NO_THROW(bn.forward(Tensor<double>({2, 5, 1, 1})));
  EXPECT_THROW(bn.backward(Tensor<double>({2, 5})), Error);  // not the output's shape

  BatchNormalization<double> pc(Tensor<double>({2}), Tensor<double>({2}), 0.9, true);
  const std::string e2 = error_of([&] { pc.forward(Tensor<double>({2, 3, 4, 4})); });
  EXPECT_NE(e2.find("(2, 3, 4, 4)"), std::string::npos) << e2;
  EXPECT_NE(e2.find("(N, 2, H, W)"), std::string::npos) << e2;
  EXPECT_THROW(pc.forward(Tensor<double>({4, 2})), Error);  // per channel wants (N, C, H, W)
  EXPECT_THROW(BatchNormalization<double>(Tensor<double>({3}), Tensor<double>({4})), Error);
  EXPECT_THROW(BatchNormalization<double>(Tensor<double>({3, 1}), Tensor<double>({3, 1})), Error);
  EXPECT_THROW(BatchNormalization<float>(Tensor<float>({3}), Tensor<float>({3}), 1.5), Error);
}
