// Bit-for-bit with the notebook: `convnet train --numpy-compatible` against
// tools/reference/notebook.py (the notebook's NumPy code) from the same seed.
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

struct Runs {
  fs::path dir;
  std::string data;
  nlohmann::json ref;
  std::vector<double> losses;
  std::vector<std::vector<std::string>> metrics;  // rows of the CSV, header dropped
};

// Both programs, once, on the short regime: 50 iterations, 500/100
// subset, evaluation every 10.
const Runs& runs() {
  static Runs r = [] {
    Runs r;
    r.dir = test::fresh_dir("numpy-ref");
    r.data = std::string(CONVNET_SOURCE_DIR) + "/data/mnist";
    if (!fs::exists(r.data + "/train-images-idx3-ubyte")) {
      test::write_toy_idx(r.dir / "data", 600, 150);
      r.data = (r.dir / "data").string();
    }
    const std::string d = r.dir.string();
    const std::string common = " --seed 0 --iters 50 --train-size 500 --test-size 100 --eval-interval 10 --data " + r.data;
    const std::string py = "/usr/bin/python3 " + std::string(CONVNET_SOURCE_DIR) + "/tools/reference/notebook.py" +
                           common + " --log " + d + "/ref.json --dump-init " + d + "/init.npz > " + d + "/ref.txt";
    if (std::system(py.c_str()) != 0) return r;
    r.ref = nlohmann::json::parse(test::slurp(d + "/ref.json"));
    const auto c = test::run_cli("train --numpy-compatible --threads 1 --print-interval 10" + common + " --losses " +
                                 d + "/losses.txt --metrics " + d + "/metrics.csv --save " + d + "/model.npz");
    if (c.status != 0) return r;
    std::istringstream ls(test::slurp(d + "/losses.txt"));
    for (std::string line; std::getline(ls, line);) r.losses.push_back(std::strtod(line.c_str(), nullptr));
    std::istringstream ms(test::slurp(d + "/metrics.csv"));
    std::string line;
    std::getline(ms, line);
    while (std::getline(ms, line)) {
      std::vector<std::string> cells;
      std::istringstream cs(line);
      for (std::string cell; std::getline(cs, cell, ',');) cells.push_back(cell);
      r.metrics.push_back(cells);
    }
    return r;
  }();
  return r;
}
}  // namespace

TEST(NumpyReference, InitialParametersAreNumpysBitForBit) {
  if (!has_numpy()) GTEST_SKIP() << "python3-numpy is not installed (make test installs it)";
  const auto& r = runs();
  ASSERT_FALSE(r.ref.is_null()) << "the reference script failed";
  const NpzArchive init = load_npz((r.dir / "init.npz").string());
  SimpleConvNet<double> net;  // np.random.seed(0), then the notebook's In [12]
  for (const auto& [name, t] : net.params()) {
    const auto v = init.at(name).as<double>();
    ASSERT_EQ(v.size(), t->size()) << name;
    for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ((*t)[i], v[i]) << name << " at " << i;
  }
}

TEST(NumpyReference, ShortRunMatchesLossesAndAccuracies) {
  if (!has_numpy()) GTEST_SKIP() << "python3-numpy is not installed (make test installs it)";
  const auto& r = runs();
  ASSERT_FALSE(r.ref.is_null()) << "the reference script failed";
  const auto& ref_losses = r.ref.at("losses");
  ASSERT_EQ(r.losses.size(), 50u);
  ASSERT_EQ(ref_losses.size(), 50u);
  double worst = 0;
  for (std::size_t i = 0; i < 50; ++i) {
    const double a = r.losses[i], b = ref_losses[i].get<double>();
    worst = std::max(worst, std::fabs(a - b) / std::fabs(b));
    EXPECT_LE(std::fabs(a - b), 1e-9 * std::fabs(b)) << "iteration " << i + 1 << ": " << a << " vs NumPy " << b;
  }
  RecordProperty("max_relative_loss_difference", std::to_string(worst));
  const auto& evals = r.ref.at("evals");
  ASSERT_EQ(r.metrics.size(), 5u);
  ASSERT_EQ(evals.size(), 5u);
  for (std::size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(r.metrics[k][0], std::to_string(evals[k].at("iter").get<int>()));
    // Accuracies exactly: the CSV holds Python's repr of the same fraction.
    EXPECT_EQ(r.metrics[k][2], python_float(evals[k].at("accr_train").get<double>())) << "eval " << k;
    EXPECT_EQ(r.metrics[k][3], python_float(evals[k].at("accr_test").get<double>())) << "eval " << k;
  }
}
