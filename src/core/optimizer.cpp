#include "convnet/core/optimizer.hpp"

#include <cmath>

#include "kernels/kernels.hpp"

namespace convnet {

template <class T>
void Optimizer<T>::check_(const NamedTensors<T>& params, const NamedTensors<T>& grads) const {
  if (params.size() != grads.size())
    throw Error("optimizer: " + std::to_string(params.size()) + " parameters but " +
                std::to_string(grads.size()) + " gradients");
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& [pn, p] = params.item(i);
    const auto& [gn, g] = grads.item(i);
    if (pn != gn || p->shape() != g->shape())
      throw Error("optimizer: parameter " + pn + " " + shape_str(p->shape()) + " does not match gradient " +
                  gn + " " + shape_str(g->shape()));
  }
}

template <class T>
void Optimizer<T>::ensure_(std::vector<Tensor<T>>& buf, const NamedTensors<T>& params) {
  if (buf.size() == params.size()) {
    for (std::size_t i = 0; i < params.size(); ++i)
      if (buf[i].shape() != params.item(i).second->shape() || names_[i] != params.item(i).first)
        throw Error("optimizer: parameter " + params.item(i).first + " changed since the first update");
    return;
  }
  buf.clear();
  names_.clear();
  for (const auto& [name, p] : params) {
    buf.emplace_back(p->shape());
    names_.push_back(name);
  }
}

template <class T>
void SGD<T>::update(const NamedTensors<T>& params, const NamedTensors<T>& grads) {
  this->check_(params, grads);
  for (std::size_t k = 0; k < params.size(); ++k)
    kernels::sgd_update(params.item(k).second->size(), lr, grads.item(k).second->data(),
                        params.item(k).second->data());
}

template <class T>
void Momentum<T>::update(const NamedTensors<T>& params, const NamedTensors<T>& grads) {
  this->check_(params, grads);
  this->ensure_(v, params);
  for (std::size_t k = 0; k < params.size(); ++k)
    kernels::momentum_update(v[k].size(), lr, momentum, grads.item(k).second->data(), v[k].data(),
                             params.item(k).second->data());
}

template <class T>
void Nesterov<T>::update(const NamedTensors<T>& params, const NamedTensors<T>& grads) {
  this->check_(params, grads);
  this->ensure_(v, params);
  for (std::size_t k = 0; k < params.size(); ++k)
    kernels::nesterov_update(v[k].size(), lr, momentum, grads.item(k).second->data(), v[k].data(),
                             params.item(k).second->data());
}

template <class T>
void AdaGrad<T>::update(const NamedTensors<T>& params, const NamedTensors<T>& grads) {
  this->check_(params, grads);
  this->ensure_(h, params);
  for (std::size_t k = 0; k < params.size(); ++k)
    kernels::adagrad_update(h[k].size(), lr, grads.item(k).second->data(), h[k].data(),
                            params.item(k).second->data());
}

template <class T>
void RMSprop<T>::update(const NamedTensors<T>& params, const NamedTensors<T>& grads) {
  this->check_(params, grads);
  this->ensure_(h, params);
  for (std::size_t k = 0; k < params.size(); ++k)
    kernels::rmsprop_update(h[k].size(), lr, decay_rate, grads.item(k).second->data(), h[k].data(),
                            params.item(k).second->data());
}

template <class T>
void Adam<T>::update(const NamedTensors<T>& params, const NamedTensors<T>& grads) {
  this->check_(params, grads);
  this->ensure_(m, params);
  this->ensure_(v, params);
  this->iter_ += 1;
  const double it = double(this->iter_);
  // Computed as NumPy does it: Python floats (double), then applied in T.
  const T lr_t = T(double(lr) * std::sqrt(1.0 - std::pow(double(beta2), it)) /
                   (1.0 - std::pow(double(beta1), it)));
  const T one_m_b1 = T(1) - beta1, one_m_b2 = T(1) - beta2;
  for (std::size_t k = 0; k < params.size(); ++k)
    kernels::adam_update(m[k].size(), lr_t, one_m_b1, one_m_b2, grads.item(k).second->data(), m[k].data(),
                         v[k].data(), params.item(k).second->data());
}

namespace {
template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> named_state(const char* prefix,
                                                           std::vector<Tensor<T>>& bufs,
                                                           const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, Tensor<T>*>> out;
  for (std::size_t i = 0; i < bufs.size() && i < names.size(); ++i)
    out.emplace_back(std::string(prefix) + "/" + names[i], &bufs[i]);
  return out;
}
}  // namespace

template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> Momentum<T>::state() { return named_state("v", v, this->names_); }
template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> Nesterov<T>::state() { return named_state("v", v, this->names_); }
template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> AdaGrad<T>::state() { return named_state("h", h, this->names_); }
template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> RMSprop<T>::state() { return named_state("h", h, this->names_); }
template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> Adam<T>::state() {
  auto s = named_state("m", m, this->names_);
  auto sv = named_state("v", v, this->names_);
  s.insert(s.end(), sv.begin(), sv.end());
  return s;
}

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names{"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"};
  return names;
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const std::string& name, double lr) {
  const bool d = !(lr > 0);
  if (name == "sgd") return d ? std::make_unique<SGD<T>>() : std::make_unique<SGD<T>>(T(lr));
  if (name == "momentum") return d ? std::make_unique<Momentum<T>>() : std::make_unique<Momentum<T>>(T(lr));
  if (name == "nesterov") return d ? std::make_unique<Nesterov<T>>() : std::make_unique<Nesterov<T>>(T(lr));
  if (name == "adagrad") return d ? std::make_unique<AdaGrad<T>>() : std::make_unique<AdaGrad<T>>(T(lr));
  if (name == "rmsprop") return d ? std::make_unique<RMSprop<T>>() : std::make_unique<RMSprop<T>>(T(lr));
  if (name == "adam") return d ? std::make_unique<Adam<T>>() : std::make_unique<Adam<T>>(T(lr));
  throw Error("unknown optimizer '" + name +
              "' (expected one of sgd, momentum, nesterov, adagrad, rmsprop, adam)");
}

#define CONVNET_INSTANTIATE(T)                                                   \
  template class Optimizer<T>;                                                   \
  template class SGD<T>;                                                         \
  template class Momentum<T>;                                                    \
  template class Nesterov<T>;                                                    \
  template class AdaGrad<T>;                                                     \
  template class RMSprop<T>;                                                     \
  template class Adam<T>;                                                        \
  template std::unique_ptr<Optimizer<T>> make_optimizer<T>(const std::string&, double);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(double)

}  // namespace convnet
