// Compiled with -ffp-contract=fast (CMakeLists.txt): a*b+c should be one
// FMA here. The NumPy-exact float64 runs never come here (they keep the
// notebook's im2col + GEMM, ConvAlgo::Reference).
//
// Direct stride-1 convolution for float and double (the fast float64 path),
// without an im2col matrix. The output is computed "wide": rows of Wp
// pixels (the padded input's width) instead of ow, so output pixel
// p = y*Wp + x reads input p + ky*Wp + kx for every tap — one contiguous run
// per tap. Columns x >= ow are computed and thrown away (4 of 28 for the
// notebook, cheaper than ragged rows), except where a row is whole register
// blocks (the fused layer on the notebook's 24 in double). A register block
// holds kFwdChunks vectors of pixels for kFwdFilters filters while all
// C*FH*FW taps are added. The tests hold these kernels to the notebook's
// im2col + GEMM reference.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include "kernels.hpp"

namespace convnet::kernels {

namespace {
// The vector: a whole register of the target, 64 bytes with AVX-512 (32
// registers), otherwise 32 (AVX2's 16 ymm registers — wider vectors there
// spill every accumulator to the stack, ~50x slower): 16 or 8 floats, 8 or
// 4 doubles. Register blocks count vectors, so they suit both types.
#ifdef __AVX512F__
constexpr std::size_t kVecBytes = 64;
// Forward: 2 chunks x 10 filters = 20 accumulators (the notebook's 30
// filters are 3 blocks). dW: 5 filters x 5 taps = 25 accumulators (30
// filters are 6 blocks, 25 taps 5 groups).
constexpr std::size_t kFwdChunks = 2, kFwdFilters = 10, kBwdFilters = 5, kBwdTaps = 5;
#else
constexpr std::size_t kVecBytes = 32;
// Forward: 2 x 6 = 12 accumulators + 2 inputs + 1 broadcast; dW: 3 x 3 = 9
// accumulators + 3 gradient vectors + 1 input.
constexpr std::size_t kFwdChunks = 2, kFwdFilters = 6, kBwdFilters = 3, kBwdTaps = 3;
#endif
template <class T>
constexpr std::size_t kLanes = kVecBytes / sizeof(T);
template <class T>
struct Vec {
  using I = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;  // compare results, shuffle indices
  typedef T f __attribute__((vector_size(kVecBytes)));
  typedef I i __attribute__((vector_size(kVecBytes)));
  typedef std::uint8_t u8 __attribute__((vector_size(kLanes<T>)));
};
template <class T>
using vf = typename Vec<T>::f;
template <class T>
using vi = typename Vec<T>::i;

template <class T>
inline vf<T> loadv(const T* p) {
  vf<T> v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}
template <class T>
inline void storev(T* p, vf<T> v) {
  std::memcpy(p, &v, sizeof v);
}
// Masked loads and stores where the ISA has them: a variable-length memcpy
// of a vector stalls on store forwarding.
#if defined(__AVX512F__)
template <class T>
inline auto first(std::size_t n) {  // lanes < n
  if constexpr (sizeof(T) == 4) return __mmask16((1u << n) - 1);
  else return __mmask8((1u << n) - 1);
}
inline void store_first(float* p, vf<float> v, std::size_t n) { _mm512_mask_storeu_ps(p, first<float>(n), __m512(v)); }
inline void store_first(double* p, vf<double> v, std::size_t n) {
  _mm512_mask_storeu_pd(p, first<double>(n), __m512d(v));
}
inline vf<float> load_first(const float* p, std::size_t n) {
  return vf<float>(_mm512_maskz_loadu_ps(first<float>(n), p));
}
inline vf<double> load_first(const double* p, std::size_t n) {
  return vf<double>(_mm512_maskz_loadu_pd(first<double>(n), p));
}
#elif defined(__AVX2__)
template <class T>
inline __m256i first(std::size_t n) {  // lanes < n all ones
  vi<T> iota;
  for (std::size_t l = 0; l < kLanes<T>; ++l) iota[l] = typename Vec<T>::I(l);
  return __m256i(iota < typename Vec<T>::I(n));
}
inline void store_first(float* p, vf<float> v, std::size_t n) { _mm256_maskstore_ps(p, first<float>(n), __m256(v)); }
inline void store_first(double* p, vf<double> v, std::size_t n) {
  _mm256_maskstore_pd(p, first<double>(n), __m256d(v));
}
inline vf<float> load_first(const float* p, std::size_t n) { return vf<float>(_mm256_maskload_ps(p, first<float>(n))); }
inline vf<double> load_first(const double* p, std::size_t n) {
  return vf<double>(_mm256_maskload_pd(p, first<double>(n)));
}
#else
// The first n lanes of v to p (n <= kLanes); nothing past p + n is written.
template <class T>
inline void store_first(T* p, vf<T> v, std::size_t n) {
  std::memcpy(p, &v, n * sizeof(T));
}
// The first n values at p, zeros in the other lanes; nothing past p + n is read.
template <class T>
inline vf<T> load_first(const T* p, std::size_t n) {
  vf<T> v{};
  std::memcpy(&v, p, n * sizeof(T));
  return v;
}
#endif
// The first n lanes of v, narrowed to bytes (values 0..255), to p.
template <class T>
inline void store_first_u8(std::uint8_t* p, vi<T> v, std::size_t n) {
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4) return _mm512_mask_cvtepi32_storeu_epi8(p, first<T>(n), __m512i(v));
  else return _mm512_mask_cvtepi64_storeu_epi8(p, first<T>(n), __m512i(v));
#endif
  const typename Vec<T>::u8 b = __builtin_convertvector(v, typename Vec<T>::u8);
  if (n == kLanes<T>) std::memcpy(p, &b, kLanes<T>);  // fixed size: one store
  else for (std::size_t i = 0; i < n; ++i) p[i] = b[i];
}
// n bytes at p widened to lanes, zeros in the others.
template <class T>
inline vi<T> load_first_u8(const std::uint8_t* p, std::size_t n) {
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  if constexpr (sizeof(T) == 4)
    return vi<T>(_mm512_maskz_cvtepu8_epi32(first<T>(n), _mm_maskz_loadu_epi8(first<T>(n), p)));
#endif
  typename Vec<T>::u8 b{};
  if (n == kLanes<T>) std::memcpy(&b, p, kLanes<T>);  // fixed size: one load
  else for (std::size_t i = 0; i < n; ++i) b[i] = p[i];
  return __builtin_convertvector(b, vi<T>);
}
// Shuffle indices: lanes 0, 2, 4, ... of the pair (a, b), and a's first
// half interleaved with b's (a0 b0 a1 b1 ...).
template <class T>
inline vi<T> even_lanes() {
  vi<T> v;
  for (std::size_t i = 0; i < kLanes<T>; ++i) v[i] = typename Vec<T>::I(2 * i);
  return v;
}
template <class T>
inline vi<T> interleave_low() {
  vi<T> v;
  for (std::size_t i = 0; i < kLanes<T>; ++i) v[i] = typename Vec<T>::I(i % 2 ? kLanes<T> + i / 2 : i / 2);
  return v;
}
// The lanes of v added in lane order (a fixed order: thread counts agree).
template <class T>
inline T lane_sum(vf<T> v) {
  T s = 0;
  for (std::size_t l = 0; l < kLanes<T>; ++l) s += v[l];
  return s;
}
constexpr std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }

// The Relu layer's rules on a vector (src/kernels/elementwise.cpp):
// forward x <= 0 ? 0 : x, backward through its output out <= 0 ? 0 : d.
template <class V>
inline V relu_v(V x) {
  return x <= V{} ? V{} : x;
}
template <class V>
inline V relu_grad_v(V d, V out) {
  return out <= V{} ? V{} : d;
}
// v, loaded once into a register: without this GCC folds the load into every
// FMA that uses it (F or T loads instead of one; misaligned ones split).
template <class V>
inline V in_register(V v) {
#if defined(__AVX2__) || defined(__AVX512F__)
  asm("" : "+v"(v));
#endif
  return v;
}

// One convolution's shapes in the wide layout.
template <class T>
struct Wide {
  std::size_t C, Hp, Wp, FH, FW;
  std::size_t oh() const { return Hp - FH + 1; }
  std::size_t ow() const { return Wp - FW + 1; }
  std::size_t plane() const { return Hp * Wp; }
  std::size_t taps() const { return C * FH * FW; }
  std::size_t pixels() const { return oh() * Wp; }  // wide output pixels per filter
  // Forward: a filter's wide plane, rounded up to whole register blocks.
  std::size_t fwd_span() const { return round_up(pixels(), kFwdChunks * kLanes<T>); }
  // Backward: a filter's wide gradient plane, rounded up to whole chunks.
  std::size_t bwd_span() const { return round_up(pixels(), kLanes<T>); }
};

// Tap offsets into a padded image (C, Hp, Wp) in (c, ky, kx) order, then
// `extra` zeros (spare taps of a last group, read and never stored).
template <class T>
void tap_offsets(const Wide<T>& g, std::size_t extra, std::vector<std::size_t>& off) {
  off.assign(g.taps() + extra, 0);
  for (std::size_t c = 0, t = 0; c < g.C; ++c)
    for (std::size_t ky = 0; ky < g.FH; ++ky)
      for (std::size_t kx = 0; kx < g.FW; ++kx) off[t++] = c * g.plane() + ky * g.Wp + kx;
}
}  // namespace

template <class T>
std::size_t conv_direct_padded_size(std::size_t C, std::size_t Hp, std::size_t Wp, std::size_t FW) {
  // The last block of wide pixels reads up to fwd_span - pixels + FW - 1
  // values past the image: zero slack, so nothing read is uninitialised.
  return C * Hp * Wp + (kFwdChunks + 1) * kLanes<T> + FW;
}

namespace {

// W (FN, taps) -> blocks of kFwdFilters filters, tap-major (each tap's
// filter weights adjacent); b likewise; missing filters are zeros.
template <class T>
void pack_forward(const T* W, const T* b, std::size_t FN, std::size_t taps, std::vector<T>& wp, std::vector<T>& bp) {
  const std::size_t FNp = round_up(FN, kFwdFilters);
  wp.assign(FNp * taps, T(0));
  bp.assign(FNp, T(0));
  for (std::size_t f = 0; f < FN; ++f) {
    const std::size_t blk = f / kFwdFilters, i = f % kFwdFilters;
    for (std::size_t t = 0; t < taps; ++t) wp[(blk * taps + t) * kFwdFilters + i] = W[f * taps + t];
    bp[f] = b[f];
  }
}

// F output planes (stride span), R*kLanes pixels from out + q0, reading
// the input from in + p0 (the same pixels' place in the wide layout).
template <std::size_t R, std::size_t F, class T>
inline void conv_block(const T* in, const Wide<T>& g, const T* w, const T* bias, std::size_t p0, T* out,
                       std::size_t q0, std::size_t span) {
  constexpr std::size_t L = kLanes<T>;
  vf<T> acc[F][R];
  for (std::size_t i = 0; i < F; ++i)
    for (std::size_t r = 0; r < R; ++r) acc[i][r] = vf<T>{} + bias[i];
  const std::size_t C = g.C, FH = g.FH, FW = g.FW;
  // No empty loop: GCC then keeps the accumulators in registers from start
  // to end instead of parking them on the stack for the zero-trip path.
  if (C == 0 || FH == 0 || FW == 0) __builtin_unreachable();
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t ky = 0; ky < FH; ++ky) {
      const T* row = in + c * g.plane() + ky * g.Wp + p0;
      for (std::size_t kx = 0; kx < FW; ++kx, w += F) {
        vf<T> v[R];
        for (std::size_t r = 0; r < R; ++r) v[r] = loadv(row + kx + r * L);
        for (std::size_t i = 0; i < F; ++i) {
          const T wi = w[i];
          for (std::size_t r = 0; r < R; ++r) acc[i][r] += wi * v[r];  // FMA
        }
      }
    }
  for (std::size_t i = 0; i < F; ++i)
    for (std::size_t r = 0; r < R; ++r) storev(out + i * span + q0 + r * L, acc[i][r]);
}

