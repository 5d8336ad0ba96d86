// PNG reading/writing and the MNIST-style normalisation. Test PNGs are written
// here with libpng itself (classic API), so the reader is checked against an
// independent writer; expected values are worked out by hand.
#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "convnet/core/error.hpp"
#include "convnet/io/image.hpp"

namespace fs = std::filesystem;
using convnet::GrayImage;

namespace {

class ImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("convnet_image_test_" + std::to_string(::getpid()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

// Writes a PNG with libpng's classic API. `rows` holds height rows of packed
// samples as PNG stores them (16-bit samples big-endian).
bool write_raw_png(const std::string& path, png_uint_32 width, png_uint_32 height, int color_type,
                   int bit_depth, int interlace, const std::vector<std::vector<png_byte>>& rows,
                   const std::vector<png_color>& palette = {},
                   const std::vector<png_byte>& trns = {}) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    return false;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, width, height, bit_depth, color_type, interlace,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!palette.empty()) png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
  if (!trns.empty()) png_set_tRNS(png, info, trns.data(), static_cast<int>(trns.size()), nullptr);
  png_write_info(png, info);
  std::vector<png_bytep> ptrs;
  for (auto& r : rows) ptrs.push_back(const_cast<png_bytep>(r.data()));
  png_write_image(png, ptrs.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return std::fclose(f) == 0;
}

std::uint8_t luma(int r, int g, int b) {
  return static_cast<std::uint8_t>(std::lround(0.299 * r + 0.587 * g + 0.114 * b));
}

// Composite grey value v with alpha a on white.
std::uint8_t on_white(double v, int a) {
  return static_cast<std::uint8_t>(std::lround((v * a + 255.0 * (255 - a)) / 255.0));
}

std::vector<char> read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& p, const std::vector<char>& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Expects f() to throw convnet::Error whose message contains every piece.
template <class F>
void expect_error(F f, const std::vector<std::string>& pieces) {
  try {
    f();
    ADD_FAILURE() << "no convnet::Error thrown";
  } catch (const convnet::Error& e) {
    for (auto& p : pieces)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message \"" << e.what() << "\" lacks \"" << p << "\"";
  }
}

GrayImage filled(std::size_t rows, std::size_t cols, std::uint8_t v) {
  return GrayImage{rows, cols, std::vector<std::uint8_t>(rows * cols, v)};
}

void fill_rect(GrayImage& img, std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1,
               std::uint8_t v) {  // rows [r0, r1), cols [c0, c1)
  for (std::size_t r = r0; r < r1; ++r)
    for (std::size_t c = c0; c < c1; ++c) img.pixels[r * img.cols + c] = v;
}

struct InkStats {
  std::size_t top = SIZE_MAX, bottom = 0, left = SIZE_MAX, right = 0;
  double mass = 0, cy = 0, cx = 0;
  int max = 0;
  std::size_t height() const { return bottom - top + 1; }
  std::size_t width() const { return right - left + 1; }
};

InkStats ink_stats(const GrayImage& img) {
  InkStats s;
  for (std::size_t r = 0; r < img.rows; ++r)
    for (std::size_t c = 0; c < img.cols; ++c) {
      const int v = img.pixels[r * img.cols + c];
      if (v == 0) continue;
      s.top = std::min(s.top, r), s.bottom = std::max(s.bottom, r);
      s.left = std::min(s.left, c), s.right = std::max(s.right, c);
      s.mass += v, s.cy += v * double(r), s.cx += v * double(c);
      s.max = std::max(s.max, v);
    }
  if (s.mass > 0) s.cy /= s.mass, s.cx /= s.mass;
  return s;
}

}  // namespace

// ------------------------------------------------------------------ PNG I/O

TEST_F(ImageTest, GrayRoundTrip) {
  GrayImage img{3, 5, {}};
  for (int i = 0; i < 15; ++i) img.pixels.push_back(static_cast<std::uint8_t>(i * 17));
  convnet::write_png_gray(path("g.png"), img);
  const GrayImage back = convnet::read_png_gray(path("g.png"));
  EXPECT_EQ(back.rows, 3u);
  EXPECT_EQ(back.cols, 5u);
  EXPECT_EQ(back.pixels, img.pixels);
  // Only the final file is left: the temporary one was renamed.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(ImageTest, RgbGivesLuma) {
  // 2x2: red, green / blue, an arbitrary colour.
  const int px[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 200, 77}};
  std::vector<std::vector<png_byte>> rows(2);
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 3; ++k) rows[i / 2].push_back(static_cast<png_byte>(px[i][k]));
  ASSERT_TRUE(write_raw_png(path("rgb.png"), 2, 2, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, rows));
  const GrayImage g = convnet::read_png_gray(path("rgb.png"));
  ASSERT_EQ(g.rows, 2u);
  ASSERT_EQ(g.cols, 2u);
  // 0.299 * 255 = 76.245, 0.587 * 255 = 149.685, 0.114 * 255 = 29.07
  // 2.99 + 117.4 + 8.778 = 129.168
  const std::vector<std::uint8_t> expected = {76, 150, 29, 129};
  EXPECT_EQ(g.pixels, expected);
  EXPECT_EQ(luma(10, 200, 77), 129);
}

