#pragma once
// The BLAS behind gemm(), loaded at run time so that convnet, not the CPU
// model table inside OpenBLAS, has the last word on which kernels run.
//
// Debian's OpenBLAS (DYNAMIC_ARCH) picks its kernels from the CPU *model*
// when it is loaded; a CPU newer than its table gets the pre-AVX2 Prescott
// kernels, several times slower. So libconvnet does not link OpenBLAS: it
// dlopens it (once, when the library is loaded) and, if OpenBLAS fell back
// to kernels older than what cpuid reports (AVX2+FMA, AVX-512), unloads it
// and loads it again with the core chosen from the CPU's features.
// A user's OPENBLAS_CORETYPE is respected as given. docs/PERFORMANCE.md, BLAS.
// Internal: not installed.
#include <cblas.h>

#include <string>

namespace convnet::kernels {

struct BlasLibrary {
  decltype(&cblas_sgemm) sgemm = nullptr;
  decltype(&cblas_dgemm) dgemm = nullptr;
  decltype(&openblas_set_num_threads) set_num_threads = nullptr;
  std::string core;     // OpenBLAS's kernel set, e.g. "Haswell"
  std::string config;   // openblas_get_config()
  std::string how;      // why this core: "detected by OpenBLAS", "chosen from cpuid (...)", ...
  std::string warning;  // non-empty only when slow kernels run and convnet could not fix it
  std::string error;    // non-empty when OpenBLAS could not be loaded at all
};

// Loads on first call (the library's load calls it, single-threaded); throws
// convnet::Error naming the library when it cannot be loaded.
const BlasLibrary& blas_library();

}  // namespace convnet::kernels
