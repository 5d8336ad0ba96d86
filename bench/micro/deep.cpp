// The book's DeepConvNet (Architecture::deep_convnet, input 1x28x28) at
// batch 100: each of its six 3x3 convolutions by algorithm, and a whole
// training step. FLOP/s counts the GEMM FLOPs of the convolutions only.
#include <array>

#include "common.hpp"

namespace {

using namespace bench;
using convnet::ConvAlgo;
using convnet::Tensor;

// Its six convolutions: input (C, H, W), filters FN, pad (all 3x3, stride 1).
struct DeepConv {
  std::size_t C, H, FN, pad;
};
constexpr std::array<DeepConv, 6> kDeep{{{1, 28, 16, 1},
                                         {16, 28, 16, 1},
                                         {16, 14, 32, 1},
                                         {32, 14, 32, 2},
                                         {32, 8, 64, 1},
                                         {64, 8, 64, 1}}};

std::size_t out_size(const DeepConv& d) { return d.H + 2 * d.pad - 3 + 1; }
double deep_conv_flops(const DeepConv& d, std::size_t n) {
  return 2.0 * double(n) * double(d.FN * d.C * 9 * out_size(d) * out_size(d));
}
// Forward + backward (dW, and dx except for the first layer) of all six.
double deep_train_flops(std::size_t n) {
  double f = 0;
  for (std::size_t i = 0; i < kDeep.size(); ++i) f += deep_conv_flops(kDeep[i], n) * (i == 0 ? 2 : 3);
  return f;
}

const char* algo_name(std::int64_t a) {
  return a == 0 ? "reference" : a == 1 ? "per-image" : a == 2 ? "transposed-col" : "direct";
}

convnet::Convolution<float> make_deep_conv(const DeepConv& d, std::int64_t algo) {
  convnet::Convolution<float> conv(random_tensor({d.FN, d.C, 3, 3}, -0.1f, 0.1f, 3), Tensor<float>({d.FN}), 1,
                                   d.pad);
  conv.set_algorithm(ConvAlgo(algo));
  return conv;
}

// Args: layer (0..5), algo (0 Reference, 1 PerImage, 2 TransposedCol, 3 Direct).
void BM_deep_conv_forward(benchmark::State& state) {
  const DeepConv& d = kDeep[std::size_t(state.range(0))];
  auto conv = make_deep_conv(d, state.range(1));
  const Tensor<float> x = random_tensor({kBatch, d.C, d.H, d.H}, 0.f, 1.f);
  conv.forward(x);
  for (auto _ : state) benchmark::DoNotOptimize(conv.forward(x).data());
  set_rates(state, deep_conv_flops(d, kBatch), kBatch);
  state.SetLabel(algo_name(state.range(1)));
}
BENCHMARK(BM_deep_conv_forward)
    ->ArgNames({"layer", "algo"})
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {0, 1, 2, 3}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// dW, db and dx (the first layer: no dx, as in the network).
void BM_deep_conv_backward(benchmark::State& state) {
  const std::size_t layer = std::size_t(state.range(0));
  const DeepConv& d = kDeep[layer];
  auto conv = make_deep_conv(d, state.range(1));
  conv.set_compute_dx(layer != 0);
  const Tensor<float> x = random_tensor({kBatch, d.C, d.H, d.H}, 0.f, 1.f);
  const Tensor<float> dout = random_tensor({kBatch, d.FN, out_size(d), out_size(d)}, -1e-3f, 1e-3f, 4);
  conv.forward(x);
  conv.backward(dout);
  for (auto _ : state) {
    benchmark::DoNotOptimize(conv.backward(dout).data());
    benchmark::ClobberMemory();
  }
  set_rates(state, deep_conv_flops(d, kBatch) * (layer != 0 ? 2 : 1), kBatch);
  state.SetLabel(algo_name(state.range(1)));
}
BENCHMARK(BM_deep_conv_backward)
    ->ArgNames({"layer", "algo"})
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {0, 1, 2, 3}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Trainer::step of `convnet train --net deep` (Adam, batch 100).
void BM_deep_train_step(benchmark::State& state) {
  const BenchData& data = bench_data();
  convnet::Sequential<float> net(convnet::Architecture::deep_convnet({1, 28, 28}));
  convnet::Adam<float> adam;
  convnet::RandomState rng(0);
  convnet::TrainOptions opt;
  opt.iters = 1000;  // only sizes the loss list
  opt.batch_size = kBatch;
  opt.eval_interval = 0;
  convnet::Trainer<float> trainer(net, adam, data.train, data.test, opt, rng);
  trainer.step();  // sizes every buffer
  for (auto _ : state) benchmark::DoNotOptimize(trainer.step());
  // The step runs the forward twice (gradient, then the loss after the update).
  double f = deep_train_flops(kBatch);
  for (const DeepConv& d : kDeep) f += deep_conv_flops(d, kBatch);
  set_rates(state, f, double(kBatch));
  state.SetLabel(data.synthetic ? "random images" : "mnist");
}
BENCHMARK(BM_deep_train_step)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
