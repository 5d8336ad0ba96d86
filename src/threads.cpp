#include "convnet/threads.hpp"

#include <cblas.h>
#include <omp.h>

#include <string>
#include <thread>

namespace convnet {

void set_num_threads(int n) {
  if (n <= 0) n = int(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  omp_set_num_threads(n);
  // The BLAS itself stays single-threaded: gemm() splits the work over
  // OpenMP threads (src/kernels/gemm.cpp).
  openblas_set_num_threads(1);
}

int num_threads() { return omp_get_max_threads(); }

namespace {
// Library load: the same policy before anyone calls set_num_threads.
struct BlasSingleThreaded {
  BlasSingleThreaded() { openblas_set_num_threads(1); }
} blas_single_threaded;
}  // namespace

const char* blas_slow_kernel_warning() {
  // OpenBLAS's kernels from before AVX2 (its DYNAMIC_ARCH falls back to
  // these on a CPU it does not recognise): several times slower than the
  // AVX2 / AVX-512 ones on a CPU that has them (docs/PERFORMANCE.md, BLAS).
  static const std::string msg = [] {
    const std::string core = openblas_get_corename();
    bool old = false;
    // OpenBLAS's names of its cores without AVX2 kernels.
    for (const char* c : {"Unknown", "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2",
                          "Penryn", "Dunnington", "Nehalem", "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Nano",
                          "Sandybridge", "Bobcat", "Bulldozer", "Piledriver"})
      old = old || core == c;
    if (!old || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return std::string();
    const char* better = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") ? "SkylakeX"
                                                                                               : "Haswell";
    return "OpenBLAS runs its " + core + " kernels on a CPU with AVX2" +
           (std::string(better) == "SkylakeX" ? " and AVX-512" : "") +
           ", several times slower than it could; run with OPENBLAS_CORETYPE=" + better;
  }();
  return msg.empty() ? nullptr : msg.c_str();
}

const char* blas_info() {
  static const std::string s = std::string(openblas_get_config()) + " (core " + openblas_get_corename() + ")";
  return s.c_str();
}

}  // namespace convnet
