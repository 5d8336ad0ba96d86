#pragma once
// Memory sanity (DESIGN.md §5): what a network of a given shape will need,
// computed from the shapes alone, and what the machine can give — so that
// impossible sizes are refused with a message before anything is allocated.
// Every product saturates at SIZE_MAX instead of wrapping.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace convnet {

// Saturating arithmetic for sizes: SIZE_MAX means "more than can exist".
std::size_t sat_add(std::size_t a, std::size_t b);
std::size_t sat_mul(std::size_t a, std::size_t b);

// What one layer keeps, in elements of the network's scalar type (an int32
// or uint8 buffer counts as one element per entry: an overestimate).
struct LayerFootprint {
  std::string name;
  std::size_t params = 0;        // W and b; gradients and optimizer state are multiples of it
  std::size_t scratch = 0;       // fixed buffers independent of the batch (e.g. packed weights)
  std::size_t train_sample = 0;  // per sample of a training batch: forward caches, backward buffers
  std::size_t eval_sample = 0;   // per sample of an inference batch
};

// How the network is used.
struct MemoryUse {
  bool training = true;
  std::size_t batch_size = 100;       // training minibatch
  std::size_t eval_batch_size = 100;  // inference / accuracy batch
  std::size_t optimizer_copies = 2;   // optimizer state per parameter (Adam: m and v)
  std::size_t data_bytes = 0;         // the data set as held in memory (uint8 images, labels)
};

// Bytes by purpose; total() saturates.
struct MemoryEstimate {
  std::size_t params = 0, grads = 0, optimizer = 0, scratch = 0, train_batch = 0, eval_batch = 0, data = 0;
  std::string largest;  // the largest single term, e.g. "Affine1 parameters"
  std::size_t largest_bytes = 0;
  std::size_t total() const;
};

// The sum over `layers` for scalars of `elem_size` bytes. Everything a
// training run holds at once is counted (train and eval buffers both stay
// allocated); no term is left out to make the figure smaller.
MemoryEstimate estimate_memory(const std::vector<LayerFootprint>& layers, std::size_t elem_size, const MemoryUse& use);

// Memory this process can use: /proc/meminfo MemAvailable, or the cgroup
// (v2 memory.max along the cgroup's path, v1 memory.limit_in_bytes) limit
// when lower. bytes == SIZE_MAX when nothing could be read.
struct AvailableMemory {
  std::size_t bytes = SIZE_MAX;
  std::string source;  // "MemAvailable", "cgroup memory.max", ...
};
AvailableMemory available_memory();

// "1.5 GiB", "312 MiB", "more than 16 EiB" for SIZE_MAX.
std::string format_bytes(std::size_t bytes);

// Throws convnet::Error when `need` exceeds what is available:
// "<what> needs about 3.4 TiB (largest: Affine1 parameters, 1.7 TiB), more
// than the 12.1 GiB available (MemAvailable)". A saturated estimate is
// always refused.
void check_memory(const MemoryEstimate& need, const std::string& what, const AvailableMemory& avail = available_memory());

}  // namespace convnet
