// The one gemm(): every matrix product in convnet goes through here, so the
// BLAS behind it can be swapped after measuring (DESIGN.md §4).
//
// Threading: the BLAS runs single-threaded and we split C into contiguous
// row (or column) blocks run on OpenMP threads. One thread pool (OpenMP's)
// then serves both our loops and the products, so the two never fight over
// the cores.
//
// Same result for any thread count: the blocks depend on the shape and the
// machine's processor count only, never on how many threads run them. (An
// element's value can depend on the block it is computed in: OpenBLAS's
// Haswell/Zen kernels round differently at a block's edge.)
#include <omp.h>

#include <algorithm>

#include "blas.hpp"
#include "kernels.hpp"

namespace convnet::kernels {

namespace {
inline void blas(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
                 int ldb, float beta, float* C, int ldc) {
  static const auto sgemm = blas_library().sgemm;
  sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B,
        ldb, beta, C, ldc);
}
inline void blas(bool ta, bool tb, int M, int N, int K, double alpha, const double* A, int lda, const double* B,
                 int ldb, double beta, double* C, int ldc) {
  static const auto dgemm = blas_library().dgemm;
  dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B,
        ldb, beta, C, ldc);
}
}  // namespace

template <class T>
void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
          const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
  if (M == 0 || N == 0) return;
  // Split the longer side of C into up to one block per processor: multiples
  // of 16 (the kernels' register tile) where the side is long, else of 4, so
  // a batch of 100 rows is split 52/48, not 64/36. Small products: one block.
  const bool split_rows = M >= N;
  const std::size_t len = split_rows ? M : N;
  const std::size_t procs = std::size_t(std::max(1, omp_get_num_procs()));
  const std::size_t want = M * N * K < (1u << 18) ? 1 : procs;
  const std::size_t grain = len >= 64 * want ? 16 : 4;
  const std::size_t chunk = ((len + want - 1) / want + grain - 1) / grain * grain;
  const std::size_t parts = (len + chunk - 1) / chunk;
  auto block = [&](std::size_t p) {
    const std::size_t b = p * chunk, e = std::min(len, b + chunk);
    if (split_rows) {
      const T* Ab = ta ? A + b : A + b * lda;  // rows b.. of op(A)
      blas(ta, tb, int(e - b), int(N), int(K), alpha, Ab, int(lda), B, int(ldb), beta, C + b * ldc, int(ldc));
    } else {
      const T* Bb = tb ? B + b * ldb : B + b;  // columns b.. of op(B)
      blas(ta, tb, int(M), int(e - b), int(K), alpha, A, int(lda), Bb, int(ldb), beta, C + b, int(ldc));
    }
  };
  const int threads = omp_in_parallel() ? 1 : std::min(omp_get_max_threads(), int(parts));
  if (threads <= 1) {
    for (std::size_t p = 0; p < parts; ++p) block(p);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::size_t p = 0; p < parts; ++p) block(p);
}

template void gemm<float>(bool, bool, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t,
                          const float*, std::size_t, float, float*, std::size_t);
template void gemm<double>(bool, bool, std::size_t, std::size_t, std::size_t, double, const double*, std::size_t,
                           const double*, std::size_t, double, double*, std::size_t);

}  // namespace convnet::kernels
