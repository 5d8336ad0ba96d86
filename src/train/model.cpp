#include "convnet/train/model.hpp"

#include <cmath>
#include <cstring>

#include "convnet/train/evaluate.hpp"

namespace convnet {

namespace {
// "model.npz: array W2 holds NaN at index 17; ...": a model with a NaN or an
// infinity predicts garbage (or trains into it), so it is refused on load.
template <class V>
void check_finite(const std::vector<V>& v, const std::string& file, const std::string& name) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw Error(file + ": array " + name + " holds " + (std::isnan(v[i]) ? "NaN" : v[i] > 0 ? "inf" : "-inf") +
                  " at index " + std::to_string(i) + "; refusing a model with non-finite values");
}

// The older files' fields: the notebook's network (weight_init_std unknown).
SimpleConvNetConfig legacy_config(const NpzArchive& a, const std::string& file) {
  auto ints = [&](const char* name, std::vector<std::size_t> shape) {
    const auto v = require(a, file, name, "<i8", shape).as<std::int64_t>();
    for (auto x : v)
      if (x < 0 || x > (1 << 24))
        throw Error(file + ": " + name + " holds " + std::to_string(x) + ", expected 0 to 16777216");
    return v;
  };
  const auto in = ints("input_dim", {3});
  const auto cp = ints("conv_param", {4});
  SimpleConvNetConfig c;
  c.input_dim = {std::size_t(in[0]), std::size_t(in[1]), std::size_t(in[2])};
  c.conv_param = {std::size_t(cp[0]), std::size_t(cp[1]), std::size_t(cp[2]), std::size_t(cp[3])};
  c.hidden_size = std::size_t(ints("hidden_size", {})[0]);
  c.output_size = std::size_t(ints("output_size", {})[0]);
  return c;
}

// What the memory message calls the network: the notebook's fields for its
// network (as a user of --filters/--hidden knows them), else the layer list.
std::string network_words(const Architecture& arch) {
  if (auto c = simple_convnet_config(arch)) {
    const auto& cp = c->conv_param;
    return "the network of input_dim " + shape_str({c->input_dim[0], c->input_dim[1], c->input_dim[2]}) +
           ", conv_param " + shape_str({cp.filter_num, cp.filter_size, cp.pad, cp.stride}) + ", hidden_size " +
           std::to_string(c->hidden_size);
  }
  std::string layers;
  for (const auto& l : arch.layers) layers += std::string(layers.empty() ? "" : "-") + layer_type_name(l.type);
  return "the network " + layers + " on input " + shape_str({arch.input[0], arch.input[1], arch.input[2]});
}
}  // namespace

void check_finite_array(const NpyArray& arr, const std::string& file, const std::string& name) {
  if (arr.descr == "<f4")
    check_finite(arr.as<float>(), file, name);
  else if (arr.descr == "<f8")
    check_finite(arr.as<double>(), file, name);
}

NpyArray text_array(const std::string& s) {
  return NpyArray::from<std::uint8_t>({s.size()}, reinterpret_cast<const std::uint8_t*>(s.data()));
}

std::string get_text(const NpzArchive& a, const std::string& file, const std::string& name) {
  auto it = a.find(name);
  if (it == a.end()) throw Error(file + ": missing array " + name);
  if (it->second.descr != "|u1" || it->second.shape.size() != 1)
    throw Error(file + ": " + name + " must be a 1-D |u1 array (text)");
  return std::string(it->second.bytes.begin(), it->second.bytes.end());
}

std::optional<SimpleConvNetConfig> simple_convnet_config(const Architecture& arch) {
  const auto& L = arch.layers;
  if (L.size() != 6 || L[0].type != LayerType::Conv || L[1].type != LayerType::Relu || L[2].type != LayerType::Pool ||
      L[3].type != LayerType::Affine || L[4].type != LayerType::Relu || L[5].type != LayerType::Affine)
    return std::nullopt;
  SimpleConvNetConfig c;
  c.input_dim = arch.input;
  c.conv_param = {L[0].filters, L[0].size, L[0].pad, L[0].stride};
  c.hidden_size = L[3].units;
  c.output_size = L[5].units;
  c.weight_init_std = arch.weight_init_std;
  // The pool must be the notebook's 2x2/2 without pad.
  if (!(Architecture::simple_convnet(c.input_dim, c.conv_param.filter_num, c.conv_param.filter_size, c.conv_param.pad,
                                     c.conv_param.stride, c.hidden_size, c.output_size, c.weight_init_std) == arch))
    return std::nullopt;
  return c;
}

