#include "convnet/core/architecture.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "convnet/core/error.hpp"

namespace convnet {

namespace {

using json = nlohmann::json;

// Each size field is at most this: keeps every shape product far from wrapping.
constexpr std::size_t kMaxField = std::size_t(1) << 24;

std::string layer_prefix(std::string_view source, std::size_t i, const char* type) {
  std::string s(source);
  s += ": layers[" + std::to_string(i) + "]";
  if (type) s += std::string(" (") + type + ")";
  return s + ": ";
}

// "a string (\"30\")", "a number (5.5)" — what was found instead of an integer.
std::string describe_value(const json& v) {
  std::string kind = v.is_string()    ? "a string"
                     : v.is_boolean() ? "a boolean"
                     : v.is_null()    ? "null"
                     : v.is_array()   ? "an array"
                     : v.is_object()  ? "an object"
                                      : "a number";
  std::string text = v.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return kind + " (" + text + ")";
}

std::size_t checked_mul(std::size_t a, std::size_t b, const std::string& what) {
  std::size_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw Error(what + " has more elements than memory can address");
  return r;
}

// An integer field: exists (or has a default), is an integer, lies in [lo, kMaxField].
std::size_t get_size(const json& obj, const char* key, const std::string& where, std::size_t lo,
                     const std::size_t* dflt) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (dflt) return *dflt;
    throw Error(where + "missing field \"" + key + "\"");
  }
  const json& v = *it;
  if (v.is_number_integer() && !v.is_number_unsigned())  // negative
    throw Error(where + "\"" + key + "\" must be >= " + std::to_string(lo) + ", got " + v.dump());
  if (!v.is_number_unsigned())
    throw Error(where + "\"" + key + "\" must be an integer, got " + describe_value(v));
  const std::uint64_t u = v.get<std::uint64_t>();
  if (u < lo) throw Error(where + "\"" + key + "\" must be >= " + std::to_string(lo) + ", got " + v.dump());
  if (u > kMaxField)
    throw Error(where + "\"" + key + "\" must be <= " + std::to_string(kMaxField) + ", got " + v.dump());
  return std::size_t(u);
}

void reject_unknown(const json& obj, std::initializer_list<const char*> known, const std::string& where) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const char* k : known) ok |= it.key() == k;
    if (!ok) {
      std::string list;
      for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + "\"" + k + "\"";
      throw Error(where + "unknown field \"" + it.key() + "\" (expected " + list + ")");
    }
  }
}

std::string shape_of(const std::vector<std::size_t>& s) { return shape_str(s); }

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void check_init(const WeightInit& w, const std::string& what) {
  if (w.scheme == InitScheme::Std && (!(w.std >= 0) || !std::isfinite(w.std)))
    throw Error(what + " must be a finite number >= 0 (or \"he\", \"xavier\"), got " + number_text(w.std));
}

// "weight_init_std": a number, or the book's names for He and Xavier.
WeightInit parse_init(const json& v, const std::string& where) {
  WeightInit w;
  if (v.is_number()) {
    w.std = v.get<double>();
  } else if (v.is_string() && (v == "he" || v == "relu")) {
    w.scheme = InitScheme::He;
  } else if (v.is_string() && (v == "xavier" || v == "sigmoid")) {
    w.scheme = InitScheme::Xavier;
  } else {
    throw Error(where + "\"weight_init_std\" must be a number, \"he\" (or \"relu\") or \"xavier\" (or \"sigmoid\"), got " +
                describe_value(v));
  }
  return w;
}

std::string init_json(const WeightInit& w) {
  return w.scheme == InitScheme::He ? "\"he\"" : w.scheme == InitScheme::Xavier ? "\"xavier\"" : json(w.std).dump();
}

// A JSON number in [lo, hi] (a fraction, a momentum).
double get_real(const json& obj, const char* key, const std::string& where, double dflt) {
  auto it = obj.find(key);
  if (it == obj.end()) return dflt;
  if (!it->is_number()) throw Error(where + "\"" + key + "\" must be a number, got " + describe_value(*it));
  return it->get<double>();
}

