// After the first iteration a training step allocates nothing (DESIGN.md §3):
// every operator new of this test binary is counted while a switch is on.
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "convnet/convnet.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
// Live heap bytes (malloc_usable_size) and their peak, always tracked.
std::atomic<long long> g_live{0}, g_peak{0};
void track(long long delta) {
  const long long now = g_live.fetch_add(delta, std::memory_order_relaxed) + delta;
  long long peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}
void release(void* p) {
  if (p) track(-static_cast<long long>(malloc_usable_size(p)));
  std::free(p);
}

void* counted(std::size_t n, std::size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                              : std::malloc(n);
  if (!p) throw std::bad_alloc();
  track(static_cast<long long>(malloc_usable_size(p)));
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted(n, 0); }
void* operator new[](std::size_t n) { return counted(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted(n, std::size_t(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try { return counted(n, 0); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try { return counted(n, 0); } catch (...) { return nullptr; }
}
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }

using namespace convnet;

namespace {
Dataset toy(std::size_t n) {
  Dataset d;
  d.count = n, d.rows = 28, d.cols = 28;
  d.images.resize(n * 784);
  d.labels.resize(n);
  for (std::size_t i = 0; i < d.images.size(); ++i) d.images[i] = std::uint8_t((i * 2654435761u) >> 24);
  for (std::size_t i = 0; i < n; ++i) d.labels[i] = std::uint8_t(i % 10);
  return d;
}
}  // namespace

TEST(Allocations, TheCounterCountsTheAllocationsItShould) {
  g_allocations = 0;
  g_counting = true;
  auto* v = new std::vector<int>(10);
  Tensor<float> t({3, 4});
  g_counting = false;
  delete v;
  EXPECT_EQ(g_allocations.load(), 4);  // the vector, its buffer, the tensor's shape and aligned data
}

template <class T>
void training_step_allocates_nothing(Kernels kernels) {
  const Dataset train = toy(500), test = toy(100);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    RandomState rng(0);
    SimpleConvNet<T> net(SimpleConvNetConfig{}, rng, kernels);
    Adam<T> adam;
    TrainOptions opt;
    opt.iters = 10;
    Trainer<T> trainer(net, adam, train, test, opt, rng);
    trainer.step();
    trainer.step();
    g_allocations = 0;
    g_counting = true;
    for (int i = 0; i < 5; ++i) trainer.step();
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0) << threads << " threads";
  }
  set_num_threads(0);
}
TEST(Allocations, ATrainingStepAllocatesNothingAfterTheFirst) { training_step_allocates_nothing<float>(Kernels::Fast); }
// float64's fast kernels (the Python module's default): the fused layer in double.
TEST(Allocations, AFastFloat64TrainingStepAllocatesNothingAfterTheFirst) {
  training_step_allocates_nothing<double>(Kernels::Fast);
}

// An evaluation (the Evaluator, forwards of about 500 images and a partial
// last one) reuses its buffers and the network's from the second on.
template <class T>
void evaluation_allocates_nothing(Kernels kernels) {
  const Dataset d = toy(1234);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    SimpleConvNet<T> net(SimpleConvNetConfig{}, kernels);
    Evaluator<T> ev;
    std::vector<std::int32_t> predicted;
    ev.count_correct(net, d, &predicted);
    g_allocations = 0;
    g_counting = true;
    for (int i = 0; i < 2; ++i) {
      ev.count_correct(net, d, &predicted);
      ev.count_correct(net, d, 100, 900);
    }
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0) << threads << " threads";
  }
  set_num_threads(0);
}
TEST(Allocations, AnEvaluationAllocatesNothingAfterTheFirst) {
  evaluation_allocates_nothing<float>(Kernels::Fast);
  evaluation_allocates_nothing<double>(Kernels::Fast);
  evaluation_allocates_nothing<double>(Kernels::NumpyExact);
}

// The book's DeepConvNet under the Trainer: six convolutions (each fused
// with its ReLU on the fast kernels), dropout
// masks drawn in the gradient's forward and again in the logged loss
// (loss_mode train), Adam; on 1 and 2 threads.
template <class T>
void deep_convnet_step_allocates_nothing(Kernels kernels = default_kernels<T>()) {
  const Dataset train = toy(200), test = toy(100);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    RandomState rng(0);
    Sequential<T> net(Architecture::deep_convnet(), rng, kernels);
    Adam<T> adam;
    TrainOptions opt;
    opt.iters = 10;
    opt.batch_size = 20;
    Trainer<T> trainer(net, adam, train, test, opt, rng);
    trainer.step();
    trainer.step();
    g_allocations = 0;
    g_counting = true;
    for (int i = 0; i < 3; ++i) trainer.step();
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0) << threads << " threads";
  }
  set_num_threads(0);
}
TEST(Allocations, ADeepConvNetTrainingStepAllocatesNothingAfterTheFirst) {
  deep_convnet_step_allocates_nothing<float>();
  deep_convnet_step_allocates_nothing<double>();
  deep_convnet_step_allocates_nothing<double>(Kernels::Fast);  // conv+relu fused, Direct in double
}

