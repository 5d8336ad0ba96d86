#pragma once
// The one batched evaluation path over a data set (notebook In [9]
// accuracy(), batch_size=100): the trainer's accuracies, `convnet eval`'s
// accuracy and confusion matrix. Each batch is converted from the uint8
// data as it is drawn and goes through network.predict(x, Mode::Eval).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "convnet/core/network.hpp"
#include "convnet/core/sequential.hpp"
#include "convnet/io/mnist.hpp"

namespace convnet {

// Images per forward when evaluating in batches of batch_size: each image's
// scores are its own, so networks on the fast kernels take several batches
// at once (about 500 images, the affine layers' weights then packed once
// per forward instead of per 100 images), within 64 MiB of activations;
// NumPy-exact networks keep batch_size (the notebook's batches).
std::size_t eval_forward_size(const Architecture& arch, Kernels kernels, std::size_t elem_size,
                              std::size_t batch_size);

template <class T>
class Evaluator {
 public:
  // normalize: pixels / 255 as load_mnist(normalize=True).
  explicit Evaluator(std::size_t batch_size = 100, bool normalize = true);

  // How many images of d the network classifies correctly; the last partial
  // batch counts too. A Sequential takes eval_forward_size images per
  // forward. When `predicted` is given it receives the class of every image,
  // in order. Allocates nothing once its buffers have grown (and the size
  // for this network is known).
  std::size_t count_correct(Network<T>& net, const Dataset& d, std::vector<std::int32_t>* predicted = nullptr);
  // The same over the images [begin, begin + n) of d (a process's share).
  std::size_t count_correct(Network<T>& net, const Dataset& d, std::size_t begin, std::size_t n);
  // count_correct / d.count (0 for an empty set).
  double accuracy(Network<T>& net, const Dataset& d);

 private:
  // Images per predict for net (eval_forward_size for a Sequential),
  // computed for the first network and again when another one is passed.
  std::size_t forward_size(const Network<T>& net);

  std::size_t batch_size_;
  bool normalize_;
  const Network<T>* sized_ = nullptr;  // the network step_ is for
  std::size_t step_ = 0;
  Tensor<T> x_;
  std::vector<std::int32_t> t_;
};

}  // namespace convnet
