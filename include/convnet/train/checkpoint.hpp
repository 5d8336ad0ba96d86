#pragma once
// Checkpoints: everything a training run needs to continue exactly where it
// stopped — parameters, optimizer state, iteration, the RNG, the metrics so
// far, and the options — in one .npz file (docs/FORMATS.md), written
// atomically.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "convnet/io/npz.hpp"
#include "convnet/core/optimizer.hpp"
#include "convnet/core/architecture.hpp"
#include "convnet/core/network.hpp"
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

// The options that define a run: the one struct from the command line to
// the trainer and the checkpoint, which stores it as JSON (the array
// "options"). Fields are named as the command-line options without their
// dashes (batch_size is --batch-size); the network is stored beside it (the
// array "architecture"). A resume compares the two generically (json_fields).
struct RunOptions {
  std::string optimizer = "adam";
  double lr = 0;  // 0: the optimizer's default
  std::uint32_t seed = 0;
  std::size_t batch_size = 100, iters = 1000, eval_interval = 10;
  std::size_t train_size = 5000, test_size = 1000;  // 0 = all
  bool numpy_compatible = false;                    // float64
  std::size_t print_interval = 100;                 // not part of the results; restored on resume
  // The book's Trainer regime when > 0 (iters then follows from it); absent
  // from checkpoints written before it existed.
  std::size_t epochs = 0;
  std::size_t epoch_eval_size = 1000;  // evaluate_sample_num_per_epoch (0 = all)
  DataFingerprint data;                             // filled by the run from the data it loaded

  // The trainer's part, for a training set of train_count images.
  TrainOptions train_options(std::size_t train_count) const;
  // book: trainer.py, iter_per_epoch = max(train_size / batch_size, 1)
  double iter_per_epoch(std::size_t train_count) const;
  std::string to_json() const;
  // Throws convnet::Error naming `source` and the field on a bad document.
  static RunOptions from_json(std::string_view text, const std::string& source);
};

// Every scalar of a JSON document as (path, value) pairs in document order:
// {"batch_size": 100, "layers": [{"filters": 30}]} gives ("batch_size",
// "100"), ("layers[0].filters", "30"). What --resume compares.
std::vector<std::pair<std::string, std::string>> json_fields(std::string_view json_text);

template <class T>
void save_checkpoint(const std::string& path, const RunOptions& run, const Network<T>& net, Optimizer<T>& optimizer,
                     const Trainer<T>& trainer);

// Reads a checkpoint; refuses a file that is not one ("x.npz: not a convnet
// checkpoint (no array convnet_checkpoint)"). Version 1 (before the options
// and architecture were stored as JSON) is still read.
NpzArchive read_checkpoint(const std::string& path);
RunOptions checkpoint_options(const NpzArchive& a, const std::string& path);
Architecture checkpoint_architecture(const NpzArchive& a, const std::string& path);
// Puts the network's parameters, the optimizer's state and the trainer's
// state back; every array's name, dtype and shape is checked, and the
// parameters and optimizer state must be finite.
template <class T>
void restore_checkpoint(const NpzArchive& a, const std::string& path, Network<T>& net, Optimizer<T>& optimizer,
                        Trainer<T>& trainer);

}  // namespace convnet
