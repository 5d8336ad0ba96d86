// Direct convolution (stride 1) for float: each output row segment of 16
// pixels for 4 filters stays in vector registers while all FH*FW*C taps are
// added — no im2col matrix at all. Used by the fused evaluation forward; the
// tests hold it to the im2col + GEMM reference.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels.hpp"

namespace convnet::kernels {

namespace {
typedef float v16 __attribute__((vector_size(64)));
constexpr std::size_t kLanes = 16, kFilters = 4;

inline v16 load16(const float* p) {
  v16 v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}
}  // namespace

std::size_t conv_direct_padded_size(std::size_t C, std::size_t Hp, std::size_t Wp) {
  return C * Hp * Wp + 2 * kLanes;  // slack: the last vector of a row may run past it
}

void conv_direct_image(const float* in, std::size_t C, std::size_t Hp, std::size_t Wp, const float* Wpk,
                       const float* b, std::size_t FN, std::size_t FH, std::size_t FW, float* out) {
  const std::size_t oh = Hp - FH + 1, ow = Wp - FW + 1, taps = C * FH * FW;
  for (std::size_t f0 = 0; f0 < FN; f0 += kFilters) {
    const std::size_t nf = std::min(kFilters, FN - f0);
    const float* w = Wpk + f0 * taps;  // packed: (FN rounded up to 4, taps), tap-major per filter block
    for (std::size_t y = 0; y < oh; ++y) {
      for (std::size_t x0 = 0; x0 < ow; x0 += kLanes) {
        v16 acc[kFilters];
        for (std::size_t i = 0; i < kFilters; ++i) acc[i] = v16{} + (i < nf ? b[f0 + i] : 0.0f);
        std::size_t t = 0;
        for (std::size_t c = 0; c < C; ++c)
          for (std::size_t ky = 0; ky < FH; ++ky) {
            const float* row = in + (c * Hp + y + ky) * Wp + x0;
            for (std::size_t kx = 0; kx < FW; ++kx, ++t) {
              const v16 v = load16(row + kx);
              const float* wt = w + t * kFilters;
              for (std::size_t i = 0; i < kFilters; ++i) acc[i] += wt[i] * v;
            }
          }
        const std::size_t n = std::min(kLanes, ow - x0);
        for (std::size_t i = 0; i < nf; ++i) std::memcpy(out + ((f0 + i) * oh + y) * ow + x0, &acc[i], n * 4);
      }
    }
  }
}

// W (FN, C, FH, FW) -> blocks of 4 filters, each tap's 4 weights adjacent.
std::vector<float> conv_direct_pack(const float* W, std::size_t FN, std::size_t taps) {
  const std::size_t FNp = (FN + kFilters - 1) / kFilters * kFilters;
  std::vector<float> p(FNp * taps, 0.0f);
  for (std::size_t f = 0; f < FN; ++f)
    for (std::size_t t = 0; t < taps; ++t)
      p[(f / kFilters) * kFilters * taps + t * kFilters + f % kFilters] = W[f * taps + t];
  return p;
}

}  // namespace convnet::kernels
