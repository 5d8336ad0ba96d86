#include <gtest/gtest.h>

#include "convnet/core/tensor.hpp"

using namespace convnet;

TEST(Tensor, ZeroFilledAlignedAndReusesMemory) {
  Tensor<float> t({2, 3, 4, 5});
  EXPECT_EQ(t.size(), 120u);
  EXPECT_EQ(t.shape(), (std::vector<std::size_t>{2, 3, 4, 5}));
  for (float v : t) EXPECT_EQ(v, 0.0f);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data()) % 64, 0u);
  const float* before = t.data();
  t.resize({10, 12});  // same size: no new memory
  EXPECT_EQ(t.data(), before);
  t.resize({2, 2});    // smaller: still no new memory
  EXPECT_EQ(t.data(), before);
  t.reshape({4});
  EXPECT_EQ(t.shape(), (std::vector<std::size_t>{4}));
  EXPECT_THROW(t.reshape({5}), Error);
  EXPECT_THROW(Tensor<double>(std::vector<std::size_t>{1, 2, 3, 4, 5}), Error);
}

TEST(Tensor, CopyIsDeepMoveIsNot) {
  Tensor<double> a({3});
  a[1] = 2.5;
  Tensor<double> b = a;
  b[1] = 7;
  EXPECT_EQ(a[1], 2.5);
  const double* p = a.data();
  Tensor<double> c = std::move(a);
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(c[1], 2.5);
}
