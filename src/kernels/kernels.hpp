#pragma once
// The hot loops, as small free functions over raw pointers (DESIGN.md §4).
// Layers call these; a second backend (CUDA) would replace this file's
// implementations, not the layers. Internal: not installed.
#include <cstddef>
#include <cstdint>

namespace convnet::kernels {

// C(M,N) = alpha * op(A) * op(B) + beta * C, row-major, op = transpose if trans*.
// The one place every matrix product goes through (backed by BLAS).
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha,
          const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc);

// Geometry of one im2col: input (N,C,H,W), windows fh x fw, stride, pad.
struct ConvGeom {
  std::size_t N, C, H, W, fh, fw, stride, pad;
  std::size_t out_h() const { return (H + 2 * pad - fh) / stride + 1; }
  std::size_t out_w() const { return (W + 2 * pad - fw) / stride + 1; }
  std::size_t rows() const { return N * out_h() * out_w(); }
  std::size_t cols() const { return C * fh * fw; }
};

// col (N*oh*ow, C*fh*fw): rows (n, oy, ox), cols (c, ky, kx) — notebook In [2].
template <class T>
void im2col(const ConvGeom& g, const T* x, T* col);
// img (N,C,H,W) = sum of col's windows put back (overlaps add) — notebook In [6].
template <class T>
void col2im(const ConvGeom& g, const T* col, T* img);

// Max pooling over (N,C,H,W) with windows ph x pw (g.fh, g.fw); out (N,C,oh,ow);
// arg[i] = flat index into x of the max (first on ties, as np.argmax), or -1
// when the max is a zero of the padding.
template <class T>
void maxpool_forward(const ConvGeom& g, const T* x, T* out, std::int32_t* arg);
// dx = 0, then dx[arg[i]] += dout[i].
template <class T>
void maxpool_backward(std::size_t x_size, std::size_t out_size, const T* dout,
                      const std::int32_t* arg, T* dx);

}  // namespace convnet::kernels

namespace convnet::kernels {
// np.sum of a contiguous 1-D run, in NumPy's pairwise order.
template <class T>
T pairwise_sum(const T* a, std::size_t n);
}  // namespace convnet::kernels

namespace convnet::kernels {
// Below this many elements a loop runs on one thread: waking a thread team
// costs more than it saves (and tiny regions make OpenMP and BLAS threads fight).
inline constexpr std::size_t kParallelMin = 1 << 15;
}  // namespace convnet::kernels

namespace convnet::kernels {

// Convolution of one image by im2col + one GEMM, output straight into the
// (FN, oh*ow) plane of NCHW — no transpose: out = W (FN,K) · colᵀ (K,P) + b.
// col_n receives the image's im2col rows (P, K), the notebook's layout.
template <class T>
void conv_forward_image(const ConvGeom& g1, const T* x_n, const T* W, const T* b, std::size_t FN, T* col_n,
                        T* out_n);

// Fused forward for evaluation: conv + bias + ReLU + 2x2/2 max pooling of a
// batch, without keeping anything for backward. out is (N, FN, oh/2, ow/2).
template <class T>
void conv_relu_pool2_forward(const ConvGeom& g, const T* x, const T* W, const T* b, std::size_t FN, T* out);

// 2x2 max pooling with stride 2 and no padding — the notebook's Pool1 — as a
// fast path of maxpool_forward (same results, same argmax rule).
template <class T>
void maxpool2_forward(std::size_t N, std::size_t C, std::size_t H, std::size_t W, const T* x, T* out,
                      std::int32_t* arg);

}  // namespace convnet::kernels

namespace convnet::kernels {
// The fused Conv1 -> Relu1 -> Pool1 of SimpleConvNet for float, stride 1,
// 2x2/2 pooling (direct convolution, src/kernels/conv_direct.cpp): images
// first copied into zero-padded planes (C, Hp, Wp) with zero slack after
// them (pad_images; conv_direct_padded_size floats per image, FW the filter width).
std::size_t conv_direct_padded_size(std::size_t C, std::size_t Hp, std::size_t Wp, std::size_t FW);
void pad_images(const float* x, std::size_t N, std::size_t C, std::size_t H, std::size_t W, std::size_t pad,
                std::size_t FW, float* xpad);
// pooled (N, FN, oh/2, ow/2); arg (same shape, may be null): 0..3, the
// window position (dy*2+dx) of the first maximum.
void conv_relu_pool2_direct(const float* xpad, std::size_t N, std::size_t C, std::size_t Hp, std::size_t Wp,
                            const float* W, const float* b, std::size_t FN, std::size_t FH, std::size_t FW,
                            float* pooled, std::uint8_t* arg);
// dW (FN, C, FH, FW) and db (FN) from the pooled gradient.
void conv_relu_pool2_direct_backward(const float* xpad, std::size_t N, std::size_t C, std::size_t Hp,
                                     std::size_t Wp, std::size_t FN, std::size_t FH, std::size_t FW,
                                     const float* pooled, const std::uint8_t* arg, const float* dpooled,
                                     float* dW, float* db);
}  // namespace convnet::kernels