// Output side of a window sliding over `size` padded by `pad`; 0 when it does not fit.
std::size_t slide(std::size_t size, std::size_t window, std::size_t stride, std::size_t pad) {
  const std::size_t padded = size + 2 * pad;
  return window > padded ? 0 : (padded - window) / stride + 1;
}

// The one walk over the layers: checks ranges and shapes, names the layers
// (per-type counters, as the notebook's OrderedDict) and counts parameters
// and FLOPs. Every validation message comes from here.
std::vector<LayerInfo> walk(const Architecture& a, std::string_view source) {
  const std::string src(source);
  for (std::size_t d = 0; d < 3; ++d)
    if (a.input[d] == 0 || a.input[d] > kMaxField)
      throw Error(src + ": \"input\" " + shape_of({a.input[0], a.input[1], a.input[2]}) +
                  " must be (C, H, W) with each between 1 and " + std::to_string(kMaxField));
  check_init({a.weight_init, a.weight_init_std}, src + ": \"weight_init_std\"");
  if (a.layers.empty()) throw Error(src + ": \"layers\" is empty; expected at least one layer");
  std::vector<LayerInfo> out;
  std::vector<std::size_t> shape{a.input[0], a.input[1], a.input[2]};
  std::string from = "the input";
  std::size_t n_conv = 0, n_relu = 0, n_pool = 0, n_affine = 0, n_sigmoid = 0, n_dropout = 0, n_batchnorm = 0;
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const LayerSpec& l = a.layers[i];
    if (l.has_init) check_init(l.init, layer_prefix(source, i, layer_type_name(l.type)) + "\"weight_init_std\"");
    const char* tn = layer_type_name(l.type);
    const std::string where = layer_prefix(source, i, tn);
    auto field = [&](const char* key, std::size_t v, std::size_t lo) {
      if (v < lo || v > kMaxField)
        throw Error(where + "\"" + key + "\" must be between " + std::to_string(lo) + " and " +
                    std::to_string(kMaxField) + ", got " + std::to_string(v));
    };
    // Elements of one image's activation at this layer's input.
    auto elements = [&] {
      std::size_t n = 1;
      for (auto d : shape) n = checked_mul(n, d, where + "output");
      return n;
    };
    auto need_image = [&] {
      if (shape.size() != 3)
        throw Error(where + "expects an image input (C, H, W), but " + from + " outputs " + shape_of(shape));
    };
    LayerInfo info;
    info.type = l.type;
    switch (l.type) {
      case LayerType::Conv: {
        field("filters", l.filters, 1);
        field("size", l.size, 1);
        field("stride", l.stride, 1);
        field("pad", l.pad, 0);
        need_image();
        const std::size_t oh = slide(shape[1], l.size, l.stride, l.pad), ow = slide(shape[2], l.size, l.stride, l.pad);
        if (oh == 0 || ow == 0)
          throw Error(where + "filter " + std::to_string(l.size) + "x" + std::to_string(l.size) +
                      " is larger than its padded input " + std::to_string(shape[1]) + "x" + std::to_string(shape[2]) +
                      " + 2*" + std::to_string(l.pad) + "; its output would be empty");
        info.name = "Conv" + std::to_string(++n_conv);
        const std::size_t K = checked_mul(checked_mul(shape[0], l.size, where + "W"), l.size, where + "W");
        info.params = checked_mul(l.filters, K, where + "W") + l.filters;
        shape = {l.filters, oh, ow};
        const std::size_t outs = checked_mul(checked_mul(l.filters, oh, where + "output"), ow, where + "output");
        info.flops = checked_mul(checked_mul(outs, 2, where + "FLOPs"), K, where + "FLOPs");
        break;
      }
      case LayerType::Relu: {
        info.name = "Relu" + std::to_string(++n_relu);
        info.flops = elements();
        break;
      }
      case LayerType::Pool: {
        field("size", l.size, 1);
        field("stride", l.stride, 1);
        field("pad", l.pad, 0);
        need_image();
        const std::size_t oh = slide(shape[1], l.size, l.stride, l.pad), ow = slide(shape[2], l.size, l.stride, l.pad);
        if (oh == 0 || ow == 0)
          throw Error(where + "a " + std::to_string(l.size) + "x" + std::to_string(l.size) +
                      " window does not fit the " + std::to_string(shape[1]) + "x" + std::to_string(shape[2]) +
                      " output of " + from + " (pad " + std::to_string(l.pad) + "); its output would be empty");
        info.name = "Pool" + std::to_string(++n_pool);
        shape = {shape[0], oh, ow};
        const std::size_t outs = checked_mul(checked_mul(shape[0], oh, where + "output"), ow, where + "output");
        info.flops = checked_mul(outs, l.size * l.size - 1, where + "FLOPs");
        break;
      }
      case LayerType::Sigmoid:
      case LayerType::Dropout: {
        if (l.type == LayerType::Dropout && !(l.ratio >= 0 && l.ratio < 1))
          throw Error(where + "\"ratio\" must be at least 0 and below 1, got " + number_text(l.ratio));
        info.name = (l.type == LayerType::Sigmoid ? "Sigmoid" : "Dropout") +
                    std::to_string(l.type == LayerType::Sigmoid ? ++n_sigmoid : ++n_dropout);
        const std::size_t n = elements();
        info.flops = l.type == LayerType::Sigmoid ? checked_mul(n, 4, where + "FLOPs") : n;
        break;
      }
      case LayerType::BatchNorm: {
        if (!(l.momentum >= 0 && l.momentum <= 1))
          throw Error(where + "\"momentum\" must be between 0 and 1, got " + number_text(l.momentum));
        if (l.per_channel && shape.size() != 3)
          throw Error(where + "\"per_channel\" needs an image input (C, H, W), but " + from + " outputs " +
                      shape_of(shape));
        const std::size_t n = elements();
        info.name = "BatchNorm" + std::to_string(++n_batchnorm);
        info.params = checked_mul(2, l.per_channel ? shape[0] : n, where + "gamma");
        info.flops = checked_mul(n, 4, where + "FLOPs");  // (x - mean) / std * gamma + beta
        break;
      }
      case LayerType::Affine: {
        field("units", l.units, 1);
        std::size_t D = 1;
        for (auto d : shape) D = checked_mul(D, d, where + "input");
        info.name = "Affine" + std::to_string(++n_affine);
        info.params = checked_mul(D, l.units, where + "W") + l.units;
        info.flops = checked_mul(checked_mul(D, 2, where + "FLOPs"), l.units, where + "FLOPs");
        shape = {l.units};
        break;
      }
    }
    info.output = shape;
    from = "layers[" + std::to_string(i) + "] (" + tn + ")";
    out.push_back(std::move(info));
  }
  if (shape.size() != 1)
    throw Error(layer_prefix(source, a.layers.size() - 1, layer_type_name(a.layers.back().type)) +
                "the network ends in " + shape_of(shape) +
                ", not a vector of class scores; end with an affine layer (softmax-with-loss follows it)");
  return out;
}

