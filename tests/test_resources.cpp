// Sizes, files and data that a run cannot use are refused up front, with a
// message: memory the machine does not have (checked before anything large
// is allocated), models holding NaN, a resume on other data, impossible
// geometries; and the print interval follows the evaluation's.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "cli_util.hpp"
#include "convnet/convnet.hpp"

using namespace convnet;
using convnet::test::fresh_dir;
using convnet::test::run_cli;
using convnet::test::slurp;
namespace fs = std::filesystem;

namespace {
// The CLI under a 512 MiB address-space limit: a command that allocated a
// large buffer would die with bad_alloc (exit 1) instead of a clean refusal.
#if defined(__SANITIZE_ADDRESS__)
// ASan's shadow memory needs terabytes of address space: no cap there. The
// refusals are still checked; the plain build proves nothing large is allocated.
const char* kSmallMemory = "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1";
#else
const char* kSmallMemory = "ulimit -v 524288; OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1";
#endif
const char* kToyRun = " --train-size 0 --test-size 0 --batch-size 20 --eval-interval 10 --threads 1 --seed 5 -q";
const char* kToyNoBatch = " --train-size 0 --test-size 0 --eval-interval 10 --threads 1 --seed 5 -q";

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// Rewrites the .npz at `path` after `edit` changed its arrays.
template <class F>
void edit_npz(const std::string& path, F edit) {
  NpzArchive a = load_npz(path);
  edit(a);
  save_npz(path, a);
}
// Rewrites a checkpoint as version 1 wrote it (before the options and the
// architecture were JSON): one array per option, the notebook's fields only.
void to_version1(NpzArchive& a, const std::string& path, bool with_fingerprint) {
  const RunOptions r = checkpoint_options(a, path);
  const Architecture arch = checkpoint_architecture(a, path);
  auto i64 = [](std::int64_t v) { return NpyArray::from<std::int64_t>({}, &v); };
  auto f64 = [](double v) { return NpyArray::from<double>({}, &v); };
  a.erase("options");
  a.erase("architecture");
  a["convnet_checkpoint"] = i64(1);
  a["weight_init_std"] = f64(arch.weight_init_std);
  a["seed"] = i64(r.seed);
  a["optimizer"] = text_array(r.optimizer);
  a["lr"] = f64(r.lr);
  a["batch_size"] = i64(std::int64_t(r.batch_size));
  a["iters"] = i64(std::int64_t(r.iters));
  a["eval_interval"] = i64(std::int64_t(r.eval_interval));
  a["train_size"] = i64(std::int64_t(r.train_size));
  a["test_size"] = i64(std::int64_t(r.test_size));
  a["float64"] = i64(r.numpy_compatible);
  if (with_fingerprint) {
    a["print_interval"] = i64(std::int64_t(r.print_interval));
    a["data_dir"] = text_array(r.data.dir);
    a["data_train_crc32"] = i64(r.data.train_crc32);
    a["data_train_count"] = i64(std::int64_t(r.data.train_count));
    a["data_test_crc32"] = i64(r.data.test_crc32);
    a["data_test_count"] = i64(std::int64_t(r.data.test_count));
  }
}
void poke_float(NpzArchive& a, const std::string& name, std::size_t i, float v) {
  std::vector<float> w = a.at(name).as<float>();
  w.at(i) = v;
  a[name] = NpyArray::from<float>(a.at(name).shape, w.data());
}
}  // namespace

// --- memory ---------------------------------------------------------------

TEST(Resources, TrainRefusesSizesTheMachineCannotHoldBeforeAllocating) {
  const auto d = fresh_dir("mem-train");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 60, 20);
  // Sanity: the same limit lets a normal run through.
  const auto ok = run_cli("train --data " + o + "/data" + kToyRun + " --iters 2", kSmallMemory);
  ASSERT_EQ(ok.status, 0) << ok.err;
  for (const std::string opt : {"--filters 100000000", "--batch-size 2000000000", "--hidden 1000000000",
                                "--pad 100000"}) {
    SCOPED_TRACE(opt);
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = run_cli("train --data " + o + "/data" + kToyNoBatch + " --iters 2 " + opt, kSmallMemory);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_TRUE(has(r.err, "convnet: error: train: the network for ")) << r.err;
    EXPECT_TRUE(has(r.err, opt)) << r.err;  // the size is named ...
    EXPECT_TRUE(has(r.err, "needs about ")) << r.err;  // ... with the estimate
    EXPECT_TRUE(has(r.err, " available (")) << r.err;  // ... and what the machine has
    EXPECT_FALSE(has(r.err, "bad_alloc")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_LT(secs, 20.0);
  }
}