TEST_F(ImageTest, RgbaCompositesOnWhite) {
  // opaque grey-blue, fully transparent black, half-transparent red.
  std::vector<std::vector<png_byte>> rows = {{40, 80, 160, 255, 0, 0, 0, 0, 255, 0, 0, 128}};
  ASSERT_TRUE(write_raw_png(path("rgba.png"), 3, 1, PNG_COLOR_TYPE_RGBA, 8, PNG_INTERLACE_NONE, rows));
  const GrayImage g = convnet::read_png_gray(path("rgba.png"));
  ASSERT_EQ(g.pixels.size(), 3u);
  EXPECT_EQ(g.pixels[0], luma(40, 80, 160));
  EXPECT_EQ(g.pixels[1], 255);  // transparent = the white underneath
  // red luma 76.245 at alpha 128: (76.245 * 128 + 255 * 127) / 255 = 165.27
  EXPECT_EQ(g.pixels[2], 165);
  EXPECT_EQ(g.pixels[2], on_white(0.299 * 255, 128));
}

TEST_F(ImageTest, OtherFormats) {
  // grey + alpha, 8 bits
  ASSERT_TRUE(write_raw_png(path("ga.png"), 2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE,
                            {{100, 255, 0, 64}}));
  auto g = convnet::read_png_gray(path("ga.png"));
  EXPECT_EQ(g.pixels, (std::vector<std::uint8_t>{100, on_white(0, 64)}));  // 191.25 -> 191
  EXPECT_EQ(g.pixels[1], 191);

  // 16-bit grey: 0x1234 scales to round(4660 / 257) = 18, 0xFFFF to 255.
  ASSERT_TRUE(write_raw_png(path("g16.png"), 2, 1, PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_NONE,
                            {{0x12, 0x34, 0xFF, 0xFF}}));
  g = convnet::read_png_gray(path("g16.png"));
  EXPECT_EQ(g.pixels, (std::vector<std::uint8_t>{18, 255}));

  // 1-bit grey: 0b10100000 -> white, black, white, black
  ASSERT_TRUE(write_raw_png(path("g1.png"), 4, 1, PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE, {{0xA0}}));
  g = convnet::read_png_gray(path("g1.png"));
  EXPECT_EQ(g.pixels, (std::vector<std::uint8_t>{255, 0, 255, 0}));

  // 4-bit palette with a transparent entry: indices 0, 1, 2.
  const std::vector<png_color> pal = {{0, 0, 255}, {255, 255, 255}, {0, 0, 0}};
  ASSERT_TRUE(write_raw_png(path("pal.png"), 3, 1, PNG_COLOR_TYPE_PALETTE, 4, PNG_INTERLACE_NONE,
                            {{0x01, 0x20}}, pal, {255, 255, 0}));
  g = convnet::read_png_gray(path("pal.png"));
  EXPECT_EQ(g.pixels, (std::vector<std::uint8_t>{29, 255, 255}));  // blue, white, transparent

  // Interlaced (Adam7) 9x9 grey gradient.
  std::vector<std::vector<png_byte>> rows(9);
  std::vector<std::uint8_t> expected;
  for (int r = 0; r < 9; ++r)
    for (int c = 0; c < 9; ++c) {
      rows[r].push_back(static_cast<png_byte>(r * 20 + c));
      expected.push_back(static_cast<std::uint8_t>(r * 20 + c));
    }
  ASSERT_TRUE(write_raw_png(path("adam7.png"), 9, 9, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_ADAM7, rows));
  g = convnet::read_png_gray(path("adam7.png"));
  EXPECT_EQ(g.rows, 9u);
  EXPECT_EQ(g.pixels, expected);
}

