// The CLI with networks other than the notebook's (issue #11): --net FILE,
// --dry-run, data of any C x H x W and class count, models and checkpoints
// that carry their architecture so eval and --resume need not be told it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_util.hpp"
#include "convnet/convnet.hpp"
#include "idx_util.hpp"

using namespace convnet;
using namespace convnet::test;
namespace fs = std::filesystem;

namespace {
bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// Two conv layers (the second on 4 channels), pad, an affine head: 3x12x10 in, 5 classes.
const char* kNet = R"({"input": [3, 12, 10], "layers": [
  {"type": "conv", "filters": 4, "size": 3, "pad": 1},
  {"type": "relu"},
  {"type": "pool", "size": 2, "stride": 2},
  {"type": "conv", "filters": 6, "size": 3, "stride": 2, "pad": 1},
  {"type": "relu"},
  {"type": "affine", "units": 5}]})";
}  // namespace

TEST(NetworksCli, ThreeChannelsFiveClassesTrainEvaluateAndResumeWithoutRestatingTheNetwork) {
  const auto d = fresh_dir("net-rgb");
  const std::string o = d.string();
  write_idx_dataset(d / "data", 200, 50, 3, 12, 10, 5, 7);
  std::ofstream(d / "net.json") << kNet;
  const std::string data = " --data " + o + "/data --train-size 0 --test-size 0 --threads 1 -q --batch-size 20";

  // --dry-run: the table, the data's shape at the input, nothing trained or written.
  auto r = run_cli("train --data " + o + "/data --train-size 0 --test-size 0 --net " + o + "/net.json --dry-run --save " + o + "/none.npz");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.out, "Input             (3, 12, 10)")) << r.out;
  EXPECT_TRUE(has(r.out, "Conv2 (conv)      (6, 3, 3)")) << r.out;  // (6 + 2 - 3) / 2 + 1 = 3 and (5 + 2 - 3) / 2 + 1 = 3
  EXPECT_TRUE(has(r.out, "Affine1 (affine)  (5,)")) << r.out;
  EXPECT_FALSE(fs::exists(o + "/none.npz"));

  // Train 30 iterations in one go, and 20 + a resume to 30 that names no network.
  ASSERT_EQ(run_cli("train" + data + " --net " + o + "/net.json --iters 30 --save " + o + "/full.npz").status, 0);
  ASSERT_EQ(run_cli("train" + data + " --net " + o + "/net.json --iters 20 --checkpoint " + o + "/ck.npz").status,
            0);
  r = run_cli("train --data " + o + "/data --threads 1 -q --iters 30 --resume " + o + "/ck.npz --save " + o +
              "/resumed.npz");
  ASSERT_EQ(r.status, 0) << r.err;
  const NpzArchive full = load_npz(o + "/full.npz"), resumed = load_npz(o + "/resumed.npz");
  for (const char* name : {"W1", "b1", "W2", "b2", "W3", "b3"})
    EXPECT_EQ(resumed.at(name).as<float>(), full.at(name).as<float>()) << name;  // bit for bit
  EXPECT_EQ(full.at("W2").shape, (std::vector<std::size_t>{6, 4, 3, 3}));
  EXPECT_EQ(full.at("W3").shape, (std::vector<std::size_t>{6 * 3 * 3, 5}));
  EXPECT_EQ(full.count("conv_param"), 0u);  // not the notebook's network: no notebook fields

  // eval rebuilds the network from the file: 5 classes, 50 images.
  r = run_cli("eval --data " + o + "/data --model " + o + "/full.npz --json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.out, "\"images\": 50")) << r.out;
  auto net = load_model<float>(o + "/full.npz");
  EXPECT_EQ(net->architecture(), Architecture::from_json(kNet));

  // The network given again must agree with the checkpoint's.
  std::string other = kNet;
  other.replace(other.find("\"filters\": 6"), 12, "\"filters\": 7");
  std::ofstream(d / "other.json") << other;
  r = run_cli("train --data " + o + "/data -q --iters 30 --resume " + o + "/ck.npz --net " + o + "/other.json");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "layers[3].filters 7 (checkpoint: layers[3].filters 6)")) << r.err;
}

TEST(NetworksCli, TheSimpleNetworkTakesTheDatasShapeAndClasses) {
  const auto d = fresh_dir("net-simple-rgb");
  const std::string o = d.string();
  write_idx_dataset(d / "data", 100, 20, 3, 16, 16, 4, 3);
  auto r = run_cli("train --data " + o + "/data --test-size 0 --train-size 0 --dry-run --filters 5 --hidden 20");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.out, "Input             (3, 16, 16)")) << r.out;
  EXPECT_TRUE(has(r.out, "Conv1 (conv)      (5, 12, 12)")) << r.out;
  EXPECT_TRUE(has(r.out, "Affine2 (affine)  (4,)")) << r.out;
  r = run_cli("train --data " + o + "/data --train-size 0 --test-size 0 --iters 3 --threads 1 -q --filters 5 --hidden 20 "
              "--save " + o + "/m.npz");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(load_npz(o + "/m.npz").at("W1").shape, (std::vector<std::size_t>{5, 3, 5, 5}));
}

