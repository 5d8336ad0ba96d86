// libFuzzer target: the IDX readers (raw and gzip, chosen by the 1f 8b magic).
// Every input must give a Dataset/labels or a convnet::Error; anything else
// (another exception, a crash, a sanitizer report, a hang) is a finding.
#include <cstddef>
#include <cstdint>

#include "convnet/core/error.hpp"
#include "convnet/io/mnist.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static convnet_fuzz::MemFile file("fuzz_idx");
  const std::string& path = file.set(data, size);
  // Both readers on every input: each refuses the other's magic at once.
  try {
    const convnet::Dataset d = convnet::read_idx_images(path);
    FUZZ_CHECK(d.count > 0 && d.channels > 0 && d.rows > 0 && d.cols > 0);
    FUZZ_CHECK(d.images.size() == d.count * d.channels * d.rows * d.cols);
  } catch (const convnet::Error&) {
  }
  try {
    const std::vector<std::uint8_t> labels = convnet::read_idx_labels(path);
    FUZZ_CHECK(!labels.empty());
  } catch (const convnet::Error&) {
  }
  return 0;
}
