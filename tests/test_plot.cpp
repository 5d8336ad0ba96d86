// Charts drawn with PLplot, decoded here with libpng and checked pixel by
// pixel: size, panel colour, series colours, white grid, legend placement.
#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "convnet/core/error.hpp"
#include "convnet/io/plot.hpp"

// Under -DCONVNET_SANITIZE=ON: fontconfig (used by cairo/pango for text)
// keeps process-wide caches that LeakSanitizer reports at exit; not ours.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }

namespace fs = std::filesystem;
using convnet::Chart;
using convnet::Series;

namespace {

struct Rgb {
  int width = 0, height = 0;
  std::vector<unsigned char> px;  // RGB, row-major, top row first
  unsigned at(int x, int y) const {
    const unsigned char* p = &px[(std::size_t(y) * width + x) * 3];
    return unsigned(p[0]) << 16 | unsigned(p[1]) << 8 | p[2];
  }
};

Rgb decode(const std::string& path) {
  png_image im{};
  im.version = PNG_IMAGE_VERSION;
  Rgb out;
  if (!png_image_begin_read_from_file(&im, path.c_str())) return out;
  im.format = PNG_FORMAT_RGB;  // composited on the background if it has alpha
  out.px.resize(PNG_IMAGE_SIZE(im));
  png_color white{255, 255, 255};
  if (!png_image_finish_read(&im, &white, out.px.data(), 0, nullptr)) return out;
  out.width = int(im.width);
  out.height = int(im.height);
  return out;
}

// Pixels in [x0, x1) x [y0, y1) within `tol` of colour c in every channel.
long count_near(const Rgb& img, unsigned c, int tol, int x0, int y0, int x1, int y1) {
  long n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const unsigned v = img.at(x, y);
      bool close = true;
      for (int s = 0; s < 24; s += 8)
        close = close && std::abs(int((v >> s) & 0xFF) - int((c >> s) & 0xFF)) <= tol;
      n += close;
    }
  return n;
}

// The notebook's chart: accuracies rising from 0.1 towards 1.
Chart accuracy_chart() {
  Chart c;
  c.title = "accuracy";
  c.xlabel = "count";
  c.ylabel = "accuracy";
  c.ylim = std::make_pair(0.0, 1.0);
  Series train{"training set", {}, {}}, test{"test set", {}, {}};
  for (int i = 0; i < 50; ++i) {
    train.x.push_back(i * 10);
    train.y.push_back(0.98 - 0.88 * std::exp(-i / 5.0));
    test.x.push_back(i * 10);
    test.y.push_back(0.95 - 0.85 * std::exp(-i / 5.0));
  }
  c.series = {train, test};
  return c;
}

class PlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("convnet_plot_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::size_t files_in_dir() const {
    return std::size_t(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }
  fs::path dir_;
};

constexpr unsigned kPanel = 0xE5E5E5, kRed = 0xE24A33, kBlue = 0x348ABD, kWhite = 0xFFFFFF;

}  // namespace

TEST_F(PlotTest, AccuracyChartLooksLikeGgplot) {
  const std::string out = path("accuracy.png");
  convnet::plot_png(out, accuracy_chart());
  const Rgb img = decode(out);
  ASSERT_EQ(img.width, 800);
  ASSERT_EQ(img.height, 600);
  EXPECT_EQ(files_in_dir(), 1u);  // no temporary file left

  // Inside the plot area (well within matplotlib's 12.5%..90% x 12%..89%
  // margins) the panel grey dominates.
  const int x0 = 120, x1 = 700, y0 = 80, y1 = 520;
  std::map<unsigned, long> hist;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) ++hist[img.at(x, y)];
  unsigned dominant = 0;
  long most = 0;
  for (auto [c, n] : hist)
    if (n > most) most = n, dominant = c;
  EXPECT_EQ(dominant, kPanel);
  EXPECT_GT(most, long(x1 - x0) * (y1 - y0) / 2);
  // Both series colours, and white grid lines, inside the plot area.
  EXPECT_GT(count_near(img, kRed, 8, x0, y0, x1, y1), 100);
  EXPECT_GT(count_near(img, kBlue, 8, x0, y0, x1, y1), 100);
  EXPECT_GT(count_near(img, kWhite, 0, x0, y0, x1, y1), 1000);
  // Outside the panel the figure is white: the corners.
  EXPECT_EQ(img.at(2, 2), kWhite);
  EXPECT_EQ(img.at(797, 597), kWhite);
  // Title, labels and tick labels put dark pixels in the margins.
  EXPECT_GT(count_near(img, 0x000000, 40, 300, 0, 500, 70), 20);   // title
  EXPECT_GT(count_near(img, 0x555555, 40, 0, 520, 800, 600), 50);  // x ticks, xlabel
  EXPECT_GT(count_near(img, 0x555555, 40, 0, 60, 100, 540), 50);   // y ticks, ylabel

  // The curves run along the top: the legend ("best") sits in the lower half.
  // Its text is the only black inside the panel.
  long upper = 0, lower = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x)
      if (count_near(img, 0x000000, 64, x, y, x + 1, y + 1)) (y < img.height / 2 ? upper : lower)++;
  EXPECT_GT(lower, 30);
  EXPECT_EQ(upper, 0);
}