template <class T>
NpzArchive model_arrays(const Network<T>& net) {
  NpzArchive a;
  for (const NamedTensors<T>* set : {&net.params(), &net.buffers()})
    for (const auto& [name, t] : *set) a[name] = NpyArray::from<T>(t->shape(), t->data());
  const Architecture arch = net.architecture();
  a["architecture"] = text_array(arch.to_json());
  if (auto c = simple_convnet_config(arch)) {
    // The notebook's fields too, for NumPy scripts (and convnet versions) that read them.
    const std::int64_t in[3] = {std::int64_t(c->input_dim[0]), std::int64_t(c->input_dim[1]),
                                std::int64_t(c->input_dim[2])};
    const std::int64_t cp[4] = {std::int64_t(c->conv_param.filter_num), std::int64_t(c->conv_param.filter_size),
                                std::int64_t(c->conv_param.pad), std::int64_t(c->conv_param.stride)};
    const std::int64_t hidden = std::int64_t(c->hidden_size), out = std::int64_t(c->output_size);
    a["input_dim"] = NpyArray::from<std::int64_t>({3}, in);
    a["conv_param"] = NpyArray::from<std::int64_t>({4}, cp);
    a["hidden_size"] = NpyArray::from<std::int64_t>({}, &hidden);
    a["output_size"] = NpyArray::from<std::int64_t>({}, &out);
  }
  return a;
}

template <class T>
void save_model(const std::string& path, const Network<T>& net) {
  save_npz(path, model_arrays(net));
}

Architecture model_architecture(const NpzArchive& a, const std::string& file) {
  if (a.count("architecture")) return Architecture::from_json(get_text(a, file, "architecture"), file + ": architecture");
  const SimpleConvNetConfig c = legacy_config(a, file);
  const auto& cp = c.conv_param;
  return Architecture::simple_convnet(c.input_dim, cp.filter_num, cp.filter_size, cp.pad, cp.stride, c.hidden_size,
                                      c.output_size, c.weight_init_std);
}

template <class T>
void load_params(const NpzArchive& a, const std::string& file, Network<T>& net) {
  std::vector<std::pair<std::string, Tensor<T>*>> arrays(net.params().begin(), net.params().end());
  arrays.insert(arrays.end(), net.buffers().begin(), net.buffers().end());
  for (const auto& [name, t] : arrays) {
    auto it = a.find(name);
    if (it == a.end()) throw Error(file + ": missing array " + name);
    // Either precision loads; it is converted to the network's.
    const std::string descr = it->second.descr == "<f8" ? "<f8" : "<f4";
    const NpyArray& arr = require(a, file, name, descr, t->shape());
    if (descr == "<f4") {
      const auto v = arr.as<float>();
      check_finite(v, file, name);
      for (std::size_t i = 0; i < v.size(); ++i) (*t)[i] = T(v[i]);
    } else {
      const auto v = arr.as<double>();
      check_finite(v, file, name);
      for (std::size_t i = 0; i < v.size(); ++i) (*t)[i] = T(v[i]);
    }
  }
}

template <class T>
std::unique_ptr<Sequential<T>> load_model(const std::string& path, std::size_t batch_size) {
  const NpzArchive a = load_npz(path);
  try {
    const Architecture arch = model_architecture(a, path);
    // Before the network is built (it allocates its parameters), from the
    // architecture alone: the network must fit in memory, and the arrays
    // must have the shapes it implies.
    MemoryUse use;
    use.training = false;
    use.eval_batch_size = eval_forward_size(arch, default_kernels<T>(), sizeof(T), batch_size);
    check_memory(estimate_memory(sequential_footprint(arch, default_kernels<T>()), sizeof(T), use),
                 path + ": " + network_words(arch));
    for (const auto& [name, shape] : sequential_param_shapes(arch)) {
      auto it = a.find(name);
      require(a, path, name, it != a.end() && it->second.descr == "<f8" ? "<f8" : "<f4", shape);
    }
    auto net = std::make_unique<Sequential<T>>(arch);
    load_params(a, path, *net);
    return net;
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(path, 0) == 0) throw;
    throw Error(path + ": " + msg);  // e.g. an impossible architecture
  }
}

#define CONVNET_INSTANTIATE(T)                                                        \
  template NpzArchive model_arrays(const Network<T>&);                                \
  template void save_model(const std::string&, const Network<T>&);                    \
  template void load_params(const NpzArchive&, const std::string&, Network<T>&);      \
  template std::unique_ptr<Sequential<T>> load_model(const std::string&, std::size_t);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(double)
#undef CONVNET_INSTANTIATE

}  // namespace convnet
