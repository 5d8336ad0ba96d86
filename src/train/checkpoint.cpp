#include "convnet/train/checkpoint.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "convnet/train/model.hpp"

#include <nlohmann/json.hpp>

namespace convnet {

namespace {
// 2: options and architecture as JSON text; 1: one array per option (still read).
constexpr std::int64_t kVersion = 2;
using json = nlohmann::json;

NpyArray scalar_i64(std::int64_t v) { return NpyArray::from<std::int64_t>({}, &v); }
NpyArray scalar_f64(double v) { return NpyArray::from<double>({}, &v); }
std::int64_t get_i64(const NpzArchive& a, const std::string& path, const char* name) {
  return require(a, path, name, "<i8", {}).as<std::int64_t>()[0];
}
double get_f64(const NpzArchive& a, const std::string& path, const char* name) {
  return require(a, path, name, "<f8", {}).as<double>()[0];
}
std::size_t get_size(const NpzArchive& a, const std::string& path, const char* name) {
  const std::int64_t v = get_i64(a, path, name);
  if (v < 0) throw Error(path + ": " + name + " is negative (" + std::to_string(v) + ")");
  return std::size_t(v);
}
std::uint32_t crc32_of(const Dataset& d) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed in chunks.
  for (const auto* v : {&d.images, &d.labels})
    for (std::size_t i = 0; i < v->size(); i += (1u << 30))
      crc = crc32(crc, v->data() + i, uInt(std::min<std::size_t>(v->size() - i, 1u << 30)));
  return std::uint32_t(crc);
}
}  // namespace

DataFingerprint data_fingerprint(const Dataset& train, const Dataset& test, const std::string& dir) {
  DataFingerprint f;
  f.present = true;
  f.dir = dir;
  f.train_crc32 = crc32_of(train);
  f.test_crc32 = crc32_of(test);
  f.train_count = train.count;
  f.test_count = test.count;
  return f;
}

std::string describe(const DataFingerprint& f) {
  char buf[160];
  std::snprintf(buf, sizeof buf, " (train crc32 %08x, %zu images; test crc32 %08x, %zu images)", unsigned(f.train_crc32),
                f.train_count, unsigned(f.test_crc32), f.test_count);
  return f.dir + buf;
}

double RunOptions::iter_per_epoch(std::size_t train_count) const {
  return std::max(double(train_count) / double(batch_size), 1.0);
}

TrainOptions RunOptions::train_options(std::size_t train_count) const {
  TrainOptions t;
  t.iters = iters;
  t.batch_size = batch_size;
  t.eval_interval = eval_interval;
  if (epochs) t.iter_per_epoch = iter_per_epoch(train_count), t.epoch_eval_size = epoch_eval_size;
  return t;
}

std::string RunOptions::to_json() const {
  json j = {{"optimizer", optimizer},       {"lr", lr},
            {"seed", seed},                 {"batch_size", batch_size},
            {"iters", iters},               {"eval_interval", eval_interval},
            {"train_size", train_size},     {"test_size", test_size},
            {"numpy_compatible", numpy_compatible}, {"print_interval", print_interval},
            {"epochs", epochs},             {"epoch_eval_size", epoch_eval_size}};
  if (data.present)
    j["data"] = {{"dir", data.dir},
                 {"train_crc32", data.train_crc32},
                 {"train_count", data.train_count},
                 {"test_crc32", data.test_crc32},
                 {"test_count", data.test_count}};
  return j.dump(1);
}

RunOptions RunOptions::from_json(std::string_view text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(source + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  RunOptions r;
  auto get = [&](const json& obj, const char* key, auto& field, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end()) throw Error(source + ": missing field \"" + where + key + "\"");
    try {
      it->get_to(field);
    } catch (const json::exception&) {
      throw Error(source + ": field \"" + where + key + "\" has the wrong type (" + it->dump() + ")");
    }
  };
  get(j, "optimizer", r.optimizer, "");
  get(j, "lr", r.lr, "");
  get(j, "seed", r.seed, "");
  get(j, "batch_size", r.batch_size, "");
  get(j, "iters", r.iters, "");
  get(j, "eval_interval", r.eval_interval, "");
  get(j, "train_size", r.train_size, "");
  get(j, "test_size", r.test_size, "");
  get(j, "numpy_compatible", r.numpy_compatible, "");
  get(j, "print_interval", r.print_interval, "");
  if (j.contains("epochs")) get(j, "epochs", r.epochs, "");  // newer than version 2's first files
  if (j.contains("epoch_eval_size")) get(j, "epoch_eval_size", r.epoch_eval_size, "");
  if (auto d = j.find("data"); d != j.end()) {
    r.data.present = true;
    get(*d, "dir", r.data.dir, "data.");
    get(*d, "train_crc32", r.data.train_crc32, "data.");
    get(*d, "train_count", r.data.train_count, "data.");
    get(*d, "test_crc32", r.data.test_crc32, "data.");
    get(*d, "test_count", r.data.test_count, "data.");
  }
  return r;
}

