#include "convnet/core/simple_convnet.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "convnet/core/im2col.hpp"
#include "kernels/kernels.hpp"

namespace convnet {

namespace {
std::string sizes(std::size_t h, std::size_t w) { return std::to_string(h) + "x" + std::to_string(w); }
}  // namespace

SimpleConvNetShape simple_convnet_shape(const SimpleConvNetConfig& c) {
  const auto& cp = c.conv_param;
  if (c.input_dim[0] == 0 || c.input_dim[1] == 0 || c.input_dim[2] == 0)
    throw Error("SimpleConvNet: input_dim " + shape_str({c.input_dim[0], c.input_dim[1], c.input_dim[2]}) +
                " must be positive");
  if (cp.filter_num == 0 || c.hidden_size == 0 || c.output_size == 0)
    throw Error("SimpleConvNet: filter_num, hidden_size and output_size must be >= 1");
  if (!(c.weight_init_std >= 0)) throw Error("SimpleConvNet: weight_init_std must be >= 0");
  if (cp.stride == 0) throw Error("Conv1: stride must be >= 1, got 0");
  if (cp.filter_size == 0) throw Error("Conv1: filter size must be >= 1, got 0");
  const std::size_t H = c.input_dim[1], W = c.input_dim[2];
  const std::string setting = "filter size " + std::to_string(cp.filter_size) + ", pad " + std::to_string(cp.pad) +
                              ", stride " + std::to_string(cp.stride) + " on " + sizes(H, W) + " images";
  // H + 2*pad must not wrap (a pad near SIZE_MAX/2 would look small).
  if (cp.pad > (SIZE_MAX - std::max(H, W)) / 2) throw Error("Conv1: pad " + std::to_string(cp.pad) + " is too large");
  for (std::size_t side : {H, W})
    if (cp.filter_size > side + 2 * cp.pad)
      throw Error("Conv1: filter " + std::to_string(cp.filter_size) + " is larger than the padded input " +
                  std::to_string(side) + " + 2*" + std::to_string(cp.pad) + " (" + setting +
                  "); its output would be empty");
  SimpleConvNetShape s;
  s.conv_h = (H + 2 * cp.pad - cp.filter_size) / cp.stride + 1;
  s.conv_w = (W + 2 * cp.pad - cp.filter_size) / cp.stride + 1;
  // Pool1: 2x2 windows with stride 2, no pad (floor, as the layer computes it).
  if (s.conv_h < 2 || s.conv_w < 2)
    throw Error("Pool1: a 2x2 window with stride 2 does not fit the " + sizes(s.conv_h, s.conv_w) +
                " output of Conv1 (" + setting + "); its output would be empty");
  s.pool_h = s.conv_h / 2;
  s.pool_w = s.conv_w / 2;
  return s;
}

std::vector<LayerFootprint> simple_convnet_footprint(const SimpleConvNetConfig& c, bool float32) {
  const SimpleConvNetShape s = simple_convnet_shape(c);
  const auto& cp = c.conv_param;
  const std::size_t C = c.input_dim[0], FN = cp.filter_num, Hd = c.hidden_size, O = c.output_size;
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
  const std::size_t I = mul({C, c.input_dim[1], c.input_dim[2]});
  const std::size_t K = mul({C, cp.filter_size, cp.filter_size});  // im2col columns
  const std::size_t P = mul({s.conv_h, s.conv_w});                  // Conv1 output pixels
  const std::size_t conv = mul({FN, P}), pool = mul({FN, s.pool_h, s.pool_w});
  const std::size_t params1 = add({mul({FN, K}), FN});
  std::vector<LayerFootprint> f;
  // The batch drawn from the data (Trainer's x_batch_ / x_eval_, accuracy()'s copy).
  f.push_back({"input", 0, 0, I, mul({2, I})});
  if (float32 && cp.stride == 1) {
    // The fused direct kernel (training and evaluation): the zero-padded
    // input (plus slack), the pooled output and its argmax; packed weights.
    // Conv1, Relu1 and Pool1 keep nothing of their own on this path.
    const std::size_t xpad = add({mul({C, sat_add(c.input_dim[1], sat_mul(2, cp.pad)),
                                       sat_add(c.input_dim[2], sat_mul(2, cp.pad))}),
                                  64, cp.filter_size});
    f.push_back({"Conv1", params1, mul({2, sat_add(FN, 16), sat_add(K, 1)}), add({xpad, mul({2, pool})}),
                 add({xpad, pool})});
  } else {
    // im2col + GEMM: col (P, K) per image, the output and the GEMM's
    // transposed output; float's evaluation instead uses per-thread scratch
    // of the same size (counted per image: enough for up to a batch of threads).
    f.push_back({"Conv1", params1, 0, add({mul({P, K}), mul({2, conv})}), add({mul({P, K}), mul({2, conv}), pool})});
    f.push_back({"Relu1", 0, 0, mul({2, conv}), conv});                        // out, dx
    f.push_back({"Pool1", 0, 0, add({mul({2, pool}), conv}), mul({2, pool})});  // out, argmax, dx
  }
  f.push_back({"Affine1", add({mul({pool, Hd}), Hd}), 0, add({Hd, pool}), Hd});  // out, dx
  f.push_back({"Relu2", 0, 0, mul({2, Hd}), Hd});
  f.push_back({"Affine2", add({mul({Hd, O}), O}), 0, add({O, Hd}), O});
  f.push_back({"SoftmaxWithLoss", 0, 0, mul({3, O}), O});  // y, dx, one-hot t
  return f;
}

template <class T>
SimpleConvNet<T>::SimpleConvNet(const SimpleConvNetConfig& config, RandomState& rng) : config_(config) {
  build_(rng);
}

template <class T>
SimpleConvNet<T>::SimpleConvNet(const SimpleConvNetConfig& config) : config_(config) {
  RandomState rng(config.seed);
  build_(rng);
}

template <class T>
SimpleConvNet<T>::SimpleConvNet(std::array<std::size_t, 3> input_dim, ConvParam conv_param,
                                std::size_t hidden_size, std::size_t output_size, double weight_init_std,
                                std::uint32_t seed)
    : SimpleConvNet(SimpleConvNetConfig{input_dim, conv_param, hidden_size, output_size, weight_init_std, seed}) {}

template <class T>
void SimpleConvNet<T>::build_(RandomState& rng) {
  const auto& c = config_;
  const auto& cp = c.conv_param;
  const SimpleConvNetShape shape = simple_convnet_shape(c);
  const std::size_t pool_output_size = cp.filter_num * shape.pool_h * shape.pool_w;  // 30*12*12 = 4320

  // weight_init_std * np.random.randn(...), in the notebook's order.
  auto randn = [&](std::vector<std::size_t> shape) {
    Tensor<T> t(std::move(shape));
    for (auto& v : t) v = T(c.weight_init_std * rng.randn());
    return t;
  };
  Tensor<T> W1 = randn({cp.filter_num, c.input_dim[0], cp.filter_size, cp.filter_size});
  Tensor<T> W2 = randn({pool_output_size, c.hidden_size});
  Tensor<T> W3 = randn({c.hidden_size, c.output_size});

  conv1_ = std::make_unique<Convolution<T>>(std::move(W1), Tensor<T>({cp.filter_num}), cp.stride, cp.pad);
  conv1_->set_compute_dx(false);  // its input is the data: no gradient needed
  relu1_ = std::make_unique<Relu<T>>();
  pool1_ = std::make_unique<Pooling<T>>(2, 2, 2);
  affine1_ = std::make_unique<Affine<T>>(std::move(W2), Tensor<T>({c.hidden_size}));
  relu2_ = std::make_unique<Relu<T>>();
  affine2_ = std::make_unique<Affine<T>>(std::move(W3), Tensor<T>({c.output_size}));

  layers_ = {{"Conv1", conv1_.get()}, {"Relu1", relu1_.get()},   {"Pool1", pool1_.get()},
             {"Affine1", affine1_.get()}, {"Relu2", relu2_.get()}, {"Affine2", affine2_.get()}};
  params_ = {};
  grads_ = {};
  params_.add("W1", &conv1_->W);    grads_.add("W1", &conv1_->dW);
  params_.add("b1", &conv1_->b);    grads_.add("b1", &conv1_->db);
  params_.add("W2", &affine1_->W);  grads_.add("W2", &affine1_->dW);
  params_.add("b2", &affine1_->b);  grads_.add("b2", &affine1_->db);
  params_.add("W3", &affine2_->W);  grads_.add("W3", &affine2_->dW);
  params_.add("b3", &affine2_->b);  grads_.add("b3", &affine2_->db);
}

template <class T>
Architecture SimpleConvNet<T>::architecture() const {
  const auto& c = config_;
  const auto& cp = c.conv_param;
  return Architecture::simple_convnet(c.input_dim, cp.filter_num, cp.filter_size, cp.pad, cp.stride, c.hidden_size,
                                      c.output_size, c.weight_init_std);
}

template <class T>
Layer<T>& SimpleConvNet<T>::layer(const std::string& name) const {
  for (auto& [n, l] : layers_)
    if (n == name) return *l;
  throw Error("SimpleConvNet: no layer named '" + name + "'");
}

template <class T>
void SimpleConvNet<T>::check_input_(const Tensor<T>& x) const {
  const auto& d = config_.input_dim;
  if (x.ndim() != 4 || x.shape(0) == 0 || x.shape(1) != d[0] || x.shape(2) != d[1] || x.shape(3) != d[2])
    throw Error("SimpleConvNet: input " + shape_str(x.shape()) + " does not match input_dim; expected (N, " +
                std::to_string(d[0]) + ", " + std::to_string(d[1]) + ", " + std::to_string(d[2]) + ")");
}

template <class T>
void SimpleConvNet<T>::direct_conv_relu_pool_(const Tensor<T>& x, bool keep_argmax) {
  if constexpr (std::is_same_v<T, float>) {
    const auto& d = config_.input_dim;
    const auto& cp = config_.conv_param;
    const std::size_t N = x.shape(0), Hp = d[1] + 2 * cp.pad, Wp = d[2] + 2 * cp.pad;
    const std::size_t oh = Hp - cp.filter_size + 1, ow = Wp - cp.filter_size + 1;
    xpad_.resize({N, kernels::conv_direct_padded_size(d[0], Hp, Wp, cp.filter_size)}, false);
    kernels::pad_images(x.data(), N, d[0], d[1], d[2], cp.pad, cp.filter_size, xpad_.data());
    pooled_.resize({N, cp.filter_num, oh / 2, ow / 2}, false);
    if (keep_argmax) arg8_.resize(pooled_.size());
    kernels::conv_relu_pool2_direct(xpad_.data(), N, d[0], Hp, Wp, conv1_->W.data(), conv1_->b.data(),
                                    cp.filter_num, cp.filter_size, cp.filter_size, pooled_.data(),
                                    keep_argmax ? arg8_.data() : nullptr);
  }
}

template <class T>
const Tensor<T>& SimpleConvNet<T>::predict(const Tensor<T>& x, Mode mode) {
  check_input_(x);
  const auto& d = config_.input_dim;
  const Tensor<T>* h = &x;
  std::size_t first = 0;
  if (mode == Mode::Eval && conv1_->algorithm() == ConvAlgo::PerImage) {
    // Conv1 + Relu1 + Pool1 in one pass per image; nothing kept for backward.
    const auto& cp = config_.conv_param;
    const kernels::ConvGeom g{x.shape(0), d[0], d[1], d[2], cp.filter_size, cp.filter_size, cp.stride, cp.pad};
    pooled_.resize({g.N, cp.filter_num, g.out_h() / 2, g.out_w() / 2}, false);
    if (std::is_same_v<T, float> && cp.stride == 1)
      direct_conv_relu_pool_(x, false);  // the direct kernel
    else
      kernels::conv_relu_pool2_forward(g, x.data(), conv1_->W.data(), conv1_->b.data(), cp.filter_num,
                                       pooled_.data());
    h = &pooled_;
    first = 3;  // continue at Affine1
  }
  for (std::size_t i = first; i < layers_.size(); ++i) h = &layers_[i].second->forward(*h, mode);
  return *h;
}

template <class T>
T SimpleConvNet<T>::loss(const Tensor<T>& x, const std::vector<std::int32_t>& t, Mode mode) {
  return last_layer_.forward(predict(x, mode), t);
}

template <class T>
T SimpleConvNet<T>::loss(const Tensor<T>& x, const Tensor<T>& t) {
  return last_layer_.forward(predict(x), t);
}

template <class T>
const NamedTensors<T>& SimpleConvNet<T>::backward_() {
  const Tensor<T>* dout = &last_layer_.backward(T(1));
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) dout = &it->second->backward(*dout);
  return grads_;
}

