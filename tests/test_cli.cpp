// The convnet command line, run as a user would: output, files, exit codes.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "cli_util.hpp"
#include "convnet/convnet.hpp"

using namespace convnet;
using convnet::test::fresh_dir;
using convnet::test::run_cli;
namespace fs = std::filesystem;

namespace {
bool has_numpy() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }
std::string real_mnist() { return std::string(CONVNET_SOURCE_DIR) + "/data/mnist"; }
bool have_real_mnist() { return fs::exists(real_mnist() + "/t10k-labels-idx1-ubyte"); }
}  // namespace

TEST(Cli, Im2colDemoPrintsWhatNumpyPrints) {
  // np.random.seed(0); x = np.random.rand(2,1,4,4)*100//1; print(x); print(im2col(x,3,3))
  const auto r = run_cli("im2col-demo --seed 0");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "input_data: \n"
            "[[[[54. 71. 60. 54.]\n   [42. 64. 43. 89.]\n   [96. 38. 79. 52.]\n   [56. 92.  7.  8.]]]\n\n\n"
            " [[[ 2. 83. 77. 87.]\n   [97. 79. 46. 78.]\n   [11. 63. 14. 94.]\n   [52. 41. 26. 77.]]]]\n"
            "col: \n"
            "[[54. 71. 60. 42. 64. 43. 96. 38. 79.]\n [71. 60. 54. 64. 43. 89. 38. 79. 52.]\n"
            " [42. 64. 43. 96. 38. 79. 56. 92.  7.]\n [64. 43. 89. 38. 79. 52. 92.  7.  8.]\n"
            " [ 2. 83. 77. 97. 79. 46. 11. 63. 14.]\n [83. 77. 87. 79. 46. 78. 63. 14. 94.]\n"
            " [97. 79. 46. 11. 63. 14. 52. 41. 26.]\n [79. 46. 78. 63. 14. 94. 41. 26. 77.]]\n");
}

