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

// The transposed layout of one image (g1.N == 1): colT rows (c, ky, kx),
// columns (oy, ox), row r at colT + r*ld (ld >= oh*ow, so images of a batch
// can sit side by side in a (K, N*P) matrix). Stride 1 copies whole shifted
// rows; no per-element bounds checks.
template <class T>
void im2col_t(const ConvGeom& g1, const T* x, T* colT, std::size_t ld);
// img (C,H,W) = the adjoint of im2col_t: zeroed, then every row added back.
template <class T>
void col2im_t(const ConvGeom& g1, const T* colT, std::size_t ld, T* img);

// Max pooling over (N,C,H,W) with windows ph x pw (g.fh, g.fw); out (N,C,oh,ow);
// arg[i] = flat index into x of the max (first on ties, as np.argmax), or -1
// when the max is a zero of the padding.
template <class T>
void maxpool_forward(const ConvGeom& g, const T* x, T* out, std::int32_t* arg);
// dx = 0, then dx[arg[i]] += dout[i]; planes = N*C (x and out are that many
// planes, each window's argmax in its own plane).
template <class T>
void maxpool_backward(std::size_t planes, std::size_t x_size, std::size_t out_size, const T* dout,
                      const std::int32_t* arg, T* dx);

}  // namespace convnet::kernels

namespace convnet::kernels {
// np.sum of a contiguous 1-D run, in NumPy's pairwise order.
template <class T>
T pairwise_sum(const T* a, std::size_t n);

// Elementwise and bias kernels (elementwise.cpp).
// x, out (n): out = x, 0 where x <= 0 — Relu.forward (the book's common/layers.py).
template <class T>
void relu_forward(std::size_t n, const T* x, T* out);
// out, dout, dx (n): dx = dout where out > 0, else 0 — Relu.backward.
template <class T>
void relu_backward(std::size_t n, const T* out, const T* dout, T* dx);
// y (N, M) row-major, b (M): y[i, :] += b — Affine.forward's "+ b".
template <class T>
void add_bias_rows(std::size_t N, std::size_t M, const T* b, T* y);
// x (N, M) row-major, s (M): s = np.sum(x, axis=0), adding row after row —
// Affine's and Convolution's db.
template <class T>
void sum_rows(std::size_t N, std::size_t M, const T* x, T* s);
// x (R, L) row-major, s (R): s[r] = sum of row r, left to right —
// Convolution's db on the per-image path (dout stored as (FN, N*P)).
template <class T>
void sum_each_row(std::size_t R, std::size_t L, const T* x, T* s);

// Layout changes between NCHW and the GEMM's row layout (layout.cpp).
// rows (N*P, F), b (F), out (N, F, P): out[n, f, p] = rows[n*P + p, f] + b[f] —
// the notebook's (np.dot(col, col_W) + b).reshape(N, oh, ow, -1).transpose(0, 3, 1, 2).
template <class T>
void rows_to_nchw_add_bias(std::size_t N, std::size_t F, std::size_t P, const T* rows, const T* b, T* out);
// x (N, F, P), rows (N*P, F): x.transpose(0, 2, 3, 1).reshape(-1, F).
template <class T>
void nchw_to_rows(std::size_t N, std::size_t F, std::size_t P, const T* x, T* rows);
// x (N, F, P), y (F, N*P): plane f of every image side by side.
template <class T>
void nchw_to_channel_major(std::size_t N, std::size_t F, std::size_t P, const T* x, T* y);

// Softmax and cross-entropy (softmax.cpp): the book's common/functions.py and
// SoftmaxWithLoss (common/layers.py).
// x, y (N, M) row-major: y = softmax of each row (the row's max subtracted first).
template <class T>
void softmax_rows(std::size_t N, std::size_t M, const T* x, T* y);
// y (N, M) probabilities, t (N) labels in [0, M), scratch (N):
// -np.sum(np.log(y[np.arange(N), t] + 1e-7)) / N.
template <class T>
T cross_entropy(std::size_t N, std::size_t M, const T* y, const std::int32_t* t, T* scratch);
// y, dx (N, M), t (N) labels: dx = (y - onehot(t)) / N * dout.
template <class T>
void softmax_cross_entropy_backward(std::size_t N, std::size_t M, const T* y, const std::int32_t* t, T dout,
                                    T* dx);
// y, t, dx (N, M), t one-hot: dx = (y - t) / N * dout.
template <class T>
void softmax_cross_entropy_backward_one_hot(std::size_t N, std::size_t M, const T* y, const T* t, T dout, T* dx);

// Reductions over rows (reduce.cpp).
// x (N, M) row-major, out (N): out[i] = np.argmax(x[i]) (the first maximum).
template <class T>
void argmax_rows(std::size_t N, std::size_t M, const T* x, std::int32_t* out);
// y (N, M) scores, t (N) labels: how many rows have np.argmax(y[i]) == t[i].
template <class T>
std::size_t count_correct(std::size_t N, std::size_t M, const T* y, const std::int32_t* t);

// The book's optimizer updates (common/optimizer.py) over one parameter of
// n elements (optimizer.cpp, built with -fno-math-errno): p the parameter,
// g its gradient, v/h/m the optimizer's state, all (n).
// p -= lr * g
template <class T>
void sgd_update(std::size_t n, T lr, const T* g, T* p);
// v = momentum*v - lr*g; p += v
template <class T>
void momentum_update(std::size_t n, T lr, T momentum, const T* g, T* v, T* p);
// v = momentum*v - lr*g; p += momentum^2 * v; p -= (1 + momentum) * lr * g
template <class T>
void nesterov_update(std::size_t n, T lr, T momentum, const T* g, T* v, T* p);
// h += g^2; p -= lr * g / (sqrt(h) + 1e-7)
template <class T>
void adagrad_update(std::size_t n, T lr, const T* g, T* h, T* p);
// h = decay*h + (1-decay)*g^2; p -= lr * g / (sqrt(h) + 1e-7)
template <class T>
void rmsprop_update(std::size_t n, T lr, T decay_rate, const T* g, T* h, T* p);
// m += (1-beta1)*(g - m); v += (1-beta2)*(g^2 - v); p -= lr_t * m / (sqrt(v) + 1e-7)
template <class T>
void adam_update(std::size_t n, T lr_t, T one_m_beta1, T one_m_beta2, const T* g, T* m, T* v, T* p);
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
// The same for a batch x (N,C,H,W), images in parallel: col (N*P, K), out (N, FN, P).
template <class T>
void conv_forward_per_image(const ConvGeom& g, const T* x, const T* W, const T* b, std::size_t FN, T* col, T* out);
// dx (N,C,H,W) from dout (N, FN, P) and W (FN, K), images in parallel:
// dcol_n = dout_nᵀ (P, FN) · W, then col2im; dcol (N*P, K) is scratch.
template <class T>
void conv_backward_data_per_image(const ConvGeom& g, const T* dout, const T* W, std::size_t FN, T* dcol, T* dx);
// ConvAlgo::TransposedCol. Forward, images in parallel: colT (K, N*P) with
// image n in columns n*P..; out_n (FN, P) = W (FN, K) · colT_n + b.
template <class T>
void conv_forward_colt(const ConvGeom& g, const T* x, const T* W, const T* b, std::size_t FN, T* colT, T* out);
// dx (N,C,H,W) from dout (N, FN, P), images in parallel: dcolT_n (K, P) =
// Wᵀ · dout_n, then col2im_t. dcol is scratch of `slots` (K, P) blocks, one
// per thread; at most `slots` threads run.
template <class T>
void conv_backward_data_colt(const ConvGeom& g, const T* dout, const T* W, std::size_t FN, T* dcol,
                             std::size_t slots, T* dx);

// 2x2 max pooling with stride 2 and no padding — the notebook's Pool1 — as a
// fast path of maxpool_forward (same results, same argmax rule).
template <class T>
void maxpool2_forward(std::size_t N, std::size_t C, std::size_t H, std::size_t W, const T* x, T* out,
                      std::int32_t* arg);

}  // namespace convnet::kernels

