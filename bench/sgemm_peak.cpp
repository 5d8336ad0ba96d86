// sgemm_peak: single-precision GEMM GFLOP/s at a large square size and at
// the notebook's shapes, per thread count, through one BLAS. Built once per
// BLAS found (bench/CMakeLists.txt):
//   sgemm_peak        OpenBLAS, cblas_sgemm row-major as src/kernels/gemm.cpp
//                     calls it: the library's BLAS, the figure the regime's
//                     achieved GFLOP/s is compared against
//   sgemm_peak_blis   BLIS (libblis-dev), bli_sgemm
//   sgemm_peak_dnnl   oneDNN (libdnnl-dev), dnnl_sgemm
//   sgemm_peak_eigen  Eigen 3 (libeigen3-dev), row-major maps, OpenMP
// bench/blas_compare.sh runs them all side by side.
//
//   sgemm_peak [--size 2048] [--reps 7] [--threads 1,2] [--peak-only] [--tsv]
//
// --peak-only prints one number: the square-size GFLOP/s at the first thread
// count (for scripts). --tsv prints "product<TAB>threads<TAB>GFLOP/s" lines.
// --describe-only prints the library, its version and the kernels it chose.
#if defined(SGEMM_BLIS)
#include <blis.h>
#elif defined(SGEMM_DNNL)
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#elif defined(SGEMM_EIGEN)
#include <omp.h>

#include <Eigen/Core>
#else
#include <cblas.h>
#endif

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

// ---- the backend: name, threads, C = op(A)·op(B) row-major ------------------
#if defined(SGEMM_BLIS)
std::string describe() {
  return std::string("BLIS ") + bli_info_get_version_str() + ", kernels for " +
         bli_arch_string(bli_arch_query_id()) + " (chosen at run time from CPUID)";
}
void set_threads(int t) { bli_thread_set_num_threads(t); }
void sgemm(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
           int ldc) {
  float one = 1.f, zero = 0.f;  // row-major: row stride ld, column stride 1
  bli_sgemm(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, M, N, K, &one,
            const_cast<float*>(A), lda, 1, const_cast<float*>(B), ldb, 1, &zero, C, ldc, 1);
}
#elif defined(SGEMM_DNNL)
std::string describe() {
  const dnnl_version_t* v = dnnl_version();
  std::string name;
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_avx2: name = "avx2"; break;
    case dnnl_cpu_isa_avx512_core: name = "avx512_core"; break;
    case dnnl_cpu_isa_avx512_core_vnni: name = "avx512_core_vnni"; break;
    case dnnl_cpu_isa_avx512_core_bf16: name = "avx512_core_bf16"; break;
    case dnnl_cpu_isa_avx512_core_amx: name = "avx512_core_amx"; break;
    default: name = "#" + std::to_string(int(dnnl_get_effective_cpu_isa()));
  }
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
         ", effective ISA " + name + " (from CPUID)";
}
void set_threads(int t) { omp_set_num_threads(t); }
void sgemm(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
           int ldc) {
  dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, 1.f, A, lda, B, ldb, 0.f, C, ldc);  // row-major
}
#elif defined(SGEMM_EIGEN)
std::string describe() {
  return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION) + ", " + Eigen::SimdInstructionSetsInUse() +
         " (fixed at compile time, -march=native)";
}
void set_threads(int t) { Eigen::setNbThreads(t); }
void sgemm(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
           int ldc) {
  using RM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using CMap = Eigen::Map<const RM, 0, Eigen::OuterStride<>>;
  const CMap a(A, ta ? K : M, ta ? M : K, Eigen::OuterStride<>(lda));
  const CMap b(B, tb ? N : K, tb ? K : N, Eigen::OuterStride<>(ldb));
  Eigen::Map<RM, 0, Eigen::OuterStride<>> c(C, M, N, Eigen::OuterStride<>(ldc));
  if (ta && tb) c.noalias() = a.transpose() * b.transpose();
  else if (ta) c.noalias() = a.transpose() * b;
  else if (tb) c.noalias() = a * b.transpose();
  else c.noalias() = a * b;
}
#else
std::string describe() {
  return std::string("BLAS: ") + openblas_get_config() + "\nOpenBLAS core: " + openblas_get_corename() +
         ", processors seen: " + std::to_string(openblas_get_num_procs());
}
void set_threads(int t) { openblas_set_num_threads(t); }
void sgemm(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
           int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.f, A, lda,
              B, ldb, 0.f, C, ldc);
}
#endif

struct Shape {
  const char* what;
  int M, N, K;
  bool ta, tb;  // op(A) = Aᵀ, op(B) = Bᵀ (row-major storage)
};

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "sgemm_peak: error: %s\n", msg.c_str());
  std::fprintf(stderr, "usage: sgemm_peak [--size N] [--reps R] [--threads T1,T2,...] [--peak-only]\n");
  std::exit(2);
}