std::string with_commas(std::size_t v) {
  std::string s = std::to_string(v), r;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) r += ',';
    r += s[i];
  }
  return r;
}

}  // namespace

const char* layer_type_name(LayerType t) {
  switch (t) {
    case LayerType::Conv: return "conv";
    case LayerType::Relu: return "relu";
    case LayerType::Pool: return "pool";
    case LayerType::Affine: return "affine";
    case LayerType::Sigmoid: return "sigmoid";
    case LayerType::Dropout: return "dropout";
    case LayerType::BatchNorm: return "batchnorm";
  }
  return "?";
}

double WeightInit::scale(std::size_t fan_in) const {
  // book: common/multi_layer_net.py __init_weight, np.sqrt(2.0 / n) and np.sqrt(1.0 / n)
  switch (scheme) {
    case InitScheme::He: return std::sqrt(2.0 / double(fan_in));
    case InitScheme::Xavier: return std::sqrt(1.0 / double(fan_in));
    case InitScheme::Std: break;
  }
  return std;
}

WeightInit WeightInit::parse(const std::string& text, const std::string& what) {
  if (text == "he" || text == "relu") return {InitScheme::He, 0};
  if (text == "xavier" || text == "sigmoid") return {InitScheme::Xavier, 0};
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  WeightInit w{InitScheme::Std, v};
  if (text.empty() || *end != '\0' || !(v >= 0) || !std::isfinite(v))
    throw Error(what + " " + text + ": must be a number >= 0, he (or relu) or xavier (or sigmoid)");
  return w;
}

