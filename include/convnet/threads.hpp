#pragma once
namespace convnet {
// Threads for both OpenMP (our loops) and the BLAS behind gemm(), so the two
// share the cores instead of fighting over them. n <= 0: all cores.
void set_num_threads(int n);
int num_threads();
// Which BLAS gemm() runs on, and its CPU kernel ("OpenBLAS 0.3.21 SkylakeX").
const char* blas_info();
// Non-null when the BLAS runs kernels far older than the CPU (OpenBLAS's
// Prescott fallback on a CPU it does not know): what to set instead.
const char* blas_slow_kernel_warning();
}  // namespace convnet