TEST(Cli, HelpAndVersion) {
  auto r = run_cli("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* sub : {"train", "eval", "predict", "im2col-demo"}) EXPECT_NE(r.out.find(sub), std::string::npos);
  r = run_cli("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, std::string("convnet ") + convnet::version() + "\n");
  r = run_cli("");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("convnet: error:"), std::string::npos);
}

TEST(Cli, TrainOnToyDataWritesEveryOutput) {
  const auto d = fresh_dir("train");
  test::write_toy_idx(d / "data", 300, 100);
  const std::string o = d.string();
  const auto r = run_cli("train --data " + o + "/data --train-size 0 --test-size 0 --iters 40 --batch-size 20 "
                         "--eval-interval 10 --print-interval 20 --seed 1 --threads 1 --plot " + o +
                         "/acc.png --loss-plot " + o + "/loss.png --metrics " + o + "/m.csv --save " + o +
                         "/model.npz --timings " + o + "/t.json");
  ASSERT_EQ(r.status, 0) << r.err;
  // The notebook's line, twice, with Python's float repr.
  const std::regex line(R"(iter: (20|40)\. accr_train=(1\.0|0\.\d+), accr_test=(1\.0|0\.\d+)\n)");
  auto begin = std::sregex_iterator(r.out.begin(), r.out.end(), line);
  EXPECT_EQ(std::distance(begin, std::sregex_iterator()), 2) << r.out;
  EXPECT_EQ(r.err, "");  // not a terminal: no progress bar, no control characters
  const std::string csv = test::slurp(o + "/m.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "iter,loss,accr_train,accr_test,seconds");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);  // header + 4 evaluations
  EXPECT_NE(csv.find("\n40,"), std::string::npos);
  for (const char* f : {"/acc.png", "/loss.png"}) EXPECT_GT(fs::file_size(o + f), 1000u) << f;
  // The model reloads with the same architecture and the toy task is learnt.
  auto net = load_model<float>(o + "/model.npz");
  EXPECT_EQ(net->params()["W2"].shape(), (std::vector<std::size_t>{4320, 100}));
  const auto e = run_cli("eval --model " + o + "/model.npz --data " + o + "/data --json");
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_NE(e.out.find("\"images\": 100"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("\"confusion\""), std::string::npos);
  // The last line of the CSV holds the final test accuracy: eval must agree.
  const std::string last = csv.substr(csv.rfind("\n40,") + 1);
  const std::string acc_test = last.substr(0, last.rfind(',')).substr(last.substr(0, last.rfind(',')).rfind(',') + 1);
  EXPECT_NE(e.out.find("\"accuracy\": " + acc_test), std::string::npos) << acc_test << "\n" << e.out;
  for (auto& entry : fs::directory_iterator(d))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
}

TEST(Cli, SameSeedSameOutput) {
  const auto d = fresh_dir("seed");
  test::write_toy_idx(d / "data", 200, 50);
  const std::string args = "train --data " + d.string() + "/data --iters 20 --batch-size 10 --train-size 0 "
                           "--test-size 0 --print-interval 10 --threads 1 --seed 7 --save ";
  ASSERT_EQ(run_cli(args + d.string() + "/a.npz").status, 0);
  ASSERT_EQ(run_cli(args + d.string() + "/b.npz").status, 0);
  EXPECT_EQ(test::slurp(d.string() + "/a.npz"), test::slurp(d.string() + "/b.npz"));
  const auto other = run_cli("train --data " + d.string() + "/data --iters 20 --batch-size 10 --train-size 0 "
                             "--test-size 0 --threads 1 --seed 8 --save " + d.string() + "/c.npz");
  ASSERT_EQ(other.status, 0);
  EXPECT_NE(test::slurp(d.string() + "/a.npz"), test::slurp(d.string() + "/c.npz"));
  // Two threads give the same bits as one: every sum keeps its order
  // (docs/PERFORMANCE.md, "Threads").
  const std::string two = "train --data " + d.string() + "/data --iters 20 --batch-size 10 --train-size 0 "
                          "--test-size 0 --print-interval 10 --threads 2 --seed 7 --save ";
  ASSERT_EQ(run_cli(two + d.string() + "/t2.npz").status, 0);
  EXPECT_EQ(test::slurp(d.string() + "/a.npz"), test::slurp(d.string() + "/t2.npz"));
}

// On a CPU that OpenBLAS's model table does not know, OpenBLAS falls back to
// its pre-AVX2 Prescott kernels; convnet then loads it again with the kernels
// the CPU's features call for, without a word to the user. The hook makes
// OpenBLAS's detection return Prescott, so this runs the fallback on any CPU.
TEST(Cli, ChoosesOpenblasKernelsFromCpuidWhenOpenblasFallsBack) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) GTEST_SKIP() << "CPU without AVX2";
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512cd");
  const auto d = fresh_dir("coretype");
  test::write_toy_idx(d / "data", 50, 20);
  const std::string args = "train --data " + d.string() + "/data --iters 2 --batch-size 10 --train-size 0 "
                           "--test-size 0 --print-interval 2 --eval-interval 2 --threads 1 --timings " +
                           d.string() + "/t.json";
  auto blas_of = [&] {
    const std::string js = test::slurp(d.string() + "/t.json");
    const auto at = js.find("\"blas\": ");
    return at == std::string::npos ? js : js.substr(at);
  };
  // Not through the user's variable: the test hook stands for the detection.
  const auto fell_back = run_cli(args, "env -u OPENBLAS_CORETYPE CONVNET_TEST_OPENBLAS_DETECTS=Prescott");
  ASSERT_EQ(fell_back.status, 0) << fell_back.err;
  EXPECT_EQ(fell_back.err, "");
  const std::string want = avx512 ? "core SkylakeX" : __builtin_cpu_is("amd") ? "core Zen" : "core Haswell";
  EXPECT_NE(blas_of().find(want + ", chosen from cpuid"), std::string::npos) << blas_of();
  EXPECT_NE(blas_of().find("OpenBLAS detected Prescott"), std::string::npos) << blas_of();

  // A user's own choice stands, silently.
  const auto user = run_cli(args, "env -u CONVNET_TEST_OPENBLAS_DETECTS OPENBLAS_CORETYPE=Prescott");
  ASSERT_EQ(user.status, 0) << user.err;
  EXPECT_EQ(user.err, "");
  EXPECT_NE(blas_of().find("core Prescott, OPENBLAS_CORETYPE=Prescott as set"), std::string::npos) << blas_of();

  // Left alone, the kernels use AVX2 at least, whatever this CPU is.
  const auto plain = run_cli(args, "env -u CONVNET_TEST_OPENBLAS_DETECTS -u OPENBLAS_CORETYPE");
  ASSERT_EQ(plain.status, 0) << plain.err;
  const std::regex fast("core (Haswell|Zen|SkylakeX|Cooperlake|SapphireRapids),");
  EXPECT_TRUE(std::regex_search(blas_of(), fast)) << blas_of();
}

TEST(Cli, BadInputGivesOneLineErrorAndStatus2) {
  const auto d = fresh_dir("bad");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 50, 20);
  struct Case {
    std::string args, expect;
  };
  const std::vector<Case> cases = {
      {"train --data " + o + "/nowhere", "run scripts/fetch-mnist.sh"},
      {"train --data " + o + "/data --iters 0", "--iters"},
      {"train --data " + o + "/data --batch-size -5", "--batch-size -5: must be a positive integer"},
      {"train --data " + o + "/data --lr abc", "--lr abc: must be a positive number"},
      {"train --data " + o + "/data --optimizer adamw", "--optimizer"},
      {"train --data " + o + "/data --filter-size 40", "filter 40 is larger than the padded input 28"},
      {"train --data " + o + "/data --train-size 60", "fewer than asked for"},
      {"train --data " + o + "/data --eval-interval 7 --print-interval 100", "multiple of --eval-interval"},
      {"train --data " + o + "/data --save " + o + "/no/such/dir/model.npz", "does not exist"},
      {"train --data " + o + "/data --plot " + o, "is a directory"},
      {"eval --model " + o + "/missing.npz --data " + o + "/data", "missing.npz"},
      {"predict --model " + o + "/missing.npz x.png", "missing.npz"},
      {"frobnicate", "frobnicate"},
  };
  for (const auto& c : cases) {
    // The toy set is smaller than the notebook's 5000/1000 subset: use it all.
    const bool toy = c.args.rfind("train ", 0) == 0 && c.args.find("/data") != std::string::npos && c.args.find("--train-size") == std::string::npos;
    const auto r = run_cli(c.args + (toy ? " --train-size 0 --test-size 0" : ""));
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("convnet: error: ", 0), 0u) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(r.out, "") << c.args;
  }
  EXPECT_FALSE(fs::exists(o + "/no"));
}

