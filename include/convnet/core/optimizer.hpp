#pragma once
// The book's optimizers (common/optimizer.py), same formulas, same defaults.
// update(params, grads) walks the named parameters, like optimizer.update(network.params, grad).
// Constructor parameters are init_*: named like the public fields they set,
// they would trip -Wshadow in the builds of programs that include this.
#include <memory>
#include <string>
#include <vector>

#include "convnet/core/layers/layer.hpp"

namespace convnet {

template <class T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void update(const NamedTensors<T>& params, const NamedTensors<T>& grads) = 0;
  virtual std::string name() const = 0;
  // Creates the per-parameter state (zeros) now rather than at the first
  // update, so a checkpoint can be restored into it.
  virtual void prepare(const NamedTensors<T>& params) { (void)params; }
  // The optimizer's per-parameter state (e.g. "m/W1", "v/W1"), for checkpoints.
  virtual std::vector<std::pair<std::string, Tensor<T>*>> state() { return {}; }
  // Step counter (Adam's iter); 0 for optimizers without one.
  virtual long long& iter() { return iter_; }

 protected:
  // Lazily created per-parameter buffers, zero-filled, in params' order
  // (the book's `if self.v is None: self.v = {key: zeros_like(val)}`).
  void ensure_(std::vector<Tensor<T>>& buf, const NamedTensors<T>& params);
  void check_(const NamedTensors<T>& params, const NamedTensors<T>& grads) const;
  std::vector<std::string> names_;
  long long iter_ = 0;
};

// params -= lr * grad
template <class T>
class SGD : public Optimizer<T> {
 public:
  explicit SGD(T init_lr = T(0.01)) : lr(init_lr) {}
  void update(const NamedTensors<T>& params, const NamedTensors<T>& grads) override;
  std::string name() const override { return "sgd"; }
  T lr;
};

// v = momentum*v - lr*grad; params += v
template <class T>
class Momentum : public Optimizer<T> {
 public:
  explicit Momentum(T init_lr = T(0.01), T init_momentum = T(0.9)) : lr(init_lr), momentum(init_momentum) {}
  void update(const NamedTensors<T>& params, const NamedTensors<T>& grads) override;
  std::string name() const override { return "momentum"; }
  void prepare(const NamedTensors<T>& params) override { this->ensure_(v, params); }
  std::vector<std::pair<std::string, Tensor<T>*>> state() override;
  T lr, momentum;
  std::vector<Tensor<T>> v;
};

// The book's Nesterov: v = momentum*v - lr*grad;
// params += momentum^2 * v; params -= (1 + momentum) * lr * grad
template <class T>
class Nesterov : public Optimizer<T> {
 public:
  explicit Nesterov(T init_lr = T(0.01), T init_momentum = T(0.9)) : lr(init_lr), momentum(init_momentum) {}
  void update(const NamedTensors<T>& params, const NamedTensors<T>& grads) override;
  std::string name() const override { return "nesterov"; }
  void prepare(const NamedTensors<T>& params) override { this->ensure_(v, params); }
  std::vector<std::pair<std::string, Tensor<T>*>> state() override;
  T lr, momentum;
  std::vector<Tensor<T>> v;
};

// h += grad^2; params -= lr * grad / (sqrt(h) + 1e-7)
template <class T>
class AdaGrad : public Optimizer<T> {
 public:
  explicit AdaGrad(T init_lr = T(0.01)) : lr(init_lr) {}
  void update(const NamedTensors<T>& params, const NamedTensors<T>& grads) override;
  std::string name() const override { return "adagrad"; }
  void prepare(const NamedTensors<T>& params) override { this->ensure_(h, params); }
  std::vector<std::pair<std::string, Tensor<T>*>> state() override;
  T lr;
  std::vector<Tensor<T>> h;
};

// h = decay*h + (1-decay)*grad^2; params -= lr * grad / (sqrt(h) + 1e-7)
template <class T>
class RMSprop : public Optimizer<T> {
 public:
  explicit RMSprop(T init_lr = T(0.01), T init_decay_rate = T(0.99))
      : lr(init_lr), decay_rate(init_decay_rate) {}
  void update(const NamedTensors<T>& params, const NamedTensors<T>& grads) override;
  std::string name() const override { return "rmsprop"; }
  void prepare(const NamedTensors<T>& params) override { this->ensure_(h, params); }
  std::vector<std::pair<std::string, Tensor<T>*>> state() override;
  T lr, decay_rate;
  std::vector<Tensor<T>> h;
};

// The book's Adam (not PyTorch's): iter += 1;
// lr_t = lr * sqrt(1 - beta2^iter) / (1 - beta1^iter);
// m += (1-beta1)*(grad - m); v += (1-beta2)*(grad^2 - v);
// params -= lr_t * m / (sqrt(v) + 1e-7)
template <class T>
class Adam : public Optimizer<T> {
 public:
  explicit Adam(T init_lr = T(0.001), T init_beta1 = T(0.9), T init_beta2 = T(0.999))
      : lr(init_lr), beta1(init_beta1), beta2(init_beta2) {}
  void update(const NamedTensors<T>& params, const NamedTensors<T>& grads) override;
  std::string name() const override { return "adam"; }
  void prepare(const NamedTensors<T>& params) override {
    this->ensure_(m, params);
    this->ensure_(v, params);
  }
  std::vector<std::pair<std::string, Tensor<T>*>> state() override;
  T lr, beta1, beta2;
  std::vector<Tensor<T>> m, v;
};

// Builds one by name ("sgd", "momentum", "nesterov", "adagrad", "rmsprop",
// "adam"); lr <= 0 means the optimizer's default. Throws on an unknown name.
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const std::string& name, double lr = 0);
const std::vector<std::string>& optimizer_names();

}  // namespace convnet