template <class T>
bool SimpleConvNet<T>::fused() const {
  return std::is_same_v<T, float> && fused_ && conv1_->algorithm() == ConvAlgo::PerImage &&
         config_.conv_param.stride == 1;
}

template <class T>
const NamedTensors<T>& SimpleConvNet<T>::gradient(const Tensor<T>& x, const std::vector<std::int32_t>& t) {
  if constexpr (std::is_same_v<T, float>) {
    if (fused()) {
      check_input_(x);
      direct_conv_relu_pool_(x, true);
      const auto& d = config_.input_dim;
      const auto& cp = config_.conv_param;
      const std::size_t N = x.shape(0), Hp = d[1] + 2 * cp.pad, Wp = d[2] + 2 * cp.pad;
      const Tensor<T>* h = &pooled_;
      for (std::size_t i = 3; i < layers_.size(); ++i) h = &layers_[i].second->forward(*h, Mode::Train);
      last_layer_.forward(*h, t);
      const Tensor<T>* dout = &last_layer_.backward(T(1));
      for (std::size_t i = layers_.size(); i-- > 3;) dout = &layers_[i].second->backward(*dout);
      kernels::conv_relu_pool2_direct_backward(xpad_.data(), N, d[0], Hp, Wp, cp.filter_num, cp.filter_size,
                                               cp.filter_size, pooled_.data(), arg8_.data(), dout->data(),
                                               conv1_->dW.data(), conv1_->db.data());
      return grads_;
    }
  }
  loss(x, t);
  return backward_();
}

template <class T>
const NamedTensors<T>& SimpleConvNet<T>::gradient(const Tensor<T>& x, const Tensor<T>& t) {
  loss(x, t);
  return backward_();
}

template class SimpleConvNet<float>;
template class SimpleConvNet<double>;

}  // namespace convnet