// One row of 2x2/2 max pooling with ReLU over rows r0 and r1, kLanes
// outputs at a time: even and odd columns split by a shuffle, the first maximum in
// window order chosen by compares (as np.argmax, no branches): the best of
// each row, the second row only where strictly larger. Reads up to
// 2*kLanes - 1 values past 2*(pw-1) in each row.
template <class T>
inline void relu_pool2_row(const T* r0, const T* r1, std::size_t pw, T* out, std::uint8_t* arg) {
  constexpr std::size_t L = kLanes<T>;
  const vi<T> even = even_lanes<T>(), odd = even + 1;
  for (std::size_t x0 = 0; x0 < pw; x0 += L) {
    const vf<T> a0 = loadv(r0 + 2 * x0), b0 = loadv(r0 + 2 * x0 + L);
    const vf<T> a1 = loadv(r1 + 2 * x0), b1 = loadv(r1 + 2 * x0 + L);
    const vf<T> v0 = __builtin_shuffle(a0, b0, even), v1 = __builtin_shuffle(a0, b0, odd);
    const vf<T> v2 = __builtin_shuffle(a1, b1, even), v3 = __builtin_shuffle(a1, b1, odd);
    const vi<T> c1 = v1 > v0, c3 = v3 > v2;  // -1 where true
    const vf<T> m01 = c1 ? v1 : v0, m23 = c3 ? v3 : v2;
    const vi<T> lower = m23 > m01;
    const vf<T> m = lower ? m23 : m01;
    const vf<T> r = relu_v(m);
    const std::size_t n = std::min(L, pw - x0);
    // A masked store only for a partial chunk: AMD's vmaskmov stores are
    // microcoded (~half of the double path's pooling time when always used).
    if (n == L) storev(out + x0, r);
    else store_first(out + x0, r, n);
    store_first_u8<T>(arg + x0, lower ? 2 - c3 : -c1, n);  // window position dy*2+dx
  }
}

// relu_pool2_row without the argmax (evaluation): each pair of rows' larger
// values first, then the larger of each column pair — half the shuffles.
// For inputs without NaN the same values as relu_pool2_row (a maximum is a
// maximum in any order; the ReLU turns -0 into 0).
template <class T>
inline void relu_pool2_row_max(const T* r0, const T* r1, std::size_t pw, T* out) {
  constexpr std::size_t L = kLanes<T>;
  const vi<T> even = even_lanes<T>(), odd = even + 1;
  for (std::size_t x0 = 0; x0 < pw; x0 += L) {
    const vf<T> a0 = loadv(r0 + 2 * x0), b0 = loadv(r0 + 2 * x0 + L);
    const vf<T> a1 = loadv(r1 + 2 * x0), b1 = loadv(r1 + 2 * x0 + L);
    const vf<T> a = a1 > a0 ? a1 : a0, b = b1 > b0 ? b1 : b0;
    const vf<T> v0 = __builtin_shuffle(a, b, even), v1 = __builtin_shuffle(a, b, odd);
    const vf<T> r = relu_v(v1 > v0 ? v1 : v0);
    const std::size_t n = std::min(L, pw - x0);
    if (n == L) storev(out + x0, r);
    else store_first(out + x0, r, n);
  }
}

// Conv + bias + ReLU + pool of one padded image; conv is scratch for one
// block of planes (kFwdFilters * fwd_span + 2 * kLanes values). Rows of
// whole register blocks (the notebook's 24 in double: 3 blocks of 8) are
// computed as they are, without the wide layout's thrown-away columns (4 of
// 28); each pixel's sum is the same either way.
template <class T>
void conv_relu_pool2_image(const T* in, const Wide<T>& g, const T* wp, const T* bp, std::size_t FN, T* conv,
                           T* pooled, std::uint8_t* arg) {
  constexpr std::size_t B = kFwdChunks * kLanes<T>;
  const std::size_t oh = g.oh(), ow = g.ow(), taps = g.taps(), ph = oh / 2, pw = ow / 2;
  const bool narrow = ow % B == 0;
  const std::size_t stride = narrow ? ow : g.Wp, span = narrow ? oh * ow : g.fwd_span();
  for (std::size_t f0 = 0; f0 < FN; f0 += kFwdFilters) {
    const T* w = wp + f0 * taps;
    if (narrow)
      for (std::size_t y = 0; y < oh; ++y)
        for (std::size_t x0 = 0; x0 < ow; x0 += B)
          conv_block<kFwdChunks, kFwdFilters>(in, g, w, bp + f0, y * g.Wp + x0, conv, y * ow + x0, span);
    else
      for (std::size_t p0 = 0; p0 < span; p0 += B)
        conv_block<kFwdChunks, kFwdFilters>(in, g, w, bp + f0, p0, conv, p0, span);
    // Pool the block while its planes are in L1.
    for (std::size_t i = 0; i < std::min(kFwdFilters, FN - f0); ++i)
      for (std::size_t y = 0; y < ph; ++y) {
        const T* r0 = conv + i * span + 2 * y * stride;
        const std::size_t k = ((f0 + i) * ph + y) * pw;
        if (arg) relu_pool2_row(r0, r0 + stride, pw, pooled + k, arg + k);
        else relu_pool2_row_max(r0, r0 + stride, pw, pooled + k);
      }
  }
}

