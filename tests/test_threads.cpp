// The BLAS behind gemm() as a program linking libconvnet gets it (this test
// binary is one): OpenBLAS's kernels match the CPU's vector units.
// make test-other-cpus runs this with CONVNET_TEST_OPENBLAS_DETECTS=Prescott,
// OpenBLAS's fallback on a CPU its model table does not know.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <string>

#include "convnet/core/threads.hpp"

TEST(Blas, KernelsUseTheCpusVectorUnits) {
  if (std::getenv("OPENBLAS_CORETYPE")) GTEST_SKIP() << "the user chose OpenBLAS's kernels";
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) GTEST_SKIP() << "CPU without AVX2";
  const std::string info = convnet::blas_info();
  EXPECT_TRUE(std::regex_search(info, std::regex("core (Haswell|Zen|SkylakeX|Cooperlake|SapphireRapids),"))) << info;
  EXPECT_EQ(convnet::blas_slow_kernel_warning(), nullptr);
  if (const char* fake = std::getenv("CONVNET_TEST_OPENBLAS_DETECTS"); fake && std::string(fake) == "Prescott") {
    EXPECT_NE(info.find(std::string("chosen from cpuid")), std::string::npos) << info << " (hook " << fake << ")";
  }
}