std::string WeightInit::str() const {
  const std::string j = init_json(*this);
  return j.front() == '"' ? j.substr(1, j.size() - 2) : j;
}

double Architecture::init_scale(std::size_t i, std::size_t fan_in) const {
  const LayerSpec& l = layers.at(i);
  return (l.has_init ? l.init : WeightInit{weight_init, weight_init_std}).scale(fan_in);
}

Architecture Architecture::deep_convnet(std::array<std::size_t, 3> input_dim, std::size_t hidden_size,
                                        std::size_t output_size) {
  // book: ch08/deep_convnet.py; its pre_node_nums are each layer's fan-in, its scales sqrt(2 / n).
  Architecture a;
  a.input = input_dim;
  using L = LayerSpec;
  a.layers = {L::conv(16, 3, 1, 1), L::relu(), L::conv(16, 3, 1, 1), L::relu(), L::pool(2, 2),
              L::conv(32, 3, 1, 1), L::relu(), L::conv(32, 3, 1, 2), L::relu(), L::pool(2, 2),
              L::conv(64, 3, 1, 1), L::relu(), L::conv(64, 3, 1, 1), L::relu(), L::pool(2, 2),
              L::affine(hidden_size),  L::relu(), L::dropout(0.5),
              L::affine(output_size),  L::dropout(0.5)};
  a.weight_init = InitScheme::He;
  a.loss_train_mode = true;  // its loss() is predict(x, train_flg=True)
  return a;
}

Architecture Architecture::simple_convnet(std::array<std::size_t, 3> input_dim, std::size_t filter_num,
                                          std::size_t filter_size, std::size_t pad, std::size_t stride,
                                          std::size_t hidden_size, std::size_t output_size, double weight_init_std) {
  // notebook In [9]: Conv1 Relu1 Pool1(2, 2, stride 2) Affine1 Relu2 Affine2
  Architecture a;
  a.input = input_dim;
  a.layers = {LayerSpec::conv(filter_num, filter_size, stride, pad), LayerSpec::relu(), LayerSpec::pool(2, 2),
              LayerSpec::affine(hidden_size), LayerSpec::relu(), LayerSpec::affine(output_size)};
  a.weight_init_std = weight_init_std;
  return a;
}

void Architecture::validate(std::string_view source_name) const { walk(*this, source_name); }

std::vector<LayerInfo> describe(const Architecture& arch) { return walk(arch, "architecture"); }

std::string Architecture::to_json() const {
  // One layer a line, fields in the schema's order (docs/FORMATS.md).
  auto n = [](std::size_t v) { return std::to_string(v); };
  std::string s = "{\n  \"input\": [" + n(input[0]) + ", " + n(input[1]) + ", " + n(input[2]) + "],\n  \"layers\": [\n";
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& l = layers[i];
    s += std::string("    {\"type\": \"") + layer_type_name(l.type) + "\"";
    switch (l.type) {
      case LayerType::Conv:
        s += ", \"filters\": " + n(l.filters) + ", \"size\": " + n(l.size) + ", \"stride\": " + n(l.stride) +
             ", \"pad\": " + n(l.pad);
        break;
      case LayerType::Pool:
        s += ", \"size\": " + n(l.size) + ", \"stride\": " + n(l.stride) + ", \"pad\": " + n(l.pad);
        break;
      case LayerType::Affine: s += ", \"units\": " + n(l.units); break;
      case LayerType::Dropout: s += ", \"ratio\": " + json(l.ratio).dump(); break;
      case LayerType::BatchNorm:
        s += ", \"momentum\": " + json(l.momentum).dump() + ", \"per_channel\": " + (l.per_channel ? "true" : "false");
        break;
      case LayerType::Relu:
      case LayerType::Sigmoid: break;
    }
    if (l.has_init) s += ", \"weight_init_std\": " + init_json(l.init);
    s += i + 1 < layers.size() ? "},\n" : "}\n";
  }
  // nlohmann writes the shortest decimal that reads back as the same double.
  s += "  ],\n  \"weight_init_std\": " + init_json({weight_init, weight_init_std}) +
       ",\n  \"loss_mode\": \"" + (loss_train_mode ? "train" : "eval") + "\"\n}\n";
  return s;
}

