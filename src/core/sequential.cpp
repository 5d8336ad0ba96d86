#include "convnet/core/sequential.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include <map>

#include "convnet/core/layers/affine.hpp"
#include "convnet/core/layers/batch_normalization.hpp"
#include "convnet/core/layers/dropout.hpp"
#include "convnet/core/layers/sigmoid.hpp"
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

bool fuses_conv_relu(const Architecture& a, std::size_t i) {
  if (i + 1 >= a.layers.size() || fuses_conv_relu_pool(a, i)) return false;
  const LayerSpec &c = a.layers[i], &r = a.layers[i + 1];
  return c.type == LayerType::Conv && r.type == LayerType::Relu &&
         Convolution<float>::direct_supports(c.stride, c.size, c.size, c.pad);
}

std::vector<LayerFootprint> sequential_footprint(const Architecture& a, Kernels kernels) {
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
  std::size_t n_conv = 0, n_relu = 0, n_pool = 0, n_affine = 0, n_sigmoid = 0, n_dropout = 0, n_batchnorm = 0;
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const LayerSpec& l = a.layers[i];
    const std::size_t in = n;
    switch (l.type) {
      case LayerType::Conv: {
        const std::size_t K = mul({C, l.size, l.size}), oh = slide(H, l.size, l.stride, l.pad),
                          ow = slide(W, l.size, l.stride, l.pad);
        const std::size_t params = add({mul({l.filters, K}), l.filters}), out = mul({l.filters, oh, ow});
        const std::string name = "Conv" + std::to_string(++n_conv);
        if (kernels == Kernels::Fast && fuses_conv_relu_pool(a, i)) {
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
        C = l.filters, H = oh, W = ow, n = out;
        if (kernels == Kernels::Fast && fuses_conv_relu(a, i)) {  // the Relu keeps nothing of its own
          f.push_back({name + "+Relu" + std::to_string(++n_relu), params, 0, add({fwd, i == 0 ? 0 : in}), fwd});
          ++i;
          break;
        }
        f.push_back({name, params, 0, add({fwd, i == 0 ? 0 : in}), fwd});
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
      case LayerType::Sigmoid:
        f.push_back({"Sigmoid" + std::to_string(++n_sigmoid), 0, 0, mul({2, n}), n});  // out, dx
        break;
      case LayerType::Dropout:
        f.push_back({"Dropout" + std::to_string(++n_dropout), 0, 0, mul({3, n}), n});  // out, mask, dx
        break;
      case LayerType::BatchNorm: {
        const std::size_t F = l.per_channel ? C : n;
        // out, xc, xn, dx and the backward's scratch; gamma, beta, running stats
        f.push_back({"BatchNorm" + std::to_string(++n_batchnorm), mul({2, F}), mul({4, F}), mul({5, n}), n});
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
  std::size_t weighted = 0, batchnorms = 0;
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const LayerSpec& l = a.layers[i];
    const std::string k = std::to_string(weighted + 1);
    weighted += l.type == LayerType::Conv || l.type == LayerType::Affine;
    if (l.type == LayerType::Conv) {
      shapes.push_back({"W" + k, {l.filters, in[0], l.size, l.size}});
      shapes.push_back({"b" + k, {l.filters}});
    } else if (l.type == LayerType::Affine) {
      std::size_t D = 1;
      for (auto d : in) D *= d;
      shapes.push_back({"W" + k, {D, l.units}});
      shapes.push_back({"b" + k, {l.units}});
    } else if (l.type == LayerType::BatchNorm) {
      std::size_t F = l.per_channel ? in[0] : 1;
      if (!l.per_channel)
        for (auto d : in) F *= d;
      const std::string m = std::to_string(++batchnorms);
      for (const char* n : {"gamma", "beta", "running_mean", "running_var"}) shapes.push_back({n + m, {F}});
    }
    in = info[i].output;
  }
  return shapes;
}

template <class T>
Sequential<T>::Sequential(const Architecture& arch, std::uint32_t seed, Kernels kernels)
    : arch_(arch), own_rng_(std::make_unique<RandomState>(seed)), rng_(own_rng_.get()), kernels_(kernels) {
  build_(*rng_);
}

template <class T>
Sequential<T>::Sequential(const Architecture& arch, RandomState& rng, Kernels kernels)
    : arch_(arch), rng_(&rng), kernels_(kernels) {
  build_(rng);
}

template <class T>
void Sequential<T>::build_(RandomState& rng) {
  const Architecture& arch = arch_;
  const std::vector<LayerInfo> info = describe(arch);  // validates; the shapes and names
  // scale * np.random.randn(*shape), drawn as the layers are built; the
  // scale is weight_init_std, or He's / Xavier's from the fan-in (the book's
  // MultiLayerNet and DeepConvNet).
  auto randn = [&](std::vector<std::size_t> shape, double scale) {
    Tensor<T> t(std::move(shape));
    for (auto& v : t) v = T(scale * rng.randn());
    return t;
  };
  std::vector<std::size_t> in{arch.input[0], arch.input[1], arch.input[2]};
  // Parameters are numbered per family, as the book: W1 b1 W2 b2 ... over the
  // conv and affine layers, gamma1 beta1 ... over the BatchNorm layers (whose
  // running_mean1, running_var1 are buffers).
  std::map<std::string, std::size_t> numbered;
  auto add = [&](std::string name, std::unique_ptr<Layer<T>> layer) {
    const auto ps = layer->params();
    const auto bs = layer->buffers();
    if (!ps.empty() || !bs.empty()) {
      const std::string k = std::to_string(++numbered[ps.empty() ? bs[0].first : ps[0].name]);
      for (const ParamRef<T>& p : ps) params_.add(p.name + k, p.value), grads_.add(p.name + k, p.grad);
      for (const auto& [n, t] : bs) buffers_.add(n + k, t);
    }
    layers_.emplace_back(std::move(name), layer.get());
    owned_.push_back(std::move(layer));
  };
  auto count = [](const std::vector<std::size_t>& shape) {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  };
  for (std::size_t i = 0; i < arch.layers.size(); ++i) {
    const LayerSpec& l = arch.layers[i];
    switch (l.type) {
      case LayerType::Conv: {
        Tensor<T> W = randn({l.filters, in[0], l.size, l.size}, arch.init_scale(i, in[0] * l.size * l.size));
        if (kernels_ == Kernels::Fast && fuses_conv_relu_pool(arch, i)) {
          add(info[i].name + "+" + info[i + 1].name + "+" + info[i + 2].name,
              std::make_unique<ConvReluPool<T>>(std::move(W), Tensor<T>({l.filters}), l.pad));
          fused_ = true;
          in = info[i + 2].output;
          i += 2;
          continue;
        }
        auto conv = std::make_unique<Convolution<T>>(std::move(W), Tensor<T>({l.filters}), l.stride, l.pad);
        conv->set_algorithm(kernels_ == Kernels::NumpyExact ? ConvAlgo::Reference : ConvAlgo::Direct);
        if (i == 0) conv->set_compute_dx(false);  // its input is the data: no gradient needed
        if (kernels_ == Kernels::Fast && fuses_conv_relu(arch, i)) {
          conv->set_fused_relu(true);
          add(info[i].name + "+" + info[i + 1].name, std::move(conv));
          in = info[i + 1].output;
          ++i;
          continue;
        }
        add(info[i].name, std::move(conv));
        break;
      }
      case LayerType::Relu: add(info[i].name, std::make_unique<Relu<T>>()); break;
      case LayerType::Pool:
        add(info[i].name, std::make_unique<Pooling<T>>(l.size, l.size, l.stride, l.pad));
        break;
      case LayerType::Affine: {
        const std::size_t D = count(in);  // x flattened to (N, D)
        add(info[i].name, std::make_unique<Affine<T>>(randn({D, l.units}, arch.init_scale(i, D)), Tensor<T>({l.units})));
        break;
      }
      case LayerType::Sigmoid: add(info[i].name, std::make_unique<Sigmoid<T>>()); break;
      case LayerType::Dropout: add(info[i].name, std::make_unique<Dropout<T>>(l.ratio, rng_)); break;
      case LayerType::BatchNorm: {
        // gamma = ones, beta = zeros (the book's MultiLayerNetExtend)
        const std::size_t F = l.per_channel ? in[0] : count(in);
        Tensor<T> gamma({F});
        for (auto& v : gamma) v = T(1);
        add(info[i].name,
            std::make_unique<BatchNormalization<T>>(std::move(gamma), Tensor<T>({F}), l.momentum, l.per_channel));
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

template <class T>
void Sequential<T>::set_batch_share(std::size_t offset, std::size_t total) {
  for (auto& [name, layer] : layers_)
    if (auto* d = dynamic_cast<Dropout<T>*>(layer)) d->set_batch_share(offset, total);
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace convnet
