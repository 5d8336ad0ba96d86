// convnet show: each picture drawn from a small trained model, read back
// with libpng and checked against the model itself (issue #15).
#include <gtest/gtest.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "cli_util.hpp"
#include "convnet/convnet.hpp"

using namespace convnet;
using convnet::test::run_cli;
namespace fs = std::filesystem;

namespace {

struct Rgb {
  int width = 0, height = 0;
  std::vector<unsigned char> px;  // RGB, top row first
  unsigned at(int x, int y) const {
    const unsigned char* p = &px[(std::size_t(y) * width + x) * 3];
    return unsigned(p[0]) << 16 | unsigned(p[1]) << 8 | p[2];
  }
  int grey(int x, int y) const {  // -1 unless R = G = B
    const unsigned v = at(x, y);
    return ((v >> 16) & 0xFF) == (v & 0xFF) && ((v >> 8) & 0xFF) == (v & 0xFF) ? int(v & 0xFF) : -1;
  }
};

Rgb decode(const std::string& path) {
  png_image im{};
  im.version = PNG_IMAGE_VERSION;
  Rgb out;
  if (!png_image_begin_read_from_file(&im, path.c_str())) return out;
  im.format = PNG_FORMAT_RGB;
  out.px.resize(PNG_IMAGE_SIZE(im));
  png_color white{255, 255, 255};
  if (!png_image_finish_read(&im, &white, out.px.data(), 0, nullptr)) return out;
  out.width = int(im.width);
  out.height = int(im.height);
  return out;
}

// One small model for the whole suite: the notebook's network trained on the
// toy bars (tests/cli_util.hpp) for a few iterations, and its initial weights.
class ShowTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(test::fresh_dir("show"));
    test::write_toy_idx(*dir_ / "data", 300, 100);
    const auto r = run_cli("train --data " + d("data") + " --iters 60 --batch-size 20 --train-size 0 --test-size 0 "
                           "--threads 1 --seed 3 -q --save-init " + d("init.npz") + " --save " + d("model.npz") +
                           " --metrics " + d("m.csv"));
    ASSERT_EQ(r.status, 0) << r.err;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string d(const std::string& name) { return (*dir_ / name).string(); }
  static fs::path* dir_;
};
fs::path* ShowTest::dir_ = nullptr;

// Test images and the model's softmax output for each, computed here.
struct Scored {
  Dataset test;
  std::vector<std::vector<float>> prob;
};
Scored score(const std::string& model, const std::string& data) {
  auto net = load_model<float>(model);
  Scored s{load_mnist(data).test, {}};
  const std::size_t per = 28 * 28;
  Tensor<float> x({1, 1, 28, 28}), p;
  for (std::size_t i = 0; i < s.test.count; ++i) {
    for (std::size_t j = 0; j < per; ++j) x[j] = float(s.test.images[i * per + j]) / 255.0f;
    softmax(net->predict(x, Mode::Eval), p);
    s.prob.emplace_back(p.begin(), p.end());
  }
  return s;
}

}  // namespace

