// The book's Trainer runs: `convnet train --numpy-compatible --epochs E`
// against tools/reference/book.py (ch08 DeepConvNet, ch06 MultiLayerNetExtend
// with BatchNormalization, common/trainer.py) from the same seed.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_util.hpp"
#include "convnet/convnet.hpp"

using namespace convnet;
namespace fs = std::filesystem;

namespace {
bool has_numpy() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

std::string source(const std::string& rel) { return std::string(CONVNET_SOURCE_DIR) + "/" + rel; }

// MNIST if it is there, else a toy set big enough for every run below.
std::string data_dir(const fs::path& dir) {
  const std::string mnist = source("data/mnist");
  if (fs::exists(mnist + "/train-images-idx3-ubyte")) return mnist;
  test::write_toy_idx(dir / "data", 1000, 500);
  return (dir / "data").string();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream s(text);
  for (std::string line; std::getline(s, line);) v.push_back(line);
  return v;
}

// The Trainer's printed lines: "=== epoch:K, train acc:A, test acc:B ===",
// the final banner and "test acc:X" (anything else a program prints is left out).
std::vector<std::string> trainer_lines(const std::string& out) {
  std::vector<std::string> v;
  for (const auto& l : lines_of(out))
    if (l.rfind("=== epoch:", 0) == 0 || l == "=============== Final Test Accuracy ===============" ||
        l.rfind("test acc:", 0) == 0)
      v.push_back(l);
  return v;
}

struct BookRun {
  nlohmann::json ref;                     // book.py --log
  std::vector<std::string> ref_lines;     // book.py's printed Trainer lines
  std::vector<double> losses;             // convnet --losses
  std::vector<std::string> lines;         // convnet's printed Trainer lines
  std::string failure;                    // why a side did not run, if one did not
};

// book.py with `book_net`, convnet with `cli_net`, both with `common`
// (--seed, --epochs, sizes: the two programs share these option names).
BookRun run_both(const std::string& name, const std::string& book_net, const std::string& cli_net,
                 const std::string& common) {
  BookRun r;
  const fs::path dir = test::fresh_dir("numpy-book-" + name);
  const std::string d = dir.string(), all = common + " --data " + data_dir(dir);
  const std::string py = "/usr/bin/python3 " + source("tools/reference/book.py") + " " + book_net + all +
                         " --log " + d + "/ref.json > " + d + "/ref.txt";
  if (std::system(py.c_str()) != 0) {
    r.failure = "the reference script failed: " + py;
    return r;
  }
  r.ref = nlohmann::json::parse(test::slurp(d + "/ref.json"));
  r.ref_lines = trainer_lines(test::slurp(d + "/ref.txt"));
  const auto c = test::run_cli("train --numpy-compatible --threads 1 " + cli_net + all + " --losses " + d + "/losses.txt");
  if (c.status != 0) {
    r.failure = "convnet train failed (" + std::to_string(c.status) + "): " + c.err;
    return r;
  }
  for (const auto& l : lines_of(test::slurp(d + "/losses.txt"))) r.losses.push_back(std::strtod(l.c_str(), nullptr));
  r.lines = trainer_lines(c.out);
  fs::remove_all(dir);
  return r;
}

// Every loss to 1e-9 relative, every printed line as text.
void expect_same_run(const BookRun& r, std::size_t iters, std::size_t epoch_lines) {
  ASSERT_TRUE(r.failure.empty()) << r.failure;
  const auto& ref_losses = r.ref.at("losses");
  ASSERT_EQ(ref_losses.size(), iters);
  ASSERT_EQ(r.losses.size(), iters);
  double worst = 0;
  for (std::size_t i = 0; i < iters; ++i) {
    const double a = r.losses[i], b = ref_losses[i].get<double>();
    worst = std::max(worst, std::fabs(a - b) / std::fabs(b));
    EXPECT_LE(std::fabs(a - b), 1e-9 * std::fabs(b)) << "iteration " << i << ": " << python_float(a) << " vs NumPy "
                                                     << python_float(b);
  }
  testing::Test::RecordProperty("max_relative_loss_difference", python_float(worst));
  ASSERT_EQ(r.ref_lines.size(), epoch_lines + 2) << "the reference printed an unexpected number of lines";
  EXPECT_EQ(r.lines, r.ref_lines);
}

// The initial parameters book.py dumps (np.random.seed, then the network)
// equal Sequential<double>'s from the same seed, bit for bit; every one of
// the book's arrays is one of ours of that name.
void expect_same_init(const Architecture& arch, const std::string& book_net, std::uint32_t seed) {
  const fs::path dir = test::fresh_dir("numpy-book-init");
  const std::string npz = (dir / "init.npz").string();
  // --epochs 0: no training step, only the final accuracy on 100 images.
  const std::string py = "/usr/bin/python3 " + source("tools/reference/book.py") + " " + book_net +
                         " --epochs 0 --test-size 100 --seed " + std::to_string(seed) + " --data " + data_dir(dir) +
                         " --dump-init " + npz + " > /dev/null";
  ASSERT_EQ(std::system(py.c_str()), 0) << py;
  const NpzArchive init = load_npz(npz);
  Sequential<double> net(arch, seed);
  EXPECT_EQ(init.size(), net.params().size());
  for (const auto& [name, t] : net.params()) {
    ASSERT_TRUE(init.count(name)) << "book.py has no " << name;
    const auto v = init.at(name).as<double>();
    ASSERT_EQ(v.size(), t->size()) << name;
    for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ((*t)[i], v[i]) << name << " at " << i;
  }
  fs::remove_all(dir);
}

// "W" + std::to_string(k), without GCC 12's false -Wrestrict on operator+.
std::string numbered(const char* prefix, int k) {
  std::string s = prefix;
  s += std::to_string(k);
  return s;
}

Architecture bn_mlp() { return Architecture::from_json(test::slurp(source("examples/bn_mlp.json")), "bn_mlp.json"); }
}  // namespace

