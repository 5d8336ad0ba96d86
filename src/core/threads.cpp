#include "convnet/core/threads.hpp"

#include <omp.h>

#include <string>
#include <thread>

#include "kernels/blas.hpp"

namespace convnet {

void set_num_threads(int n) {
  if (n <= 0) n = int(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  omp_set_num_threads(n);
  // The BLAS itself stays single-threaded: gemm() splits the work over
  // OpenMP threads (src/kernels/gemm.cpp).
  kernels::blas_library().set_num_threads(1);
}

int num_threads() { return omp_get_max_threads(); }

const char* blas_slow_kernel_warning() {
  const auto& lib = kernels::blas_library();
  return lib.warning.empty() ? nullptr : lib.warning.c_str();
}

const char* blas_info() {
  static const std::string s = [] {
    const auto& lib = kernels::blas_library();
    return lib.config + " (core " + lib.core + ", " + lib.how + ")";
  }();
  return s.c_str();
}

}  // namespace convnet
