// The time of one MPI_Allreduce (sum, float) of n values, as the trainer's
// step makes it (docs/SCALING.md). A barrier before each keeps the ranks'
// arrival skew out of the figure. Prints the median and the minimum in µs.
//   mpicxx -O2 scripts/allreduce-time.cpp -o /tmp/allreduce-time
//   mpirun --oversubscribe --bind-to none -np 2 /tmp/allreduce-time 433890 200
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const int n = argc > 1 ? std::atoi(argv[1]) : 433890;  // SimpleConvNet's gradient
  const int reps = argc > 2 ? std::atoi(argv[2]) : 200;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<float> buf(std::size_t(n), 1.0f);
  std::vector<double> t;
  for (int i = 0; i < reps + 10; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    MPI_Allreduce(MPI_IN_PLACE, buf.data(), n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    const double dt = MPI_Wtime() - t0;
    if (i >= 10) t.push_back(dt);  // after the warm-up
  }
  // The slowest rank's time is the step's.
  MPI_Allreduce(MPI_IN_PLACE, t.data(), reps, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  std::sort(t.begin(), t.end());
  if (rank == 0)
    std::printf("np %d, %d floats (%.2f MB): median %.1f us, min %.1f us\n", size, n, n * 4e-6, t[t.size() / 2] * 1e6,
                t[0] * 1e6);
  MPI_Finalize();
}
