// Max pooling, notebook In [8]: the same result as im2col + argmax + max,
// without building the column matrix.
#include <algorithm>
#include <cstdint>

#include "kernels.hpp"

namespace convnet::kernels {

template <class T>
void maxpool_forward(const ConvGeom& g, const T* x, T* out, std::int32_t* arg) {
  const std::size_t oh = g.out_h(), ow = g.out_w();
  const long pad = long(g.pad);
#pragma omp parallel for collapse(2) schedule(static) if (g.N * g.C * g.H * g.W >= kParallelMin)
  for (std::size_t n = 0; n < g.N; ++n) {
    for (std::size_t c = 0; c < g.C; ++c) {
      const std::size_t base = (n * g.C + c) * g.H * g.W;
      const T* plane = x + base;
      T* o = out + (n * g.C + c) * oh * ow;
      std::int32_t* a = arg + (n * g.C + c) * oh * ow;
      for (std::size_t oy = 0; oy < oh; ++oy) {
        for (std::size_t ox = 0; ox < ow; ++ox) {
          // Window scanned in (ky, kx) order, strict '>' keeps the first max,
          // like np.argmax over the (ky, kx)-ordered column.
          T best = T(0);
          std::int32_t best_i = -2;  // -2: nothing seen yet
          for (std::size_t ky = 0; ky < g.fh; ++ky) {
            const long y = long(oy * g.stride + ky) - pad;
            for (std::size_t kx = 0; kx < g.fw; ++kx) {
              const long xx = long(ox * g.stride + kx) - pad;
              const bool inside = y >= 0 && y < long(g.H) && xx >= 0 && xx < long(g.W);
              const T v = inside ? plane[std::size_t(y) * g.W + std::size_t(xx)] : T(0);
              if (best_i == -2 || v > best) {
                best = v;
                best_i = inside ? std::int32_t(base + std::size_t(y) * g.W + std::size_t(xx)) : -1;
              }
            }
          }
          o[oy * ow + ox] = best;
          a[oy * ow + ox] = best_i;
        }
      }
    }
  }
}

template <class T>
void maxpool_backward(std::size_t planes, std::size_t x_size, std::size_t out_size, const T* dout,
                      const std::int32_t* arg, T* dx) {
  if (planes == 0) return;
  const std::size_t xp = x_size / planes, op = out_size / planes;
  // A window's argmax lies in its own plane: planes in parallel, each in
  // output order (overlapping windows add into an element in the same order
  // whatever the thread count).
#pragma omp parallel for schedule(static) if (x_size >= kParallelMin)
  for (std::size_t c = 0; c < planes; ++c) {
    std::fill(dx + c * xp, dx + (c + 1) * xp, T(0));
    for (std::size_t i = c * op; i < (c + 1) * op; ++i)
      if (arg[i] >= 0) dx[arg[i]] += dout[i];
  }
}

template void maxpool_forward<float>(const ConvGeom&, const float*, float*, std::int32_t*);
template void maxpool_forward<double>(const ConvGeom&, const double*, double*, std::int32_t*);
template void maxpool_backward<float>(std::size_t, std::size_t, std::size_t, const float*, const std::int32_t*,
                                     float*);
template void maxpool_backward<double>(std::size_t, std::size_t, std::size_t, const double*, const std::int32_t*,
                                      double*);

}  // namespace convnet::kernels