// --net simple has as many outputs as the data has classes (labels 0..N-1);
// a network file with fewer outputs than the labels need is refused.
TEST(Cli, TheDataSetsTheClassesAndLabelsBeyondANetsOutputsAreRefused) {
  const auto d = fresh_dir("labels");
  test::write_toy_idx(d / "data", 60, 20, 28, 28, 11);  // labels 0..11
  const std::string data = " --data " + d.string() + "/data --train-size 0 --test-size 0";
  auto r = run_cli("train" + data + " --iters 1 -q --save " + d.string() + "/m.npz");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(load_npz(d.string() + "/m.npz").at("b3").shape, std::vector<std::size_t>{12});
  std::ofstream(d / "net.json") << R"({"input": [1, 28, 28], "layers": [{"type": "affine", "units": 10}]})";
  r = run_cli("train" + data + " --iters 1 --net " + d.string() + "/net.json");
  EXPECT_EQ(r.status, 2);
  // The first label past 9 is the 10 at index 10 (labels run 0..11).
  EXPECT_NE(r.err.find("/data/train-labels-idx1-ubyte: label 10 at index 10 is out of range 0-9"), std::string::npos)
      << r.err;
}

TEST(Cli, CorruptModelAndNonPngAreRefused) {
  const auto d = fresh_dir("model");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 60, 20);
  ASSERT_EQ(run_cli("train --data " + o + "/data --train-size 0 --test-size 0 --iters 2 --batch-size 5 --save " + o +
                    "/m.npz").status, 0);
  // A model with a wrong-shaped W2.
  auto arrays = load_npz(o + "/m.npz");
  std::vector<float> w(10 * 100, 0.f);
  arrays["W2"] = NpyArray::from<float>({10, 100}, w.data());
  save_npz(o + "/bad.npz", arrays);
  auto r = run_cli("eval --model " + o + "/bad.npz --data " + o + "/data");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("W2 has shape (10, 100), expected (4320, 100)"), std::string::npos) << r.err;
  arrays["W2"] = load_npz(o + "/m.npz").at("W2");
  arrays.erase("W3");
  save_npz(o + "/bad2.npz", arrays);
  r = run_cli("eval --model " + o + "/bad2.npz --data " + o + "/data");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("missing array W3"), std::string::npos) << r.err;
  // Not a PNG.
  std::ofstream(o + "/x.png") << "hello";
  r = run_cli("predict --model " + o + "/m.npz " + o + "/x.png");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("x.png: not a PNG file"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(Cli, PredictReadsAPictureTheTestDraws) {
  // Train on the toy set, then draw a class-4 picture (bar at row 14) large,
  // dark on light, as a person would scan it: predict must say 4.
  const auto d = fresh_dir("predict");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 500, 50);
  ASSERT_EQ(run_cli("train --data " + o + "/data --train-size 0 --test-size 0 --iters 60 --batch-size 50 "
                    "--seed 3 --threads 1 --save " + o + "/m.npz").status, 0);
  // The toy class 4 picture is itself an image; write one from the test set.
  const Dataset test = read_idx_pair(o + "/data/t10k-images-idx3-ubyte", o + "/data/t10k-labels-idx1-ubyte");
  GrayImage g{28, 28, std::vector<std::uint8_t>(test.images.begin() + 4 * 784, test.images.begin() + 5 * 784)};
  ASSERT_EQ(test.labels[4], 4);
  write_png_gray(o + "/four.png", g);
  auto r = run_cli("predict --model " + o + "/m.npz --json " + o + "/four.png");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\"prediction\": 4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"probability\""), std::string::npos);
  r = run_cli("predict --model " + o + "/m.npz " + o + "/four.png");
  EXPECT_EQ(r.out.rfind(o + "/four.png: 4  (4: ", 0), 0u) << r.out;
}

