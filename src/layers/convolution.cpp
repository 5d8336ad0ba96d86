#include "convnet/layers/convolution.hpp"

#include "../kernels/kernels.hpp"
#include "convnet/im2col.hpp"

namespace convnet {

template <class T>
Convolution<T>::Convolution(Tensor<T> W_, Tensor<T> b_, std::size_t stride_, std::size_t pad_)
    : W(std::move(W_)), b(std::move(b_)), stride(stride_), pad(pad_) {
  if (W.ndim() != 4 || b.ndim() != 1 || b.shape(0) != W.shape(0))
    throw Error("Convolution: expected W (FN, C, FH, FW) and b (FN,), got W " + shape_str(W.shape()) +
                " and b " + shape_str(b.shape()));
  if (stride == 0) throw Error("Convolution: stride must be >= 1, got 0");
  dW.resize(W.shape());
  db.resize(b.shape());
}

template <class T>
const Tensor<T>& Convolution<T>::forward(const Tensor<T>& x, Mode) {
  const std::size_t FN = W.shape(0), C = W.shape(1), FH = W.shape(2), FW = W.shape(3);
  if (x.ndim() != 4 || x.shape(1) != C)
    throw Error("Convolution: input " + shape_str(x.shape()) + " does not match W " +
                shape_str(W.shape()) + " (expected (N, " + std::to_string(C) + ", H, W))");
  const std::size_t N = x.shape(0), H = x.shape(2), Wd = x.shape(3);
  const std::size_t oh = conv_output_size(H, FH, stride, pad, "Convolution");
  const std::size_t ow = conv_output_size(Wd, FW, stride, pad, "Convolution");
  const kernels::ConvGeom g{N, C, H, Wd, FH, FW, stride, pad};
  const std::size_t M = g.rows(), K = g.cols(), P = oh * ow;

  x_shape_ = x.shape();
  col_.resize({M, K}, false);
  out_.resize({N, FN, oh, ow}, false);
  if (algo_ == ConvAlgo::PerImage) {
    kernels::ConvGeom g1 = g;
    g1.N = 1;
    const T* xp = x.data();
#pragma omp parallel for schedule(static) if (N > 1 && M * K >= kernels::kParallelMin)
    for (std::size_t n = 0; n < N; ++n)
      kernels::conv_forward_image(g1, xp + n * C * H * Wd, W.data(), b.data(), FN, col_.data() + n * P * K,
                                  out_.data() + n * FN * P);
    return out_;
  }
  kernels::im2col(g, x.data(), col_.data());
  // np.dot(col, col_W) with col_W = W.reshape(FN, -1).T
  tmp_.resize({M, FN}, false);
  kernels::gemm<T>(false, true, M, FN, K, T(1), col_.data(), K, W.data(), K, T(0), tmp_.data(), FN);
  // + b, then reshape(N, oh, ow, FN).transpose(0, 3, 1, 2)
  const T* t = tmp_.data();
  const T* bp = b.data();
  T* o = out_.data();
#pragma omp parallel for schedule(static) if (N * FN * P >= kernels::kParallelMin)
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t f = 0; f < FN; ++f)
      for (std::size_t p = 0; p < P; ++p) o[(n * FN + f) * P + p] = t[(n * P + p) * FN + f] + bp[f];
  return out_;
}