namespace convnet::kernels {
// The fused Conv1 -> Relu1 -> Pool1 of SimpleConvNet, stride 1, 2x2/2
// pooling (direct convolution, src/kernels/conv_direct.cpp), for float and
// for the fast (not NumPy-exact) float64 path: images first copied into
// zero-padded planes (C, Hp, Wp) with zero slack after them (pad_images;
// conv_direct_padded_size<T> values per image, FW the filter width).
template <class T>
std::size_t conv_direct_padded_size(std::size_t C, std::size_t Hp, std::size_t Wp, std::size_t FW);
template <class T>
// relu_out (x's shape, may be null): x is a gradient to pass through a ReLU
// whose output that was — zero where relu_out <= 0 (the Relu layer's backward).
void pad_images(const T* x, std::size_t N, std::size_t C, std::size_t H, std::size_t W, std::size_t pad,
                std::size_t FW, T* xpad, const T* relu_out = nullptr);
// pooled (N, FN, oh/2, ow/2); arg (same shape, may be null): 0..3, the
// window position (dy*2+dx) of the first maximum.
template <class T>
void conv_relu_pool2_direct(const T* xpad, std::size_t N, std::size_t C, std::size_t Hp, std::size_t Wp, const T* W,
                            const T* b, std::size_t FN, std::size_t FH, std::size_t FW, T* pooled,
                            std::uint8_t* arg);
// dW (FN, C, FH, FW) and db (FN) from the pooled gradient.
template <class T>
void conv_relu_pool2_direct_backward(const T* xpad, std::size_t N, std::size_t C, std::size_t Hp, std::size_t Wp,
                                     std::size_t FN, std::size_t FH, std::size_t FW, const T* pooled,
                                     const std::uint8_t* arg, const T* dpooled, T* dW, T* db);
// ConvAlgo::Direct (conv_direct.cpp): any stride-1 convolution of padded
// images (pad_images) without an im2col matrix. out (N, FN, oh, ow); b may be
// null (no bias). W (FN, C*FH*FW). relu: out goes through a ReLU (the
// Relu layer's forward fused into the output's copy).
template <class T>
void conv_wide_forward(const T* xpad, std::size_t N, std::size_t C, std::size_t Hp, std::size_t Wp, const T* W,
                       const T* b, std::size_t FN, std::size_t FH, std::size_t FW, T* out, bool relu = false);
// dW (FN, C*FH*FW) and db (FN) from dout (N, FN, oh, ow); relu_out (dout's
// shape, may be null): dout first passes back through the ReLU that gave
// this output (zero where relu_out <= 0).
template <class T>
void conv_wide_backward_weights(const T* xpad, std::size_t N, std::size_t C, std::size_t Hp, std::size_t Wp,
                                const T* dout, std::size_t FN, std::size_t FH, std::size_t FW, T* dW, T* db,
                                const T* relu_out = nullptr);
// Wt (C, FN, FH, FW) = W (FN, C, FH, FW) transposed and rotated 180°: dx is
// conv_wide_forward of dout padded by FH-1-pad with these filters.
template <class T>
void flip_filters(const T* W, std::size_t FN, std::size_t C, std::size_t FH, std::size_t FW, T* Wt);
}  // namespace convnet::kernels

