#pragma once
// Checkpoints: everything a training run needs to continue exactly where it
// stopped — parameters, optimizer state, iteration, the RNG, the metrics so
// far, and the options — in one .npz file (docs/FORMATS.md), written
// atomically.
#include <string>

#include "convnet/npz.hpp"
#include "convnet/optimizer.hpp"
#include "convnet/simple_convnet.hpp"
#include "convnet/trainer.hpp"

namespace convnet {

// The options that define a run; a resume must not contradict them.
struct RunOptions {
  SimpleConvNetConfig config;
  std::string optimizer = "adam";
  double lr = 0;  // 0: the optimizer's default
  std::size_t batch_size = 100, iters = 1000, eval_interval = 10;
  std::size_t train_size = 5000, test_size = 1000;  // 0 = all
  bool float64 = false;                             // --numpy-compatible
};

template <class T>
void save_checkpoint(const std::string& path, const RunOptions& run, const SimpleConvNet<T>& net,
                     Optimizer<T>& optimizer, const Trainer<T>& trainer);

// Reads a checkpoint; refuses a file that is not one ("x.npz: not a convnet
// checkpoint (no array convnet_checkpoint)").
NpzArchive read_checkpoint(const std::string& path);
RunOptions checkpoint_options(const NpzArchive& a, const std::string& path);
// Puts the network's parameters, the optimizer's state and the trainer's
// state back; every array's name, dtype and shape is checked.
template <class T>
void restore_checkpoint(const NpzArchive& a, const std::string& path, SimpleConvNet<T>& net,
                        Optimizer<T>& optimizer, Trainer<T>& trainer);

}  // namespace convnet