long parse_int(const char* opt, const char* s, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s, &end, 10);
  if (errno || end == s || *end != '\0' || v < lo || v > hi)
    usage_error(std::string(opt) + ": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                "], found '" + s + "'");
  return v;
}

// Median seconds of `reps` calls C = op(A)·op(B), after one warm-up call.
double median_seconds(const Shape& s, int reps) {
  const std::size_t a = std::size_t(s.M) * s.K, b = std::size_t(s.K) * s.N, c = std::size_t(s.M) * s.N;
  std::vector<float> A(a), B(b), C(c);
  std::mt19937 gen(42);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& v : A) v = u(gen);
  for (float& v : B) v = u(gen);
  const int lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
  auto call = [&] { sgemm(s.ta, s.tb, s.M, s.N, s.K, A.data(), lda, B.data(), ldb, C.data(), s.N); };
  call();
  std::vector<double> t;
  // At least `reps` calls and at least ~0.2 s, so tiny shapes are not noise.
  double total = 0;
  while (int(t.size()) < reps || (total < 0.2 && t.size() < 10000)) {
    const auto t0 = std::chrono::steady_clock::now();
    call();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    t.push_back(dt);
    total += dt;
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double gflops(const Shape& s, double seconds) { return 2.0 * s.M * s.N * s.K / seconds / 1e9; }

}  // namespace

int main(int argc, char** argv) {
  int size = 2048, reps = 7;
  bool peak_only = false, tsv = false, describe_only = false;
  std::vector<int> threads;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage_error(a + ": expected a value");
      return argv[++i];
    };
    if (a == "--size") {
      size = int(parse_int("--size", value(), 16, 16384));
    } else if (a == "--reps") {
      reps = int(parse_int("--reps", value(), 1, 1000));
    } else if (a == "--threads") {
      const std::string list = value();
      std::size_t p = 0;
      while (p <= list.size()) {
        const std::size_t q = std::min(list.find(',', p), list.size());
        threads.push_back(int(parse_int("--threads", list.substr(p, q - p).c_str(), 1, 1024)));
        p = q + 1;
      }
    } else if (a == "--peak-only") {
      peak_only = true;
    } else if (a == "--tsv") {
      tsv = true;
    } else if (a == "--describe-only") {
      describe_only = true;
    } else if (a == "-h" || a == "--help") {
      std::printf("usage: sgemm_peak [--size N] [--reps R] [--threads T1,T2,...] [--peak-only] [--tsv] [--describe-only]\n");
      return 0;
    } else {
      usage_error("unknown argument '" + a + "'");
    }
  }
  if (threads.empty()) {
    threads.push_back(1);
    const int hw = int(std::thread::hardware_concurrency());
    if (hw > 1) threads.push_back(hw);
  }

  if (describe_only) {
    std::printf("%s\n", describe().c_str());
    return 0;
  }
  const Shape square{"square", size, size, size, false, false};
  if (peak_only) {
    set_threads(threads[0]);
    std::printf("%.2f\n", gflops(square, median_seconds(square, reps)));
    return 0;
  }

  // The products one notebook step makes (batch 100), as the layers call them.
  const std::vector<Shape> shapes = {
      square,
      {"conv fwd: col.W1^T", 57600, 30, 25, false, true},
      {"conv dW: dout^T.col", 30, 25, 57600, true, false},
      {"affine1 fwd: x.W2", 100, 100, 4320, false, false},
      {"affine1 dx: dout.W2^T", 100, 4320, 100, false, true},
      {"affine1 dW: x^T.dout", 4320, 100, 100, true, false},
      {"affine1 fwd, batch 6000", 6000, 100, 4320, false, false},
      {"affine2 fwd: h.W3", 100, 10, 100, false, false},
  };

  if (tsv) {
    for (const Shape& s : shapes)
      for (int t : threads) {
        set_threads(t);
        std::printf("%s\t%d\t%.2f\n", s.what, t, gflops(s, median_seconds(s, reps)));
        std::fflush(stdout);
      }
    return 0;
  }
  std::printf("%s\n", describe().c_str());
  std::printf("median of >= %d reps (and >= 0.2 s) after one warm-up; GFLOP/s = 2*M*N*K / seconds\n\n", reps);
  std::printf("%-26s %6s %6s %6s %3s %3s", "product", "M", "N", "K", "tA", "tB");
  for (int t : threads) std::printf("  %8s %9s", ("T=" + std::to_string(t) + " us").c_str(), "GFLOP/s");
  std::printf("\n");
  for (const Shape& s : shapes) {
    std::printf("%-26s %6d %6d %6d %3s %3s", s.what, s.M, s.N, s.K, s.ta ? "T" : "N", s.tb ? "T" : "N");
    for (int t : threads) {
      set_threads(t);
      const double sec = median_seconds(s, reps);
      std::printf("  %8.1f %9.2f", sec * 1e6, gflops(s, sec));
      std::fflush(stdout);
    }
    std::printf("\n");
  }
  return 0;
}