// n values from src to dst, inline (rows of 8..30 values: a libc memcpy call
// per row cost more than the copy).
template <class T>
inline void copy_row(const T* src, std::size_t n, T* dst) {
  constexpr std::size_t L = kLanes<T>;
  std::size_t i = 0;
  for (; i + L <= n; i += L) storev(dst + i, loadv(src + i));
  if (i < n) store_first(dst + i, load_first(src + i, n - i), n - i);
}
// copy_row through a ReLU, the Relu layer's forward: dst = src <= 0 ? 0 : src.
template <class T>
inline void copy_row_relu(const T* src, std::size_t n, T* dst) {
  constexpr std::size_t L = kLanes<T>;
  std::size_t i = 0;
  for (; i + L <= n; i += L) storev(dst + i, relu_v(loadv(src + i)));
  if (i < n) store_first(dst + i, relu_v(load_first(src + i, n - i)), n - i);
}
// copy_row of a gradient through a ReLU, the Relu layer's backward with its
// output `out`: dst = out <= 0 ? 0 : src.
template <class T>
inline void copy_row_masked(const T* src, const T* out, std::size_t n, T* dst) {
  constexpr std::size_t L = kLanes<T>;
  std::size_t i = 0;
  for (; i + L <= n; i += L) storev(dst + i, relu_grad_v(loadv(src + i), loadv(out + i)));
  if (i < n) store_first(dst + i, relu_grad_v(load_first(src + i, n - i), load_first(out + i, n - i)), n - i);
}
// Either copy: masked by relu_out unless it is null.
template <class T>
inline void copy_row(const T* src, const T* relu_out, std::size_t n, T* dst) {
  if (relu_out) copy_row_masked(src, relu_out, n, dst);
  else copy_row(src, n, dst);
}
}  // namespace

template <class T>
void pad_images(const T* x, std::size_t N, std::size_t C, std::size_t H, std::size_t W, std::size_t pad,
                std::size_t FW, T* xpad, const T* relu_out) {
  const std::size_t Hp = H + 2 * pad, Wp = W + 2 * pad, per = conv_direct_padded_size<T>(C, Hp, Wp, FW);
#pragma omp parallel for schedule(static) if (N * per >= kParallelMin)
  for (std::size_t n = 0; n < N; ++n) {
    T* dst = xpad + n * per;
    // Only the border is zeroed: the pad rows, each row's pad columns (the
    // right ones of a row and the left ones of the next are adjacent), the slack.
    for (std::size_t c = 0; c < C; ++c) {
      T* plane = dst + c * Hp * Wp;
      std::fill(plane, plane + pad * Wp + pad, T(0));
      for (std::size_t r = 0; r < H; ++r) {
        T* row = plane + (r + pad) * Wp + pad;
        const std::size_t at = ((n * C + c) * H + r) * W;
        copy_row(x + at, relu_out ? relu_out + at : nullptr, W, row);
        std::fill(row + W, row + W + 2 * pad, T(0));
      }
      std::fill(plane + (H + pad) * Wp + pad, plane + Hp * Wp, T(0));
    }
    std::fill(dst + C * Hp * Wp, dst + per, T(0));
  }
}

template <class T>
void conv_relu_pool2_direct(const T* xpad, std::size_t N, std::size_t C, std::size_t Hp, std::size_t Wp, const T* W,
                            const T* b, std::size_t FN, std::size_t FH, std::size_t FW, T* pooled,
                            std::uint8_t* arg) {
  const Wide<T> g{C, Hp, Wp, FH, FW};
  const std::size_t per = conv_direct_padded_size<T>(C, Hp, Wp, FW), pooled_per = FN * (g.oh() / 2) * (g.ow() / 2);
  // Scratch kept per thread between calls: no allocation once warm (the
  // OpenMP team's threads persist).
  static thread_local std::vector<T> wp, bp;
  pack_forward(W, b, FN, g.taps(), wp, bp);
  const T* wpk = wp.data();
  const T* bpk = bp.data();
#pragma omp parallel if (N > 1)
  {
    static thread_local std::vector<T> conv;
    conv.resize(kFwdFilters * g.fwd_span() + 2 * kLanes<T>);  // one block of planes (+ the pooling's overread)
#pragma omp for schedule(static)
    for (std::size_t n = 0; n < N; ++n)
      conv_relu_pool2_image(xpad + n * per, g, wpk, bpk, FN, conv.data(), pooled + n * pooled_per,
                            arg ? arg + n * pooled_per : nullptr);
  }
}

