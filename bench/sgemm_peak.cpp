// sgemm_peak: single-precision GEMM GFLOP/s through the BLAS the library
// links (OpenBLAS, cblas_sgemm, row-major as src/kernels/gemm.cpp calls it),
// at a large square size and at the notebook's shapes, per thread count.
// The figure the regime's achieved GFLOP/s is compared against.
//
//   sgemm_peak [--size 2048] [--reps 7] [--threads 1,2] [--peak-only]
//
// --peak-only prints one number: the square-size GFLOP/s at the first thread
// count (for scripts).
#include <cblas.h>

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
  auto call = [&] {
    cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, s.M, s.N, s.K,
                1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), s.N);
  };
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
  bool peak_only = false;
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
    } else if (a == "-h" || a == "--help") {
      std::printf("usage: sgemm_peak [--size N] [--reps R] [--threads T1,T2,...] [--peak-only]\n");
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

  const Shape square{"square", size, size, size, false, false};
  if (peak_only) {
    openblas_set_num_threads(threads[0]);
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

  std::printf("BLAS: %s\n", openblas_get_config());
  std::printf("OpenBLAS core: %s, processors seen: %d\n", openblas_get_corename(), openblas_get_num_procs());
  std::printf("median of >= %d reps (and >= 0.2 s) after one warm-up; GFLOP/s = 2*M*N*K / seconds\n\n", reps);
  std::printf("%-26s %6s %6s %6s %3s %3s", "product", "M", "N", "K", "tA", "tB");
  for (int t : threads) std::printf("  %8s %9s", ("T=" + std::to_string(t) + " us").c_str(), "GFLOP/s");
  std::printf("\n");
  for (const Shape& s : shapes) {
    std::printf("%-26s %6d %6d %6d %3s %3s", s.what, s.M, s.N, s.K, s.ta ? "T" : "N", s.tb ? "T" : "N");
    for (int t : threads) {
      openblas_set_num_threads(t);
      const double sec = median_seconds(s, reps);
      std::printf("  %8.1f %9.2f", sec * 1e6, gflops(s, sec));
      std::fflush(stdout);
    }
    std::printf("\n");
  }
  return 0;
}
