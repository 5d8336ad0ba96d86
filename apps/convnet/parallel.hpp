#pragma once
// Data-parallel runs (docs/SCALING.md): the group of processes this program
// was started in. Under mpirun an MPI build joins it (MPI_Init); a plain
// start is one process with the LocalCommunicator. A build without MPI
// refuses to be started as several processes rather than run N copies.
#include <memory>
#include <string>

#include "convnet/train/communicator.hpp"

namespace convnet::cli {

// How many processes a launcher (mpirun, mpiexec) started together with this
// one, from its environment (OMPI_COMM_WORLD_SIZE, PMI_SIZE); 0 when none.
int launched_processes();
// This process's rank as the launcher numbers it (0 when none).
int launched_rank();
// Whether this program was built with MPI (CONVNET_MPI).
bool built_with_mpi();
// The one-line refusal for `command` started by a launcher in a way that
// would run independent copies; empty when it may run.
std::string launch_refusal(const std::string& command);

class ProcessGroup {
 public:
  // Joins the launcher's group when started by one (MPI builds).
  ProcessGroup();
  ~ProcessGroup();  // MPI_Finalize
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  Communicator& comm() { return *comm_; }
  int size() const { return comm_->size(); }
  int rank() const { return comm_->rank(); }
  bool root() const { return comm_->rank() == 0; }
  // Processes of the group on this machine (they share its cores).
  int local_size() const { return local_size_; }
  // Ends every process of the group with `code` (MPI_Abort): for an error on
  // one process once they work in lockstep, where the others would wait for
  // it forever in their next collective.
  [[noreturn]] void abort(int code);

 private:
  std::unique_ptr<Communicator> comm_;
  int local_size_ = 1;
  bool mpi_ = false;
};

}  // namespace convnet::cli