namespace {
// One wide dconv plane (bwd_span values; the next 2*kLanes may be overwritten)
// from a filter's pooled gradient: each window's argmax gets the gradient
// where the ReLU passed it (pooled > 0), every other pixel zero — including
// the thrown-away columns. kLanes windows at a time: per window row, the two
// conv rows are interleaved from (arg == dx) and (arg == 2 + dx) masks.
// live false: an all-zero plane (a filter past FN in the last block).
template <class T>
inline void route_pooled_gradient(const Wide<T>& g, std::size_t base, bool live, const T* pooled,
                                  const std::uint8_t* arg, const T* dpooled, T* dc, vf<T>& db) {
  using I = typename Vec<T>::I;
  constexpr std::size_t L = kLanes<T>;
  const std::size_t ph = g.oh() / 2, pw = g.ow() / 2, Wp = g.Wp, span = g.bwd_span();
  // The row writes below cover whole rows when 2*kLanes-value chunks reach Wp;
  // then only the rows past the windows need zeroing.
  const bool rows_covered = live && 2 * round_up(pw, L) >= Wp;
  std::fill(dc + (rows_covered ? 2 * ph * Wp : 0), dc + span, T(0));
  if (!live) return;
  const vi<T> lo = interleave_low<T>(), hi = lo + I(L / 2);
  // Rows in order, each left to right: a chunk's spill past the row's end
  // is overwritten by the next row's first chunk.
  for (std::size_t y = 0; y < ph; ++y)
    for (std::size_t dy = 0; dy < 2; ++dy)
      for (std::size_t x0 = 0; x0 < pw; x0 += L) {
        const std::size_t n = std::min(L, pw - x0), k = base + y * pw + x0;
        const bool whole = n == L;
        const vf<T> pv = whole ? loadv(pooled + k) : load_first(pooled + k, n);
        const vf<T> gv = pv > T(0) ? (whole ? loadv(dpooled + k) : load_first(dpooled + k, n)) : vf<T>{};  // ReLU mask; lanes past n are 0
        const vi<T> a = load_first_u8<T>(arg + k, n);
        if (dy == 0) db += gv;
        const vf<T> e0 = a == I(2 * dy) ? gv : vf<T>{};      // window column 0
        const vf<T> e1 = a == I(2 * dy + 1) ? gv : vf<T>{};  // window column 1
        T* row = dc + (2 * y + dy) * Wp + 2 * x0;
        storev(row, __builtin_shuffle(e0, e1, lo));
        storev(row + L, __builtin_shuffle(e0, e1, hi));
      }
}

// accm[i][t] (kLanes each, row stride ld) += Σ_p d[i][p] · in[off[t] + p]
// over `chunks` chunks of kLanes pixels: F gradient planes against NT shifted
// input runs, all F*NT partial sums in registers.
template <std::size_t F, std::size_t NT, class T>
inline void correlate_block(const T* d, std::size_t dspan, const T* img, const std::size_t* off, std::size_t chunks,
                            T* accm, std::size_t ld) {
  constexpr std::size_t L = kLanes<T>;
  vf<T> acc[F][NT];
  for (std::size_t i = 0; i < F; ++i)
    for (std::size_t t = 0; t < NT; ++t) acc[i][t] = vf<T>{};
  const T* src[NT];
  for (std::size_t t = 0; t < NT; ++t) src[t] = img + off[t];
  for (std::size_t p = 0; p < chunks * L; p += L) {
    vf<T> dv[F];
    for (std::size_t i = 0; i < F; ++i) dv[i] = in_register(loadv(d + i * dspan + p));
    for (std::size_t t = 0; t < NT; ++t) {
      const vf<T> x = in_register(loadv(src[t] + p));
      for (std::size_t i = 0; i < F; ++i) acc[i][t] += dv[i] * x;  // FMA
    }
  }
  for (std::size_t i = 0; i < F; ++i)
    for (std::size_t t = 0; t < NT; ++t) {
      T* m = accm + i * ld + t * L;
      storev(m, loadv(m) + acc[i][t]);
    }
}
}  // namespace

template <class T>
void conv_relu_pool2_direct_backward(const T* xpad, std::size_t N, std::size_t C, std::size_t Hp, std::size_t Wp,
                                     std::size_t FN, std::size_t FH, std::size_t FW, const T* pooled,
                                     const std::uint8_t* arg, const T* dpooled, T* dW, T* db) {
  constexpr std::size_t L = kLanes<T>;
  const Wide<T> g{C, Hp, Wp, FH, FW};
  const std::size_t ph = g.oh() / 2, pw = g.ow() / 2, per = conv_direct_padded_size<T>(C, Hp, Wp, FW);
  const std::size_t dspan = g.bwd_span(), chunks = dspan / L, taps = g.taps();
  const std::size_t groups = (taps + kBwdTaps - 1) / kBwdTaps, ld = groups * kBwdTaps * L;
  const std::size_t blocks = (FN + kBwdFilters - 1) / kBwdFilters;
  static thread_local std::vector<std::size_t> off;
  tap_offsets(g, groups * kBwdTaps - taps, off);
  const std::size_t* offp = off.data();
  // Parallel over filter blocks, images in order inside: each dW[f] is
  // summed in the same order whatever the thread count.
#pragma omp parallel if (N * FN * g.pixels() >= kParallelMin)
  {
    static thread_local std::vector<T> dconv, accm;
    dconv.resize(kBwdFilters * dspan + 2 * L);  // + the last row's spill
    accm.resize(kBwdFilters * ld);
#pragma omp for schedule(static)
    for (std::size_t blk = 0; blk < blocks; ++blk) {
      const std::size_t f0 = blk * kBwdFilters, nf = std::min(kBwdFilters, FN - f0);
      std::fill(accm.begin(), accm.end(), T(0));
      vf<T> dbv[kBwdFilters] = {};
      for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t i = 0; i < kBwdFilters; ++i)
          route_pooled_gradient(g, i < nf ? (n * FN + f0 + i) * ph * pw : 0, i < nf, pooled, arg, dpooled,
                                dconv.data() + i * dspan, dbv[i]);
        // dW[f, t] += Σ_p dconv[f, p] · x[off[t] + p]
        const T* img = xpad + n * per;
        for (std::size_t grp = 0; grp < groups; ++grp)
          correlate_block<kBwdFilters, kBwdTaps>(dconv.data(), dspan, img, offp + grp * kBwdTaps, chunks,
                                                 accm.data() + grp * kBwdTaps * L, ld);
      }
      for (std::size_t i = 0; i < nf; ++i) {
        for (std::size_t t = 0; t < taps; ++t) dW[(f0 + i) * taps + t] = lane_sum<T>(loadv(accm.data() + i * ld + t * L));
        db[f0 + i] = lane_sum<T>(dbv[i]);
      }
    }
  }
}

}  // namespace convnet::kernels