TEST(NetworksCli, BadNetworksAreRefusedWithTheLayerAndTheProblem) {
  const auto d = fresh_dir("net-bad");
  const std::string o = d.string();
  write_idx_dataset(d / "data", 30, 10, 1, 28, 28, 10, 1);
  struct Case {
    std::string json, expect;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"input": [1, 28, 28], "layers": [{"type": "conv", "filters": 4}, {"type": "affine", "units": 10}]})",
            "net.json: layers[0] (conv): missing field \"size\""},
           {R"({"input": [1, 28, 28], "layers": [{"type": "dense", "units": 10}]})", "net.json: layers[0]"},
           {R"({"input": [1, 28, 28], "layers": [{"type": "pool", "size": 40, "stride": 1}, {"type": "affine", "units": 10}]})",
            "its output would be empty"},
           {R"({"input": [1, 28, 28], "layers": [{"type": "affine", "units": 10}, {"type": "conv", "filters": 1, "size": 1}]})",
            "expects an image input"},
           {R"({"input": [1, 28, 28], "layers": []})", "\"layers\" is empty"},
           {R"({"input": [3, 28, 28], "layers": [{"type": "affine", "units": 10}]})",
            "net.json: the network takes input (3, 28, 28), but the images of --data " + o + "/data are (1, 28, 28)"},
           {"{\"input\": [1, 28", "net.json"}}) {
    std::ofstream(d / "net.json") << c.json;
    const auto r = run_cli("train --data " + o + "/data --train-size 0 --test-size 0 --iters 1 -q --net " + o +
                           "/net.json --save " + o + "/m.npz");
    EXPECT_EQ(r.status, 2) << c.json << "\n" << r.err;
    EXPECT_TRUE(has(r.err, c.expect)) << c.json << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;  // one line
    EXPECT_FALSE(fs::exists(o + "/m.npz"));
  }
}

TEST(NetworksCli, TheBooksDeepConvNetIsBuiltInAndEpochsSetTheLength) {
  const auto d = fresh_dir("net-deep");
  const std::string o = d.string();
  write_idx_dataset(d / "data", 60, 20, 1, 28, 28, 10, 2);
  const std::string data = " --data " + o + "/data --train-size 0 --test-size 0";
  auto r = run_cli("train" + data + " --net deep --dry-run");
  ASSERT_EQ(r.status, 0) << r.err;
  // One row: name, output shape (columns padded to the widest name).
  auto row = [&](const std::string& name, const std::string& shape) {
    const auto at = r.out.find(name + " ");
    if (at == std::string::npos) return false;
    const std::string line = r.out.substr(at, r.out.find('\n', at) - at);
    return line.find("  " + shape + " ") != std::string::npos;
  };
  EXPECT_TRUE(row("Conv4 (conv)", "(32, 16, 16)")) << r.out;  // pad 2, as the book
  EXPECT_TRUE(row("Affine1 (affine)", "(50,)")) << r.out;
  EXPECT_TRUE(row("Dropout2 (dropout)", "(10,)")) << r.out;
  // 160 + 2320 + 4640 + 9248 + 18496 + 36928 + 51250 + 510, counted by hand from the book's shapes
  EXPECT_TRUE(has(r.out, "Total params: 123,552")) << r.out;
  r = run_cli("train" + data + " --net deep --filters 8");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "--filters sizes --net simple; the network of --net deep is set by the book")) << r.err;
  // --epochs: 60 images / batch 20 = 3 iterations an epoch; the book's
  // Trainer evaluates after iterations 1 and 4 and prints as it does.
  r = run_cli("train" + data + " --net deep --epochs 2 --batch-size 20 --threads 1 --losses " + o +
              "/losses.txt --save " + o + "/deep.npz --metrics " + o + "/m.csv");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string losses = slurp(o + "/losses.txt");
  EXPECT_EQ(std::count(losses.begin(), losses.end(), '\n'), 6) << losses;
  EXPECT_TRUE(has(r.out, "=== epoch:1, train acc:")) << r.out;
  EXPECT_TRUE(has(r.out, "=== epoch:2, train acc:")) << r.out;
  EXPECT_FALSE(has(r.out, "=== epoch:3")) << r.out;
  EXPECT_TRUE(has(r.out, "=============== Final Test Accuracy ===============\ntest acc:")) << r.out;
  const std::string m = slurp(o + "/m.csv");
  EXPECT_TRUE(has(m, "\n1,") && has(m, "\n4,")) << m;
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 3) << m;
  EXPECT_EQ(load_npz(o + "/deep.npz").at("W8").shape, (std::vector<std::size_t>{50, 10}));
  r = run_cli("train" + data + " --epochs 2 --iters 5");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "--epochs 2 and --iters 5 both set the length of the run")) << r.err;
}

