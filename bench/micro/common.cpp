#include "common.hpp"

#include <cstdlib>
#include <filesystem>
#include <random>

namespace bench {

convnet::Tensor<float> random_tensor(const std::vector<std::size_t>& shape, float lo, float hi, unsigned seed) {
  convnet::Tensor<float> t(shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (float& v : t) v = u(gen);
  return t;
}

namespace {

convnet::Dataset synthetic(std::size_t count, unsigned seed) {
  convnet::Dataset d;
  d.count = count, d.rows = kH, d.cols = kW;
  d.images.resize(count * kH * kW);
  d.labels.resize(count);
  std::mt19937 gen(seed);
  for (auto& p : d.images) p = std::uint8_t(gen() & 0xff);
  for (auto& l : d.labels) l = std::uint8_t(gen() % kOut);
  return d;
}

BenchData load() {
  BenchData b;
  const char* env = std::getenv("CONVNET_BENCH_DATA");
  const std::string dir = env ? env : std::string(CONVNET_SOURCE_DIR) + "/data/mnist";
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) {
    try {
      const convnet::Mnist m = convnet::load_mnist(dir);
      b.train = m.train.head(5000);
      b.test = m.test.head(1000);
      return b;
    } catch (const convnet::Error& e) {
      std::fprintf(stderr, "convnet_micro: %s; using random images\n", e.what());
    }
  }
  b.train = synthetic(5000, 1);
  b.test = synthetic(1000, 2);
  b.synthetic = true;
  return b;
}

}  // namespace

const BenchData& bench_data() {
  static const BenchData data = load();
  return data;
}

}  // namespace bench
