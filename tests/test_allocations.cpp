// After the first iteration a training step allocates nothing (DESIGN.md §3):
// every operator new of this test binary is counted while a switch is on.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "convnet/convnet.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

void* counted(std::size_t n, std::size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                              : std::malloc(n);
  if (!p) throw std::bad_alloc();
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
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

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

TEST(Allocations, ATrainingStepAllocatesNothingAfterTheFirst) {
  const Dataset train = toy(500), test = toy(100);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    RandomState rng(0);
    SimpleConvNet<float> net(SimpleConvNetConfig{}, rng);
    Adam<float> adam;
    TrainOptions opt;
    opt.iters = 10;
    Trainer<float> trainer(net, adam, train, test, opt, rng);
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