TEST_F(PlotTest, LegendAvoidsTheData) {
  // Falling curves (losses) fill the lower left: the legend goes up right.
  Chart c;
  c.title = "loss";
  Series loss{"loss", {}, {}};
  for (int i = 0; i < 40; ++i) loss.x.push_back(i), loss.y.push_back(2.3 * std::exp(-i / 4.0));
  c.series = {loss};
  convnet::plot_png(path("loss.png"), c);
  const Rgb img = decode(path("loss.png"));
  ASSERT_EQ(img.width, 800);
  long right_top = 0, elsewhere = 0;
  for (int y = 80; y < 520; ++y)
    for (int x = 120; x < 700; ++x)
      if (count_near(img, 0x000000, 64, x, y, x + 1, y + 1))
        (y < img.height / 2 && x > img.width / 2 ? right_top : elsewhere)++;
  EXPECT_GT(right_top, 10);
  EXPECT_EQ(elsewhere, 0);
}

TEST_F(PlotTest, OtherSizeAndTwiceInOneProcess) {
  Chart c = accuracy_chart();
  c.width = 640;
  c.height = 480;
  convnet::plot_png(path("a.png"), c);
  convnet::plot_png(path("b.png"), accuracy_chart());
  const Rgb a = decode(path("a.png")), b = decode(path("b.png"));
  EXPECT_EQ(a.width, 640);
  EXPECT_EQ(a.height, 480);
  EXPECT_EQ(b.width, 800);
  EXPECT_EQ(b.height, 600);
  EXPECT_GT(count_near(a, kRed, 8, 0, 0, 640, 480), 50);
  EXPECT_GT(count_near(b, kBlue, 8, 0, 0, 800, 600), 50);
  // Overwriting an existing file replaces it.
  convnet::plot_png(path("a.png"), accuracy_chart());
  EXPECT_EQ(decode(path("a.png")).width, 800);
  EXPECT_EQ(files_in_dir(), 2u);
}

TEST_F(PlotTest, ManyChartsReleaseTheirPlplotStreams) {
  // PLplot has 100 streams; each chart must give its own back.
  Chart c = accuracy_chart();
  c.width = c.height = 64;
  for (int i = 0; i < 105; ++i) ASSERT_NO_THROW(convnet::plot_png(path("small.png"), c)) << i;
  EXPECT_EQ(decode(path("small.png")).width, 64);
}

TEST_F(PlotTest, MissingDirectoryThrowsAndLeavesNothing) {
  const std::string out = path("no/such/dir/chart.png");
  try {
    convnet::plot_png(out, accuracy_chart());
    ADD_FAILURE() << "no convnet::Error";
  } catch (const convnet::Error& e) {
    EXPECT_NE(std::string(e.what()).find(out), std::string::npos) << e.what();
  }
  EXPECT_EQ(files_in_dir(), 0u);
  // PLplot is still usable afterwards.
  convnet::plot_png(path("after.png"), accuracy_chart());
  EXPECT_EQ(decode(path("after.png")).height, 600);
}

