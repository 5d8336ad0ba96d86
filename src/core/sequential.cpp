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

std::vector<LayerFootprint> sequential_footprint(const Architecture& a, bool float32, bool fuse) {
  auto mul = [](std::initializer_list<std::size_t> v) {
    std::size_t r = 1;
    for (auto x : v) r = sat_mul(r, x);
    return r;
  };
  auto add = [](std::initializer_list<std::size_t> v) {
    std::size_t r = 0;
    for (auto x : v) r = sat_add(r, x);
    return r;
  };
  auto slide = [](std::size_t side, std::size_t window, std::size_t stride, std::size_t pad) -> std::size_t {
    const std::size_t padded = sat_add(side, sat_mul(2, pad));
    return window > padded || stride == 0 ? 0 : (padded - window) / stride + 1;
  };
  std::size_t C = a.input[0], H = a.input[1], W = a.input[2];
  std::size_t n = mul({C, H, W});  // elements of one image's activation
  std::vector<LayerFootprint> f;
  // The batch drawn from the data (the trainer's x_batch_ / x_eval_, accuracy()'s copy).
  f.push_back({"input", 0, 0, n, mul({2, n})});
  std::size_t n_conv = 0, n_relu = 0, n_pool = 0, n_affine = 0;
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const LayerSpec& l = a.layers[i];
    const std::size_t in = n;
    switch (l.type) {
      case LayerType::Conv: {
        const std::size_t K = mul({C, l.size, l.size}), oh = slide(H, l.size, l.stride, l.pad),
                          ow = slide(W, l.size, l.stride, l.pad);
        const std::size_t params = add({mul({l.filters, K}), l.filters}), out = mul({l.filters, oh, ow});
        const std::string name = "Conv" + std::to_string(++n_conv);
        if (float32 && fuse && fuses_conv_relu_pool(a, i)) {
          // ConvReluPool: the zero-padded input (plus the kernel's slack), the
          // pooled output and its argmax; packed weights. Nothing else.
          const std::size_t xpad = add({mul({C, sat_add(H, sat_mul(2, l.pad)), sat_add(W, sat_mul(2, l.pad))}), 64,
                                        l.size});
          C = l.filters, H = oh / 2, W = ow / 2, n = mul({C, H, W});
          f.push_back({name + "+Relu" + std::to_string(++n_relu) + "+Pool" + std::to_string(++n_pool), params,
                       mul({2, sat_add(l.filters, 16), sat_add(K, 1)}), add({xpad, mul({2, n})}), add({xpad, n})});
          i += 2;
          continue;
        }
        // im2col + GEMM: col (P, K) per image, the output and the GEMM's
        // transposed output; dx unless it is the first layer.
        const std::size_t col = mul({oh, ow, K}), fwd = add({col, mul({2, out})});
        f.push_back({name, params, 0, add({fwd, i == 0 ? 0 : in}), fwd});
        C = l.filters, H = oh, W = ow, n = out;
        break;
      }
      case LayerType::Relu:
        f.push_back({"Relu" + std::to_string(++n_relu), 0, 0, mul({2, n}), n});  // out, dx
        break;
      case LayerType::Pool: {
        H = slide(H, l.size, l.stride, l.pad), W = slide(W, l.size, l.stride, l.pad), n = mul({C, H, W});
        f.push_back({"Pool" + std::to_string(++n_pool), 0, 0, add({mul({2, n}), in}), mul({2, n})});  // out, argmax, dx
        break;
      }
      case LayerType::Affine:
        n = l.units, C = l.units, H = W = 1;
        f.push_back({"Affine" + std::to_string(++n_affine), add({mul({in, n}), n}), 0, add({n, in}), n});  // out, dx
        break;
    }
  }
  f.push_back({"SoftmaxWithLoss", 0, 0, mul({3, n}), n});  // y, dx, one-hot t
  return f;
}

std::vector<std::pair<std::string, std::vector<std::size_t>>> sequential_param_shapes(const Architecture& a) {
  const std::vector<LayerInfo> info = describe(a);
  std::vector<std::pair<std::string, std::vector<std::size_t>>> shapes;
  std::vector<std::size_t> in{a.input[0], a.input[1], a.input[2]};
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const LayerSpec& l = a.layers[i];
    const std::string k = std::to_string(shapes.size() / 2 + 1);
    if (l.type == LayerType::Conv) {
      shapes.push_back({"W" + k, {l.filters, in[0], l.size, l.size}});
      shapes.push_back({"b" + k, {l.filters}});
    } else if (l.type == LayerType::Affine) {
      std::size_t D = 1;
      for (auto d : in) D *= d;
      shapes.push_back({"W" + k, {D, l.units}});
      shapes.push_back({"b" + k, {l.units}});
    }
    in = info[i].output;
  }
  return shapes;
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
