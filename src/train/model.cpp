#include "convnet/train/model.hpp"

#include <cmath>
#include <cstring>

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
}  // namespace

void check_finite_array(const NpyArray& arr, const std::string& file, const std::string& name) {
  if (arr.descr == "<f4")
    check_finite(arr.as<float>(), file, name);
  else if (arr.descr == "<f8")
    check_finite(arr.as<double>(), file, name);
}

std::vector<std::vector<std::size_t>> param_shapes(const SimpleConvNetConfig& c) {
  const SimpleConvNetShape s = simple_convnet_shape(c);
  const auto& cp = c.conv_param;
  const std::size_t pooled = sat_mul(sat_mul(cp.filter_num, s.pool_h), s.pool_w);
  return {{cp.filter_num, c.input_dim[0], cp.filter_size, cp.filter_size},
          {cp.filter_num},
          {pooled, c.hidden_size},
          {c.hidden_size},
          {c.hidden_size, c.output_size},
          {c.output_size}};
}

template <class T>
NpzArchive model_arrays(const SimpleConvNet<T>& net) {
  NpzArchive a;
  for (const auto& [name, t] : net.params()) a[name] = NpyArray::from<T>(t->shape(), t->data());
  const auto& c = net.config();
  const std::int64_t in[3] = {std::int64_t(c.input_dim[0]), std::int64_t(c.input_dim[1]),
                              std::int64_t(c.input_dim[2])};
  const std::int64_t cp[4] = {std::int64_t(c.conv_param.filter_num), std::int64_t(c.conv_param.filter_size),
                              std::int64_t(c.conv_param.pad), std::int64_t(c.conv_param.stride)};
  const std::int64_t hidden = std::int64_t(c.hidden_size), out = std::int64_t(c.output_size);
  a["input_dim"] = NpyArray::from<std::int64_t>({3}, in);
  a["conv_param"] = NpyArray::from<std::int64_t>({4}, cp);
  a["hidden_size"] = NpyArray::from<std::int64_t>({}, &hidden);
  a["output_size"] = NpyArray::from<std::int64_t>({}, &out);
  return a;
}

template <class T>
void save_model(const std::string& path, const SimpleConvNet<T>& net) {
  save_npz(path, model_arrays(net));
}

SimpleConvNetConfig model_config(const NpzArchive& a, const std::string& file) {
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
  c.weight_init_std = 0;  // weights come from the file
  return c;
}

template <class T>
void load_params(const NpzArchive& a, const std::string& file, SimpleConvNet<T>& net) {
  for (const auto& [name, t] : net.params()) {
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
std::unique_ptr<SimpleConvNet<T>> load_model(const std::string& path, std::size_t batch_size) {
  const NpzArchive a = load_npz(path);
  SimpleConvNetConfig c;
  try {
    c = model_config(a, path);
    // Before the network is built (it allocates its parameters), from the
    // architecture fields alone: the network must fit in memory, and the
    // arrays must have the shapes those fields imply.
    MemoryUse use;
    use.training = false;
    use.eval_batch_size = batch_size;
    check_memory(estimate_memory(simple_convnet_footprint(c, sizeof(T) == 4), sizeof(T), use),
                 path + ": the network of input_dim " + shape_str({c.input_dim[0], c.input_dim[1], c.input_dim[2]}) +
                     ", conv_param " + shape_str({c.conv_param.filter_num, c.conv_param.filter_size,
                                                  c.conv_param.pad, c.conv_param.stride}) +
                     ", hidden_size " + std::to_string(c.hidden_size));
    const char* names[] = {"W1", "b1", "W2", "b2", "W3", "b3"};
    const auto shapes = param_shapes(c);
    for (std::size_t i = 0; i < 6; ++i) {
      auto it = a.find(names[i]);
      require(a, path, names[i], it != a.end() && it->second.descr == "<f8" ? "<f8" : "<f4", shapes[i]);
    }
    auto net = std::make_unique<SimpleConvNet<T>>(c);
    load_params(a, path, *net);
    return net;
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(path, 0) == 0) throw;
    throw Error(path + ": " + msg);  // e.g. an impossible architecture
  }
}

template NpzArchive model_arrays(const SimpleConvNet<float>&);
template NpzArchive model_arrays(const SimpleConvNet<double>&);
template void save_model(const std::string&, const SimpleConvNet<float>&);
template void save_model(const std::string&, const SimpleConvNet<double>&);
template void load_params(const NpzArchive&, const std::string&, SimpleConvNet<float>&);
template void load_params(const NpzArchive&, const std::string&, SimpleConvNet<double>&);
template std::unique_ptr<SimpleConvNet<float>> load_model(const std::string&, std::size_t);
template std::unique_ptr<SimpleConvNet<double>> load_model(const std::string&, std::size_t);

}  // namespace convnet