TEST_F(ImageTest, NotAPng) {
  write_bytes(path("x.png"), {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n'});
  expect_error([&] { convnet::read_png_gray(path("x.png")); }, {path("x.png") + ": not a PNG file"});
  write_bytes(path("empty.png"), {});
  expect_error([&] { convnet::read_png_gray(path("empty.png")); }, {"empty.png: not a PNG file"});
  expect_error([&] { convnet::read_png_gray(path("missing.png")); },
               {path("missing.png") + ": cannot open"});
}

TEST_F(ImageTest, TruncatedAndDamagedPng) {
  GrayImage img{64, 64, {}};
  std::uint32_t s = 12345;  // pseudo-random pixels: the IDAT stays large
  for (int i = 0; i < 64 * 64; ++i) {
    s = s * 1103515245u + 12345u;
    img.pixels.push_back(static_cast<std::uint8_t>(s >> 24));
  }
  convnet::write_png_gray(path("full.png"), img);
  const auto bytes = read_bytes(path("full.png"));
  ASSERT_GT(bytes.size(), 2000u);

  for (std::size_t keep : {std::size_t(20), bytes.size() / 2, bytes.size() - 6}) {
    write_bytes(path("cut.png"), std::vector<char>(bytes.begin(), bytes.begin() + keep));
    expect_error([&] { convnet::read_png_gray(path("cut.png")); },
                 {path("cut.png") + ": corrupt PNG: "});
  }
  // A flipped byte inside the image data fails its CRC.
  auto damaged = bytes;
  damaged[bytes.size() / 2] ^= 0x55;
  write_bytes(path("bad.png"), damaged);
  expect_error([&] { convnet::read_png_gray(path("bad.png")); }, {path("bad.png") + ": corrupt PNG: "});
}

TEST_F(ImageTest, TooLargeIsRefused) {
  const png_uint_32 w = convnet::kMaxPngSide + 1;
  ASSERT_TRUE(write_raw_png(path("wide.png"), w, 1, PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE,
                            {std::vector<png_byte>((w + 7) / 8, 0)}));
  expect_error([&] { convnet::read_png_gray(path("wide.png")); },
               {"wide.png", std::to_string(w) + "x1", "16384x16384"});
}

namespace {
// A PNG whose IHDR claims w x h 8-bit grey pixels but whose IDAT holds one
// row (of zeros), then IEND: libpng reads the header and the first row, and
// fails at the second.
std::vector<char> one_row_png(std::uint32_t w, std::uint32_t h) {
  std::vector<char> out = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};
  auto be32 = [&](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(char((v >> s) & 0xff));
  };
  auto chunk = [&](const char* type, const std::vector<unsigned char>& data) {
    be32(std::uint32_t(data.size()));
    std::vector<unsigned char> td(type, type + 4);
    td.insert(td.end(), data.begin(), data.end());
    out.insert(out.end(), td.begin(), td.end());
    be32(std::uint32_t(crc32(0, td.data(), uInt(td.size()))));
  };
  std::vector<unsigned char> ihdr;
  for (std::uint32_t v : {w, h})
    for (int s = 24; s >= 0; s -= 8) ihdr.push_back((v >> s) & 0xff);
  ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0});  // depth 8, grey, deflate, adaptive filter, not interlaced
  chunk("IHDR", ihdr);
  const std::vector<unsigned char> row(std::size_t(w) + 1, 0);  // filter byte + pixels
  std::vector<unsigned char> z(compressBound(uLong(row.size())));
  uLongf zlen = uLongf(z.size());
  if (compress(z.data(), &zlen, row.data(), uLong(row.size())) != Z_OK) return {};
  z.resize(zlen);
  chunk("IDAT", z);
  chunk("IEND", {});
  return out;
}
}  // namespace

// A file of about a hundred bytes claiming 16384 x 16384 pixels (256 MiB)
// must fail as corrupt having allocated about a row: in a child whose address
// space is capped at what it has plus 64 MiB, reading it ends in "corrupt
// PNG", not bad_alloc.
TEST_F(ImageTest, HeaderClaimingAHugePictureCostsAboutOneRow) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "an address-space cap and ASan's shadow memory do not mix";
#endif
  const std::string file = path("claims.png");
  const std::vector<char> bytes = one_row_png(convnet::kMaxPngSide, convnet::kMaxPngSide);
  ASSERT_FALSE(bytes.empty());
  ASSERT_LT(bytes.size(), 200u);
  write_bytes(file, bytes);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    long pages = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
      std::fclose(f);
    }
    if (pages <= 0) _exit(5);
    const rlim_t cap = rlim_t(pages) * rlim_t(sysconf(_SC_PAGESIZE)) + (rlim_t(64) << 20);
    const rlimit rl{cap, cap};
    if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(6);
    try {
      convnet::read_png_gray(file);
      _exit(1);  // a header alone is not a picture
    } catch (const convnet::Error& e) {
      _exit(std::string(e.what()).find(": corrupt PNG: ") != std::string::npos ? 0 : 2);
    } catch (const std::bad_alloc&) {
      _exit(3);
    } catch (...) {
      _exit(4);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1: read succeeded, 2: other error, 3: out of memory (the claimed size was allocated), 5/6: setup";
}