namespace {
void flatten(const json& j, const std::string& path, std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) flatten(*it, path.empty() ? it.key() : path + "." + it.key(), out);
  } else if (j.is_array() && std::any_of(j.begin(), j.end(), [](const json& e) { return e.is_structured(); })) {
    for (std::size_t i = 0; i < j.size(); ++i) flatten(j[i], path + "[" + std::to_string(i) + "]", out);
  } else {
    out.emplace_back(path, j.is_string() ? j.get<std::string>() : j.dump());  // [1, 28, 28] stays one value
  }
}
}  // namespace

std::vector<std::pair<std::string, std::string>> json_fields(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  flatten(json::parse(text), "", out);
  return out;
}

template <class T>
void save_checkpoint(const std::string& path, const RunOptions& run, const Network<T>& net, Optimizer<T>& optimizer,
                     const Trainer<T>& trainer) {
  NpzArchive a = model_arrays(net);  // the parameters and the architecture: a checkpoint is also a model
  a["convnet_checkpoint"] = scalar_i64(kVersion);
  RunOptions stored = run;
  stored.optimizer = optimizer.name();
  a["options"] = text_array(stored.to_json());
  // Optimizer state: "opt/m/W1", ... and its step counter.
  for (const auto& [name, t] : optimizer.state()) a["opt/" + name] = NpyArray::from<T>(t->shape(), t->data());
  a["opt_iter"] = scalar_i64(optimizer.iter());
  // Trainer state.
  const TrainerState s = trainer.state();
  a["iter"] = scalar_i64(std::int64_t(s.iter));
  a["losses"] = NpyArray::from<double>({s.losses.size()}, s.losses.data());
  std::vector<double> ev;
  for (const auto& r : s.evals) ev.insert(ev.end(), {double(r.iter), r.loss, r.accr_train, r.accr_test, r.seconds});
  a["evals"] = NpyArray::from<double>({s.evals.size(), 5}, ev.data());
  const double secs[3] = {s.train_seconds, s.eval_seconds, s.seconds};
  a["seconds"] = NpyArray::from<double>({3}, secs);
  a["rng_key"] = NpyArray::from<std::uint32_t>({std::size_t(RandomState::kStateLen)}, s.rng.key.data());
  a["rng_pos"] = scalar_i64(s.rng.pos);
  a["rng_has_gauss"] = scalar_i64(s.rng.has_gauss);
  a["rng_gauss"] = scalar_f64(s.rng.gauss);
  save_npz(path, a);
}

NpzArchive read_checkpoint(const std::string& path) {
  NpzArchive a = load_npz(path);
  if (!a.count("convnet_checkpoint"))
    throw Error(path + ": not a convnet checkpoint (no array convnet_checkpoint)");
  const std::int64_t v = get_i64(a, path, "convnet_checkpoint");
  if (v != kVersion && v != 1)
    throw Error(path + ": checkpoint format version " + std::to_string(v) + ", expected 1 or " +
                std::to_string(kVersion));
  return a;
}

