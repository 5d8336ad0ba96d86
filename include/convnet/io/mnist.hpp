#pragma once
// MNIST-style IDX data: reading and validating the files (raw or gzip), and
// drawing minibatches of Tensor<T> from them. Nothing here assumes the
// pictures are digits, grey or 28x28: any ubyte IDX image/label pair with
// any label values works (Fashion-MNIST, KMNIST, colour images as N x C x H x W).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.hpp"

namespace convnet {

// One IDX image file + its label file. Images stay uint8 in memory
// (DESIGN.md §4); a batch is converted to T when it is drawn.
struct Dataset {
  // count * channels * rows * cols bytes, row-major: image i, channel c,
  // row y, column x at ((i * channels + c) * rows + y) * cols + x (NCHW).
  std::vector<std::uint8_t> images;
  std::vector<std::uint8_t> labels;  // count
  std::size_t count = 0, rows = 0, cols = 0;
  std::size_t channels = 1;  // 1 for a 3-dim IDX file (MNIST)
  // The label file read (read_idx_pair), named by errors; empty when built in memory.
  std::string labels_path;

  // Bytes (and tensor elements) per image: channels * rows * cols.
  std::size_t image_size() const { return channels * rows * cols; }
  // The first n samples (n == 0 or n >= count: all) — the notebook's x_train[:5000].
  Dataset head(std::size_t n) const;
  // max label + 1 (0 for an empty set).
  std::size_t num_classes() const;
  // Throws when a label is >= classes, naming the file (or `name` when
  // labels_path is empty) and the first bad index:
  // "train-labels-idx1-ubyte: label 12 at index 3071 is out of range 0-9".
  void check_labels(std::size_t classes, const std::string& name = "labels") const;
};

// How the caller means to use the data (the book's load_mnist arguments);
// load_mnist keeps them in Mnist::options and leaves the data as uint8.
struct MnistOptions {
  bool normalize = true;  // pixels / 255 in [0, 1]
  bool flatten = false;   // (n, channels*rows*cols) instead of (n, channels, rows, cols)
  bool one_hot = false;   // labels as (n, classes) one-hot rows
};

struct Mnist {
  Dataset train, test;
  MnistOptions options;
};

// Reads DIR/{train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte}, each raw or with a .gz
// suffix (raw preferred when both exist). Throws convnet::Error when the
// directory or a file is missing (naming scripts/fetch-mnist.sh), or when a
// file is malformed, counts disagree, or train and test images differ in
// channels, rows or cols. The names stay "idx3" whether a file has 3 or 4 dims.
Mnist load_mnist(const std::string& dir, MnistOptions options = {});

// Every path load_mnist(dir) looks for: the four file names, raw and with
// .gz, whether they exist or not. For refusing an output that would replace
// (or, written as .gz next to the raw file, later shadow) a data file.
std::vector<std::string> mnist_files(const std::string& dir);

// One image file and its label file; each raw or gzip, decided by the gzip
// magic 1f 8b, not by the name. Throws when the counts differ.
Dataset read_idx_pair(const std::string& images_path, const std::string& labels_path);

// Raw IDX readers (exposed for tests and fuzzing); both accept gzip too.
// Images: magic 0x00000803 (ubyte, 3 dims), count, rows, cols (channels = 1),
// or magic 0x00000804 (ubyte, 4 dims), count, channels, rows, cols; then the
// pixels in that order (N x C x H x W). Channels and sides are 1 to 65536.
Dataset read_idx_images(const std::string& path);  // fills images/count/channels/rows/cols
// Labels: magic 0x00000801 (ubyte, 1 dim), count, then labels.
std::vector<std::uint8_t> read_idx_labels(const std::string& path);

// A minibatch drawn by index: x becomes (n, channels, rows, cols) — or
// (n, channels*rows*cols) if flatten — of T; t gets the n labels.
// normalize: value = T(float(u8) / 255.0f), computed in float32 like the
// book's astype(np.float32) / 255.0, so double runs match NumPy bit for bit;
// otherwise the raw 0..255. Resizes x and t only when their shape changes,
// so once the batch size is stable no call allocates.
// Throws when an index is >= d.count.
template <class T>
void gather_batch(const Dataset& d, const std::size_t* index, std::size_t n, bool normalize,
                  bool flatten, Tensor<T>& x, std::vector<std::int32_t>& t);

// The contiguous slice [begin, begin+n) — for evaluation in batches of 100
// like the notebook's accuracy(). Throws when the slice passes d.count.
template <class T>
void slice_batch(const Dataset& d, std::size_t begin, std::size_t n, bool normalize, bool flatten,
                 Tensor<T>& x, std::vector<std::int32_t>& t);

// One-hot (n, classes) labels, for the option one_hot. Throws when a label
// is outside [0, classes).
template <class T>
Tensor<T> one_hot(const std::vector<std::int32_t>& t, std::size_t classes);

}  // namespace convnet