TEST_F(ImageTest, WriteErrors) {
  const std::string missing = path("no/such/dir/out.png");
  expect_error([&] { convnet::write_png_gray(missing, filled(2, 2, 0)); }, {missing});
  EXPECT_FALSE(fs::exists(path("no")));
  expect_error([&] { convnet::write_png_gray(path("bad.png"), GrayImage{2, 2, {1, 2, 3}}); },
               {"bad.png", "2x2", "3 pixels"});
  expect_error([&] { convnet::write_png_gray(path("empty.png"), GrayImage{}); }, {"empty.png"});
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 0);
}

// ------------------------------------------------------------ MNIST form

TEST_F(ImageTest, DarkBarBecomesMnistDigit) {
  // A "1": black bar 80 tall, 10 wide, on white, off centre.
  GrayImage img = filled(100, 120, 255);
  fill_rect(img, 5, 85, 20, 30, 0);
  const GrayImage m = convnet::to_mnist_like(img);
  ASSERT_EQ(m.rows, 28u);
  ASSERT_EQ(m.cols, 28u);
  ASSERT_EQ(m.pixels.size(), 28u * 28u);
  const InkStats s = ink_stats(m);
  EXPECT_EQ(s.height(), 20u);  // 80 -> 20: scale 1/4
  EXPECT_EQ(s.width(), 3u);    // 10 / 4 = 2.5 -> 3
  EXPECT_EQ(s.max, 255);       // white ink
  EXPECT_NEAR(s.cy, 14.0, 1.0);
  EXPECT_NEAR(s.cx, 14.0, 1.0);
  // Black background: the corners and the border are empty.
  for (std::size_t i = 0; i < 28; ++i) {
    EXPECT_EQ(m.pixels[i], 0);
    EXPECT_EQ(m.pixels[27 * 28 + i], 0);
    EXPECT_EQ(m.pixels[i * 28], 0);
    EXPECT_EQ(m.pixels[i * 28 + 27], 0);
  }
}

TEST_F(ImageTest, AlreadyMnistLikeIsNotInverted) {
  // White 10x10 square on black, in a corner: scaled x2 to 20x20, centred.
  GrayImage img = filled(28, 28, 0);
  fill_rect(img, 1, 11, 2, 12, 255);
  const InkStats s = ink_stats(convnet::to_mnist_like(img));
  EXPECT_EQ(s.height(), 20u);
  EXPECT_EQ(s.width(), 20u);
  EXPECT_EQ(s.max, 255);
  EXPECT_NEAR(s.cy, 14.0, 1.0);
  EXPECT_NEAR(s.cx, 14.0, 1.0);
  EXPECT_DOUBLE_EQ(s.mass, 400.0 * 255);  // all 400 pixels fully white
}

TEST_F(ImageTest, AreaAveragingByHand) {
  // 40x40 ink made of 2x2 blocks {255, 51; 102, 0} on a black 60x60 picture:
  // halving it averages each block to (255 + 51 + 102 + 0) / 4 = 102.
  GrayImage img = filled(60, 60, 0);
  for (std::size_t r = 0; r < 40; ++r)
    for (std::size_t c = 0; c < 40; ++c) {
      const std::uint8_t v[2][2] = {{255, 51}, {102, 0}};
      img.pixels[(r + 10) * 60 + c + 7] = v[r % 2][c % 2];
    }
  const GrayImage m = convnet::to_mnist_like(img);
  const InkStats s = ink_stats(m);
  ASSERT_EQ(s.height(), 20u);
  ASSERT_EQ(s.width(), 20u);
  for (std::size_t r = s.top; r <= s.bottom; ++r)
    for (std::size_t c = s.left; c <= s.right; ++c) EXPECT_EQ(m.pixels[r * 28 + c], 102);
}

TEST_F(ImageTest, KeepsAspectRatioAndOtherSizes) {
  // A wide bar, 12 tall and 96 wide: longer side to 24 in a 32x32 frame.
  GrayImage img = filled(50, 100, 255);
  fill_rect(img, 30, 42, 2, 98, 40);  // dark grey ink: stretched to full white
  const GrayImage m = convnet::to_mnist_like(img, 32, 24);
  ASSERT_EQ(m.rows, 32u);
  ASSERT_EQ(m.cols, 32u);
  const InkStats s = ink_stats(m);
  EXPECT_EQ(s.width(), 24u);
  EXPECT_EQ(s.height(), 3u);  // 12 / 4
  EXPECT_EQ(s.max, 255);
  EXPECT_NEAR(s.cy, 16.0, 1.0);
  EXPECT_NEAR(s.cx, 16.0, 1.0);
}