// ---------------------------------------------------------------------------
// ConvAlgo::Direct: the same wide-row scheme for any stride-1 convolution
// (DeepConvNet's 3x3 layers), without pooling. Forward and dx are one kernel
// (dx is the correlation of the padded dout with the flipped, transposed
// filters); dW correlates the wide dout with the padded input. No im2col
// matrix: the padded input (a few % larger than x) is all that is kept.
namespace convnet::kernels {

namespace {
#ifdef __AVX512F__
// 3 chunks x 8 filters = 24 accumulators; dW: 4 filters x 6 taps.
constexpr std::size_t kDirChunks = 3, kDirFilters = 8, kDwFilters = 4, kDwTaps = 6;
#else
// 3 chunks x 4 filters = 12 accumulators + 3 inputs + 1 broadcast (16 ymm);
// dW: 3 filters x 4 taps = 12 accumulators + 3 gradients + 1 input: 7 loads
// per 12 FMAs, and the padded input (streamed from L3 once per filter block
// for DeepConvNet's later layers) read for 3 filters at a time, not 2;
// 16..64 filters end in a block with zero planes.
// Each dW[f, t] sums the same terms in the same order whatever these are.
constexpr std::size_t kDirChunks = 3, kDirFilters = 4, kDwFilters = 3, kDwTaps = 4;
#endif

// W (FN, taps) -> blocks of kDirFilters filters, tap-major; the last block
// holds the nf = FN mod kDirFilters remaining filters with stride nf, so no
// zero filter is ever computed.
template <class T>
void pack_direct(const T* W, std::size_t FN, std::size_t taps, std::vector<T>& wp) {
  wp.resize(FN * taps);
  for (std::size_t f0 = 0; f0 < FN; f0 += kDirFilters) {
    const std::size_t nf = std::min(kDirFilters, FN - f0);
    T* blk = wp.data() + f0 * taps;
    for (std::size_t i = 0; i < nf; ++i)
      for (std::size_t t = 0; t < taps; ++t) blk[t * nf + i] = W[(f0 + i) * taps + t];
  }
}

// conv_block with the taps as one flat loop over their offsets (a 3x3
// filter's rows are too short for a loop per row), F <= kDirFilters filters.
template <std::size_t R, std::size_t F, class T>
inline void conv_block_flat(const T* in, const std::size_t* off, std::size_t taps, const T* w, const T* bias,
                            std::size_t p0, T* out, std::size_t span) {
  constexpr std::size_t L = kLanes<T>;
  vf<T> acc[F][R];
  for (std::size_t i = 0; i < F; ++i)
    for (std::size_t r = 0; r < R; ++r) acc[i][r] = vf<T>{} + bias[i];
  in += p0;
  for (std::size_t t = 0; t < taps; ++t, w += F) {
    const T* row = in + off[t];
    vf<T> v[R];
    for (std::size_t r = 0; r < R; ++r) v[r] = loadv(row + r * L);
    for (std::size_t i = 0; i < F; ++i) {
      const T wi = w[i];
      for (std::size_t r = 0; r < R; ++r) acc[i][r] += wi * v[r];  // FMA
    }
  }
  for (std::size_t i = 0; i < F; ++i)
    for (std::size_t r = 0; r < R; ++r) storev(out + i * span + p0 + r * L, acc[i][r]);
}
// A one-chunk pixel block for two whole filter blocks at once (w0, w1 as
// pack_direct packs them): 2F accumulators instead of F, enough independent
// FMAs to hide their latency (a lone chunk of F = 4 runs at half speed) —
// the tail of an 8x8 layer's 80 wide pixels, of a 14x14 layer's 224.
template <std::size_t F, class T>
inline void conv_chunk_pair(const T* in, const std::size_t* off, std::size_t taps, const T* w0, const T* w1,
                            const T* bias, std::size_t p0, T* out, std::size_t span) {
  vf<T> acc[2 * F];
  for (std::size_t i = 0; i < 2 * F; ++i) acc[i] = vf<T>{} + bias[i];
  in += p0;
  for (std::size_t t = 0; t < taps; ++t, w0 += F, w1 += F) {
    const vf<T> v = loadv(in + off[t]);
    for (std::size_t i = 0; i < F; ++i) acc[i] += w0[i] * v;      // FMA
    for (std::size_t i = 0; i < F; ++i) acc[F + i] += w1[i] * v;  // FMA
  }
  // The two blocks' wide planes are adjacent in out (filter i at i * span).
  for (std::size_t i = 0; i < 2 * F; ++i) storev(out + i * span + p0, acc[i]);
}
// The filter count F chosen at run time (F <= kDirFilters).
template <std::size_t R, std::size_t F = kDirFilters, class T>
inline void conv_block_nf(std::size_t nf, const T* in, const std::size_t* off, std::size_t taps, const T* w,
                          const T* bias, std::size_t p0, T* out, std::size_t span) {
  if constexpr (F > 0) {
    if (nf == F) return conv_block_flat<R, F>(in, off, taps, w, bias, p0, out, span);
    conv_block_nf<R, F - 1>(nf, in, off, taps, w, bias, p0, out, span);
  }
}
// The last, partial pixel block: r < kDirChunks chunks.
template <std::size_t R = kDirChunks - 1, class T>
inline void conv_tail(std::size_t r, std::size_t nf, const T* in, const std::size_t* off, std::size_t taps, const T* w,
                      const T* bias, std::size_t p0, T* out, std::size_t span) {
  if constexpr (R > 0) {
    if (r == R) return conv_block_nf<R>(nf, in, off, taps, w, bias, p0, out, span);
    conv_tail<R - 1>(r, nf, in, off, taps, w, bias, p0, out, span);
  }
}

// One padded image -> its (FN, oh, ow) output; wide is scratch for two
// blocks of kDirFilters wide planes (two at a time: see conv_chunk_pair).
template <class T>
void conv_wide_image(const T* in, const Wide<T>& g, const std::size_t* off, const T* wp, const T* bias, std::size_t FN,
                     bool relu, T* wide, T* out) {
  constexpr std::size_t L = kLanes<T>, step = kDirChunks * L;
  const std::size_t taps = g.taps(), span = round_up(g.pixels(), L), oh = g.oh(), ow = g.ow();
  const std::size_t tail = span % step;  // pixels after the last whole block
  for (std::size_t f0 = 0; f0 < FN; f0 += 2 * kDirFilters) {
    const std::size_t nf = std::min(2 * kDirFilters, FN - f0);
    const bool pair = tail == L && nf == 2 * kDirFilters;
    for (std::size_t b0 = 0; b0 < nf; b0 += kDirFilters) {
      const std::size_t nb = std::min(kDirFilters, nf - b0);
      const T* w = wp + (f0 + b0) * taps;
      T* wb = wide + b0 * span;
      std::size_t p0 = 0;
      for (; p0 + step <= span; p0 += step) conv_block_nf<kDirChunks>(nb, in, off, taps, w, bias + f0 + b0, p0, wb, span);
      if (p0 < span && !pair) conv_tail((span - p0) / L, nb, in, off, taps, w, bias + f0 + b0, p0, wb, span);
    }
    if (pair)
      conv_chunk_pair<kDirFilters>(in, off, taps, wp + f0 * taps, wp + (f0 + kDirFilters) * taps, bias + f0,
                                   span - tail, wide, span);
    for (std::size_t i = 0; i < nf; ++i)
      for (std::size_t y = 0; y < oh; ++y) {
        const T* src = wide + i * span + y * g.Wp;
        T* dst = out + ((f0 + i) * oh + y) * ow;
        if (relu) copy_row_relu(src, ow, dst);
        else copy_row(src, ow, dst);
      }
  }
}
}  // namespace

template <class T>
void conv_wide_forward(const T* xpad, std::size_t N, std::size_t C, std::size_t Hp, std::size_t Wp, const T* W,
                       const T* b, std::size_t FN, std::size_t FH, std::size_t FW, T* out, bool relu) {
  const Wide<T> g{C, Hp, Wp, FH, FW};
  const std::size_t per = conv_direct_padded_size<T>(C, Hp, Wp, FW), out_per = FN * g.oh() * g.ow();
  static thread_local std::vector<T> wp, bias;
  static thread_local std::vector<std::size_t> off;
  tap_offsets(g, 0, off);
  const std::size_t* offp = off.data();
  pack_direct(W, FN, g.taps(), wp);
  bias.assign(FN, T(0));
  if (b) std::copy_n(b, FN, bias.begin());
  const T* wpk = wp.data();
  const T* bk = bias.data();
#pragma omp parallel if (N > 1 && N * out_per * g.taps() >= kParallelMin)
  {
    static thread_local std::vector<T> wide;
    wide.resize(2 * kDirFilters * round_up(g.pixels(), kLanes<T>));
#pragma omp for schedule(dynamic, 2)
    for (std::size_t n = 0; n < N; ++n)
      conv_wide_image(xpad + n * per, g, offp, wpk, bk, FN, relu, wide.data(), out + n * out_per);
  }
}

namespace {
// correlate_block over k images at once (small planes: a group's
// accumulators stay in registers across images before going to accm). d
// holds each image's F wide gradient planes (dspan each) one after another.
template <std::size_t F, std::size_t NT, class T>
inline void correlate_images(const T* d, std::size_t dspan, const T* const* imgs, std::size_t k, const std::size_t* off,
                             std::size_t chunks, T* accm, std::size_t ld) {
  constexpr std::size_t L = kLanes<T>;
  vf<T> acc[F][NT];
  for (std::size_t i = 0; i < F; ++i)
    for (std::size_t t = 0; t < NT; ++t) acc[i][t] = vf<T>{};
  for (std::size_t j = 0; j < k; ++j, d += F * dspan) {
    const T* src[NT];
    for (std::size_t t = 0; t < NT; ++t) src[t] = imgs[j] + off[t];
    for (std::size_t p = 0; p < chunks * L; p += L) {
      vf<T> dv[F];
      for (std::size_t i = 0; i < F; ++i) dv[i] = in_register(loadv(d + i * dspan + p));
      for (std::size_t t = 0; t < NT; ++t) {
        const vf<T> x = in_register(loadv(src[t] + p));
        for (std::size_t i = 0; i < F; ++i) acc[i][t] += dv[i] * x;  // FMA
      }
    }
  }
  for (std::size_t i = 0; i < F; ++i)
    for (std::size_t t = 0; t < NT; ++t) {
      T* m = accm + i * ld + t * L;
      storev(m, loadv(m) + acc[i][t]);
    }
}
constexpr std::size_t kDwImages = 8;  // at most this many images per pass
}  // namespace

template <class T>
void conv_wide_backward_weights(const T* xpad, std::size_t N, std::size_t C, std::size_t Hp, std::size_t Wp,
                                const T* dout, std::size_t FN, std::size_t FH, std::size_t FW, T* dW, T* db,
                                const T* relu_out) {
  constexpr std::size_t L = kLanes<T>;
  const Wide<T> g{C, Hp, Wp, FH, FW};
  const std::size_t oh = g.oh(), ow = g.ow(), per = conv_direct_padded_size<T>(C, Hp, Wp, FW);
  const std::size_t dspan = g.bwd_span(), chunks = dspan / L, taps = g.taps();
  const std::size_t groups = (taps + kDwTaps - 1) / kDwTaps, ld = groups * kDwTaps * L;
  const std::size_t blocks = (FN + kDwFilters - 1) / kDwFilters;
  // Images per pass: enough that a pass runs ~640 pixels (8x8 planes: 8).
  const std::size_t k = std::clamp<std::size_t>(640 / dspan, 1, kDwImages);
  static thread_local std::vector<std::size_t> off;
  tap_offsets(g, groups * kDwTaps - taps, off);
  const std::size_t* offp = off.data();
  // Parallel over filter blocks, images in order inside: each dW[f] is summed
  // in the same order whatever the thread count.
#pragma omp parallel if (N * FN * g.pixels() * taps >= kParallelMin)
  {
    static thread_local std::vector<T> dwide, accm;
    dwide.resize(k * kDwFilters * dspan);
    accm.resize(kDwFilters * ld);
#pragma omp for schedule(dynamic, 1)
    for (std::size_t blk = 0; blk < blocks; ++blk) {
      const std::size_t f0 = blk * kDwFilters, nf = std::min(kDwFilters, FN - f0);
      std::fill(accm.begin(), accm.end(), T(0));
      vf<T> dbv[kDwFilters] = {};
      // Planes past FN in the last block stay zero.
      std::fill(dwide.begin(), dwide.end(), T(0));
      for (std::size_t n0 = 0; n0 < N; n0 += k) {
        const std::size_t kk = std::min(k, N - n0);
        const T* imgs[kDwImages];
        for (std::size_t j = 0; j < kk; ++j) {
          imgs[j] = xpad + (n0 + j) * per;
          // dout's rows into wide rows; the Wp - ow thrown-away columns stay 0.
          for (std::size_t i = 0; i < nf; ++i) {
            T* dc = dwide.data() + (j * kDwFilters + i) * dspan;
            const std::size_t at = ((n0 + j) * FN + f0 + i) * oh * ow;
            const T* src = dout + at;
            const T* mask = relu_out ? relu_out + at : nullptr;
            for (std::size_t y = 0; y < oh; ++y) copy_row(src + y * ow, mask ? mask + y * ow : nullptr, ow, dc + y * Wp);
            for (std::size_t p = 0; p < dspan; p += L) dbv[i] += loadv(dc + p);
          }
        }
        // dW[f, t] += Σ_j Σ_p dwide[j, f, p] · x_j[off[t] + p]
        for (std::size_t grp = 0; grp < groups; ++grp)
          correlate_images<kDwFilters, kDwTaps>(dwide.data(), dspan, imgs, kk, offp + grp * kDwTaps, chunks,
                                                accm.data() + grp * kDwTaps * L, ld);
      }
      for (std::size_t i = 0; i < nf; ++i) {
        for (std::size_t t = 0; t < taps; ++t) dW[(f0 + i) * taps + t] = lane_sum<T>(loadv(accm.data() + i * ld + t * L));
        db[f0 + i] = lane_sum<T>(dbv[i]);
      }
    }
  }
}

template <class T>
void flip_filters(const T* W, std::size_t FN, std::size_t C, std::size_t FH, std::size_t FW, T* Wt) {
  for (std::size_t f = 0; f < FN; ++f)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t ky = 0; ky < FH; ++ky)
        for (std::size_t kx = 0; kx < FW; ++kx)
          Wt[((c * FN + f) * FH + (FH - 1 - ky)) * FW + (FW - 1 - kx)] = W[((f * C + c) * FH + ky) * FW + kx];
}