TEST(Resources, EvalAndPredictRefuseAModelTooLargeForMemory) {
  const auto d = fresh_dir("mem-model");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 60, 20);
  ASSERT_EQ(run_cli("train --data " + o + "/data" + kToyRun + " --iters 2 --save " + o + "/m.npz").status, 0);
  GrayImage g{28, 28, std::vector<std::uint8_t>(784, 100)};
  write_png_gray(o + "/p.png", g);
  // The architecture fields of the file say 16777216 filters and hidden units
  // (the largest model_config accepts); W1..b3 stay small.
  // big.npz as this version writes it (the architecture's JSON), old.npz as
  // older versions did (the notebook's fields only).
  fs::copy_file(o + "/m.npz", o + "/big.npz");
  fs::copy_file(o + "/m.npz", o + "/old.npz");
  edit_npz(o + "/big.npz", [](NpzArchive& a) {
    std::string json = get_text(a, "m.npz", "architecture");
    for (auto [from, to] : {std::pair{"\"filters\": 30,", "\"filters\": 16777216,"},
                            {"\"units\": 100}", "\"units\": 16777216}"}}) {
      ASSERT_NE(json.find(from), std::string::npos) << json;
      json.replace(json.find(from), std::string(from).size(), to);
    }
    a["architecture"] = text_array(json);
  });
  edit_npz(o + "/old.npz", [](NpzArchive& a) {
    const std::int64_t cp[4] = {1 << 24, 5, 0, 1}, hidden = 1 << 24;
    a.erase("architecture");
    a["conv_param"] = NpyArray::from<std::int64_t>({4}, cp);
    a["hidden_size"] = NpyArray::from<std::int64_t>({}, &hidden);
  });
  for (const std::string& cmd : {"eval --data " + o + "/data --model " + o + "/big.npz",
                                "predict --model " + o + "/big.npz " + o + "/p.png",
                                "eval --data " + o + "/data --model " + o + "/old.npz"}) {
    SCOPED_TRACE(cmd);
    const auto r = run_cli(cmd, kSmallMemory);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_TRUE(has(r.err, ".npz: the network of input_dim (1, 28, 28), conv_param (16777216, 5, 0, 1)")) << r.err;
    EXPECT_TRUE(has(r.err, "needs about ")) << r.err;
    EXPECT_TRUE(has(r.err, " available (")) << r.err;
  }
}

TEST(Resources, EstimateOfTheNotebookNetworkAgreesWithAHandCount) {
  const SimpleConvNetConfig c;  // 30 5x5 filters, hidden 100, 28x28
  MemoryUse use;
  use.batch_size = 100;
  // By hand: parameters 30*25+30 + 4320*100+100 + 100*10+10 = 433890
  // scalars, held 4 times (params, grads, Adam m and v). Per image of a
  // batch of 100, the buffers that must exist at once, training and
  // evaluating (both stay allocated):
  //  float (fused Conv1-Relu1-Pool1): input 784, padded copy 784, pooled
  //    4320 and argmax 4320, Affine1 out 100 + dx 4320, Relu2 out + dx 200,
  //    Affine2 out 10 + dx 100, softmax y + dx 20; evaluation: input 784,
  //    padded 784, pooled 4320, outputs 100 + 100 + 10 + 10.
  //  double (im2col): im2col 576*25, conv out, relu out, relu dx and pool dx
  //    4*30*576, pool out and argmax 2*4320, then as float from Affine1 and
  //    the input; evaluation: im2col, conv out, relu out, pool out, argmax,
  //    the outputs and the input.
  const double train_f = 784 + 784 + 2 * 4320 + 4420 + 200 + 110 + 20;
  const double eval_f = 784 + 784 + 4320 + 220;
  const double train_d = 14400 + 4 * 17280 + 2 * 4320 + 4420 + 200 + 110 + 20 + 784;
  const double eval_d = 14400 + 2 * 17280 + 2 * 4320 + 220 + 784;
  for (bool f32 : {true, false}) {
    SCOPED_TRACE(f32 ? "float" : "double");
    const double sz = f32 ? 4 : 8;
    const MemoryEstimate e = estimate_memory(simple_convnet_footprint(c, f32), std::size_t(sz), use);
    EXPECT_EQ(e.params, 433890u * std::size_t(sz));
    EXPECT_EQ(e.grads, e.params);
    EXPECT_EQ(e.optimizer, 2 * e.params);
    const double hand = 433890.0 * 4 * sz + 100 * sz * (f32 ? train_f + eval_f : train_d + eval_d);
    // The estimate counts more (the slack of the padded copy, packed weights,
    // a GEMM's transposed output, ...) but within a factor 1.5 of the hand
    // count, and never below it.
    EXPECT_GE(double(e.total()), hand);
    EXPECT_LE(double(e.total()), 1.5 * hand);
  }
}