RunOptions checkpoint_options(const NpzArchive& a, const std::string& path) {
  if (a.count("options")) return RunOptions::from_json(get_text(a, path, "options"), path + ": options");
  // Version 1: one array per option.
  RunOptions r;
  const std::int64_t seed = get_i64(a, path, "seed");
  if (seed < 0 || seed > 0xFFFFFFFFLL) throw Error(path + ": seed out of range");
  r.seed = std::uint32_t(seed);
  r.optimizer = get_text(a, path, "optimizer");
  r.lr = get_f64(a, path, "lr");
  r.batch_size = get_size(a, path, "batch_size");
  r.iters = get_size(a, path, "iters");
  r.eval_interval = get_size(a, path, "eval_interval");
  r.train_size = get_size(a, path, "train_size");
  r.test_size = get_size(a, path, "test_size");
  r.numpy_compatible = get_i64(a, path, "float64") != 0;
  // Added later: absent in older checkpoints. The print interval then
  // defaults as on the command line (the smallest multiple of the eval
  // interval >= 100); the data is not checked.
  if (a.count("print_interval"))
    r.print_interval = get_size(a, path, "print_interval");
  else
    r.print_interval = r.eval_interval ? (100 + r.eval_interval - 1) / r.eval_interval * r.eval_interval : 100;
  if (a.count("data_train_crc32")) {
    auto crc = [&](const char* name) {
      const std::int64_t v = get_i64(a, path, name);
      if (v < 0 || v > 0xFFFFFFFFLL) throw Error(path + ": " + name + " out of range");
      return std::uint32_t(v);
    };
    r.data.present = true;
    r.data.dir = get_text(a, path, "data_dir");
    r.data.train_crc32 = crc("data_train_crc32");
    r.data.test_crc32 = crc("data_test_crc32");
    r.data.train_count = get_size(a, path, "data_train_count");
    r.data.test_count = get_size(a, path, "data_test_count");
  }
  return r;
}

Architecture checkpoint_architecture(const NpzArchive& a, const std::string& path) {
  Architecture arch = model_architecture(a, path);
  if (!a.count("architecture")) arch.weight_init_std = get_f64(a, path, "weight_init_std");  // version 1
  return arch;
}

template <class T>
void restore_checkpoint(const NpzArchive& a, const std::string& path, Network<T>& net, Optimizer<T>& optimizer,
                        Trainer<T>& trainer) {
  load_params(a, path, net);
  optimizer.prepare(net.params());
  const char* descr = std::is_same_v<T, float> ? "<f4" : "<f8";
  for (const auto& [name, t] : optimizer.state()) {
    const NpyArray& arr = require(a, path, "opt/" + name, descr, t->shape());
    check_finite_array(arr, path, "opt/" + name);
    const auto v = arr.template as<T>();
    std::memcpy(t->data(), v.data(), v.size() * sizeof(T));
  }
  optimizer.iter() = get_i64(a, path, "opt_iter");
  TrainerState s;
  s.iter = get_size(a, path, "iter");
  s.losses = require(a, path, "losses", "<f8", {s.iter}).as<double>();
  auto ev_it = a.find("evals");
  if (ev_it == a.end() || ev_it->second.shape.size() != 2 || ev_it->second.shape[1] != 5)
    throw Error(path + ": evals must be an (n, 5) array");
  const auto ev = require(a, path, "evals", "<f8", ev_it->second.shape).as<double>();
  for (std::size_t i = 0; i + 4 < ev.size(); i += 5)
    s.evals.push_back({std::size_t(ev[i]), ev[i + 1], ev[i + 2], ev[i + 3], ev[i + 4]});
  const auto secs = require(a, path, "seconds", "<f8", {3}).as<double>();
  s.train_seconds = secs[0], s.eval_seconds = secs[1], s.seconds = secs[2];
  const auto key = require(a, path, "rng_key", "<u4", {std::size_t(RandomState::kStateLen)}).as<std::uint32_t>();
  std::copy(key.begin(), key.end(), s.rng.key.begin());
  s.rng.pos = int(get_i64(a, path, "rng_pos"));
  s.rng.has_gauss = int(get_i64(a, path, "rng_has_gauss"));
  s.rng.gauss = get_f64(a, path, "rng_gauss");
  try {
    trainer.restore(s);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

#define CONVNET_INSTANTIATE(T)                                                                              \
  template void save_checkpoint(const std::string&, const RunOptions&, const Network<T>&, Optimizer<T>&,      \
                                const Trainer<T>&);                                                         \
  template void restore_checkpoint(const NpzArchive&, const std::string&, Network<T>&, Optimizer<T>&, Trainer<T>&);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(double)
#undef CONVNET_INSTANTIATE

}  // namespace convnet
