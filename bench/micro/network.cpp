// The whole network: a training step as Trainer::step (minibatch draw,
// gradient, Adam update, loss forward after the update) and the evaluation
// forward (predict, Mode::Eval). Arg: the batch size (100 is the notebook's).
#include <algorithm>

#include "common.hpp"

namespace {

using namespace bench;
using convnet::Tensor;

void BM_train_step(benchmark::State& state) {
  const std::size_t batch = std::size_t(state.range(0));
  const BenchData& data = bench_data();
  convnet::SimpleConvNet<float> net;  // the notebook's configuration, seed 0
  convnet::Adam<float> adam;
  convnet::RandomState rng(0);
  convnet::TrainOptions opt;
  opt.iters = 1000;  // only sizes the loss list: step() does not stop at it
  opt.batch_size = batch;
  opt.eval_interval = 0;
  convnet::Trainer<float> trainer(net, adam, data.train, data.test, opt, rng);
  trainer.step();  // first step sizes every buffer
  for (auto _ : state) benchmark::DoNotOptimize(trainer.step());
  set_rates(state, train_step_flops(batch), double(batch));
  state.SetLabel(data.synthetic ? "random images" : "mnist");
}
BENCHMARK(BM_train_step)->ArgName("batch")->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_eval_forward(benchmark::State& state) {
  const std::size_t batch = std::size_t(state.range(0));
  const BenchData& data = bench_data();
  convnet::SimpleConvNet<float> net;
  // The first `batch` training images (the notebook evaluates in slices).
  Tensor<float> x;
  std::vector<std::int32_t> t;
  convnet::slice_batch(data.train, 0, std::min(batch, data.train.count), true, false, x, t);
  net.predict(x, convnet::Mode::Eval);
  for (auto _ : state) benchmark::DoNotOptimize(net.predict(x, convnet::Mode::Eval).data());
  set_rates(state, forward_flops(x.shape(0)), double(x.shape(0)));
  state.SetLabel(data.synthetic ? "random images" : "mnist");
}
BENCHMARK(BM_eval_forward)->ArgName("batch")->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// One whole evaluation of the regime: accuracy on the 5000 training and
// 1000 test images in batches of 100 (Trainer::evaluate).
void BM_evaluate(benchmark::State& state) {
  const BenchData& data = bench_data();
  convnet::SimpleConvNet<float> net;
  convnet::Adam<float> adam;
  convnet::RandomState rng(0);
  convnet::Trainer<float> trainer(net, adam, data.train, data.test, convnet::TrainOptions{}, rng);
  trainer.evaluate();
  for (auto _ : state) benchmark::DoNotOptimize(trainer.evaluate().accr_test);
  const double images = double(data.train.count + data.test.count);
  set_rates(state, forward_flops(1) * images, images);
  state.SetLabel(data.synthetic ? "random images" : "mnist");
}
BENCHMARK(BM_evaluate)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
