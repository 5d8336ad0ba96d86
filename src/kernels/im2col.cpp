// im2col / col2im kernels, notebook In [2] and In [6]. Parallel over images:
// each image owns its rows of col and its plane of img, so no two threads
// write the same memory.
#include "kernels.hpp"

namespace convnet::kernels {

template <class T>
void im2col(const ConvGeom& g, const T* x, T* col) {
  const std::size_t oh = g.out_h(), ow = g.out_w(), K = g.cols();
  const long pad = long(g.pad);
#pragma omp parallel for schedule(static) if (g.rows() * g.cols() >= kParallelMin)
  for (std::size_t n = 0; n < g.N; ++n) {
    for (std::size_t oy = 0; oy < oh; ++oy) {
      for (std::size_t ox = 0; ox < ow; ++ox) {
        T* row = col + ((n * oh + oy) * ow + ox) * K;  // row (n, oy, ox)
        for (std::size_t c = 0; c < g.C; ++c) {
          const T* plane = x + (n * g.C + c) * g.H * g.W;
          for (std::size_t ky = 0; ky < g.fh; ++ky) {
            const long y = long(oy * g.stride + ky) - pad;
            T* dst = row + (c * g.fh + ky) * g.fw;  // column (c, ky, kx)
            if (y < 0 || y >= long(g.H)) {
              for (std::size_t kx = 0; kx < g.fw; ++kx) dst[kx] = T(0);
              continue;
            }
            const T* src = plane + std::size_t(y) * g.W;
            for (std::size_t kx = 0; kx < g.fw; ++kx) {
              const long xx = long(ox * g.stride + kx) - pad;
              dst[kx] = (xx < 0 || xx >= long(g.W)) ? T(0) : src[xx];
            }
          }
        }
      }
    }
  }
}

template <class T>
void col2im(const ConvGeom& g, const T* col, T* img) {
  const std::size_t oh = g.out_h(), ow = g.out_w(), K = g.cols();
  const long pad = long(g.pad);
#pragma omp parallel for schedule(static) if (g.rows() * g.cols() >= kParallelMin)
  for (std::size_t n = 0; n < g.N; ++n) {
    T* im = img + n * g.C * g.H * g.W;
    for (std::size_t i = 0; i < g.C * g.H * g.W; ++i) im[i] = T(0);
    for (std::size_t oy = 0; oy < oh; ++oy) {
      for (std::size_t ox = 0; ox < ow; ++ox) {
        const T* row = col + ((n * oh + oy) * ow + ox) * K;
        for (std::size_t c = 0; c < g.C; ++c) {
          T* plane = im + c * g.H * g.W;
          for (std::size_t ky = 0; ky < g.fh; ++ky) {
            const long y = long(oy * g.stride + ky) - pad;
            if (y < 0 || y >= long(g.H)) continue;  // padding: cropped away
            const T* src = row + (c * g.fh + ky) * g.fw;
            T* dst = plane + std::size_t(y) * g.W;
            for (std::size_t kx = 0; kx < g.fw; ++kx) {
              const long xx = long(ox * g.stride + kx) - pad;
              if (xx >= 0 && xx < long(g.W)) dst[xx] += src[kx];
            }
          }
        }
      }
    }
  }
}

template void im2col<float>(const ConvGeom&, const float*, float*);
template void im2col<double>(const ConvGeom&, const double*, double*);
template void col2im<float>(const ConvGeom&, const float*, float*);
template void col2im<double>(const ConvGeom&, const double*, double*);

}  // namespace convnet::kernels