// The same for a Sequential network (the fused layer in float, the plain
// layers in double): gradient + update reuse every buffer.
template <class T>
void sequential_step_allocates_nothing() {
  Sequential<T> net(Architecture::notebook());
  Adam<T> adam;
  RandomState rng(1);
  Tensor<T> x({32, 1, 28, 28});
  for (auto& v : x) v = T(rng.random_sample());
  std::vector<std::int32_t> t(32);
  for (int i = 0; i < 32; ++i) t[i] = i % 10;
  for (int i = 0; i < 2; ++i) adam.update(net.params(), net.gradient(x, t));
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 3; ++i) adam.update(net.params(), net.gradient(x, t));
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
}
TEST(Allocations, ASequentialStepAllocatesNothingAfterTheFirst) {
  sequential_step_allocates_nothing<float>();
  sequential_step_allocates_nothing<double>();
}

// The memory estimate (convnet/core/memory.hpp) covers what a training run
// really allocates: parameters, gradients, Adam's state, the layers' buffers
// for a batch of 100 and the evaluation's (its forwards take
// eval_forward_size images, as `convnet train` counts them), measured as the
// peak of live heap bytes over a few steps and an evaluation.
TEST(Allocations, TheMemoryEstimateCoversWhatTrainingAllocates) {
  const Dataset train = toy(300), test = toy(100);
  set_num_threads(2);
  for (bool dbl : {false, true}) {
    SCOPED_TRACE(dbl ? "double" : "float");
    MemoryUse use;
    use.batch_size = 100;
    use.eval_batch_size = eval_forward_size(simple_convnet_architecture(SimpleConvNetConfig{}),
                                            dbl ? Kernels::NumpyExact : Kernels::Fast, dbl ? 8 : 4, 100);
    EXPECT_EQ(use.eval_batch_size, dbl ? 100u : 500u);
    const std::size_t estimate =
        estimate_memory(simple_convnet_footprint(SimpleConvNetConfig{}, !dbl), dbl ? 8 : 4, use).total();
    const long long base = g_live.load();
    g_peak = base;
    auto run = [&](auto zero) {
      using T = decltype(zero);
      RandomState rng(0);
      SimpleConvNet<T> net(SimpleConvNetConfig{}, rng);
      Adam<T> adam;
      TrainOptions opt;
      Trainer<T> trainer(net, adam, train, test, opt, rng);
      for (int i = 0; i < 3; ++i) trainer.step();
      trainer.evaluate();
      trainer.step();
    };
    if (dbl)
      run(0.0);
    else
      run(0.0f);
    const long long used = g_peak.load() - base;
    EXPECT_LE(used, static_cast<long long>(estimate));
    EXPECT_GE(used * 3, static_cast<long long>(estimate));  // and not far above it
    std::printf("peak %lld bytes, estimate %zu (x%.2f)\n", used, estimate, double(estimate) / double(used));
  }
  set_num_threads(0);
}

// The book's Sigmoid, Dropout and BatchNormalization (both forms), chained:
// a training forward + backward and an evaluation forward reuse every buffer
// (the dropout mask included) after the first step, on 1 and 2 threads (the
// input is large enough for the kernels' OpenMP loops).
template <class T>
void book_layers_step_allocates_nothing() {
  RandomState rng(3);
  Tensor<T> x({32, 16, 8, 8}), dout({32, 16, 8, 8}), gamma_c({16}), beta_c({16}), gamma({16 * 64}),
      beta({16 * 64});
  for (auto& v : x) v = T(rng.randn());
  for (auto& v : dout) v = T(rng.randn());
  gamma_c.fill(T(1));
  gamma.fill(T(1));
  BatchNormalization<T> bn_c(gamma_c, beta_c, 0.9, true), bn(gamma, beta);
  Sigmoid<T> sig;
  Dropout<T> drop(0.5, &rng);
  auto step = [&] {
    drop.forward(sig.forward(bn.forward(bn_c.forward(x, Mode::Train), Mode::Train)), Mode::Train);
    bn_c.backward(bn.backward(sig.backward(drop.backward(dout))));
    drop.forward(sig.forward(bn.forward(bn_c.forward(x, Mode::Eval), Mode::Eval)), Mode::Eval);
  };
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    step();
    step();
    g_allocations = 0;
    g_counting = true;
    for (int i = 0; i < 3; ++i) step();
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0) << threads << " threads";
  }
  set_num_threads(0);
}
TEST(Allocations, TheBookLayersAllocateNothingAfterTheFirstStep) {
  book_layers_step_allocates_nothing<float>();
  book_layers_step_allocates_nothing<double>();
}