Architecture Architecture::from_json(std::string_view text, std::string_view source_name) {
  const std::string src(source_name);
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at line 1, ..."
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    throw Error(src + ": not valid JSON: " + what);
  }
  if (!doc.is_object())
    throw Error(src + ": expected a JSON object {\"input\": [C, H, W], \"layers\": [...]}, got " +
                describe_value(doc));
  reject_unknown(doc, {"input", "layers", "weight_init_std", "loss_mode"}, src + ": ");
  Architecture a;
  auto in = doc.find("input");
  if (in == doc.end()) throw Error(src + ": missing field \"input\" ([C, H, W] of one image)");
  if (!in->is_array() || in->size() != 3)
    throw Error(src + ": \"input\" must be [C, H, W], got " + describe_value(*in));
  for (std::size_t d = 0; d < 3; ++d) {
    const json& v = (*in)[d];
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0 || v.get<std::uint64_t>() > kMaxField)
      throw Error(src + ": \"input\" must be [C, H, W] of integers between 1 and " + std::to_string(kMaxField) +
                  ", got " + in->dump());
    a.input[d] = std::size_t(v.get<std::uint64_t>());
  }
  if (auto w = doc.find("weight_init_std"); w != doc.end()) {
    const WeightInit init = parse_init(*w, src + ": ");
    a.weight_init = init.scheme;
    a.weight_init_std = init.std;
  }
  if (auto m = doc.find("loss_mode"); m != doc.end()) {
    if (!m->is_string() || (*m != "eval" && *m != "train"))
      throw Error(src + ": \"loss_mode\" must be \"eval\" or \"train\", got " + m->dump());
    a.loss_train_mode = *m == "train";
  }
  auto ls = doc.find("layers");
  if (ls == doc.end()) throw Error(src + ": missing field \"layers\" (a list of layers)");
  if (!ls->is_array()) throw Error(src + ": \"layers\" must be a list, got " + describe_value(*ls));
  const std::size_t one = 1, zero = 0;
  for (std::size_t i = 0; i < ls->size(); ++i) {
    const json& l = (*ls)[i];
    if (!l.is_object())
      throw Error(layer_prefix(source_name, i, nullptr) + "expected an object {\"type\": ...}, got " +
                  describe_value(l));
    auto t = l.find("type");
    if (t == l.end()) throw Error(layer_prefix(source_name, i, nullptr) + "missing field \"type\"");
    if (!t->is_string())
      throw Error(layer_prefix(source_name, i, nullptr) + "\"type\" must be a string, got " + describe_value(*t));
    const std::string type = t->get<std::string>();
    LayerSpec s;
    if (type == "conv") {
      const std::string where = layer_prefix(source_name, i, "conv");
      reject_unknown(l, {"type", "filters", "size", "stride", "pad", "weight_init_std"}, where);
      s = LayerSpec::conv(get_size(l, "filters", where, 1, nullptr), get_size(l, "size", where, 1, nullptr),
                          get_size(l, "stride", where, 1, &one), get_size(l, "pad", where, 0, &zero));
    } else if (type == "relu") {
      reject_unknown(l, {"type"}, layer_prefix(source_name, i, "relu"));
      s = LayerSpec::relu();
    } else if (type == "pool") {
      const std::string where = layer_prefix(source_name, i, "pool");
      reject_unknown(l, {"type", "size", "stride", "pad"}, where);
      // stride has no default: the notebook's Pooling defaults to 1, PyTorch's to the size.
      s = LayerSpec::pool(get_size(l, "size", where, 1, nullptr), get_size(l, "stride", where, 1, nullptr),
                          get_size(l, "pad", where, 0, &zero));
    } else if (type == "affine") {
      const std::string where = layer_prefix(source_name, i, "affine");
      reject_unknown(l, {"type", "units", "weight_init_std"}, where);
      s = LayerSpec::affine(get_size(l, "units", where, 1, nullptr));
    } else if (type == "sigmoid") {
      reject_unknown(l, {"type"}, layer_prefix(source_name, i, "sigmoid"));
      s = LayerSpec::sigmoid();
    } else if (type == "dropout") {
      const std::string where = layer_prefix(source_name, i, "dropout");
      reject_unknown(l, {"type", "ratio"}, where);
      s = LayerSpec::dropout(get_real(l, "ratio", where, 0.5));
    } else if (type == "batchnorm") {
      const std::string where = layer_prefix(source_name, i, "batchnorm");
      reject_unknown(l, {"type", "momentum", "per_channel"}, where);
      s = LayerSpec::batchnorm(get_real(l, "momentum", where, 0.9));
      if (auto pc = l.find("per_channel"); pc != l.end()) {
        if (!pc->is_boolean()) throw Error(where + "\"per_channel\" must be true or false, got " + describe_value(*pc));
        s.per_channel = pc->get<bool>();
      }
    } else {
      throw Error(layer_prefix(source_name, i, nullptr) + "unknown type \"" + type +
                  "\" (expected \"conv\", \"relu\", \"pool\", \"affine\", \"sigmoid\", \"dropout\" or "
                  "\"batchnorm\")");
    }
    if (auto w = l.find("weight_init_std"); w != l.end()) {
      s.has_init = true;
      s.init = parse_init(*w, layer_prefix(source_name, i, type.c_str()));
    }
    a.layers.push_back(s);
  }
  a.validate(source_name);
  return a;
}

