// Python's float repr and NumPy's array printing, checked against strings
// Python and NumPy print.
#include <gtest/gtest.h>

#include "convnet/io/format.hpp"

using namespace convnet;

TEST(Format, PythonFloatRepr) {
  EXPECT_EQ(python_float(0.86), "0.86");
  EXPECT_EQ(python_float(0.8996), "0.8996");
  EXPECT_EQ(python_float(1.0), "1.0");
  EXPECT_EQ(python_float(0.0), "0.0");
  EXPECT_EQ(python_float(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(python_float(1e-05), "1e-05");
  EXPECT_EQ(python_float(0.0001), "0.0001");
  EXPECT_EQ(python_float(1e16), "1e+16");
  EXPECT_EQ(python_float(123456789012345.0), "123456789012345.0");
  EXPECT_EQ(python_float(-2.5), "-2.5");
  EXPECT_EQ(python_float(2.302585092994046), "2.302585092994046");
}

TEST(Format, NumpyStrOfIntegerValuedArrays) {
  Tensor<double> a({2, 1, 2, 2});
  const double v[8] = {92, 65, 6, 80, 71, 8, 61, 43};
  for (int i = 0; i < 8; ++i) a[i] = v[i];
  EXPECT_EQ(numpy_str(a), "[[[[92. 65.]\n   [ 6. 80.]]]\n\n\n [[[71.  8.]\n   [61. 43.]]]]");
  Tensor<double> m({2, 3});
  for (int i = 0; i < 6; ++i) m[i] = i * 7;
  EXPECT_EQ(numpy_str(m), "[[ 0.  7. 14.]\n [21. 28. 35.]]");
}

TEST(Format, NumpyStrOfFractions) {
  Tensor<double> a({3});
  a[0] = 0.5, a[1] = 0.25, a[2] = 1.0;
  EXPECT_EQ(numpy_str(a), "[0.5  0.25 1.  ]");
}