template <class T>
const Tensor<T>& Convolution<T>::backward(const Tensor<T>& dout) {
  const std::size_t FN = W.shape(0), C = W.shape(1), FH = W.shape(2), FW = W.shape(3);
  if (x_shape_.empty()) throw Error("Convolution.backward: called before forward");
  const kernels::ConvGeom g{x_shape_[0], C, x_shape_[2], x_shape_[3], FH, FW, stride, pad};
  const std::size_t N = g.N, P = g.out_h() * g.out_w(), M = g.rows(), K = g.cols();
  if (dout.ndim() != 4 || dout.shape(0) != N || dout.shape(1) != FN || dout.size() != N * FN * P)
    throw Error("Convolution.backward: expected dout " + shape_str({N, FN, g.out_h(), g.out_w()}) +
                ", got " + shape_str(dout.shape()));
  const T* d = dout.data();
  if (algo_ == ConvAlgo::PerImage) return backward_per_image_(dout);
  // dout.transpose(0, 2, 3, 1).reshape(-1, FN)
  tmp_.resize({M, FN}, false);
  T* t = tmp_.data();
#pragma omp parallel for schedule(static) if (N * FN * P >= kernels::kParallelMin)
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t f = 0; f < FN; ++f)
      for (std::size_t p = 0; p < P; ++p) t[(n * P + p) * FN + f] = d[(n * FN + f) * P + p];
  // db = np.sum(dout, axis=0): rows in (n, y, x) order
  T* dbp = db.data();
  for (std::size_t f = 0; f < FN; ++f) dbp[f] = T(0);
  for (std::size_t r = 0; r < M; ++r)
    for (std::size_t f = 0; f < FN; ++f) dbp[f] += t[r * FN + f];
  // dW = (col.T · dout).T reshaped to (FN, C, FH, FW) = doutᵀ · col
  kernels::gemm<T>(true, false, FN, K, M, T(1), t, FN, col_.data(), K, T(0), dW.data(), K);
  if (!compute_dx_) {
    dx_.resize({0}, false);
    return dx_;
  }
  // dcol = dout · col_W.T = dout · W.reshape(FN, -1)
  dcol_.resize({M, K}, false);
  kernels::gemm<T>(false, false, M, K, FN, T(1), t, FN, W.data(), K, T(0), dcol_.data(), K);
  dx_.resize(x_shape_, false);
  kernels::col2im(g, dcol_.data(), dx_.data());
  return dx_;
}

template <class T>
const Tensor<T>& Convolution<T>::backward_per_image_(const Tensor<T>& dout) {
  const std::size_t FN = W.shape(0), C = W.shape(1), FH = W.shape(2), FW = W.shape(3);
  const kernels::ConvGeom g{x_shape_[0], C, x_shape_[2], x_shape_[3], FH, FW, stride, pad};
  const std::size_t N = g.N, P = g.out_h() * g.out_w(), M = g.rows(), K = g.cols();
  const T* d = dout.data();
  // doutᵀ as (FN, N*P): plane f of every image side by side, so that
  // dW = doutᵀ · col is one GEMM over all N*P rows of col.
  tmp_.resize({FN, M}, false);
  T* t = tmp_.data();
#pragma omp parallel for schedule(static) if (M * FN >= kernels::kParallelMin)
  for (std::size_t f = 0; f < FN; ++f)
    for (std::size_t n = 0; n < N; ++n) std::copy_n(d + (n * FN + f) * P, P, t + f * M + n * P);
  // db[f] = Σ over (n, y, x), in the notebook's row order
  T* dbp = db.data();
  for (std::size_t f = 0; f < FN; ++f) {
    T s = T(0);
    for (std::size_t r = 0; r < M; ++r) s += t[f * M + r];
    dbp[f] = s;
  }
  kernels::gemm<T>(false, false, FN, K, M, T(1), t, M, col_.data(), K, T(0), dW.data(), K);
  if (!compute_dx_) {
    dx_.resize({0}, false);
    return dx_;
  }
  // Per image: dcol_n = dout_nᵀ (P, FN) · W (FN, K), then col2im.
  dcol_.resize({M, K}, false);
  dx_.resize(x_shape_, false);
  kernels::ConvGeom g1 = g;
  g1.N = 1;
  const std::size_t img = C * g.H * g.W;
#pragma omp parallel for schedule(static) if (N > 1 && M * K >= kernels::kParallelMin)
  for (std::size_t n = 0; n < N; ++n) {
    kernels::gemm<T>(true, false, P, K, FN, T(1), d + n * FN * P, P, W.data(), K, T(0), dcol_.data() + n * P * K, K);
    kernels::col2im(g1, dcol_.data() + n * P * K, dx_.data() + n * img);
  }
  return dx_;
}

template class Convolution<float>;
template class Convolution<double>;

}  // namespace convnet
