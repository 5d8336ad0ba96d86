#pragma once
namespace convnet {
// Threads for both OpenMP (our loops) and the BLAS behind gemm(), so the two
// share the cores instead of fighting over them. n <= 0: all cores.
void set_num_threads(int n);
int num_threads();
// Which BLAS gemm() runs on, its CPU kernels and why those: "OpenBLAS 0.3.21
// ... (core Haswell, chosen from cpuid (AVX2); OpenBLAS detected Prescott)".
// convnet picks OpenBLAS's kernels from the CPU's features when OpenBLAS's
// own table does not know the CPU (docs/PERFORMANCE.md, BLAS).
const char* blas_info();
// Non-null only when slow kernels run and convnet could not fix it itself
// (the program loaded OpenBLAS before convnet): what to do about it.
const char* blas_slow_kernel_warning();
}  // namespace convnet
