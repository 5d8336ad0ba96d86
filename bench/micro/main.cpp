// convnet_micro: Google Benchmark's main, plus --threads=N (ours: OpenMP and
// BLAS threads, as `convnet train --threads`; default all cores) and a note
// of the BLAS and data in the report's context.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common.hpp"

int main(int argc, char** argv) {
  int threads = 0;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strncmp(argv[i], "--threads=", 10) == 0) {
      char* end = nullptr;
      const long v = std::strtol(argv[i] + 10, &end, 10);
      if (*end != '\0' || v < 0 || v > 1024) {
        std::fprintf(stderr, "convnet_micro: error: --threads: expected an integer in [0, 1024], found '%s'\n",
                     argv[i] + 10);
        return 2;
      }
      threads = int(v);
      continue;
    }
    args.push_back(argv[i]);
  }
  int n = int(args.size());
  args.push_back(nullptr);
  convnet::set_num_threads(threads);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
  benchmark::AddCustomContext("convnet_threads", std::to_string(convnet::num_threads()));
  benchmark::AddCustomContext("blas", convnet::blas_info());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
