#pragma once
// Writing IDX files in tests: the bytes of one file, and a whole random data
// set — the four files load_mnist reads — of any channels x rows x cols.
// Independent of the library's reader (no convnet headers), so tests can
// compare what it reads with what was written.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace convnet::test {

using IdxBytes = std::vector<std::uint8_t>;

constexpr std::uint32_t kIdxImages = 0x00000803;   // ubyte, 3 dims: count, rows, cols
constexpr std::uint32_t kIdxImages4 = 0x00000804;  // ubyte, 4 dims: count, channels, rows, cols
constexpr std::uint32_t kIdxLabels = 0x00000801;   // ubyte, 1 dim: count

// An IDX file: big-endian magic and dims, then the data (not checked
// against the dims, so tests can build broken files too).
inline IdxBytes idx_file(std::uint32_t magic, const std::vector<std::uint32_t>& dims, const IdxBytes& data) {
  IdxBytes out;
  auto put = [&](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
  };
  put(magic);
  for (auto d : dims) put(d);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// Writes b to p, replacing it; throws std::runtime_error naming p on failure.
inline void write_bytes(const std::filesystem::path& p, const IdxBytes& b) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  f.close();
  if (!f) throw std::runtime_error(p.string() + ": cannot write");
}

// One split as written: images count x channels x rows x cols (NCHW), labels count.
struct IdxSplit {
  IdxBytes images, labels;
};
struct IdxDataset {
  IdxSplit train, test;
};

// Writes DIR/{train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte}, raw (not gzip), creating
// DIR if needed: train_images and test_images images of channels x rows x
// cols, in a 4-dim IDX file (magic 0x00000804, N x C x H x W) when channels
// > 1 or four_dims, else in a 3-dim one (0x00000803, as MNIST). Pixels are
// random bytes, labels 0..classes-1 in random order with every class present
// in each split (so each needs at least `classes` images); both drawn from a
// 32-bit LCG started at `seed`, so the same arguments give the same files.
// Returns the bytes written (without headers), for tests to compare with.
// Throws std::invalid_argument for impossible arguments.
inline IdxDataset write_idx_dataset(const std::filesystem::path& dir, std::size_t train_images,
                                    std::size_t test_images, std::size_t channels, std::size_t rows,
                                    std::size_t cols, std::size_t classes, std::uint32_t seed = 1,
                                    bool four_dims = false) {
  constexpr std::size_t kMax32 = 0xFFFFFFFFu;
  if (classes < 1 || classes > 256)
    throw std::invalid_argument("write_idx_dataset: classes must be 1 to 256 (ubyte labels), not " +
                                std::to_string(classes));
  if (train_images < classes || test_images < classes)
    throw std::invalid_argument("write_idx_dataset: each split needs at least " + std::to_string(classes) +
                                " images to hold every class");
  if (channels < 1 || rows < 1 || cols < 1 || train_images > kMax32 || test_images > kMax32 || channels > kMax32 ||
      rows > kMax32 || cols > kMax32)
    throw std::invalid_argument("write_idx_dataset: sizes must be 1 to 2^32-1");

  std::uint32_t state = seed;
  auto next = [&] {  // Numerical Recipes' LCG; the high bits are the random ones
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  const bool dims4 = channels > 1 || four_dims;
  std::filesystem::create_directories(dir);
  IdxDataset out;
  for (auto [prefix, n, split] : {std::tuple{"train", train_images, &out.train}, {"t10k", test_images, &out.test}}) {
    split->images.resize(n * channels * rows * cols);
    for (auto& p : split->images) p = static_cast<std::uint8_t>(next() >> 16);
    // 0, 1, ..., classes-1 first, the rest random, then shuffled (Fisher-Yates).
    split->labels.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      split->labels[i] = static_cast<std::uint8_t>(i < classes ? i : next() % classes);
    for (std::size_t i = n - 1; i > 0; --i) std::swap(split->labels[i], split->labels[next() % (i + 1)]);

    const auto u32 = [](std::size_t v) { return static_cast<std::uint32_t>(v); };
    const std::string name = prefix;
    write_bytes(dir / (name + "-images-idx3-ubyte"),
                dims4 ? idx_file(kIdxImages4, {u32(n), u32(channels), u32(rows), u32(cols)}, split->images)
                      : idx_file(kIdxImages, {u32(n), u32(rows), u32(cols)}, split->images));
    write_bytes(dir / (name + "-labels-idx1-ubyte"), idx_file(kIdxLabels, {u32(n)}, split->labels));
  }
  return out;
}

}  // namespace convnet::test
