#pragma once
// The seam between gradient and update (DESIGN.md §1): how the processes of
// one data-parallel run combine their work. One process: LocalCommunicator,
// where every reduction is the identity, so the Trainer has one code path.
// The MPI implementation lives in the CLI (apps/convnet/parallel.cpp): no
// library links MPI.
#include <cstddef>
#include <cstdint>

namespace convnet {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int size() const = 0;
  virtual int rank() const = 0;
  // Element-wise sums over all processes, in place. Every process receives
  // the same values (the one reduction result is shared, not recomputed).
  virtual void allreduce_sum(float* data, std::size_t n) = 0;
  virtual void allreduce_sum(double* data, std::size_t n) = 0;
  virtual void allreduce_sum(std::uint64_t* data, std::size_t n) = 0;
  // The largest of `value` over all processes (a collective flag: any
  // process asking to stop, or which signal it got).
  virtual int allreduce_max(int value) = 0;
};

class LocalCommunicator final : public Communicator {
 public:
  int size() const override { return 1; }
  int rank() const override { return 0; }
  void allreduce_sum(float*, std::size_t) override {}
  void allreduce_sum(double*, std::size_t) override {}
  void allreduce_sum(std::uint64_t*, std::size_t) override {}
  int allreduce_max(int value) override { return value; }
};

// The contiguous share of n items (a minibatch, a data set) that process
// `rank` of `size` takes: the first n % size ranks take one item more.
struct Share {
  std::size_t begin = 0, count = 0;
};
inline Share share_of(std::size_t n, int rank, int size) {
  const std::size_t r = std::size_t(rank), s = std::size_t(size), q = n / s, extra = n % s;
  return {r * q + (r < extra ? r : extra), q + (r < extra ? 1 : 0)};
}

}  // namespace convnet
