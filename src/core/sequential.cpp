#include "convnet/core/sequential.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "convnet/core/layers/affine.hpp"
#include "convnet/core/layers/conv_relu_pool.hpp"
#include "convnet/core/layers/convolution.hpp"
#include "convnet/core/layers/pooling.hpp"
#include "convnet/core/layers/relu.hpp"

namespace convnet {

bool fuses_conv_relu_pool(const Architecture& a, std::size_t i) {
  if (i != 0 || i + 2 >= a.layers.size()) return false;
  const LayerSpec &c = a.layers[i], &r = a.layers[i + 1], &p = a.layers[i + 2];
  return c.type == LayerType::Conv && r.type == LayerType::Relu && p.type == LayerType::Pool &&
         ConvReluPool<float>::supports(c.stride, p.size, p.stride, p.pad);
}

template <class T>
Sequential<T>::Sequential(const Architecture& arch, std::uint32_t seed, bool fuse) : arch_(arch) {
  RandomState rng(seed);
  build_(rng, fuse);
}

template <class T>
Sequential<T>::Sequential(const Architecture& arch, RandomState& rng, bool fuse) : arch_(arch) {
  build_(rng, fuse);
}

template <class T>
void Sequential<T>::build_(RandomState& rng, bool fuse) {
  const Architecture& arch = arch_;
  const std::vector<LayerInfo> info = describe(arch);  // validates; the shapes and names
  // weight_init_std * np.random.randn(*shape), drawn as the layers are built.
  auto randn = [&](std::vector<std::size_t> shape) {
    Tensor<T> t(std::move(shape));
    for (auto& v : t) v = T(arch.weight_init_std * rng.randn());
    return t;
  };
  std::vector<std::size_t> in{arch.input[0], arch.input[1], arch.input[2]};
  std::size_t numbered = 0;  // layers with parameters so far: W1, W2, ...
  auto add = [&](std::string name, std::unique_ptr<Layer<T>> layer) {
    for (ParamRef<T>& p : layer->params()) {
      const std::string n = p.name + std::to_string(numbered + 1);
      params_.add(n, p.value);
      grads_.add(n, p.grad);
    }
    if (!layer->params().empty()) ++numbered;
    layers_.emplace_back(std::move(name), layer.get());
    owned_.push_back(std::move(layer));
  };
  for (std::size_t i = 0; i < arch.layers.size(); ++i) {
    const LayerSpec& l = arch.layers[i];
    switch (l.type) {
      case LayerType::Conv: {
        Tensor<T> W = randn({l.filters, in[0], l.size, l.size});
        if constexpr (std::is_same_v<T, float>) {
          if (fuse && fuses_conv_relu_pool(arch, i)) {
            add(info[i].name + "+" + info[i + 1].name + "+" + info[i + 2].name,
                std::make_unique<ConvReluPool<T>>(std::move(W), Tensor<T>({l.filters}), l.pad));
            fused_ = true;
            in = info[i + 2].output;
            i += 2;
            continue;
          }
        }
        auto conv = std::make_unique<Convolution<T>>(std::move(W), Tensor<T>({l.filters}), l.stride, l.pad);
        if (i == 0) conv->set_compute_dx(false);  // its input is the data: no gradient needed
        add(info[i].name, std::move(conv));
        break;
      }
      case LayerType::Relu: add(info[i].name, std::make_unique<Relu<T>>()); break;
      case LayerType::Pool:
        add(info[i].name, std::make_unique<Pooling<T>>(l.size, l.size, l.stride, l.pad));
        break;
      case LayerType::Affine: {
        std::size_t D = 1;
        for (auto d : in) D *= d;  // x flattened to (N, D)
        add(info[i].name, std::make_unique<Affine<T>>(randn({D, l.units}), Tensor<T>({l.units})));
        break;
      }
    }
    in = info[i].output;
  }
}

template <class T>
Layer<T>& Sequential<T>::layer(const std::string& name) const {
  std::string names;
  for (auto& [n, l] : layers_) {
    if (n == name) return *l;
    names += (names.empty() ? "" : ", ") + n;
  }
  throw Error("Sequential: no layer named '" + name + "' (the layers: " + names + ")");
}

template <class T>
void Sequential<T>::check_input_(const Tensor<T>& x) const {
  const auto& d = arch_.input;
  if (x.ndim() != 4 || x.shape(0) == 0 || x.shape(1) != d[0] || x.shape(2) != d[1] || x.shape(3) != d[2])
    throw Error("Sequential: input " + shape_str(x.shape()) + " does not match the architecture's input; expected (N, " +
                std::to_string(d[0]) + ", " + std::to_string(d[1]) + ", " + std::to_string(d[2]) + ")");
}

// notebook In [9] predict: every layer's forward, in order.
template <class T>
const Tensor<T>& Sequential<T>::predict(const Tensor<T>& x, Mode mode) {
  check_input_(x);
  const Tensor<T>* h = &x;
  for (auto& [name, layer] : layers_) h = &layer->forward(*h, mode);
  return *h;
}

template <class T>
T Sequential<T>::loss(const Tensor<T>& x, const std::vector<std::int32_t>& t, Mode mode) {
  return last_layer_.forward(predict(x, mode), t);
}

template <class T>
T Sequential<T>::loss(const Tensor<T>& x, const Tensor<T>& t) {
  return last_layer_.forward(predict(x), t);
}

template <class T>
const NamedTensors<T>& Sequential<T>::backward_() {
  const Tensor<T>* dout = &last_layer_.backward(T(1));
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) dout = &it->second->backward(*dout);
  return grads_;
}

template <class T>
const NamedTensors<T>& Sequential<T>::gradient(const Tensor<T>& x, const std::vector<std::int32_t>& t) {
  loss(x, t, Mode::Train);
  return backward_();
}

template <class T>
const NamedTensors<T>& Sequential<T>::gradient(const Tensor<T>& x, const Tensor<T>& t) {
  loss(x, t);
  return backward_();
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace convnet
