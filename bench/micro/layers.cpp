// One benchmark per layer pass at the notebook's shapes (batch 100 unless
// the argument says otherwise). items/s = images/s.
#include "common.hpp"
#include "kernels/kernels.hpp"

namespace {

using namespace bench;
using convnet::Tensor;

// ---- im2col / col2im -------------------------------------------------------

// The public function: allocates its (57600, 25) result on every call.
void BM_im2col(benchmark::State& state) {
  const Tensor<float> x = random_tensor({kBatch, kC, kH, kW}, 0.f, 1.f);
  for (auto _ : state) {
    Tensor<float> col = convnet::im2col(x, kFH, kFW);
    benchmark::DoNotOptimize(col.data());
  }
  set_rates(state, 0, kBatch);
}
BENCHMARK(BM_im2col)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_col2im(benchmark::State& state) {
  const Tensor<float> col = random_tensor({kBatch * kOH * kOW, kC * kFH * kFW});
  for (auto _ : state) {
    Tensor<float> img = convnet::col2im(col, {kBatch, kC, kH, kW}, kFH, kFW);
    benchmark::DoNotOptimize(img.data());
  }
  set_rates(state, 0, kBatch);
}
BENCHMARK(BM_col2im)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The kernels the layers call, into buffers reused from call to call.
void BM_kernel_im2col(benchmark::State& state) {
  const Tensor<float> x = random_tensor({kBatch, kC, kH, kW}, 0.f, 1.f);
  const convnet::kernels::ConvGeom g{kBatch, kC, kH, kW, kFH, kFW, 1, 0};
  Tensor<float> col({g.rows(), g.cols()});
  for (auto _ : state) {
    convnet::kernels::im2col(g, x.data(), col.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, 0, kBatch);
}
BENCHMARK(BM_kernel_im2col)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_kernel_col2im(benchmark::State& state) {
  const convnet::kernels::ConvGeom g{kBatch, kC, kH, kW, kFH, kFW, 1, 0};
  const Tensor<float> col = random_tensor({g.rows(), g.cols()});
  Tensor<float> img({kBatch, kC, kH, kW});
  for (auto _ : state) {
    convnet::kernels::col2im(g, col.data(), img.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, 0, kBatch);
}
BENCHMARK(BM_kernel_col2im)->Unit(benchmark::kMicrosecond)->UseRealTime();

// ---- Convolution (W1 (30,1,5,5)) -------------------------------------------

convnet::Convolution<float> make_conv() {
  return convnet::Convolution<float>(random_tensor({kFN, kC, kFH, kFW}, -0.01f, 0.01f, 3), Tensor<float>({kFN}));
}

void BM_conv_forward(benchmark::State& state) {
  auto conv = make_conv();
  const Tensor<float> x = random_tensor({kBatch, kC, kH, kW}, 0.f, 1.f);
  conv.forward(x);  // first call sizes the buffers
  for (auto _ : state) benchmark::DoNotOptimize(conv.forward(x).data());
  set_rates(state, conv_fwd_flops(kBatch), kBatch);
}
BENCHMARK(BM_conv_forward)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Arg 0: dW and db only, as the network's first layer; 1: dx too (GEMM + col2im).
void BM_conv_backward(benchmark::State& state) {
  const bool dx = state.range(0) != 0;
  auto conv = make_conv();
  conv.set_compute_dx(dx);
  const Tensor<float> x = random_tensor({kBatch, kC, kH, kW}, 0.f, 1.f);
  const Tensor<float> dout = random_tensor({kBatch, kFN, kOH, kOW}, -1e-3f, 1e-3f, 4);
  conv.forward(x);
  conv.backward(dout);
  for (auto _ : state) {
    benchmark::DoNotOptimize(conv.backward(dout).data());
    benchmark::ClobberMemory();
  }
  set_rates(state, conv_fwd_flops(kBatch) * (dx ? 2 : 1), kBatch);
}
BENCHMARK(BM_conv_backward)->ArgName("dx")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

// ---- The fused direct Conv1+Relu1+Pool1 (float, stride 1) the network runs ----

// The kernels' inputs and outputs at the notebook's shapes: a padded batch,
// W1 and b1, and the pooled output with its argmax.
struct DirectConv {
  const Tensor<float> W = random_tensor({kFN, kC, kFH, kFW}, -0.1f, 0.1f, 3);
  const Tensor<float> b = random_tensor({kFN}, -0.1f, 0.1f, 5);
  Tensor<float> xpad{{kBatch, convnet::kernels::conv_direct_padded_size<float>(kC, kH, kW, kFW)}};
  Tensor<float> pooled{{kBatch, kFN, kPH, kPW}};
  std::vector<std::uint8_t> arg = std::vector<std::uint8_t>(pooled.size());

  DirectConv() {
    const Tensor<float> x = random_tensor({kBatch, kC, kH, kW}, 0.f, 1.f);
    convnet::kernels::pad_images(x.data(), kBatch, kC, kH, kW, 0, kFW, xpad.data());
  }
  void forward(bool keep_argmax) {
    convnet::kernels::conv_relu_pool2_direct(xpad.data(), kBatch, kC, kH, kW, W.data(), b.data(), kFN, kFH, kFW,
                                             pooled.data(), keep_argmax ? arg.data() : nullptr);
  }
};

// Forward, arg 0: evaluation (no argmax kept); 1: training (argmax kept).
void BM_direct_conv_relu_pool_forward(benchmark::State& state) {
  const bool keep = state.range(0) != 0;
  DirectConv d;
  for (auto _ : state) {
    d.forward(keep);
    benchmark::ClobberMemory();
  }
  set_rates(state, conv_fwd_flops(kBatch), kBatch);
}
BENCHMARK(BM_direct_conv_relu_pool_forward)->ArgName("argmax")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Backward: the pooled gradient routed through ReLU and the argmax, dW1 and db1.
void BM_direct_conv_relu_pool_backward(benchmark::State& state) {
  DirectConv d;
  d.forward(true);
  const Tensor<float> dpooled = random_tensor({kBatch, kFN, kPH, kPW}, -1e-3f, 1e-3f, 4);
  Tensor<float> dW({kFN, kC, kFH, kFW}), db({kFN});
  for (auto _ : state) {
    convnet::kernels::conv_relu_pool2_direct_backward(d.xpad.data(), kBatch, kC, kH, kW, kFN, kFH, kFW,
                                                      d.pooled.data(), d.arg.data(), dpooled.data(), dW.data(),
                                                      db.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, conv_fwd_flops(kBatch), kBatch);
}
BENCHMARK(BM_direct_conv_relu_pool_backward)->Unit(benchmark::kMicrosecond)->UseRealTime();

// ---- ReLU and Pooling (2x2, stride 2) on the conv output (100,30,24,24) -------

void BM_relu_forward(benchmark::State& state) {
  convnet::Relu<float> relu;
  const Tensor<float> x = random_tensor({kBatch, kFN, kOH, kOW});
  relu.forward(x);
  for (auto _ : state) benchmark::DoNotOptimize(relu.forward(x).data());
  set_rates(state, 0, kBatch);
}
BENCHMARK(BM_relu_forward)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_relu_backward(benchmark::State& state) {
  convnet::Relu<float> relu;
  const Tensor<float> x = random_tensor({kBatch, kFN, kOH, kOW});
  const Tensor<float> dout = random_tensor({kBatch, kFN, kOH, kOW}, -1.f, 1.f, 5);
  relu.forward(x);
  relu.backward(dout);
  for (auto _ : state) benchmark::DoNotOptimize(relu.backward(dout).data());
  set_rates(state, 0, kBatch);
}
BENCHMARK(BM_relu_backward)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_pool_forward(benchmark::State& state) {
  convnet::Pooling<float> pool(2, 2, 2);
  const Tensor<float> x = random_tensor({kBatch, kFN, kOH, kOW}, 0.f, 1.f);
  pool.forward(x);
  for (auto _ : state) benchmark::DoNotOptimize(pool.forward(x).data());
  set_rates(state, 0, kBatch);
}
BENCHMARK(BM_pool_forward)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_pool_backward(benchmark::State& state) {
  convnet::Pooling<float> pool(2, 2, 2);
  const Tensor<float> x = random_tensor({kBatch, kFN, kOH, kOW}, 0.f, 1.f);
  const Tensor<float> dout = random_tensor({kBatch, kFN, kPH, kPW}, -1.f, 1.f, 6);
  pool.forward(x);
  pool.backward(dout);
  for (auto _ : state) benchmark::DoNotOptimize(pool.backward(dout).data());
  set_rates(state, 0, kBatch);
}
BENCHMARK(BM_pool_backward)->Unit(benchmark::kMicrosecond)->UseRealTime();

// ---- Affine: Affine1 4320x100 on the pooled (100,30,12,12), Affine2 100x10 ------

// Arg: 1 = Affine1 (W2 (4320,100)), 2 = Affine2 (W3 (100,10)).
struct AffineCase {
  std::vector<std::size_t> x_shape;
  std::size_t d, m;
};
AffineCase affine_case(int which) {
  if (which == 1) return {{kBatch, kFN, kPH, kPW}, kD, kHidden};
  return {{kBatch, kHidden}, kHidden, kOut};
}

void BM_affine_forward(benchmark::State& state) {
  const AffineCase c = affine_case(int(state.range(0)));
  convnet::Affine<float> affine(random_tensor({c.d, c.m}, -0.01f, 0.01f, 7), Tensor<float>({c.m}));
  const Tensor<float> x = random_tensor(c.x_shape, 0.f, 1.f);
  affine.forward(x);
  for (auto _ : state) benchmark::DoNotOptimize(affine.forward(x).data());
  set_rates(state, affine_flops(kBatch, c.d, c.m), kBatch);
}
BENCHMARK(BM_affine_forward)->ArgName("layer")->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_affine_backward(benchmark::State& state) {
  const AffineCase c = affine_case(int(state.range(0)));
  convnet::Affine<float> affine(random_tensor({c.d, c.m}, -0.01f, 0.01f, 7), Tensor<float>({c.m}));
  const Tensor<float> x = random_tensor(c.x_shape, 0.f, 1.f);
  const Tensor<float> dout = random_tensor({kBatch, c.m}, -1e-3f, 1e-3f, 8);
  affine.forward(x);
  affine.backward(dout);
  for (auto _ : state) {
    benchmark::DoNotOptimize(affine.backward(dout).data());
    benchmark::ClobberMemory();
  }
  set_rates(state, 2 * affine_flops(kBatch, c.d, c.m), kBatch);  // dW and dx
}
BENCHMARK(BM_affine_backward)->ArgName("layer")->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();

// ---- SoftmaxWithLoss on (100,10) -----------------------------------------------

void BM_softmax_loss(benchmark::State& state) {
  convnet::SoftmaxWithLoss<float> last;
  const Tensor<float> x = random_tensor({kBatch, kOut}, -5.f, 5.f);
  std::vector<std::int32_t> t(kBatch);
  for (std::size_t i = 0; i < kBatch; ++i) t[i] = std::int32_t(i % kOut);
  for (auto _ : state) {
    benchmark::DoNotOptimize(last.forward(x, t));
    benchmark::DoNotOptimize(last.backward().data());
  }
  set_rates(state, 0, kBatch);
}
BENCHMARK(BM_softmax_loss)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