TEST(Cli, EvalAgreesWithAnIndependentNumpyForwardPass) {
  if (!has_numpy()) GTEST_SKIP() << "python3-numpy is not installed (make test installs it)";
  const auto d = fresh_dir("numpy");
  const std::string o = d.string();
  std::string data = real_mnist();
  if (!have_real_mnist()) {
    test::write_toy_idx(d / "data", 300, 200);
    data = o + "/data";
  }
  ASSERT_EQ(run_cli("train --data " + data + " --iters 60 --threads 1 --save " + o + "/m.npz -q").status, 0);
  const auto r = run_cli("eval --model " + o + "/m.npz --data " + data + " --test-size 200 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string py = o + "/py.txt";
  ASSERT_EQ(std::system(("/usr/bin/python3 " + std::string(CONVNET_SOURCE_DIR) + "/tests/numpy_forward.py " + o +
                         "/m.npz " + data + " 200 > " + py).c_str()), 0);
  std::string acc = test::slurp(py);
  acc.erase(acc.find_last_not_of('\n') + 1);
  EXPECT_NE(r.out.find("\"accuracy\": " + acc + ","), std::string::npos) << "numpy: " << acc << "\n" << r.out;
  // And the arrays NumPy sees are the notebook's parameters.
  const std::string shapes = o + "/shapes.txt";
  ASSERT_EQ(std::system(("/usr/bin/python3 -c \"import numpy; p = numpy.load('" + o +
                         "/m.npz'); print({k: p[k].shape for k in ['W1','b1','W2','b2','W3','b3']})\" > " + shapes)
                            .c_str()),
            0);
  EXPECT_EQ(test::slurp(shapes),
            "{'W1': (30, 1, 5, 5), 'b1': (30,), 'W2': (4320, 100), 'b2': (100,), 'W3': (100, 10), 'b3': (10,)}\n");
}