TEST(Resources, EstimatesSaturateInsteadOfWrapping) {
  SimpleConvNetConfig c;
  c.conv_param.filter_num = std::size_t(1) << 40;
  c.hidden_size = std::size_t(1) << 40;
  MemoryUse use;
  use.batch_size = std::size_t(1) << 40;
  const MemoryEstimate e = estimate_memory(simple_convnet_footprint(c), sizeof(double), use);
  EXPECT_EQ(e.total(), SIZE_MAX);
  AvailableMemory plenty;
  plenty.bytes = SIZE_MAX - 1;
  plenty.source = "test";
  EXPECT_THROW(check_memory(e, "x", plenty), Error);  // a saturated estimate is always refused
  EXPECT_EQ(sat_mul(SIZE_MAX / 2, 3), SIZE_MAX);
  EXPECT_EQ(sat_add(SIZE_MAX, 1), SIZE_MAX);
  EXPECT_EQ(format_bytes(3 * 1024 * 1024), "3.0 MiB");
}

TEST(Resources, AvailableMemoryIsReadFromTheSystem) {
  const AvailableMemory a = available_memory();
  EXPECT_LT(a.bytes, SIZE_MAX);
  EXPECT_GT(a.bytes, std::size_t(16) << 20);
  EXPECT_FALSE(a.source.empty());
}

TEST(Resources, TensorResizeWithAnOverflowingShapeThrows) {
  Tensor<float> t;
  const std::size_t big = std::size_t(1) << 33;
  EXPECT_THROW(t.resize({big, big}), Error);                // the element count wraps
  EXPECT_THROW(t.resize({SIZE_MAX / 2 + 1}), Error);        // the byte count wraps
  EXPECT_THROW(Tensor<double>({big, big, 4, 4}), Error);
  t.resize({2, 3});
  EXPECT_THROW(t.reshape({6, (std::size_t(1) << 63) + 1}), Error);  // the product wraps to exactly 6
  EXPECT_EQ(t.size(), 6u);
}

// --- non-finite models ----------------------------------------------------

