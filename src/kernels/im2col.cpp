// im2col / col2im kernels, notebook In [2] and In [6]. Parallel over images:
// each image owns its rows of col and its plane of img, so no two threads
// write the same memory.
#include <algorithm>

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

namespace {
// Output columns ox whose input column ox*s + off lies inside [0, W): [lo, hi).
struct Span {
  std::size_t lo, hi;
};
inline Span valid_span(long off, std::size_t s, std::size_t W, std::size_t ow) {
  const long ls = long(s);
  const long lo = off >= 0 ? 0 : (-off + ls - 1) / ls;
  const long last = long(W) - 1 - off;  // largest ox*s allowed
  long hi = last < 0 ? 0 : last / ls + 1;
  hi = std::min(hi, long(ow));
  return {std::size_t(lo), std::size_t(std::max(hi, lo))};
}
}  // namespace

template <class T>
void im2col_t(const ConvGeom& g, const T* x, T* colT, std::size_t ld) {
  const std::size_t oh = g.out_h(), ow = g.out_w(), s = g.stride;
  const long pad = long(g.pad);
  // Stride 1 and ow == W ("same" padding): output and input rows have the same
  // length, so a row of colT is the plane shifted by one offset — one block
  // copy, then the wrapped-around edge pixels are zeroed.
  const bool same = s == 1 && ow == g.W;
  for (std::size_t c = 0; c < g.C; ++c) {
    const T* plane = x + c * g.H * g.W;
    for (std::size_t ky = 0; ky < g.fh; ++ky) {
      // Output rows whose input row y = oy*s + ky - pad lies inside [0, H).
      const Span rows = valid_span(long(ky) - pad, s, g.H, oh);
      for (std::size_t kx = 0; kx < g.fw; ++kx) {
        T* row = colT + ((c * g.fh + ky) * g.fw + kx) * ld;  // row (c, ky, kx)
        const long off = long(kx) - pad;
        const Span sp = valid_span(off, s, g.W, ow);
        std::fill(row, row + rows.lo * ow, T(0));
        std::fill(row + rows.hi * ow, row + oh * ow, T(0));
        if (rows.lo == rows.hi) continue;
        if (same && sp.lo < sp.hi) {
          const std::size_t y0 = std::size_t(long(rows.lo + ky) - pad);
          const std::size_t b = rows.lo * ow + sp.lo, e = (rows.hi - 1) * ow + sp.hi;
          std::copy_n(plane + y0 * g.W + std::size_t(long(sp.lo) + off), e - b, row + b);
          for (std::size_t oy = rows.lo; oy < rows.hi; ++oy) {
            std::fill(row + oy * ow, row + oy * ow + sp.lo, T(0));
            std::fill(row + oy * ow + sp.hi, row + (oy + 1) * ow, T(0));
          }
          continue;
        }
        for (std::size_t oy = rows.lo; oy < rows.hi; ++oy) {
          T* d = row + oy * ow;
          const std::size_t y = std::size_t(long(oy * s + ky) - pad);
          std::fill(d, d + sp.lo, T(0));
          // First input pixel read: column sp.lo*s + off >= 0.
          const T* src = plane + y * g.W + std::size_t(long(sp.lo * s) + off);
          if (s == 1)
            for (std::size_t i = 0; i < sp.hi - sp.lo; ++i) d[sp.lo + i] = src[i];
          else
            for (std::size_t i = 0; i < sp.hi - sp.lo; ++i) d[sp.lo + i] = src[i * s];
          std::fill(d + sp.hi, d + ow, T(0));
        }
      }
    }
  }
}

template <class T>
void col2im_t(const ConvGeom& g, const T* colT, std::size_t ld, T* img) {
  const std::size_t oh = g.out_h(), ow = g.out_w(), s = g.stride;
  const long pad = long(g.pad);
  std::fill(img, img + g.C * g.H * g.W, T(0));
  for (std::size_t c = 0; c < g.C; ++c) {
    T* plane = img + c * g.H * g.W;
    for (std::size_t ky = 0; ky < g.fh; ++ky)
      for (std::size_t kx = 0; kx < g.fw; ++kx) {
        const T* row = colT + ((c * g.fh + ky) * g.fw + kx) * ld;
        const long off = long(kx) - pad;
        const Span sp = valid_span(off, s, g.W, ow);
        const std::size_t n = sp.hi - sp.lo;
        for (std::size_t oy = 0; oy < oh; ++oy) {
          const long y = long(oy * s + ky) - pad;
          if (y < 0 || y >= long(g.H)) continue;  // padding: cropped away
          const T* src = row + oy * ow + sp.lo;
          T* dst = plane + std::size_t(y) * g.W + std::size_t(long(sp.lo * s) + off);
          if (s == 1)
            for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
          else
            for (std::size_t i = 0; i < n; ++i) dst[i * s] += src[i];
        }
      }
  }
}

template void im2col<float>(const ConvGeom&, const float*, float*);
template void im2col<double>(const ConvGeom&, const double*, double*);
template void col2im<float>(const ConvGeom&, const float*, float*);
template void col2im<double>(const ConvGeom&, const double*, double*);

template void im2col_t<float>(const ConvGeom&, const float*, float*, std::size_t);
template void im2col_t<double>(const ConvGeom&, const double*, double*, std::size_t);
template void col2im_t<float>(const ConvGeom&, const float*, std::size_t, float*);
template void col2im_t<double>(const ConvGeom&, const double*, std::size_t, double*);

}  // namespace convnet::kernels