TEST(NetworksCli, BatchNormRunningStatisticsAreSavedAndUsedByEval) {
  const auto d = fresh_dir("net-bn");
  const std::string o = d.string();
  write_idx_dataset(d / "data", 80, 20, 1, 8, 8, 3, 4);
  std::ofstream(d / "bn.json") << R"({"input": [1, 8, 8], "weight_init_std": "he", "layers": [
    {"type": "conv", "filters": 4, "size": 3}, {"type": "batchnorm", "per_channel": true}, {"type": "relu"},
    {"type": "affine", "units": 10}, {"type": "batchnorm"}, {"type": "relu"}, {"type": "affine", "units": 3}]})";
  auto r = run_cli("train --data " + o + "/data --train-size 0 --test-size 0 --batch-size 20 --iters 5 --threads 1 -q "
                   "--net " + o + "/bn.json --save " + o + "/bn.npz");
  ASSERT_EQ(r.status, 0) << r.err;
  const NpzArchive a = load_npz(o + "/bn.npz");
  EXPECT_EQ(a.at("running_mean1").shape, std::vector<std::size_t>{4});
  EXPECT_EQ(a.at("running_var2").shape, std::vector<std::size_t>{10});
  // After 5 training steps the running variance has moved off its zeros.
  double moved = 0;
  for (float v : a.at("running_var1").as<float>()) moved += std::fabs(v);
  EXPECT_GT(moved, 0.0);
  auto net = load_model<float>(o + "/bn.npz");
  EXPECT_EQ(net->buffers()["running_var1"][0], a.at("running_var1").as<float>()[0]);
  r = run_cli("eval --data " + o + "/data --model " + o + "/bn.npz");
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST(NetworksCli, ADropoutRunResumesBitForBit) {
  // The masks come from the run's random state, which the checkpoint carries.
  const auto d = fresh_dir("net-dropout");
  const std::string o = d.string();
  write_idx_dataset(d / "data", 80, 20, 1, 8, 8, 3, 5);
  std::ofstream(d / "drop.json") << R"({"input": [1, 8, 8], "weight_init_std": "he", "layers": [
    {"type": "affine", "units": 12}, {"type": "relu"}, {"type": "dropout", "ratio": 0.4},
    {"type": "affine", "units": 3}, {"type": "dropout"}]})";
  const std::string run = "train --data " + o + "/data --train-size 0 --test-size 0 --batch-size 10 --threads 1 -q "
                          "--eval-interval 5 --net " + o + "/drop.json";
  ASSERT_EQ(run_cli(run + " --iters 20 --save " + o + "/full.npz --losses " + o + "/full.txt").status, 0);
  ASSERT_EQ(run_cli(run + " --iters 10 --checkpoint " + o + "/ck.npz").status, 0);
  const auto r = run_cli("train --data " + o + "/data --threads 1 -q --iters 20 --resume " + o + "/ck.npz --save " + o +
                         "/resumed.npz --losses " + o + "/resumed.txt");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(o + "/resumed.txt"), slurp(o + "/full.txt"));
  for (const char* name : {"W1", "b1", "W2", "b2"})
    EXPECT_EQ(load_npz(o + "/resumed.npz").at(name).as<float>(), load_npz(o + "/full.npz").at(name).as<float>())
        << name;
}

