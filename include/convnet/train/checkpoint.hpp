#pragma once
// Checkpoints: everything a training run needs to continue exactly where it
// stopped — parameters, optimizer state, iteration, the RNG, the metrics so
// far, and the options — in one .npz file (docs/FORMATS.md), written
// atomically.
#include <cstdint>
#include <string>

#include "convnet/io/npz.hpp"
#include "convnet/core/optimizer.hpp"
#include "convnet/core/simple_convnet.hpp"
#include "convnet/train/trainer.hpp"

namespace convnet {

// What a run was trained on: CRC-32 (zlib) of the image bytes then the label
// bytes of the subsets actually used, their counts, and the --data directory
// as given (for messages only; moved data with the same bytes matches).
struct DataFingerprint {
  bool present = false;  // false: a checkpoint written before fingerprints (not checked)
  std::string dir;
  std::uint32_t train_crc32 = 0, test_crc32 = 0;
  std::size_t train_count = 0, test_count = 0;
  bool operator==(const DataFingerprint& o) const {
    return train_crc32 == o.train_crc32 && test_crc32 == o.test_crc32 && train_count == o.train_count &&
           test_count == o.test_count;
  }
};
DataFingerprint data_fingerprint(const Dataset& train, const Dataset& test, const std::string& dir);
// "data/mnist (train crc32 1a2b3c4d, 5000 images; test crc32 ..., 1000 images)"
std::string describe(const DataFingerprint& f);

// The options that define a run; a resume must not contradict them.
struct RunOptions {
  SimpleConvNetConfig config;
  std::string optimizer = "adam";
  double lr = 0;  // 0: the optimizer's default
  std::size_t batch_size = 100, iters = 1000, eval_interval = 10;
  std::size_t train_size = 5000, test_size = 1000;  // 0 = all
  bool float64 = false;                             // --numpy-compatible
  std::size_t print_interval = 100;                 // not part of the results; restored on resume
  DataFingerprint data;                             // filled by the run from the data it loaded
};

template <class T>
void save_checkpoint(const std::string& path, const RunOptions& run, const SimpleConvNet<T>& net,
                     Optimizer<T>& optimizer, const Trainer<T>& trainer);

// Reads a checkpoint; refuses a file that is not one ("x.npz: not a convnet
// checkpoint (no array convnet_checkpoint)").
NpzArchive read_checkpoint(const std::string& path);
RunOptions checkpoint_options(const NpzArchive& a, const std::string& path);
// Puts the network's parameters, the optimizer's state and the trainer's
// state back; every array's name, dtype and shape is checked, and the
// parameters and optimizer state must be finite.
template <class T>
void restore_checkpoint(const NpzArchive& a, const std::string& path, SimpleConvNet<T>& net,
                        Optimizer<T>& optimizer, Trainer<T>& trainer);

}  // namespace convnet
