#pragma once
// The layer contract (DESIGN.md §3), the notebook's: forward(x) keeps what
// backward needs; backward(dout) returns dx and leaves dW/db in the layer.
#include <string>
#include <utility>
#include <vector>

#include "convnet/core/tensor.hpp"

namespace convnet {

enum class Mode { Train, Eval };

// One named parameter of a layer: its value and its gradient.
template <class T>
struct ParamRef {
  std::string name;  // "W", "b" within a layer; "W1".."b3" within a network
  Tensor<T>* value;
  Tensor<T>* grad;
};

// An ordered name -> tensor map: the notebook's `params` and `grad` dicts.
// It points into the layers that own the tensors (no copies).
template <class T>
class NamedTensors {
 public:
  using Item = std::pair<std::string, Tensor<T>*>;
  void add(std::string name, Tensor<T>* t) { items_.emplace_back(std::move(name), t); }
  Tensor<T>& operator[](const std::string& name) const { return at(name); }
  Tensor<T>& at(const std::string& name) const {
    for (auto& [n, t] : items_)
      if (n == name) return *t;
    throw Error("no parameter named '" + name + "'");
  }
  bool contains(const std::string& name) const {
    for (auto& [n, t] : items_)
      if (n == name) return true;
    return false;
  }
  std::size_t size() const { return items_.size(); }
  const Item& item(std::size_t i) const { return items_[i]; }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<Item> items_;
};

template <class T>
class Layer {
 public:
  virtual ~Layer() = default;
  // Computes and caches for backward; the returned tensor is owned by the
  // layer and valid until its next forward. x must stay alive until backward.
  virtual const Tensor<T>& forward(const Tensor<T>& x, Mode mode = Mode::Train) = 0;
  // Returns dx (owned by the layer); leaves parameter gradients in the layer.
  virtual const Tensor<T>& backward(const Tensor<T>& dout) = 0;
  virtual std::vector<ParamRef<T>> params() { return {}; }
  // State that is not trained but saved with the model (BatchNormalization's
  // running_mean, running_var): name within the layer -> tensor.
  virtual std::vector<std::pair<std::string, Tensor<T>*>> buffers() { return {}; }
};

}  // namespace convnet
