#include "parallel.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "convnet/core/error.hpp"

#ifdef CONVNET_HAVE_MPI
#include <mpi.h>
#endif

namespace convnet::cli {

namespace {
int env_int(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : -1;
}
}  // namespace

int launched_processes() {
  for (const char* n : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const int v = env_int(n); v >= 0) return v;
  return 0;
}

int launched_rank() {
  for (const char* n : {"OMPI_COMM_WORLD_RANK", "PMI_RANK"})
    if (const int v = env_int(n); v >= 0) return v;
  return 0;
}

bool built_with_mpi() {
#ifdef CONVNET_HAVE_MPI
  return true;
#else
  return false;
#endif
}

std::string launch_refusal(const std::string& command) {
  const int n = launched_processes();
  if (n <= 1) return "";
  if (!built_with_mpi())
    return "started as " + std::to_string(n) + " processes (mpirun), but this convnet was built without MPI: "
           "install libopenmpi-dev (make deps) and rebuild, rather than run " + std::to_string(n) +
           " independent copies";
  if (command != "train")
    return "convnet " + command + " runs in one process; only convnet train runs over MPI (started as " +
           std::to_string(n) + " processes)";
  return "";
}

#ifdef CONVNET_HAVE_MPI
namespace {
class MpiCommunicator final : public Communicator {
 public:
  int size() const override {
    int n = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
  }
  int rank() const override {
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
  }
  void allreduce_sum(float* d, std::size_t n) override { reduce_(d, n, MPI_FLOAT); }
  void allreduce_sum(double* d, std::size_t n) override { reduce_(d, n, MPI_DOUBLE); }
  void allreduce_sum(std::uint64_t* d, std::size_t n) override { reduce_(d, n, MPI_UINT64_T); }
  int allreduce_max(int value) override {
    MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return value;
  }

 private:
  // MPI counts are int: long buffers go in pieces.
  static void reduce_(void* d, std::size_t n, MPI_Datatype type) {
    int bytes = 0;
    MPI_Type_size(type, &bytes);
    constexpr std::size_t kMax = std::size_t(1) << 30;
    for (std::size_t i = 0; i < n; i += kMax)
      MPI_Allreduce(MPI_IN_PLACE, static_cast<char*>(d) + i * std::size_t(bytes), int(std::min(kMax, n - i)),
                    type, MPI_SUM, MPI_COMM_WORLD);
  }
};
}  // namespace
#endif

ProcessGroup::ProcessGroup() {
#ifdef CONVNET_HAVE_MPI
  // Only when a launcher started us: a plain run never touches MPI.
  if (launched_processes() >= 1) {
    int provided = 0;
    // OpenMP threads compute; only the main thread calls MPI.
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    mpi_ = true;
    comm_ = std::make_unique<MpiCommunicator>();
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &local_size_);
    MPI_Comm_free(&node);
    return;
  }
#endif
  comm_ = std::make_unique<LocalCommunicator>();
}

ProcessGroup::~ProcessGroup() {
#ifdef CONVNET_HAVE_MPI
  if (mpi_) MPI_Finalize();
#endif
}

void ProcessGroup::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
#ifdef CONVNET_HAVE_MPI
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::_Exit(code);
}

}  // namespace convnet::cli
