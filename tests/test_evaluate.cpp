// Evaluator (evaluate.hpp): networks on the fast kernels take several of the
// notebook's batches per forward; the counts and classes must be those of
// batch-by-batch evaluation, and the forward size must stay within its
// memory bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "convnet/convnet.hpp"

using namespace convnet;

namespace {

// A Network that is not a Sequential: the Evaluator then keeps batch_size
// images per forward, the notebook's batches.
template <class T>
class Unbatched : public Network<T> {
 public:
  explicit Unbatched(Sequential<T>& net) : net_(net) {}
  const Tensor<T>& predict(const Tensor<T>& x, Mode mode) override {
    ++forwards;
    largest = std::max(largest, x.shape(0));
    return net_.predict(x, mode);
  }
  T loss(const Tensor<T>& x, const std::vector<std::int32_t>& t, Mode mode) override { return net_.loss(x, t, mode); }
  T loss(const Tensor<T>& x, const Tensor<T>& t) override { return net_.loss(x, t); }
  const NamedTensors<T>& gradient(const Tensor<T>& x, const std::vector<std::int32_t>& t) override {
    return net_.gradient(x, t);
  }
  const NamedTensors<T>& gradient(const Tensor<T>& x, const Tensor<T>& t) override { return net_.gradient(x, t); }
  const NamedTensors<T>& params() const override { return net_.params(); }
  const NamedTensors<T>& grads() const override { return net_.grads(); }
  const NamedTensors<T>& buffers() const override { return net_.buffers(); }
  Architecture architecture() const override { return net_.architecture(); }
  T last_loss() const override { return net_.last_loss(); }

  std::size_t forwards = 0, largest = 0;

 private:
  Sequential<T>& net_;
};

// count 28x28 images, 80 % zero pixels like MNIST's, random labels 0-9.
Dataset sparse_images(std::size_t count, unsigned seed) {
  Dataset d;
  d.count = count, d.rows = 28, d.cols = 28;
  d.images.resize(count * 28 * 28);
  d.labels.resize(count);
  std::mt19937 gen(seed);
  for (auto& p : d.images) p = gen() % 5 ? 0 : std::uint8_t(gen() & 0xff);
  for (auto& l : d.labels) l = std::uint8_t(gen() % 10);
  return d;
}

template <class T>
void grouped_forwards_count_as_the_notebooks_batches() {
  SimpleConvNetConfig cfg;
  cfg.weight_init_std = 0.1;  // scores far enough apart that the classes vary
  SimpleConvNet<T> net(cfg, Kernels::Fast);
  Unbatched<T> plain(net);
  const Dataset d = sparse_images(1234, 3);  // not a multiple of 100 or 500
  std::vector<std::int32_t> grouped, batched;
  const std::size_t correct = Evaluator<T>(100).count_correct(net, d, &grouped);
  const std::size_t expected = Evaluator<T>(100).count_correct(plain, d, &batched);
  EXPECT_EQ(plain.forwards, 13u);  // 12 batches of 100 and one of 34
  EXPECT_EQ(plain.largest, 100u);
  ASSERT_EQ(grouped, batched);
  EXPECT_EQ(correct, expected);
  std::size_t hits = 0;
  for (std::size_t i = 0; i < d.count; ++i) hits += grouped[i] == d.labels[i];
  EXPECT_EQ(correct, hits);
  // The classes vary (the comparison above is not of constants).
  EXPECT_LT(std::size_t(std::count(grouped.begin(), grouped.end(), grouped[0])), d.count);
  // A process's share: images [37, 838).
  std::size_t share = 0;
  for (std::size_t i = 37; i < 838; ++i) share += batched[i] == d.labels[i];
  EXPECT_EQ(Evaluator<T>(100).count_correct(net, d, 37, 801), share);
}

}  // namespace

TEST(Evaluator, GroupedForwardsCountAsTheNotebooksBatches) { grouped_forwards_count_as_the_notebooks_batches<float>(); }
TEST(Evaluator, GroupedForwardsCountAsTheNotebooksBatchesDouble) {
  grouped_forwards_count_as_the_notebooks_batches<double>();
}

TEST(Evaluator, ForwardSizeGroupsFastNetworksWithinTheirMemory) {
  const Architecture notebook = SimpleConvNet<float>(SimpleConvNetConfig{}, Kernels::Fast).architecture();
  EXPECT_EQ(eval_forward_size(notebook, Kernels::Fast, 4, 100), 500u);
  EXPECT_EQ(eval_forward_size(notebook, Kernels::Fast, 8, 100), 500u);
  EXPECT_EQ(eval_forward_size(notebook, Kernels::Fast, 4, 30), 480u);  // whole batches
  EXPECT_EQ(eval_forward_size(notebook, Kernels::Fast, 4, 300), 300u);
  EXPECT_EQ(eval_forward_size(notebook, Kernels::Fast, 4, 1000), 1000u);
  EXPECT_EQ(eval_forward_size(notebook, Kernels::NumpyExact, 8, 100), 100u);  // the notebook's batches
  // 1000 filters: 1000 x 12 x 12 pooled values alone are 576 kB an image in
  // float, so 500 images would be 288 MB; the forward stays within 64 MiB.
  SimpleConvNetConfig wide;
  wide.conv_param.filter_num = 1000;
  const Architecture big = SimpleConvNet<float>(wide, Kernels::Fast).architecture();
  std::size_t per_image = 0;
  for (const LayerFootprint& l : sequential_footprint(big, Kernels::Fast)) per_image += l.eval_sample * 4;
  ASSERT_GE(per_image, 576000u);
  const std::size_t n = eval_forward_size(big, Kernels::Fast, 4, 100);
  EXPECT_EQ(n % 100, 0u);
  EXPECT_LE(n * per_image, std::size_t(64) << 20);
  EXPECT_LT(n, 500u);
  // A batch that alone exceeds the bound is still one forward.
  EXPECT_EQ(eval_forward_size(big, Kernels::Fast, 4, 200), 200u);
}