std::string summary(const Architecture& arch) {
  const std::vector<LayerInfo> rows = describe(arch);
  std::vector<std::array<std::string, 4>> cells;
  cells.push_back({"Layer (type)", "Output shape", "Param #", "FLOPs"});
  cells.push_back({"Input", shape_str({arch.input[0], arch.input[1], arch.input[2]}), "0", "0"});
  std::size_t params = 0, flops = 0;
  for (const LayerInfo& r : rows) {
    cells.push_back({r.name + " (" + layer_type_name(r.type) + ")", shape_str(r.output), with_commas(r.params),
                     with_commas(r.flops)});
    params += r.params;
    flops += r.flops;
  }
  std::size_t w[4] = {0, 0, 0, 0};
  for (const auto& c : cells)
    for (std::size_t j = 0; j < 4; ++j) w[j] = std::max(w[j], c[j].size());
  auto pad = [](const std::string& s, std::size_t width, bool right) {
    const std::string fill(width - s.size(), ' ');
    return right ? fill + s : s + fill;
  };
  const std::size_t total_w = w[0] + w[1] + w[2] + w[3] + 6;
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const auto& c = cells[i];
    out += pad(c[0], w[0], false) + "  " + pad(c[1], w[1], false) + "  " + pad(c[2], w[2], true) + "  " +
           pad(c[3], w[3], true) + "\n";
    if (i == 0) out += std::string(total_w, '-') + "\n";
  }
  out += std::string(total_w, '-') + "\n";
  out += "Total params: " + with_commas(params) + "\n";
  out += "FLOPs per image (forward): " + with_commas(flops) + "\n";
  out += "Last layer: softmax with cross-entropy loss\n";
  return out;
}

}  // namespace convnet