TEST_F(PlotTest, EmptyNanAndLonePointsDoNotCrash) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  Chart c;
  c.series = {Series{"empty", {}, {}},
              Series{"all nan", {nan, nan}, {nan, 1.0}},
              Series{"gaps", {0, 1, 2, 3, 4, 5}, {0.1, nan, 0.3, 0.4, inf, 0.2}},
              Series{"", {2.5}, {0.25}}};
  convnet::plot_png(path("gaps.png"), c);
  const Rgb img = decode(path("gaps.png"));
  EXPECT_EQ(img.width, 800);
  EXPECT_GT(count_near(img, kPanel, 0, 0, 0, 800, 600), 100000);

  Chart nothing;  // no series at all, no labels
  convnet::plot_png(path("nothing.png"), nothing);
  EXPECT_EQ(decode(path("nothing.png")).height, 600);

  Chart flat;  // a constant series: degenerate y range
  flat.series = {Series{"flat", {1, 2, 3}, {0.5, 0.5, 0.5}}};
  convnet::plot_png(path("flat.png"), flat);
  EXPECT_GT(count_near(decode(path("flat.png")), kRed, 8, 0, 0, 800, 600), 100);
}

TEST_F(PlotTest, InvalidChartsThrowNamingTheProblem) {
  auto expect_error = [&](const Chart& c, const std::string& piece) {
    try {
      convnet::plot_png(path("bad.png"), c);
      ADD_FAILURE() << "no convnet::Error for " << piece;
    } catch (const convnet::Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path("bad.png")), std::string::npos) << msg;
      EXPECT_NE(msg.find(piece), std::string::npos) << msg;
    }
  };
  Chart c;
  c.series = {Series{"train", {1, 2, 3}, {1, 2}}};
  expect_error(c, "\"train\" has 3 x values but 2 y values");
  c = Chart{};
  c.ylim = std::make_pair(1.0, 0.0);
  expect_error(c, "ylim");
  c.ylim = std::make_pair(0.0, std::numeric_limits<double>::quiet_NaN());
  expect_error(c, "ylim");
  c = Chart{};
  c.width = 10;
  expect_error(c, "10x600");
  try {  // PLplot would write "%n" paths elsewhere
    convnet::plot_png(path("run%n.png"), Chart{});
    ADD_FAILURE() << "no convnet::Error for %n";
  } catch (const convnet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("%n"), std::string::npos) << e.what();
  }
  c = Chart{};
  c.series = {Series{"huge", {0, 1}, {-1e308, 1e308}}};
  expect_error(c, "largest double");
  EXPECT_EQ(files_in_dir(), 0u);
}

TEST_F(PlotTest, PrintsNothing) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  convnet::plot_png(path("quiet.png"), accuracy_chart());
  // Text PLplot would otherwise complain about: its escape character '#',
  // malformed UTF-8, control characters, a very long title.
  Chart odd = accuracy_chart();
  odd.title = std::string(5000, 'x');
  odd.xlabel = "loss #2 #u #( ## <b> &amp;";
  odd.ylabel = "bad \xff\xfe utf-8 \xc3";
  odd.series[0].label = "tab\there\nnewline #";
  convnet::plot_png(path("odd.png"), odd);
  EXPECT_EQ(decode(path("odd.png")).width, 800);
  EXPECT_THROW(convnet::plot_png(path("missing/quiet.png"), accuracy_chart()), convnet::Error);
  const std::string out = ::testing::internal::GetCapturedStdout();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "");
}

TEST_F(PlotTest, ConcurrentCallsAreSerialised) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([this, t] {
      Chart c = accuracy_chart();
      c.width = 320 + 16 * t;
      c.height = 240;
      convnet::plot_png(path("t" + std::to_string(t) + ".png"), c);
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(decode(path("t" + std::to_string(t) + ".png")).width, 320 + 16 * t);
}

// In a fresh process (death-test re-exec), PLplot pointed at an empty driver
// directory: a convnet::Error, not a prompt on stdin or exit().
TEST_F(PlotTest, MissingDriverIsAnError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string drivers = path("no_drivers");
  fs::create_directories(drivers);
  const std::string out = path("x.png");
  EXPECT_EXIT(
      {
        ::setenv("PLPLOT_DRV_DIR", drivers.c_str(), 1);
        int code = 3;
        try {
          convnet::plot_png(out, accuracy_chart());
        } catch (const convnet::Error& e) {
          const std::string msg = e.what();
          code = msg.find(out + ": cannot draw chart: PLplot") == 0 ? 0 : 4;
        }
        const bool written = fs::exists(out);
        fs::remove_all(dir_);  // this child's own directory: no TearDown here
        std::exit(written ? 5 : code);
      },
      ::testing::ExitedWithCode(0), "");
}
