#include "blas.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "convnet/core/error.hpp"

#ifndef CONVNET_OPENBLAS_SONAME
#define CONVNET_OPENBLAS_SONAME "libopenblas.so.0"
#endif

namespace convnet::kernels {

namespace {

// OpenBLAS's kernel sets by what they use: 0 before AVX2, 1 AVX2+FMA,
// 2 AVX-512. Names as openblas_get_corename() spells them (0.3.21).
int core_level(const std::string& core) {
  for (const char* c : {"SkylakeX", "Cooperlake", "SapphireRapids"})
    if (core == c) return 2;
  for (const char* c : {"Haswell", "Zen", "Excavator"})
    if (core == c) return 1;
  return 0;
}

// The core to ask for when OpenBLAS detected `detected`: only when it fell
// back to kernels without AVX2 on a CPU that has AVX2 and FMA (a model its
// table does not know). A CPU it knows keeps its choice.
// AVX2 on AMD gets OpenBLAS's Zen set: the same kernels as Haswell, with
// blocking for AMD's caches (what OpenBLAS picks on the AMD CPUs it knows).
struct CpuFeatures {
  bool avx2_fma, avx512, amd;
};
std::string core_to_force(const std::string& detected, const CpuFeatures& cpu) {
  if (!cpu.avx2_fma || core_level(detected) >= 1) return "";
  return cpu.avx512 ? "SkylakeX" : cpu.amd ? "Zen" : "Haswell";
}

CpuFeatures cpu_features() {
  __builtin_cpu_init();
  // GCC's checks include the OS's support (XGETBV) for the vector state.
  return {__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"),
          __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
              __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
              __builtin_cpu_supports("avx512cd"),
          __builtin_cpu_is("amd") > 0};
}

// dlopen with OPENBLAS_CORETYPE set to `core` ("" = OpenBLAS detects) for
// the load only: OpenBLAS reads it in its constructor; our children and the
// rest of the process never see it.
void* open_with_core(const std::string& core) {
  if (core.empty()) return dlopen(CONVNET_OPENBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
  setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  void* h = dlopen(CONVNET_OPENBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
  unsetenv("OPENBLAS_CORETYPE");
  return h;
}

std::string corename(void* h) {
  auto f = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_corename"));
  return f ? f() : "unknown";
}

BlasLibrary load() {
  BlasLibrary lib;
  const CpuFeatures cpu = cpu_features();
  const char* user_core = std::getenv("OPENBLAS_CORETYPE");
  void* h = nullptr;
  if (dlopen(CONVNET_OPENBLAS_SONAME, RTLD_NOW | RTLD_NOLOAD)) {
    // Another part of the program loaded OpenBLAS first: its choice stands.
    h = dlopen(CONVNET_OPENBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
    lib.how = "loaded before convnet by the program";
    if (h && !core_to_force(corename(h), cpu).empty() && !user_core)
      lib.warning = "OpenBLAS, loaded by this program before convnet, runs its " + corename(h) +
                    " kernels on a CPU with AVX2; start the program with OPENBLAS_CORETYPE=" +
                    core_to_force(corename(h), cpu) + " to run its faster ones";
  } else if (user_core) {
    h = open_with_core("");  // OpenBLAS reads the user's variable itself
    lib.how = std::string("OPENBLAS_CORETYPE=") + user_core + " as set";
  } else {
    // Test hook (CONVNET_TEST_OPENBLAS_DETECTS=Prescott): OpenBLAS's own
    // detection made to return that core, as on a CPU its table lacks.
    const char* fake = std::getenv("CONVNET_TEST_OPENBLAS_DETECTS");
    h = open_with_core(fake ? fake : "");
    lib.how = "detected by OpenBLAS";
    if (h) {
      const std::string detected = corename(h);
      const std::string want = core_to_force(detected, cpu);
      if (!want.empty()) {
        dlclose(h);  // unloads it: nothing else holds it (checked above)
        h = open_with_core(want);
        if (h && corename(h) != want) {  // a build without that kernel set
          dlclose(h);
          h = open_with_core("Haswell");
        }
        lib.how = "chosen from cpuid (AVX2" + std::string(cpu.avx512 ? ", AVX-512" : "") + "); OpenBLAS detected " +
                  detected;
        if (h && core_level(corename(h)) == 0)
          lib.warning = "OpenBLAS runs its " + corename(h) + " kernels on a CPU with AVX2 and could not be made "
                        "to run newer ones; matrix products will be several times slower";
      }
    }
  }
  if (!h) {
    const char* e = dlerror();
    lib.error = std::string("cannot load the BLAS " CONVNET_OPENBLAS_SONAME ": ") + (e ? e : "unknown error") +
                " (install libopenblas0)";
    return lib;
  }
  lib.sgemm = reinterpret_cast<decltype(lib.sgemm)>(dlsym(h, "cblas_sgemm"));
  lib.dgemm = reinterpret_cast<decltype(lib.dgemm)>(dlsym(h, "cblas_dgemm"));
  lib.set_num_threads = reinterpret_cast<decltype(lib.set_num_threads)>(dlsym(h, "openblas_set_num_threads"));
  auto config = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_config"));
  if (!lib.sgemm || !lib.dgemm || !lib.set_num_threads || !config) {
    lib.error = CONVNET_OPENBLAS_SONAME ": not an OpenBLAS (cblas_sgemm, cblas_dgemm, openblas_set_num_threads or "
                "openblas_get_config missing)";
    return lib;
  }
  lib.core = corename(h);
  lib.config = config();
  // The BLAS stays single-threaded: gemm() splits the work over OpenMP's
  // threads (gemm.cpp), so the two never fight over the cores.
  lib.set_num_threads(1);
  return lib;
}

const BlasLibrary& library() {
  static const BlasLibrary lib = load();
  return lib;
}

// At library load, while the program is still single-threaded: the
// environment is touched only here.
struct LoadEarly {
  LoadEarly() { library(); }
} load_early;

}  // namespace

const BlasLibrary& blas_library() {
  const BlasLibrary& lib = library();
  if (!lib.error.empty()) throw Error(lib.error);
  return lib;
}

}  // namespace convnet::kernels