TEST(NumpyBook, DeepConvNetInitialParametersAreNumpysBitForBit) {
  if (!has_numpy()) GTEST_SKIP() << "python3-numpy is not installed (make test installs it)";
  expect_same_init(Architecture::deep_convnet(), "--net deep", 3);
}

TEST(NumpyBook, DeepConvNetTrainerRunMatchesLossesAndEpochLines) {
  if (!has_numpy()) GTEST_SKIP() << "python3-numpy is not installed (make test installs it)";
  // 100 / 10 = 10 iterations per epoch, 2 epochs: evaluations after iterations
  // 0 and 10; dropout draws in both the gradient's forward and the logged loss.
  const auto r = run_both("deep", "--net deep", "--net deep",
                          " --seed 3 --epochs 2 --train-size 100 --test-size 100 --batch-size 10");
  expect_same_run(r, 20, 2);
}

TEST(NumpyBook, BatchNormMlpIsTheBooksMultiLayerNetExtend) {
  // MultiLayerNetExtend(784, [100] * 5, 10, weight_init_std='he', use_batchnorm=True):
  // affine - batchnorm - relu, five times, then affine; W1..W6 of the book's shapes.
  const Architecture a = bn_mlp();
  EXPECT_FALSE(a.loss_train_mode);  // the book's loss(train_flg=False)
  EXPECT_EQ(a.weight_init, InitScheme::He);
  std::vector<std::pair<std::string, std::vector<std::size_t>>> expected;
  std::size_t in = 784;
  for (int k = 1; k <= 6; ++k) {
    const std::size_t out = k == 6 ? 10 : 100;
    expected.push_back({numbered("W", k), {in, out}});
    expected.push_back({numbered("b", k), {out}});
    in = out;
  }
  Sequential<double> net(a, 0u);
  std::vector<std::string> names;
  for (const auto& [name, t] : net.params()) names.push_back(name);
  for (const auto& [name, shape] : expected) {
    ASSERT_TRUE(net.params().contains(name)) << name;
    EXPECT_EQ(net.params()[name].shape(), shape) << name;
  }
  for (int k = 1; k <= 5; ++k)
    for (const char* p : {"gamma", "beta"}) {
      const std::string name = numbered(p, k);
      ASSERT_TRUE(net.params().contains(name)) << name;
      EXPECT_EQ(net.params()[name].shape(), std::vector<std::size_t>{100}) << name;
    }
  EXPECT_EQ(names.size(), 22u);
}

TEST(NumpyBook, BatchNormMlpInitialParametersAreNumpysBitForBit) {
  if (!has_numpy()) GTEST_SKIP() << "python3-numpy is not installed (make test installs it)";
  expect_same_init(bn_mlp(), "--net bn-mlp", 5);
}

TEST(NumpyBook, BatchNormMlpTrainerRunMatchesLossesAndEpochLines) {
  if (!has_numpy()) GTEST_SKIP() << "python3-numpy is not installed (make test installs it)";
  // 1000 / 100 = 10 iterations per epoch, 3 epochs; multiples of 100
  // throughout (the book's MultiLayerNetExtend.accuracy is unbatched, ours
  // goes by 100). The logged loss is eval mode: the running statistics,
  // which start at zero, so the first losses are large.
  const auto r = run_both("bn-mlp", "--net bn-mlp", "--net " + source("examples/bn_mlp.json"),
                          " --seed 5 --epochs 3 --train-size 1000 --test-size 500 --batch-size 100");
  expect_same_run(r, 30, 3);
}

TEST(NumpyBook, BatchNormMlpWithSgdAndASmallStdMatches) {
  if (!has_numpy()) GTEST_SKIP() << "python3-numpy is not installed (make test installs it)";
  // ch06/batch_norm_test.py's regime: SGD lr 0.01, weight_init_std a number;
  // a narrower net, with a train size that is not a multiple of the batch
  // (iter_per_epoch 7.5: evaluations only after iterations 0 and 15).
  const fs::path dir = test::fresh_dir("numpy-book-sgd-net");
  const std::string net = (dir / "net.json").string();
  test::write_raw(net, R"({"input": [1, 28, 28], "weight_init_std": 0.01, "layers": [
      {"type": "affine", "units": 50}, {"type": "batchnorm"}, {"type": "relu"},
      {"type": "affine", "units": 30}, {"type": "batchnorm"}, {"type": "relu"},
      {"type": "affine", "units": 10}]})");
  const auto r = run_both("bn-mlp-sgd", "--net bn-mlp --hidden 50,30 --weight-init-std 0.01", "--net " + net,
                          " --seed 11 --epochs 3 --train-size 600 --test-size 300 --batch-size 80 "
                          "--optimizer sgd --lr 0.01 --epoch-eval-size 400");
  fs::remove_all(dir);
  expect_same_run(r, 22, 2);
}