TEST_F(ImageTest, NoisyBackgroundIsIgnored) {
  // Paper with grain (values 235..255) and a dark bar (0..20).
  GrayImage img = filled(80, 80, 0);
  std::uint32_t s = 7;
  auto next = [&s] { return (s = s * 1664525u + 1013904223u) >> 24; };
  for (auto& p : img.pixels) p = static_cast<std::uint8_t>(235 + next() % 21);
  for (std::size_t r = 10; r < 70; ++r)
    for (std::size_t c = 36; c < 48; ++c) img.pixels[r * 80 + c] = static_cast<std::uint8_t>(next() % 21);
  const InkStats st = ink_stats(convnet::to_mnist_like(img));
  EXPECT_EQ(st.height(), 20u);  // 60 -> 20
  EXPECT_EQ(st.width(), 4u);    // 12 -> 4
  EXPECT_NEAR(st.cy, 14.0, 1.0);
  EXPECT_NEAR(st.cx, 14.0, 1.0);
}

TEST_F(ImageTest, BlankGivesZeros) {
  const std::vector<std::uint8_t> zeros(28 * 28, 0);
  for (std::uint8_t v : {0, 128, 255}) EXPECT_EQ(convnet::to_mnist_like(filled(40, 30, v)).pixels, zeros);
  EXPECT_EQ(convnet::to_mnist_like(GrayImage{}).pixels, zeros);
  EXPECT_EQ(convnet::to_mnist_like(filled(1, 1, 7)).pixels, zeros);
}

TEST_F(ImageTest, BadArguments) {
  expect_error([] { convnet::to_mnist_like(GrayImage{2, 2, {0, 0, 0}}); }, {"2x2", "3 pixels"});
  expect_error([] { convnet::to_mnist_like(filled(4, 4, 0), 28, 29); }, {"box 29", "size 28"});
  expect_error([] { convnet::to_mnist_like(filled(4, 4, 0), 0, 0); }, {"size 0"});
}

TEST_F(ImageTest, InvertedPictureGivesTheSameDigit) {
  // An "L" with anti-aliased edges, white on black, and its negative.
  GrayImage img = filled(40, 30, 0);
  fill_rect(img, 5, 35, 8, 13, 255);   // stem
  fill_rect(img, 30, 35, 8, 24, 255);  // foot
  fill_rect(img, 5, 35, 13, 14, 120);  // soft edge
  GrayImage neg = img;
  for (auto& p : neg.pixels) p = static_cast<std::uint8_t>(255 - p);
  const GrayImage a = convnet::to_mnist_like(img), b = convnet::to_mnist_like(neg);
  EXPECT_EQ(a.pixels, b.pixels);
  const InkStats s = ink_stats(a);
  EXPECT_EQ(s.height(), 20u);  // 30 tall, 16 wide -> 20 x 11 (10.67)
  EXPECT_EQ(s.width(), 11u);
  EXPECT_NEAR(s.cy, 14.0, 1.0);
  EXPECT_NEAR(s.cx, 14.0, 1.0);
}

// MNIST itself was made this way, so its digits come back (almost) unchanged.
// Needs data/mnist (scripts/fetch-mnist.sh); skipped without it.
TEST_F(ImageTest, MnistDigitsAreFixedPoints) {
  const std::string file = std::string(CONVNET_SOURCE_DIR) + "/data/mnist/t10k-images-idx3-ubyte";
  std::ifstream in(file, std::ios::binary);
  if (!in) GTEST_SKIP() << file << " not present";
  char header[16];
  ASSERT_TRUE(in.read(header, 16));
  double total_diff = 0;
  const int n = 100;
  for (int k = 0; k < n; ++k) {
    GrayImage g{28, 28, std::vector<std::uint8_t>(784)};
    ASSERT_TRUE(in.read(reinterpret_cast<char*>(g.pixels.data()), 784));
    const GrayImage m = convnet::to_mnist_like(g);
    for (int i = 0; i < 784; ++i) total_diff += std::abs(int(m.pixels[i]) - int(g.pixels[i]));
  }
  EXPECT_LT(total_diff / (n * 784.0), 1.0);  // mean |difference| per pixel, of 255
}