#define CONVNET_INSTANTIATE(T)                                                                                       \
  template std::size_t conv_direct_padded_size<T>(std::size_t, std::size_t, std::size_t, std::size_t);         \
  template void pad_images(const T*, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t,          \
                           std::size_t, T*, const T*);                                                          \
  template void conv_relu_pool2_direct(const T*, std::size_t, std::size_t, std::size_t, std::size_t, const T*,  \
                                       const T*, std::size_t, std::size_t, std::size_t, T*, std::uint8_t*);     \
  template void conv_relu_pool2_direct_backward(const T*, std::size_t, std::size_t, std::size_t, std::size_t,   \
                                                std::size_t, std::size_t, std::size_t, const T*,                \
                                                const std::uint8_t*, const T*, T*, T*);                         \
  template void conv_wide_forward(const T*, std::size_t, std::size_t, std::size_t, std::size_t, const T*,       \
                                  const T*, std::size_t, std::size_t, std::size_t, T*, bool);                   \
  template void conv_wide_backward_weights(const T*, std::size_t, std::size_t, std::size_t, std::size_t,        \
                                           const T*, std::size_t, std::size_t, std::size_t, T*, T*, const T*);  \
  template void flip_filters(const T*, std::size_t, std::size_t, std::size_t, std::size_t, T*);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(double)
#undef CONVNET_INSTANTIATE

}  // namespace convnet::kernels
