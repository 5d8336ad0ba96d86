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

const char* blas_info() {
  static const std::string s = std::string(openblas_get_config()) + " (core " + openblas_get_corename() + ")";
  return s.c_str();
}

}  // namespace convnet
