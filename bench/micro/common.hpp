#pragma once
// Shared helpers of the micro-benchmarks: the notebook's shapes, random
// inputs, the data set for whole-step benchmarks, FLOP counters.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <vector>

#include "convnet/convnet.hpp"

namespace bench {

// The notebook's network at batch 100 (cnn_notebook.md In [12]).
inline constexpr std::size_t kBatch = 100;
inline constexpr std::size_t kC = 1, kH = 28, kW = 28;     // input (100,1,28,28)
inline constexpr std::size_t kFN = 30, kFH = 5, kFW = 5;    // W1 (30,1,5,5)
inline constexpr std::size_t kOH = 24, kOW = 24;            // conv out (100,30,24,24)
inline constexpr std::size_t kPH = 12, kPW = 12;            // pool out (100,30,12,12)
inline constexpr std::size_t kD = kFN * kPH * kPW;          // 4320
inline constexpr std::size_t kHidden = 100, kOut = 10;      // W2 (4320,100), W3 (100,10)

// A tensor of the given shape filled with uniform [lo, hi) values (fixed seed).
convnet::Tensor<float> random_tensor(const std::vector<std::size_t>& shape, float lo = -1.f, float hi = 1.f,
                                     unsigned seed = 1);

// The training/test images the whole-step benchmarks use: the first 5000/1000
// of data/mnist when present (CONVNET_BENCH_DATA overrides the directory),
// else random uint8 images with random labels of the same sizes.
struct BenchData {
  convnet::Dataset train, test;
  bool synthetic = false;
};
const BenchData& bench_data();

// Adds "FLOP/s" (a rate, in 1000s) from the FLOPs of one iteration and
// items/s from the images of one iteration.
inline void set_rates(benchmark::State& state, double flops_per_iter, double images_per_iter) {
  state.SetItemsProcessed(static_cast<int64_t>(images_per_iter * double(state.iterations())));
  if (flops_per_iter > 0)
    state.counters["FLOP/s"] = benchmark::Counter(flops_per_iter * double(state.iterations()),
                                                  benchmark::Counter::kIsRate, benchmark::Counter::OneK::kIs1000);
}

// GEMM FLOPs of the notebook network per image (bias, ReLU, pooling, softmax
// and Adam are elementwise and not counted): the formulas of notebook_regime.sh.
inline double conv_fwd_flops(std::size_t n) { return 2.0 * n * kFN * kC * kFH * kFW * kOH * kOW; }
inline double affine_flops(std::size_t n, std::size_t d, std::size_t m) { return 2.0 * n * d * m; }
inline double forward_flops(std::size_t n) {
  return conv_fwd_flops(n) + affine_flops(n, kD, kHidden) + affine_flops(n, kHidden, kOut);
}
// Backward: conv dW only (the first layer needs no dx), both affines' dW and dx.
inline double backward_flops(std::size_t n) {
  return conv_fwd_flops(n) + 2 * affine_flops(n, kD, kHidden) + 2 * affine_flops(n, kHidden, kOut);
}
// Trainer::step = gradient (forward + backward) + the loss forward after the update.
inline double train_step_flops(std::size_t n) { return 2 * forward_flops(n) + backward_flops(n); }

}  // namespace bench
