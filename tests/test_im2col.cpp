// im2col / col2im against the notebook's printed values (In [3], In [5]) and
// the adjoint identity <im2col(x), y> = <x, col2im(y)>.
#include <gtest/gtest.h>

#include <cmath>

#include "convnet/core/error.hpp"
#include "convnet/core/im2col.hpp"
#include "test_util.hpp"

using namespace convnet;

TEST(Im2col, NotebookPrintedExample) {
  // The two 4x4 images printed under In [3].
  const double img[2][16] = {{92, 65, 70, 14, 6, 80, 39, 32, 89, 85, 12, 85, 40, 30, 53, 56},
                             {71, 8, 85, 49, 61, 43, 23, 83, 77, 10, 94, 98, 27, 28, 89, 57}};
  Tensor<double> x({2, 1, 4, 4});
  for (int n = 0; n < 2; ++n)
    for (int i = 0; i < 16; ++i) x[n * 16 + i] = img[n][i];
  // The 8x9 col printed under In [5].
  const double expected[8][9] = {
      {92, 65, 70, 6, 80, 39, 89, 85, 12}, {65, 70, 14, 80, 39, 32, 85, 12, 85},
      {6, 80, 39, 89, 85, 12, 40, 30, 53}, {80, 39, 32, 85, 12, 85, 30, 53, 56},
      {71, 8, 85, 61, 43, 23, 77, 10, 94}, {8, 85, 49, 43, 23, 83, 10, 94, 98},
      {61, 43, 23, 77, 10, 94, 27, 28, 89}, {43, 23, 83, 10, 94, 98, 28, 89, 57}};
  const Tensor<double> col = im2col(x, 3, 3, 1, 0);
  ASSERT_EQ(col.shape(), (std::vector<std::size_t>{8, 9}));
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 9; ++c) EXPECT_EQ(col[r * 9 + c], expected[r][c]) << "row " << r << " col " << c;
}

TEST(Im2col, LayoutRowsNyxColsCyx) {
  // Each entry checked against its definition, with channels, stride and pad.
  RandomState rng(3);
  const std::size_t N = 2, C = 3, H = 5, W = 6, fh = 3, fw = 2, s = 2, p = 1;
  auto x = test::random_tensor({N, C, H, W}, rng);
  const auto col = im2col(x, fh, fw, s, p);
  const std::size_t oh = (H + 2 * p - fh) / s + 1, ow = (W + 2 * p - fw) / s + 1;
  ASSERT_EQ(col.shape(), (std::vector<std::size_t>{N * oh * ow, C * fh * fw}));
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t y = 0; y < oh; ++y)
      for (std::size_t xx = 0; xx < ow; ++xx)
        for (std::size_t c = 0; c < C; ++c)
          for (std::size_t ky = 0; ky < fh; ++ky)
            for (std::size_t kx = 0; kx < fw; ++kx) {
              const long iy = long(y * s + ky) - long(p), ix = long(xx * s + kx) - long(p);
              const double want = (iy < 0 || ix < 0 || iy >= long(H) || ix >= long(W))
                                      ? 0.0
                                      : x[((n * C + c) * H + std::size_t(iy)) * W + std::size_t(ix)];
              const std::size_t row = (n * oh + y) * ow + xx, column = (c * fh + ky) * fw + kx;
              ASSERT_EQ(col[row * C * fh * fw + column], want);
            }
}

TEST(Col2im, IsTheAdjointOfIm2col) {
  RandomState rng(7);
  int cases = 0;
  for (std::size_t stride : {1, 2, 3})
    for (std::size_t pad : {0, 1, 2})
      for (auto shape : std::vector<std::vector<std::size_t>>{{1, 1, 5, 5}, {2, 3, 7, 6}, {3, 2, 9, 8}})
        for (auto [fh, fw] : std::vector<std::pair<std::size_t, std::size_t>>{{3, 3}, {2, 4}, {5, 5}}) {
          if (fh > shape[2] + 2 * pad || fw > shape[3] + 2 * pad) continue;
          auto x = test::random_tensor(shape, rng);
          const auto cx = im2col(x, fh, fw, stride, pad);
          auto y = test::random_tensor(cx.shape(), rng);
          const auto xy = col2im(y, shape, fh, fw, stride, pad);
          ASSERT_EQ(xy.shape(), shape);
          double lhs = 0, rhs = 0, mag = 0;
          for (std::size_t i = 0; i < cx.size(); ++i) lhs += cx[i] * y[i], mag += std::fabs(cx[i] * y[i]);
          for (std::size_t i = 0; i < x.size(); ++i) rhs += x[i] * xy[i];
          EXPECT_NEAR(lhs, rhs, 1e-10 * std::max(1.0, mag))
              << "shape " << shape_str(shape) << " f " << fh << "x" << fw << " s " << stride << " p " << pad;
          ++cases;
        }
  EXPECT_GT(cases, 50);
}

TEST(Col2im, OverlapsAddUp) {
  // A 3x3 window with stride 1 over 4x4: the centre pixels are covered by 4 windows.
  Tensor<double> ones_col({4, 9});
  ones_col.fill(1.0);
  const auto img = col2im(ones_col, {1, 1, 4, 4}, 3, 3, 1, 0);
  const double expected[16] = {1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1};
  for (int i = 0; i < 16; ++i) EXPECT_EQ(img[i], expected[i]) << i;
}

TEST(Im2col, RejectsImpossibleGeometry) {
  Tensor<double> x({1, 1, 4, 4});
  try {
    im2col(x, 7, 7, 1, 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("filter 7 is larger than the padded input 4"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(im2col(x, 3, 3, 0, 0), Error);
  Tensor<double> x3({4, 4});
  EXPECT_THROW(im2col(x3, 3, 3), Error);
  Tensor<double> col({3, 9});
  EXPECT_THROW(col2im(col, {1, 1, 4, 4}, 3, 3), Error);  // expects (4, 9)
}