TEST(NetworksCli, TheBooksTrainerEvaluatesWhereItsFloatEpochsFall) {
  // book: trainer.py. 50 images / batch 20: iter_per_epoch = 2.5 (a float),
  // max_iter = int(3 * 2.5) = 7; `current_iter % 2.5 == 0` for 0-based
  // iterations 0 and 5 only, so epochs 1 and 2 open after iterations 1 and 6.
  const auto d = fresh_dir("net-epochs");
  const std::string o = d.string();
  write_idx_dataset(d / "data", 50, 40, 1, 8, 8, 3, 6);
  std::ofstream(d / "mlp.json") << R"({"input": [1, 8, 8], "layers": [
    {"type": "affine", "units": 12}, {"type": "relu"}, {"type": "affine", "units": 3}]})";
  const std::string base = "train --data " + o + "/data --net " + o + "/mlp.json --threads 1 --batch-size 20";
  auto r = run_cli(base + " --epochs 3 --epoch-eval-size 30 --metrics " + o + "/m.csv --losses " + o + "/l.txt");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string m = slurp(o + "/m.csv"), l = slurp(o + "/l.txt");
  EXPECT_EQ(std::count(l.begin(), l.end(), '\n'), 7) << l;
  ASSERT_EQ(std::count(m.begin(), m.end(), '\n'), 3) << m;
  EXPECT_TRUE(has(m, "\n1,") && has(m, "\n6,")) << m;
  EXPECT_TRUE(has(r.out, "=== epoch:2,") && !has(r.out, "=== epoch:3")) << r.out;
  // Each evaluation counts 30 images of each set: k / 30.
  std::istringstream rows(m.substr(m.find('\n') + 1));
  for (std::string row; std::getline(rows, row);) {
    std::vector<double> f;
    std::istringstream cells(row);
    for (std::string c; std::getline(cells, c, ',');) f.push_back(std::stod(c));
    ASSERT_EQ(f.size(), 5u) << row;
    for (double acc : {f[2], f[3]}) EXPECT_NEAR(acc * 30, std::round(acc * 30), 1e-9) << row;
  }
  // The whole test set at the end: 40 images, k / 40.
  const auto at = r.out.find("\ntest acc:");
  ASSERT_NE(at, std::string::npos) << r.out;
  const double final_acc = std::stod(r.out.substr(at + 10));
  EXPECT_NEAR(final_acc * 40, std::round(final_acc * 40), 1e-9) << r.out;

  // Options of the other regime are refused, naming both.
  r = run_cli(base + " --epochs 3 --eval-interval 5");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "--eval-interval sets the notebook's evaluations; with --epochs")) << r.err;
  r = run_cli(base + " --iters 3 --epoch-eval-size 10");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "--epoch-eval-size 10 sizes the book's per-epoch evaluation; it needs --epochs")) << r.err;
  ASSERT_EQ(run_cli(base + " --epochs 1 -q --checkpoint " + o + "/ck.npz").status, 0);
  r = run_cli("train --data " + o + "/data --threads 1 --resume " + o + "/ck.npz --iters 9");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "the checkpoint's run counts epochs (--epochs 1); extend it with --epochs, not --iters"))
      << r.err;
}

TEST(NetworksCli, ABooksTrainerRunWithDropoutInItsLossResumesBitForBitAfterSigkill) {
  // loss_mode "train" (DeepConvNet's loss()): the logged loss draws dropout
  // masks too; the checkpoint's random state must carry all of them.
  const auto d = fresh_dir("net-epochs-kill");
  const std::string o = d.string();
  write_idx_dataset(d / "data", 60, 30, 1, 8, 8, 3, 7);
  std::ofstream(d / "drop.json") << R"({"input": [1, 8, 8], "weight_init_std": "he", "loss_mode": "train",
    "layers": [{"type": "conv", "filters": 3, "size": 3, "pad": 1}, {"type": "relu"},
    {"type": "pool", "size": 2, "stride": 2}, {"type": "affine", "units": 12}, {"type": "relu"},
    {"type": "dropout", "ratio": 0.5}, {"type": "affine", "units": 3}, {"type": "dropout"}]})";
  const std::string run = "train --data " + o + "/data --batch-size 10 --threads 1 --epochs 3 --net " + o + "/drop.json";
  const auto full = run_cli(run + " --save " + o + "/full.npz --losses " + o + "/full.txt");
  ASSERT_EQ(full.status, 0) << full.err;
  const auto killed = run_cli(run + " -q --checkpoint " + o + "/ck.npz --checkpoint-every 4",
                              "CONVNET_TEST_KILL_AFTER_ITER=9");
  ASSERT_NE(killed.status, 0);
  const auto r = run_cli("train --data " + o + "/data --threads 1 --resume " + o + "/ck.npz --save " + o +
                         "/resumed.npz --losses " + o + "/resumed.txt");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(o + "/resumed.txt"), slurp(o + "/full.txt"));
  for (const char* name : {"W1", "b1", "W2", "b2", "W3", "b3"})
    EXPECT_EQ(load_npz(o + "/resumed.npz").at(name).as<float>(), load_npz(o + "/full.npz").at(name).as<float>())
        << name;
  // Resumed after iteration 8: epochs 3 (after iteration 13) onwards and the
  // final accuracy print exactly as in the uninterrupted run.
  const auto tail = full.out.substr(full.out.find("=== epoch:3"));
  EXPECT_EQ(r.out, tail) << full.out;
}
