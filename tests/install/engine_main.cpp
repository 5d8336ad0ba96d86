// Uses only the engine library: a Sequential network built from an
// architecture document, one gradient step, the parameters by the book's names.
#include <convnet/engine.hpp>
#include <cstdio>

int main() {
  const auto arch = convnet::Architecture::from_json(
      R"({"input": [1, 8, 8], "layers": [{"type": "conv", "filters": 2, "size": 3},
          {"type": "relu"}, {"type": "pool", "size": 2, "stride": 2}, {"type": "affine", "units": 3}]})",
      "engine_main");
  convnet::Sequential<float> net(arch, 1u);
  convnet::Tensor<float> x({2, 1, 8, 8});
  convnet::RandomState rng(3);
  for (auto& v : x) v = static_cast<float>(rng.random_sample());
  const std::vector<std::int32_t> t{0, 2};
  const float before = net.loss(x, t);
  convnet::SGD<float> sgd(0.5);
  for (int i = 0; i < 20; ++i) sgd.update(net.params(), net.gradient(x, t));
  const float after = net.loss(x, t);
  if (!(after < before) || net.params().size() != 4) {
    std::fprintf(stderr, "engine_consumer: loss %g -> %g, %zu params\n", double(before), double(after),
                 net.params().size());
    return 1;
  }
  return 0;
}