TEST(Resources, ModelsWithNanOrInfAreRefused) {
  const auto d = fresh_dir("nan-model");
  const std::string o = d.string(), data = " --data " + o + "/data";
  test::write_toy_idx(d / "data", 60, 20);
  ASSERT_EQ(run_cli("train" + data + kToyRun + " --iters 10 --save " + o + "/m.npz --checkpoint " + o + "/ck.npz")
                .status,
            0);
  GrayImage g{28, 28, std::vector<std::uint8_t>(784, 100)};
  write_png_gray(o + "/p.png", g);
  edit_npz(o + "/m.npz", [](NpzArchive& a) { poke_float(a, "W2", 17, NAN); });
  for (const std::string& cmd : {"eval" + data + " --model " + o + "/m.npz", "predict --model " + o + "/m.npz " + o + "/p.png"}) {
    const auto r = run_cli(cmd);
    EXPECT_EQ(r.status, 2) << cmd << "\n" << r.err;
    EXPECT_TRUE(has(r.err, "m.npz: array W2 holds NaN at index 17; refusing a model with non-finite values")) << r.err;
  }
  edit_npz(o + "/m.npz", [](NpzArchive& a) {
    poke_float(a, "W2", 17, 0.5f);
    poke_float(a, "b3", 2, -INFINITY);
  });
  auto r = run_cli("eval" + data + " --model " + o + "/m.npz");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(has(r.err, "m.npz: array b3 holds -inf at index 2")) << r.err;

  // --resume: the parameters, and the optimizer state too.
  fs::copy_file(o + "/ck.npz", o + "/ck2.npz");
  edit_npz(o + "/ck.npz", [](NpzArchive& a) { poke_float(a, "W2", 17, NAN); });
  r = run_cli("train" + data + " --threads 1 -q --iters 20 --resume " + o + "/ck.npz");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(has(r.err, "ck.npz: array W2 holds NaN at index 17; refusing a model with non-finite values")) << r.err;
  edit_npz(o + "/ck2.npz", [](NpzArchive& a) { poke_float(a, "opt/v/W1", 3, INFINITY); });
  r = run_cli("train" + data + " --threads 1 -q --iters 20 --resume " + o + "/ck2.npz");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(has(r.err, "ck2.npz: array opt/v/W1 holds inf at index 3")) << r.err;
}

// --- resume on other data -------------------------------------------------

TEST(Resources, ResumeOnOtherDataIsRefusedAndOnTheSameDataIsExact) {
  const auto d = fresh_dir("resume-data");
  const std::string o = d.string();
  test::write_toy_idx(d / "A", 100, 40);
  test::write_toy_idx(d / "B", 100, 40);
  {  // B: one pixel of training image 3 differs
    std::fstream f(d / "B" / "train-images-idx3-ubyte", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(16 + 3 * 784 + 100);
    f.put(char(255));
  }
  const std::string A = " --data " + o + "/A", B = " --data " + o + "/B";
  ASSERT_EQ(run_cli("train" + A + kToyRun + " --iters 40 --save " + o + "/full.npz").status, 0);
  ASSERT_EQ(run_cli("train" + A + kToyRun + " --iters 20 --checkpoint " + o + "/ck.npz").status, 0);
  const auto ck = read_checkpoint(o + "/ck.npz");
  EXPECT_EQ(checkpoint_options(ck, "ck.npz").data.train_count, 100u);

  auto r = run_cli("train" + B + " --threads 1 -q --iters 40 --resume " + o + "/ck.npz --save " + o + "/b.npz");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(has(r.err, "--resume " + o + "/ck.npz: the checkpoint was trained on " + o + "/A (train crc32 "))
      << r.err;
  EXPECT_TRUE(has(r.err, ", this run's --data " + o + "/B (train crc32 ")) << r.err;
  EXPECT_TRUE(has(r.err, "100 images")) << r.err;
  EXPECT_FALSE(fs::exists(o + "/b.npz"));

  r = run_cli("train" + A + " --threads 1 -q --iters 40 --resume " + o + "/ck.npz --save " + o + "/a.npz");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(o + "/a.npz"), slurp(o + "/full.npz"));  // bit for bit

  // A version-1 checkpoint (one array per option) with its fingerprint is
  // still read and checked; without one (older still) it is accepted unchecked.
  fs::copy_file(o + "/ck.npz", o + "/ck1.npz");
  edit_npz(o + "/ck1.npz", [&](NpzArchive& a) { to_version1(a, o + "/ck.npz", true); });
  r = run_cli("train" + B + " --threads 1 -q --iters 40 --resume " + o + "/ck1.npz");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(has(r.err, "the checkpoint was trained on " + o + "/A (train crc32 ")) << r.err;
  r = run_cli("train" + A + " --threads 1 -q --iters 40 --resume " + o + "/ck1.npz --save " + o + "/a1.npz");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(load_npz(o + "/a1.npz").at("W2").as<float>(), load_npz(o + "/full.npz").at("W2").as<float>());
  edit_npz(o + "/ck.npz", [&](NpzArchive& a) { to_version1(a, o + "/ck.npz", false); });
  r = run_cli("train" + B + " --threads 1 -q --iters 40 --resume " + o + "/ck.npz");
  EXPECT_EQ(r.status, 0) << r.err;
}