TEST_F(ShowTest, FiltersBeforeAfterTilesAreTheNormalisedWeights) {
  const std::string out = d("filters.png");
  const auto r = run_cli("show filters --before " + d("init.npz") + " --after " + d("model.npz") + " -o " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  const Rgb img = decode(out);
  // 30 filters of 5x5: 8 tiles a row of 5 * 12 px, 8 px apart, 16 px margins.
  ASSERT_EQ(img.width, 2 * 16 + 8 * 60 + 7 * 8);
  int checked = 0;
  for (const auto& [file, set] : {std::pair{d("init.npz"), 0}, {d("model.npz"), 1}}) {
    auto net = load_model<float>(file);
    const Tensor<float>& W = net->params().at("W1");  // (30, 1, 5, 5)
    FilterSet f{"x", 30, 5, 5, {}};
    for (float w : W) f.weights.push_back(w);
    const Picture p = filter_picture({f, f});
    EXPECT_EQ(img.height, p.canvas.height);
    ASSERT_EQ(p.tiles.size(), 60u);
    for (std::size_t i = 0; i < 30; ++i) {
      const auto& t = p.tiles[set * 30 + i];
      EXPECT_EQ(t.x0, 16 + int(i % 8) * 68) << i;
      EXPECT_EQ(t.x1 - t.x0, 60);
      EXPECT_EQ(img.at(t.x0 - 1, t.y0 - 1), 0x555555u);  // the frame
      const float* w = W.data() + i * 25;
      const double lo = *std::min_element(w, w + 25), hi = *std::max_element(w, w + 25);
      for (int k = 0; k < 25; ++k) {
        // gray_r: the largest weight black, the smallest white.
        const double want = 255.0 * (hi - w[k]) / (hi - lo);
        for (auto [dx, dy] : {std::pair{0, 0}, {11, 11}, {6, 6}}) {
          const int g = img.grey(t.x0 + (k % 5) * 12 + dx, t.y0 + (k / 5) * 12 + dy);
          ASSERT_GE(g, 0);
          EXPECT_LE(std::abs(g - want), 0.5 + 1e-9) << file << " filter " << i << " weight " << k;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 2 * 30 * 25 * 3);
}

TEST_F(ShowTest, FiltersOfASecondConvLayerAndRefusals) {
  // Two conv layers: --layer 2 is the second (6 filters of 3x3, channel 0 shown).
  std::ofstream(d("two.json")) << R"({"input": [1, 28, 28], "layers": [
      {"type": "conv", "filters": 4, "size": 3}, {"type": "relu"},
      {"type": "conv", "filters": 6, "size": 3}, {"type": "relu"}, {"type": "pool", "size": 2, "stride": 2},
      {"type": "affine", "units": 10}]})";
  std::ofstream(d("mlp.json")) << R"({"input": [1, 28, 28], "layers": [{"type": "affine", "units": 10}]})";
  for (const char* net : {"two", "mlp"})
    ASSERT_EQ(run_cli("train --data " + d("data") + " --iters 1 --batch-size 5 --train-size 0 --test-size 0 --threads 1 -q --net " +
                      d(std::string(net) + ".json") + " --save " + d(std::string(net) + ".npz"))
                  .status,
              0);
  const std::string out = d("l2.png");
  auto r = run_cli("show filters --model " + d("two.npz") + " --layer 2 -o " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  const Rgb img = decode(out);
  EXPECT_EQ(img.width, 2 * 16 + 6 * 60 + 5 * 8);  // 6 tiles of 3 * 20 px in one row
  auto net = load_model<float>(d("two.npz"));
  const Tensor<float>& W = net->params().at("W2");  // (6, 4, 3, 3)
  ASSERT_EQ(W.shape(), (std::vector<std::size_t>{6, 4, 3, 3}));
  FilterSet f{"x", 6, 3, 3, {}};
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t k = 0; k < 9; ++k) f.weights.push_back(W[i * 36 + k]);
  const Picture p = filter_picture({f});
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t k = 0; k < 9; ++k) {
      const double* w = f.weights.data() + i * 9;
      const auto [lo, hi] = std::minmax_element(w, w + 9);
      EXPECT_EQ(img.grey(p.tiles[i].x0 + int(k % 3) * 20 + 10, p.tiles[i].y0 + int(k / 3) * 20 + 10),
                filter_grey(w[k], *lo, *hi));
    }

  // Bad input: one line naming the input and what was expected, exit 2, no file.
  const std::string bad = d("bad.png");
  r = run_cli("show filters --model " + d("two.npz") + " --layer 3 -o " + bad);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--layer 3: " + d("two.npz") + " has 2 conv layers"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("from 1 to 2"), std::string::npos) << r.err;
  r = run_cli("show filters --model " + d("mlp.npz") + " -o " + bad);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(d("mlp.npz") + ": the model has no conv layer (affine)"), std::string::npos) << r.err;
  r = run_cli("show filters --model " + d("model.npz") + " --layer 0 -o " + bad);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--layer 0: must be a positive integer"), std::string::npos) << r.err;
  r = run_cli("show filters --before " + d("init.npz") + " -o " + bad);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--before needs --after"), std::string::npos) << r.err;
  r = run_cli("show filters --model " + d("model.npz") + " -o " + d("no/such/dir.png"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  r = run_cli("show filters --model " + d("model.npz") + " -o " + d("model.npz"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("names the input"), std::string::npos) << r.err;
  for (const auto& e : {r.err}) EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 1) << e;
  EXPECT_FALSE(fs::exists(bad));
}

TEST_F(ShowTest, SaveInitIsTheSeedsInitialNetwork) {
  // --save-init holds the weights Sequential draws from the seed, before any step.
  auto saved = load_model<float>(d("init.npz"));
  Sequential<float> fresh(saved->architecture(), 3u);
  for (const auto& [name, t] : fresh.params()) {
    const Tensor<float>& s = saved->params().at(name);
    ASSERT_TRUE(std::equal(t->begin(), t->end(), s.begin())) << name;
  }
  const auto r = run_cli("train --data " + d("data") + " --iters 1 --save-init " + d("x.npz") + " --resume " +
                         d("model.npz"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--save-init"), std::string::npos) << r.err;
}

TEST_F(ShowTest, ConfusionCellsAreColouredInTheOrderOfTheCounts) {
  const std::string out = d("confusion.png");
  const auto r = run_cli("show confusion --model " + d("init.npz") + " --data " + d("data") + " -o " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  // The counts, from eval.
  const auto e = run_cli("eval --model " + d("init.npz") + " --data " + d("data") + " --json");
  ASSERT_EQ(e.status, 0) << e.err;
  const std::string js = e.out.substr(e.out.find("\"confusion\""));
  std::vector<std::size_t> counts;
  for (std::size_t i = js.find('[') + 1; counts.size() < 100; ++i)
    if (std::isdigit(static_cast<unsigned char>(js[i]))) {
      std::size_t n = 0;
      while (std::isdigit(static_cast<unsigned char>(js[i]))) n = n * 10 + std::size_t(js[i++] - '0');
      counts.push_back(n);
    }
  const std::size_t largest = *std::max_element(counts.begin(), counts.end());
  std::vector<std::vector<std::size_t>> m(10);
  for (std::size_t k = 0; k < 100; ++k) m[k / 10].push_back(counts[k]);
  const Picture p = confusion_picture(m);
  const Rgb img = decode(out);
  ASSERT_EQ(img.width, p.canvas.width);
  ASSERT_EQ(img.height, p.canvas.height);
  ASSERT_EQ(p.tiles.size(), 100u);
  std::vector<unsigned> colour(100);
  for (std::size_t k = 0; k < 100; ++k) {
    colour[k] = img.at(p.tiles[k].x0 + 2, p.tiles[k].y0 + 2);  // a corner: clear of the count's digits
    EXPECT_EQ(colour[k], heat_colour(counts[k], largest)) << k;
  }
  EXPECT_EQ(heat_colour(0, largest), 0xFFFFFFu);
  EXPECT_EQ(heat_colour(largest, largest), 0x348ABDu);
  // More counted, darker: the red channel falls as the count grows.
  for (std::size_t a = 0; a < 100; ++a)
    for (std::size_t b = 0; b < 100; ++b)
      if (counts[a] > counts[b]) {
        EXPECT_LT(colour[a] >> 16, colour[b] >> 16) << counts[a] << " vs " << counts[b];
      }
}

TEST_F(ShowTest, MistakesAreRealMistakesMostConfidentFirst) {
  // The untrained network gets most toy images wrong.
  const std::string out = d("mistakes.png");
  const auto r = run_cli("show mistakes --model " + d("init.npz") + " --data " + d("data") + " --limit 7 -o " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  const Scored s = score(d("init.npz"), d("data"));
  std::size_t wrong = 0;
  std::vector<float> wrong_p;
  for (std::size_t i = 0; i < s.test.count; ++i) {
    const auto& p = s.prob[i];
    const auto top = std::size_t(std::max_element(p.begin(), p.end()) - p.begin());
    if (top != s.test.labels[i]) ++wrong, wrong_p.push_back(p[top]);
  }
  ASSERT_GE(wrong, 7u);
  std::sort(wrong_p.rbegin(), wrong_p.rend());
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, std::to_string(wrong) + " mistakes in 100 images; the 7 most confident:");
  std::getline(lines, line);
  EXPECT_EQ(line, "index,true,predicted,probability");
  const Rgb img = decode(out);
  std::vector<CaptionedImage> items;
  std::vector<std::size_t> shown;
  for (int k = 0; k < 7; ++k) {
    ASSERT_TRUE(std::getline(lines, line)) << r.out;
    std::size_t index;
    int truth, pred;
    double prob;
    ASSERT_EQ(std::sscanf(line.c_str(), "%zu,%d,%d,%lf", &index, &truth, &pred, &prob), 4) << line;
    ASSERT_LT(index, s.test.count);
    const auto& p = s.prob[index];
    EXPECT_EQ(truth, s.test.labels[index]);
    EXPECT_EQ(pred, int(std::max_element(p.begin(), p.end()) - p.begin()));
    EXPECT_NE(truth, pred);
    EXPECT_NEAR(prob, p[std::size_t(pred)], 6e-5);
    EXPECT_NEAR(prob, wrong_p[std::size_t(k)], 6e-5);  // the k-th most confident
    GrayImage g{28, 28, std::vector<std::uint8_t>(s.test.images.begin() + std::ptrdiff_t(index * 784),
                                                  s.test.images.begin() + std::ptrdiff_t(index * 784 + 784))};
    items.push_back({g, ""});
    shown.push_back(index);
  }
  EXPECT_FALSE(std::getline(lines, line));
  // Each tile is that test image, 3 px a pixel, in gray_r.
  const Picture p = image_grid(items, "t");
  ASSERT_EQ(img.width, p.canvas.width);
  ASSERT_EQ(img.height, p.canvas.height);
  for (std::size_t k = 0; k < 7; ++k)
    for (int px = 0; px < 784; px += 7)
      ASSERT_EQ(img.grey(p.tiles[k].x0 + (px % 28) * 3 + 1, p.tiles[k].y0 + (px / 28) * 3 + 1),
                255 - s.test.images[shown[k] * 784 + std::size_t(px)])
          << "mistake " << k << " pixel " << px;
}

TEST_F(ShowTest, NoMistakesWritesNoPicture) {
  const Scored s = score(d("model.npz"), d("data"));
  std::size_t right = 0;
  for (std::size_t i = 0; i < s.test.count; ++i)
    right += std::size_t(std::max_element(s.prob[i].begin(), s.prob[i].end()) - s.prob[i].begin()) ==
             s.test.labels[i];
  ASSERT_EQ(right, s.test.count) << "the toy model should classify every toy test image";
  const std::string out = d("none.png");
  const auto r = run_cli("show mistakes --model " + d("model.npz") + " --data " + d("data") + " -o " + out);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "no mistakes in 100 images\n");
  EXPECT_FALSE(fs::exists(out));
}

namespace {
// Pixels of colour c (within 8 per channel) inside the chart's panel.
long panel_pixels(const Rgb& img, unsigned c) {
  long n = 0;
  for (int y = img.height * 12 / 100 + 2; y < img.height * 88 / 100 - 2; ++y)
    for (int x = img.width * 13 / 100 + 2; x < img.width * 90 / 100 - 2; ++x) {
      const unsigned v = img.at(x, y);
      bool close = true;
      for (int s = 0; s < 24; s += 8) close = close && std::abs(int((v >> s) & 0xFF) - int((c >> s) & 0xFF)) <= 8;
      n += close;
    }
  return n;
}
}  // namespace

TEST_F(ShowTest, PlotRedrawsTheChartsFromMetricsFiles) {
  // A second run, by hand: accuracies falling where the trained run's rise.
  std::ofstream(d("other.csv")) << "iter,loss,accr_train,accr_test,seconds\n"
                                   "10,2.2,0.9,0.85,0.1\n20,1.5,0.5,0.45,0.2\n30,1.0,0.2,0.15,0.3\n60,0.5,0.1,0.05,0.6\n";
  constexpr unsigned kRed = 0xE24A33, kBlue = 0x348ABD, kPurple = 0x988ED5, kGrey = 0x777777;
  auto r = run_cli("plot " + d("m.csv") + " -o " + d("one.png") + " --loss " + d("loss.png"));
  ASSERT_EQ(r.status, 0) << r.err;
  Rgb img = decode(d("one.png"));
  ASSERT_EQ(img.width, 800);
  // One file: the two lines of 'train --plot', training set and test set.
  EXPECT_GT(panel_pixels(img, kRed), 100);
  EXPECT_GT(panel_pixels(img, kBlue), 100);
  EXPECT_EQ(panel_pixels(img, kPurple), 0);
  EXPECT_GT(panel_pixels(decode(d("loss.png")), kRed), 100);
  // Two files: four lines, one per file and set.
  r = run_cli("plot " + d("m.csv") + " " + d("other.csv") + " -o " + d("two.png"));
  ASSERT_EQ(r.status, 0) << r.err;
  img = decode(d("two.png"));
  for (unsigned c : {kRed, kBlue, kPurple, kGrey}) EXPECT_GT(panel_pixels(img, c), 100) << std::hex << c;

  // Bad input: exit 2, one line naming the file and what was expected, no file.
  std::ofstream(d("bad.csv")) << "step,acc\n1,0.5\n";
  std::ofstream(d("row.csv")) << "iter,loss,accr_train,accr_test,seconds\n10,2.2,0.9,x,0.1\n";
  const std::string out = d("never.png");
  for (const auto& [file, want] :
       {std::pair{d("bad.csv"), d("bad.csv") + ": first line is 'step,acc'; expected a metrics CSV written by "
                                               "'convnet train --metrics' (header iter,loss,accr_train,accr_test,seconds)"},
        {d("row.csv"), d("row.csv") + ": line 2 is '10,2.2,0.9,x,0.1'; expected 5 numbers"},
        {d("missing.csv"), d("missing.csv") + ": cannot open: No such file or directory; expected a metrics CSV"}}) {
    r = run_cli("plot " + d("m.csv") + " " + file + " -o " + out);
    EXPECT_EQ(r.status, 2) << file;
    EXPECT_NE(r.err.find("convnet: error: " + want), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(ShowTest, ActivationsAreEachConvAndPoolOutput) {
  // A toy test image as a PNG; MNIST-like already, so predict's preparation
  // (to_mnist_like) is applied here too, to know what the network sees.
  const Dataset test = load_mnist(d("data")).test;
  GrayImage g{28, 28, std::vector<std::uint8_t>(test.images.begin(), test.images.begin() + 784)};
  write_png_gray(d("digit.png"), g);
  const GrayImage m = to_mnist_like(read_png_gray(d("digit.png")), 28, 20);
  const std::string out = d("maps.png");
  auto r = run_cli("show activations --model " + d("model.npz") + " " + d("digit.png") + " -o " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  // The network's own layers, unfused: Conv1 (30, 24, 24) and Pool1 (30, 12, 12).
  auto loaded = load_model<float>(d("model.npz"));
  Sequential<float> net(loaded->architecture(), 0u, Kernels::Layered);
  load_params(load_npz(d("model.npz")), d("model.npz"), net);
  Tensor<float> x({1, 1, 28, 28});
  for (std::size_t j = 0; j < 784; ++j) x[j] = float(m.pixels[j]) / 255.0f;
  std::vector<Tensor<float>> outs;
  const Tensor<float>* cur = &x;
  for (const auto& [name, layer] : net.layers()) {
    cur = &layer->forward(*cur, Mode::Eval);
    if (name == "Conv1" || name == "Pool1") outs.push_back(*cur);
  }
  ASSERT_EQ(outs.size(), 2u);
  const Rgb img = decode(out);
  // Tiles: the input, then 30 + 30 channels, about 48 px each: 2, 2 and 4 px a value.
  const int scale[2] = {2, 4};
  std::vector<Picture> parts{image_grid({{m, ""}}, "t", 2, 1, 0)};
  for (int k = 0; k < 2; ++k) {
    std::vector<CaptionedImage> maps;
    const auto& s = outs[std::size_t(k)].shape();
    for (std::size_t c = 0; c < 30; ++c)
      maps.push_back({normalised_map(outs[std::size_t(k)].data() + c * s[2] * s[3], s[2], s[3]), ""});
    parts.push_back(image_grid(maps, "t", scale[k], 10, 0));
  }
  const Picture p = stack_pictures(parts);
  ASSERT_EQ(p.tiles.size(), 61u);
  ASSERT_EQ(img.width, p.canvas.width);
  ASSERT_EQ(img.height, p.canvas.height);
  for (std::size_t t = 0; t < 61; ++t) {
    const std::size_t part = t == 0 ? 0 : 1 + (t - 1) / 30;
    const std::size_t side = part == 0 ? 28 : part == 1 ? 24 : 12;
    const int sc = part == 0 ? 2 : scale[part - 1];
    for (std::size_t v = 0; v < side * side; v += 5) {
      int want;
      if (part == 0) {
        want = 255 - m.pixels[v];
      } else {
        const auto& o = outs[part - 1];
        const std::size_t c = (t - 1) % 30;
        want = 255 - normalised_map(o.data() + c * side * side, side, side).pixels[v];
      }
      ASSERT_EQ(img.grey(p.tiles[t].x0 + int(v % side) * sc, p.tiles[t].y0 + int(v / side) * sc), want)
          << "tile " << t << " value " << v;
    }
  }
  // Not a PNG: exit 2, the file named, nothing written.
  r = run_cli("show activations --model " + d("model.npz") + " " + d("m.csv") + " -o " + d("never.png"));
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "convnet: error: " + d("m.csv") + ": not a PNG file\n");
  EXPECT_FALSE(fs::exists(d("never.png")));
}
