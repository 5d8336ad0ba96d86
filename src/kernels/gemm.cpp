// The one gemm(): every matrix product in convnet goes through here, so the
// BLAS behind it can be swapped after measuring (DESIGN.md §4).
//
// Threading: the BLAS runs single-threaded and we split C into contiguous
// row (or column) blocks over OpenMP threads. One thread pool (OpenMP's)
// then serves both our loops and the products, so the two never fight over
// the cores; and since every C element still sums over K in the BLAS's own
// order, the result is the same for any number of threads.
#include <cblas.h>
#include <omp.h>

#include <algorithm>

#include "kernels.hpp"

namespace convnet::kernels {

namespace {
inline void blas(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
                 int ldb, float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A,
              lda, B, ldb, beta, C, ldc);
}
inline void blas(bool ta, bool tb, int M, int N, int K, double alpha, const double* A, int lda, const double* B,
                 int ldb, double beta, double* C, int ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A,
              lda, B, ldb, beta, C, ldc);
}
}  // namespace

template <class T>
void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
          const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
  if (M == 0 || N == 0) return;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads == 1 || M * N * K < (1u << 18)) {
    blas(ta, tb, int(M), int(N), int(K), alpha, A, int(lda), B, int(ldb), beta, C, int(ldc));
    return;
  }
  // Split the longer side of C into equal blocks: multiples of 16 (the
  // kernels' register tile) where the side is long, else of 4, so a batch
  // of 100 rows is split 52/48, not 64/36.
  const bool split_rows = M >= N;
  const std::size_t len = split_rows ? M : N;
#pragma omp parallel num_threads(threads)
  {
    const std::size_t t = std::size_t(omp_get_thread_num()), nt = std::size_t(omp_get_num_threads());
    const std::size_t grain = len >= 64 * nt ? 16 : 4;
    const std::size_t chunk = ((len + nt - 1) / nt + grain - 1) / grain * grain;
    const std::size_t b = std::min(len, t * chunk), e = std::min(len, b + chunk);
    if (b < e) {
      if (split_rows) {
        const T* Ab = ta ? A + b : A + b * lda;  // rows b.. of op(A)
        blas(ta, tb, int(e - b), int(N), int(K), alpha, Ab, int(lda), B, int(ldb), beta, C + b * ldc, int(ldc));
      } else {
        const T* Bb = tb ? B + b * ldb : B + b;  // columns b.. of op(B)
        blas(ta, tb, int(M), int(e - b), int(K), alpha, A, int(lda), Bb, int(ldb), beta, C + b, int(ldc));
      }
    }
  }
}

template void gemm<float>(bool, bool, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t,
                          const float*, std::size_t, float, float*, std::size_t);
template void gemm<double>(bool, bool, std::size_t, std::size_t, std::size_t, double, const double*, std::size_t,
                           const double*, std::size_t, double, double*, std::size_t);

}  // namespace convnet::kernels