// --- print interval -------------------------------------------------------

TEST(Resources, PrintIntervalIsRestoredOnResume) {
  const auto d = fresh_dir("print-resume");
  const std::string o = d.string(), data = " --data " + o + "/data";
  test::write_toy_idx(d / "data", 60, 20);
  const std::string run = "train" + data + " --train-size 0 --test-size 0 --batch-size 20 --threads 1 --seed 5";
  auto r = run_cli(run + " --eval-interval 5 --print-interval 15 --iters 20 --checkpoint " + o + "/ck.npz");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has(r.out, "iter: 15.")) << r.out;
  EXPECT_EQ(checkpoint_options(read_checkpoint(o + "/ck.npz"), "ck.npz").print_interval, 15u);
  r = run_cli("train" + data + " --threads 1 --iters 60 --resume " + o + "/ck.npz");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("iter: 30.", 0), 0u) << r.out;
  EXPECT_TRUE(has(r.out, "iter: 45.")) << r.out;
  EXPECT_TRUE(has(r.out, "iter: 60.")) << r.out;
  EXPECT_FALSE(has(r.out, "iter: 40.")) << r.out;
  // An explicit value overrides (printing does not change the results).
  r = run_cli("train" + data + " --threads 1 --iters 60 --resume " + o + "/ck.npz --print-interval 20");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("iter: 40.", 0), 0u) << r.out;
}

TEST(Resources, EvalIntervalAloneGivesAMultipleForThePrintInterval) {
  const auto d = fresh_dir("print-eval");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 60, 20);
  const std::string run =
      "train --data " + o + "/data --train-size 0 --test-size 0 --batch-size 20 --threads 1 --seed 5";
  auto r = run_cli(run + " --eval-interval 30 --iters 240");
  ASSERT_EQ(r.status, 0) << r.err;
  // The smallest multiple of 30 that is >= the default 100: 120.
  EXPECT_EQ(r.out.rfind("iter: 120.", 0), 0u) << r.out;
  EXPECT_TRUE(has(r.out, "iter: 240.")) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
  r = run_cli(run + " --eval-interval 30 --print-interval 100 --iters 10");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "--print-interval 100 must be a multiple of --eval-interval 30")) << r.err;
}

// --- impossible geometries ------------------------------------------------

TEST(Resources, AnEmptyLayerOutputIsNamedWithItsCause) {
  const auto d = fresh_dir("geometry");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 60, 20);
  struct Case {
    std::string args, expect;
  };
  for (const Case& c : std::vector<Case>{
           {"--filter-size 28",
            "convnet: error: Pool1: a 2x2 window with stride 2 does not fit the 1x1 output of Conv1 (filter size 28, pad 0, "
            "stride 1 on 28x28 images); its output would be empty"},
           {"--filter-size 5 --stride 30", "Pool1: a 2x2 window with stride 2 does not fit the 1x1 output of Conv1"},
           {"--filter-size 29",
            "Conv1: filter 29 is larger than the padded input 28 + 2*0 (filter size 29, pad 0, stride 1 on 28x28 "
            "images); its output would be empty"},
           {"--filter-size 40 --pad 5", "Conv1: filter 40 is larger than the padded input 28 + 2*5"}}) {
    const auto r = run_cli("train --data " + o + "/data" + kToyRun + " --iters 2 " + c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.err;
    EXPECT_TRUE(has(r.err, c.expect)) << c.args << "\n" << r.err;
  }
  // 27: Conv1 gives 2x2, Pool1 1x1 — small, but possible.
  EXPECT_EQ(run_cli("train --data " + o + "/data" + kToyRun + " --iters 2 --filter-size 27").status, 0);
  SimpleConvNetConfig cfg;
  cfg.conv_param.filter_size = 28;
  EXPECT_THROW(SimpleConvNet<float>{cfg}, Error);
}
