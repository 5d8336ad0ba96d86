// Uses the installed library through its one public header: the notebook's
// im2col example, one training step of SimpleConvNet<float> with Adam and
// one with an optimizer made by name, RandomState, and convnet::Error.
#include <convnet/convnet.hpp>
#include <cstdio>
#include <cstring>

int main() {
  int failures = 0;
  auto expect = [&failures](bool ok, const char* what) {
    if (!ok) {
      std::fprintf(stderr, "consumer: %s\n", what);
      ++failures;
    }
  };

  expect(std::strlen(convnet::version()) > 0, "empty convnet::version()");

  convnet::Tensor<double> x({1, 1, 4, 4});
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
  const auto col = convnet::im2col(x, 3, 3);
  expect(col.shape(0) == 4 && col.shape(1) == 9 && col[1] == 1.0, "im2col: wrong shape or values");

  convnet::RandomState rng(42);
  convnet::Tensor<float> batch({2, 1, 28, 28});
  for (auto& v : batch) v = static_cast<float>(rng.random_sample());
  const std::vector<std::int32_t> t{3, 7};

  convnet::SimpleConvNet<float> net;
  convnet::Adam<float> adam;
  const float before = net.loss(batch, t);
  adam.update(net.params(), net.gradient(batch, t));
  expect(adam.iter() == 1, "Adam: iter should be 1 after one update");
  auto sgd = convnet::make_optimizer<float>("sgd", 0.1);
  sgd->update(net.params(), net.gradient(batch, t));
  const float after = net.loss(batch, t);
  expect(after < before, "two training steps did not lower the loss");

  try {
    convnet::make_optimizer<float>("no-such-optimizer");
    expect(false, "make_optimizer accepted an unknown name");
  } catch (const convnet::Error&) {
  }

  std::printf("convnet %s: col %zux%zu first row %g %g %g, loss %.4f -> %.4f\n", convnet::version(),
              col.shape(0), col.shape(1), col[0], col[1], col[2], static_cast<double>(before),
              static_cast<double>(after));
  return failures == 0 ? 0 : 1;
}