namespace convnet::kernels {
// The book's Sigmoid and Dropout (common/layers.py), elementwise over n values
// (activation.cpp). The dropout mask is drawn by the layer (RandomState, one
// thread, NumPy's order); these only apply it.
// x, out (n): out = 1 / (1 + exp(-x)) — Sigmoid.forward.
template <class T>
void sigmoid_forward(std::size_t n, const T* x, T* out);
// out, dout, dx (n): dx = dout * (1.0 - out) * out — Sigmoid.backward.
template <class T>
void sigmoid_backward(std::size_t n, const T* out, const T* dout, T* dx);
// x, out (n), mask (n) of 0/1: out = x * mask — Dropout.forward (train) and,
// with dout for x, Dropout.backward.
template <class T>
void dropout_apply(std::size_t n, const T* x, const std::uint8_t* mask, T* out);
// x, out (n): out = x * scale, scale = 1.0 - dropout_ratio — Dropout.forward (eval).
template <class T>
void scale_copy(std::size_t n, T scale, const T* x, T* out);

// The book's BatchNormalization (common/layers.py), normalization.cpp. The
// input is seen as (N, C, P): statistics for each c over the N*P values
// x[n, c, p]. The book's form (every value of a row is a feature) is
// (N, D, 1); PyTorch's BatchNorm2d (per channel) is (N, C, H*W). Sums run
// over n, then p, for each c, whatever the thread count.
// x, xc, xn, out (N, C, P); gamma, beta, running_mean, running_var, std_dev (C):
// mu = mean(x), xc = x - mu, var = mean(xc**2), std = sqrt(var + eps),
// xn = xc / std, out = gamma * xn + beta; running_* = momentum * running_* +
// one_m_momentum * (mu, var).
template <class T>
void batchnorm_forward_train(std::size_t N, std::size_t C, std::size_t P, const T* x, const T* gamma,
                             const T* beta, T eps, T momentum, T one_m_momentum, T* running_mean,
                             T* running_var, T* xc, T* xn, T* std_dev, T* out);
// out = gamma * ((x - running_mean) / sqrt(running_var + eps)) + beta.
template <class T>
void batchnorm_forward_eval(std::size_t N, std::size_t C, std::size_t P, const T* x, const T* gamma,
                            const T* beta, T eps, const T* running_mean, const T* running_var, T* out);
// The book's __backward with batch_size = N*P: dbeta = sum(dout),
// dgamma = sum(xn * dout), dxn = gamma * dout, dxc = dxn / std,
// dstd = -sum((dxn * xc) / (std * std)), dvar = 0.5 * dstd / std,
// dxc += (2.0 / batch_size) * xc * dvar, dmu = sum(dxc), dx = dxc - dmu / batch_size.
// dout, xc, xn, dx (N, C, P); gamma, std_dev (the book's std), dgamma, dbeta (C).
template <class T>
void batchnorm_backward(std::size_t N, std::size_t C, std::size_t P, const T* dout, const T* gamma,
                        const T* xc, const T* xn, const T* std_dev, T* dgamma, T* dbeta, T* dx);
}  // namespace convnet::kernels
