// Tests for convnet/io/mnist.hpp. Each test writes its own small IDX files
// (raw, and gzip through zlib) into a fresh temporary directory; the real
// MNIST is only used when scripts/fetch-mnist.sh has put it in data/mnist.
#include "convnet/io/mnist.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "convnet/core/error.hpp"
#include "idx_util.hpp"

namespace fs = std::filesystem;
using convnet::Dataset;
using convnet::Error;
using convnet::Tensor;
using Bytes = std::vector<std::uint8_t>;

namespace {

using convnet::test::idx_file;
using convnet::test::write_bytes;
constexpr std::uint32_t kImages = convnet::test::kIdxImages, kImages4 = convnet::test::kIdxImages4,
                        kLabels = convnet::test::kIdxLabels;

void write_gz(const fs::path& p, const Bytes& b, const char* mode = "wb6") {
  gzFile g = gzopen(p.c_str(), mode);
  ASSERT_NE(g, nullptr) << p;
  if (!b.empty()) {
    ASSERT_EQ(gzwrite(g, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
  }
  ASSERT_EQ(gzclose(g), Z_OK);
}

Bytes read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The message of the convnet::Error that f throws ("<no error>" if none).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

::testing::AssertionResult Contains(const std::string& s, const std::string& part) {
  if (s.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << s << "\" does not contain \"" << part << "\"";
}

// 3 images of 2x4 pixels covering 0 and 255, and labels {3, 0, 7}.
const Bytes kPixels = {0,  1,  2,   3,   128, 254, 255, 7,  10, 20, 30, 40,
                       50, 60, 70,  80,  255, 0,   1,   99, 98, 97, 96, 95};
const Bytes kLabelBytes = {3, 0, 7};

class MnistFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("convnet_mnist_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // The four files of a small data set (test set: the last two images).
  void write_set(bool gz, const Bytes& train_pixels = kPixels, const Bytes& train_labels = kLabelBytes) {
    auto w = [&](const std::string& name, const Bytes& b) {
      if (gz)
        write_gz(dir_ / (name + ".gz"), b);
      else
        write_bytes(dir_ / name, b);
    };
    const auto n = static_cast<std::uint32_t>(train_labels.size());
    w("train-images-idx3-ubyte", idx_file(kImages, {n, 2, 4}, train_pixels));
    w("train-labels-idx1-ubyte", idx_file(kLabels, {n}, train_labels));
    w("t10k-images-idx3-ubyte", idx_file(kImages, {2, 2, 4}, Bytes(kPixels.begin() + 8, kPixels.end())));
    w("t10k-labels-idx1-ubyte", idx_file(kLabels, {2}, Bytes(kLabelBytes.begin() + 1, kLabelBytes.end())));
  }

  fs::path dir_;
};

Dataset small_dataset() {
  Dataset d;
  d.images = kPixels;
  d.labels = kLabelBytes;
  d.count = 3;
  d.rows = 2;
  d.cols = 4;
  return d;
}

// NumPy's np.float32(u) / np.float32(255.0), printed with float.hex().
constexpr double kNumpy1 = 0x1.0101020000000p-8, kNumpy3 = 0x1.8181820000000p-7,
                 kNumpy128 = 0x1.0101020000000p-1, kNumpy254 = 0x1.fdfdfe0000000p-1;

}  // namespace

// ---------------------------------------------------------------- reading

using MnistIdx = MnistFiles;

TEST_F(MnistIdx, RoundTripRaw) {
  write_bytes(path("img"), idx_file(kImages, {3, 2, 4}, kPixels));
  write_bytes(path("lab"), idx_file(kLabels, {3}, kLabelBytes));
  const Dataset d = convnet::read_idx_images(path("img"));
  EXPECT_EQ(d.count, 3u);
  EXPECT_EQ(d.rows, 2u);
  EXPECT_EQ(d.cols, 4u);
  EXPECT_EQ(d.image_size(), 8u);
  EXPECT_EQ(d.images, kPixels);
  EXPECT_TRUE(d.labels.empty());
  EXPECT_EQ(convnet::read_idx_labels(path("lab")), kLabelBytes);

  const Dataset p = convnet::read_idx_pair(path("img"), path("lab"));
  EXPECT_EQ(p.images, kPixels);
  EXPECT_EQ(p.labels, kLabelBytes);
  EXPECT_EQ(p.count, 3u);
}

TEST_F(MnistIdx, GzipIsDecidedByMagicNotName) {
  // gzip data under a plain name, raw data under a .gz name.
  write_gz(path("img"), idx_file(kImages, {3, 2, 4}, kPixels));
  write_bytes(path("lab.gz"), idx_file(kLabels, {3}, kLabelBytes));
  const Dataset d = convnet::read_idx_pair(path("img"), path("lab.gz"));
  EXPECT_EQ(d.images, kPixels);
  EXPECT_EQ(d.labels, kLabelBytes);
  EXPECT_EQ(d.rows, 2u);
  EXPECT_EQ(d.cols, 4u);
}

TEST_F(MnistIdx, LargeGzipAcrossReadChunks) {
  // 2000x28x28 = 1.5 MB, more than one 1 MiB read step; stored (level 0) and compressed.
  Bytes pixels(2000 * 28 * 28);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
  for (const char* mode : {"wb0", "wb9"}) {
    write_gz(path("big.gz"), idx_file(kImages, {2000, 28, 28}, pixels), mode);
    const Dataset d = convnet::read_idx_images(path("big.gz"));
    EXPECT_EQ(d.count, 2000u) << mode;
    EXPECT_TRUE(d.images == pixels) << mode;
  }
}

TEST_F(MnistIdx, ConcatenatedGzipMembersAreOneStream) {
  // `cat a.gz b.gz` is valid gzip (RFC 1952) and gunzips to a+b.
  const Bytes whole = idx_file(kImages, {3, 2, 4}, kPixels);
  write_gz(path("a.gz"), Bytes(whole.begin(), whole.begin() + 10));
  write_gz(path("b.gz"), Bytes(whole.begin() + 10, whole.end()));
  Bytes cat = read_all(path("a.gz"));
  const Bytes b = read_all(path("b.gz"));
  cat.insert(cat.end(), b.begin(), b.end());
  write_bytes(path("ab.gz"), cat);
  EXPECT_EQ(convnet::read_idx_images(path("ab.gz")).images, kPixels);
}

// ---------------------------------------------------------------- load_mnist

using MnistLoad = MnistFiles;

TEST_F(MnistLoad, RawDirectory) {
  write_set(false);
  const convnet::Mnist m = convnet::load_mnist(dir_.string(), {.normalize = false, .flatten = true, .one_hot = true});
  EXPECT_EQ(m.train.count, 3u);
  EXPECT_EQ(m.train.images, kPixels);
  EXPECT_EQ(m.train.labels, kLabelBytes);
  EXPECT_EQ(m.test.count, 2u);
  EXPECT_EQ(m.test.rows, 2u);
  EXPECT_EQ(m.test.cols, 4u);
  EXPECT_EQ(m.test.images, Bytes(kPixels.begin() + 8, kPixels.end()));
  EXPECT_EQ(m.test.labels, (Bytes{0, 7}));
  EXPECT_FALSE(m.options.normalize);
  EXPECT_TRUE(m.options.flatten);
  EXPECT_TRUE(m.options.one_hot);
}

TEST_F(MnistLoad, GzipDirectory) {
  write_set(true);
  ASSERT_FALSE(fs::exists(dir_ / "train-images-idx3-ubyte"));
  const convnet::Mnist m = convnet::load_mnist(dir_.string());
  EXPECT_EQ(m.train.images, kPixels);
  EXPECT_EQ(m.train.labels, kLabelBytes);
  EXPECT_EQ(m.test.labels, (Bytes{0, 7}));
  EXPECT_TRUE(m.options.normalize);
  EXPECT_FALSE(m.options.flatten);
}

TEST_F(MnistLoad, RawPreferredOverGzip) {
  // The .gz files hold different training data; the raw ones must win.
  write_set(true, Bytes(16, 9), Bytes{1, 1});
  write_set(false);
  const convnet::Mnist m = convnet::load_mnist(dir_.string());
  EXPECT_EQ(m.train.count, 3u);
  EXPECT_EQ(m.train.images, kPixels);
  // One raw file removed: its .gz twin is used, and its 2 labels no longer match 3 raw images.
  fs::remove(dir_ / "train-labels-idx1-ubyte");
  const std::string msg = error_of([&] { convnet::load_mnist(dir_.string()); });
  EXPECT_TRUE(Contains(msg, "train-labels-idx1-ubyte.gz: expected 3 labels to match"));
  EXPECT_TRUE(Contains(msg, "found 2"));
}

// ---------------------------------------------------------------- validation

using MnistValidation = MnistFiles;

TEST_F(MnistValidation, MissingDirectory) {
  const std::string missing = path("no-such-dir");
  const std::string msg = error_of([&] { convnet::load_mnist(missing); });
  EXPECT_TRUE(Contains(msg, missing));
  EXPECT_TRUE(Contains(msg, "not found"));
  EXPECT_TRUE(Contains(msg, "scripts/fetch-mnist.sh"));
  EXPECT_TRUE(Contains(msg, "make demo"));
}

TEST_F(MnistValidation, DirectoryIsAFile) {
  write_bytes(path("plain"), Bytes{1, 2, 3});
  const std::string msg = error_of([&] { convnet::load_mnist(path("plain")); });
  EXPECT_TRUE(Contains(msg, path("plain") + ": expected a directory"));
}

TEST_F(MnistValidation, MissingFile) {
  write_set(false);
  fs::remove(dir_ / "t10k-labels-idx1-ubyte");
  const std::string msg = error_of([&] { convnet::load_mnist(dir_.string()); });
  EXPECT_TRUE(Contains(msg, "t10k-labels-idx1-ubyte: file not found"));
  EXPECT_TRUE(Contains(msg, "scripts/fetch-mnist.sh"));

  const std::string direct = error_of([&] { convnet::read_idx_labels(path("absent")); });
  EXPECT_EQ(direct, path("absent") + ": file not found");
}

TEST_F(MnistValidation, NotARegularFile) {
  fs::create_directory(dir_ / "sub");
  const std::string msg = error_of([&] { convnet::read_idx_images(path("sub")); });
  EXPECT_EQ(msg, path("sub") + ": expected a regular file");
}

TEST_F(MnistValidation, WrongMagic) {
  // A label file where images are expected, and the other way round.
  write_bytes(path("train-images-idx3-ubyte"), idx_file(kLabels, {3}, kLabelBytes));
  write_bytes(path("train-labels-idx1-ubyte"), idx_file(kImages, {3, 2, 4}, kPixels));
  std::string msg = error_of([&] { convnet::read_idx_images(path("train-images-idx3-ubyte")); });
  EXPECT_TRUE(Contains(msg, "train-images-idx3-ubyte: expected IDX magic 0x00000803"));
  EXPECT_TRUE(Contains(msg, "found 0x00000801"));
  msg = error_of([&] { convnet::read_idx_labels(path("train-labels-idx1-ubyte")); });
  EXPECT_TRUE(Contains(msg, "train-labels-idx1-ubyte: expected IDX magic 0x00000801"));
  EXPECT_TRUE(Contains(msg, "found 0x00000803"));
  // Not ubyte (0x0D = float) is refused too, and from gzip the same way.
  write_gz(path("f.gz"), idx_file(0x00000D03, {1, 1, 1}, Bytes(4)));
  msg = error_of([&] { convnet::read_idx_images(path("f.gz")); });
  EXPECT_TRUE(Contains(msg, "f.gz: expected IDX magic 0x00000803"));
  EXPECT_TRUE(Contains(msg, "found 0x00000d03"));
}

TEST_F(MnistValidation, ZeroDimensions) {
  struct Case { std::vector<std::uint32_t> dims; const char* expect; };
  for (const Case& c : {Case{{0, 2, 4}, "expected 1 to 2147483647 items, found 0"},
                        Case{{3, 0, 4}, "expected image sides of 1 to 65536, found 3x0x4"},
                        Case{{3, 2, 0}, "expected image sides of 1 to 65536, found 3x2x0"}}) {
    write_bytes(path("img"), idx_file(kImages, c.dims, {}));
    const std::string msg = error_of([&] { convnet::read_idx_images(path("img")); });
    EXPECT_TRUE(Contains(msg, path("img") + ": " + c.expect));
  }
  write_bytes(path("lab"), idx_file(kLabels, {0}, {}));
  EXPECT_TRUE(Contains(error_of([&] { convnet::read_idx_labels(path("lab")); }),
                       path("lab") + ": expected 1 to 2147483647 items, found 0"));
}

TEST_F(MnistValidation, AbsurdDimensions) {
  struct Case { std::vector<std::uint32_t> dims; const char* expect; };
  for (const Case& c : {Case{{0x80000000u, 28, 28}, "expected 1 to 2147483647 items, found 2147483648"},
                        Case{{0xFFFFFFFFu, 28, 28}, "expected 1 to 2147483647 items, found 4294967295"},
                        Case{{10, 100000, 28}, "expected image sides of 1 to 65536, found 10x100000x28"},
                        Case{{2000000000u, 65536, 65536}, "expected at most 17179869184 bytes of data"}}) {
    // gzip as well as raw: the header alone must stop the read, with no huge allocation.
    write_bytes(path("img"), idx_file(kImages, c.dims, Bytes(8)));
    write_gz(path("img.gz"), idx_file(kImages, c.dims, Bytes(8)));
    EXPECT_TRUE(Contains(error_of([&] { convnet::read_idx_images(path("img")); }), path("img") + ": " + c.expect));
    EXPECT_TRUE(
        Contains(error_of([&] { convnet::read_idx_images(path("img.gz")); }), path("img.gz") + ": " + c.expect));
  }
  // A gzip header that promises 4 GiB but holds 8 bytes: refused after reading what is there.
  write_gz(path("big.gz"), idx_file(kImages, {0x7FFFFFFFu, 1, 2}, Bytes(8)));
  EXPECT_TRUE(Contains(error_of([&] { convnet::read_idx_images(path("big.gz")); }),
                       "expected 4294967310 bytes after gunzip for 2147483647x1x2, found 24"));
}

TEST_F(MnistValidation, FileSizeVersusHeader) {
  // DESIGN.md's example: a 60000x28x28 header on a 1024-byte file.
  Bytes short_file = idx_file(kImages, {60000, 28, 28}, Bytes(1024 - 16, 0));
  write_bytes(path("train-images-idx3-ubyte"), short_file);
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("train-images-idx3-ubyte")); }),
            path("train-images-idx3-ubyte") + ": expected 47040016 bytes for 60000x28x28, found 1024");
  // One byte too many.
  Bytes long_file = idx_file(kImages, {3, 2, 4}, kPixels);
  long_file.push_back(0);
  write_bytes(path("img"), long_file);
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("img")); }),
            path("img") + ": expected 40 bytes for 3x2x4, found 41");
  // Labels one short.
  write_bytes(path("lab"), idx_file(kLabels, {3}, Bytes{1, 2}));
  EXPECT_EQ(error_of([&] { convnet::read_idx_labels(path("lab")); }),
            path("lab") + ": expected 11 bytes for 3 labels, found 10");
  // Shorter than the header, and empty.
  write_bytes(path("stub"), Bytes{0, 0, 8, 3, 0, 0, 0, 1});
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("stub")); }),
            path("stub") + ": expected an IDX header of 16 bytes, found 8 bytes");
  write_bytes(path("empty"), {});
  EXPECT_EQ(error_of([&] { convnet::read_idx_labels(path("empty")); }),
            path("empty") + ": expected an IDX header of 8 bytes, found 0 bytes");
}

TEST_F(MnistValidation, GzipShorterOrLongerThanHeader) {
  write_gz(path("short.gz"), idx_file(kImages, {4, 2, 4}, kPixels));  // 3 images where 4 are promised
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("short.gz")); }),
            path("short.gz") + ": expected 48 bytes after gunzip for 4x2x4, found 40");
  // A gzip bomb: 3 tiny images promised, 64 MiB of zeros delivered. Reading stops one byte past the promise.
  Bytes bomb = idx_file(kImages, {3, 2, 4}, kPixels);
  bomb.resize(bomb.size() + (std::size_t{64} << 20), 0);
  write_gz(path("bomb.gz"), bomb, "wb9");
  ASSERT_LT(fs::file_size(path("bomb.gz")), std::uintmax_t{1} << 20);
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("bomb.gz")); }),
            path("bomb.gz") + ": expected 40 bytes after gunzip for 3x2x4, found more");
}

TEST_F(MnistValidation, TruncatedGzipAtEveryLength) {
  write_gz(path("ok.gz"), idx_file(kImages, {3, 2, 4}, kPixels));
  const Bytes gz = read_all(path("ok.gz"));
  ASSERT_GT(gz.size(), 20u);
  for (std::size_t len = 0; len < gz.size(); ++len) {
    write_bytes(path("cut.gz"), Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(len)));
    const std::string msg = error_of([&] { convnet::read_idx_images(path("cut.gz")); });
    EXPECT_TRUE(Contains(msg, path("cut.gz") + ": ")) << "length " << len;
  }
  // Cut inside the 8-byte trailer: all data is there, only zlib can tell.
  write_bytes(path("cut.gz"), Bytes(gz.begin(), gz.end() - 4));
  EXPECT_TRUE(Contains(error_of([&] { convnet::read_idx_images(path("cut.gz")); }),
                       path("cut.gz") + ": corrupt or truncated gzip data (zlib: "));
}

TEST_F(MnistValidation, CorruptGzipAtEveryByte) {
  // Flipping any byte must give an Error or (header fields like mtime) the same data — never a crash.
  write_gz(path("ok.gz"), idx_file(kImages, {3, 2, 4}, kPixels));
  const Bytes gz = read_all(path("ok.gz"));
  std::size_t refused = 0;
  for (std::size_t i = 0; i < gz.size(); ++i) {
    Bytes bad = gz;
    bad[i] ^= 0xFF;
    write_bytes(path("bad.gz"), bad);
    try {
      const Dataset d = convnet::read_idx_images(path("bad.gz"));
      EXPECT_EQ(d.images, kPixels) << "byte " << i;
    } catch (const Error& e) {
      EXPECT_TRUE(Contains(e.what(), path("bad.gz") + ": ")) << "byte " << i;
      ++refused;
    }
  }
  EXPECT_GT(refused, gz.size() / 2);
  // A wrong CRC-32 in the trailer is caught (the whole stream is read to its end).
  Bytes bad_crc = gz;
  bad_crc[gz.size() - 8] ^= 0x01;
  write_bytes(path("bad.gz"), bad_crc);
  EXPECT_TRUE(Contains(error_of([&] { convnet::read_idx_images(path("bad.gz")); }),
                       path("bad.gz") + ": corrupt or truncated gzip data (zlib: incorrect data check)"));
}

TEST_F(MnistValidation, ImageLabelCountMismatch) {
  write_set(false);
  write_bytes(dir_ / "train-labels-idx1-ubyte", idx_file(kLabels, {2}, Bytes{3, 0}));
  const std::string msg = error_of([&] { convnet::load_mnist(dir_.string()); });
  EXPECT_EQ(msg, path("train-labels-idx1-ubyte") + ": expected 3 labels to match " +
                     path("train-images-idx3-ubyte") + ", found 2");
}

TEST_F(MnistValidation, TrainTestImageSizeMismatch) {
  write_set(false);
  write_bytes(dir_ / "t10k-images-idx3-ubyte", idx_file(kImages, {2, 4, 2}, Bytes(16, 1)));
  const std::string msg = error_of([&] { convnet::load_mnist(dir_.string()); });
  EXPECT_EQ(msg, path("t10k-images-idx3-ubyte") + ": expected 2x4 images like the training set, found 4x2");
}

// ---------------------------------------------------------------- batches

TEST(MnistBatch, GatherNormalizedFloatIsFloat32Division) {
  const Dataset d = small_dataset();
  const std::size_t index[] = {2, 0, 2};
  Tensor<float> x;
  std::vector<std::int32_t> t;
  convnet::gather_batch(d, index, 3, true, false, x, t);
  ASSERT_EQ(x.shape(), (std::vector<std::size_t>{3, 1, 2, 4}));
  EXPECT_EQ(t, (std::vector<std::int32_t>{7, 3, 7}));
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 8; ++j)
      EXPECT_EQ(x[i * 8 + j], static_cast<float>(kPixels[index[i] * 8 + j]) / 255.0f) << i << "," << j;
  // Image 0 is {0, 1, 2, 3, 128, 254, 255, 7}: check against NumPy's float32 values.
  EXPECT_EQ(x[8 + 0], 0.0f);
  EXPECT_EQ(x[8 + 1], static_cast<float>(kNumpy1));
  EXPECT_EQ(x[8 + 3], static_cast<float>(kNumpy3));
  EXPECT_EQ(x[8 + 4], static_cast<float>(kNumpy128));
  EXPECT_EQ(x[8 + 5], static_cast<float>(kNumpy254));
  EXPECT_EQ(x[8 + 6], 1.0f);
}

TEST(MnistBatch, GatherNormalizedDoubleMatchesNumpyBitForBit) {
  const Dataset d = small_dataset();
  const std::size_t index[] = {0};
  Tensor<double> x;
  std::vector<std::int32_t> t;
  convnet::gather_batch(d, index, 1, true, false, x, t);
  EXPECT_EQ(x[1], kNumpy1);
  EXPECT_EQ(x[3], kNumpy3);
  EXPECT_EQ(x[4], kNumpy128);
  EXPECT_EQ(x[5], kNumpy254);
  EXPECT_NE(x[1], 1.0 / 255.0);  // a double division would not match NumPy
  EXPECT_EQ(x[6], 1.0);
}

TEST(MnistBatch, GatherRawFlattenAndMemoryReuse) {
  const Dataset d = small_dataset();
  const std::size_t index[] = {1, 2};
  Tensor<double> x;
  std::vector<std::int32_t> t;
  convnet::gather_batch(d, index, 2, false, true, x, t);
  ASSERT_EQ(x.shape(), (std::vector<std::size_t>{2, 8}));
  for (std::size_t j = 0; j < 16; ++j) EXPECT_EQ(x[j], static_cast<double>(kPixels[8 + j]));
  EXPECT_EQ(x[8 + 0], 255.0);
  EXPECT_EQ(t, (std::vector<std::int32_t>{0, 7}));

  // Same shape again: same buffers, new contents.
  const double* xp = x.data();
  const std::int32_t* tp = t.data();
  const std::size_t again[] = {0, 0};
  convnet::gather_batch(d, again, 2, false, true, x, t);
  EXPECT_EQ(x.data(), xp);
  EXPECT_EQ(t.data(), tp);
  EXPECT_EQ(x[8 + 4], 128.0);
  EXPECT_EQ(t, (std::vector<std::int32_t>{3, 3}));
}

TEST(MnistBatch, GatherIndexOutOfRange) {
  const Dataset d = small_dataset();
  const std::size_t index[] = {0, 3};
  Tensor<float> x;
  std::vector<std::int32_t> t;
  EXPECT_EQ(error_of([&] { convnet::gather_batch(d, index, 2, true, false, x, t); }),
            "gather_batch: index 3 at position 1 is out of range for a dataset of 3 images");
  Dataset broken = d;
  broken.labels.pop_back();
  EXPECT_TRUE(Contains(error_of([&] { convnet::gather_batch(broken, index, 1, true, false, x, t); }),
                       "gather_batch: expected a Dataset of 3x2x4 pixels and 3 labels, found 24 pixels and 2"));
}

TEST(MnistBatch, SliceBatch) {
  const Dataset d = small_dataset();
  Tensor<float> x;
  std::vector<std::int32_t> t;
  convnet::slice_batch(d, 1, 2, true, false, x, t);
  ASSERT_EQ(x.shape(), (std::vector<std::size_t>{2, 1, 2, 4}));
  for (std::size_t j = 0; j < 16; ++j) EXPECT_EQ(x[j], static_cast<float>(kPixels[8 + j]) / 255.0f);
  EXPECT_EQ(t, (std::vector<std::int32_t>{0, 7}));

  convnet::slice_batch(d, 0, 3, false, true, x, t);
  ASSERT_EQ(x.shape(), (std::vector<std::size_t>{3, 8}));
  for (std::size_t j = 0; j < 24; ++j) EXPECT_EQ(x[j], static_cast<float>(kPixels[j]));

  convnet::slice_batch(d, 3, 0, true, true, x, t);  // empty slice at the end is fine
  EXPECT_EQ(x.size(), 0u);
  EXPECT_TRUE(t.empty());

  EXPECT_EQ(error_of([&] { convnet::slice_batch(d, 2, 2, true, false, x, t); }),
            "slice_batch: samples [2, 4) are out of range for a dataset of 3 images");
  EXPECT_TRUE(Contains(error_of([&] { convnet::slice_batch(d, 1, SIZE_MAX, true, false, x, t); }),
                       "out of range for a dataset of 3 images"));
}

TEST(MnistBatch, Head) {
  const Dataset d = small_dataset();
  const Dataset h = d.head(2);
  EXPECT_EQ(h.count, 2u);
  EXPECT_EQ(h.rows, 2u);
  EXPECT_EQ(h.cols, 4u);
  EXPECT_EQ(h.images, Bytes(kPixels.begin(), kPixels.begin() + 16));
  EXPECT_EQ(h.labels, (Bytes{3, 0}));
  EXPECT_EQ(d.head(0).images, kPixels);
  EXPECT_EQ(d.head(3).count, 3u);
  EXPECT_EQ(d.head(100).labels, kLabelBytes);
}

TEST(MnistBatch, NumClassesIsMaxLabelPlusOne) {
  Dataset d = small_dataset();
  EXPECT_EQ(d.num_classes(), 8u);  // labels {3, 0, 7}: nothing assumes 10 digits
  d.labels = {0, 0};
  EXPECT_EQ(d.num_classes(), 1u);
  d.labels.clear();
  EXPECT_EQ(d.num_classes(), 0u);
}

TEST(MnistBatch, OneHot) {
  const Tensor<float> y = convnet::one_hot<float>({2, 0, 1, 2}, 3);
  ASSERT_EQ(y.shape(), (std::vector<std::size_t>{4, 3}));
  const std::vector<float> expect = {0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  EXPECT_EQ(std::vector<float>(y.begin(), y.end()), expect);
  const Tensor<double> z = convnet::one_hot<double>({4}, 5);
  EXPECT_EQ(std::vector<double>(z.begin(), z.end()), (std::vector<double>{0, 0, 0, 0, 1}));
  EXPECT_EQ(error_of([] { convnet::one_hot<float>({1, 3}, 3); }),
            "one_hot: label 3 at position 1 is outside [0, 3)");
  EXPECT_TRUE(Contains(error_of([] { convnet::one_hot<double>({-1}, 3); }), "label -1"));
}

// ---------------------------------------------------------------- 4 dims: N x C x H x W

namespace {

// 5 images of 3 channels x 4 rows x 6 cols: 360 bytes, neighbours differ.
Bytes pixels4() {
  Bytes p(5 * 3 * 4 * 6);
  for (std::size_t k = 0; k < p.size(); ++k) p[k] = static_cast<std::uint8_t>((k * 2654435761u) >> 13);
  return p;
}

// Expects x to be the images `index` of a 4-dim 5x3x4x6 IDX file `file` (its
// bytes as on disk): x[j][c][y][x] (row-major) is the file's data byte
// ((i*3+c)*4+y)*6+x, i = index[j], after the 20-byte header; as float32 / 255
// when normalized.
template <class T>
void expect_images_of_file(const Tensor<T>& x, const Bytes& file, const std::vector<std::size_t>& index,
                           bool normalize) {
  ASSERT_EQ(file.size(), 20u + 360u);
  ASSERT_EQ(x.size(), index.size() * 72);
  for (std::size_t j = 0; j < index.size(); ++j)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t y = 0; y < 4; ++y)
        for (std::size_t xx = 0; xx < 6; ++xx) {
          const std::uint8_t byte = file[20 + ((index[j] * 3 + c) * 4 + y) * 6 + xx];
          const T expect = normalize ? static_cast<T>(static_cast<float>(byte) / 255.0f) : static_cast<T>(byte);
          EXPECT_EQ(x[((j * 3 + c) * 4 + y) * 6 + xx], expect) << "image " << index[j] << " [" << c << "][" << y
                                                                 << "][" << xx << "]";
        }
}

}  // namespace

using MnistIdx4 = MnistFiles;

TEST_F(MnistIdx4, RoundTripRawAndBatches) {
  const Bytes pixels = pixels4();
  write_bytes(path("img"), idx_file(kImages4, {5, 3, 4, 6}, pixels));
  const Bytes file = read_all(path("img"));
  // The header as the IDX format spells it: magic 00 00 08 04, then 5, 3, 4, 6 big-endian.
  ASSERT_EQ(Bytes(file.begin(), file.begin() + 20),
            (Bytes{0, 0, 8, 4, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 6}));

  Dataset d = convnet::read_idx_images(path("img"));
  EXPECT_EQ(d.count, 5u);
  EXPECT_EQ(d.channels, 3u);
  EXPECT_EQ(d.rows, 4u);
  EXPECT_EQ(d.cols, 6u);
  EXPECT_EQ(d.image_size(), 72u);
  EXPECT_EQ(d.images, Bytes(file.begin() + 20, file.end()));
  d.labels = {4, 0, 1, 2, 3};

  Tensor<float> x;
  std::vector<std::int32_t> t;
  const std::vector<std::size_t> index = {4, 0, 2, 2};
  convnet::gather_batch(d, index.data(), index.size(), true, false, x, t);
  ASSERT_EQ(x.shape(), (std::vector<std::size_t>{4, 3, 4, 6}));
  expect_images_of_file(x, file, index, true);
  EXPECT_EQ(t, (std::vector<std::int32_t>{3, 4, 1, 1}));
  // A pixel spelled out: image 4, channel 2, row 3, col 5 is the last byte of the file.
  EXPECT_EQ(x[(0 * 3 + 2) * 24 + 3 * 6 + 5], static_cast<float>(file.back()) / 255.0f);

  convnet::gather_batch(d, index.data(), 2, false, true, x, t);
  ASSERT_EQ(x.shape(), (std::vector<std::size_t>{2, 72}));
  expect_images_of_file(x, file, {4, 0}, false);

  Tensor<double> xd;
  convnet::slice_batch(d, 1, 3, true, false, xd, t);
  ASSERT_EQ(xd.shape(), (std::vector<std::size_t>{3, 3, 4, 6}));
  expect_images_of_file(xd, file, {1, 2, 3}, true);
  EXPECT_EQ(t, (std::vector<std::int32_t>{0, 1, 2}));
  convnet::slice_batch(d, 0, 5, false, true, xd, t);
  ASSERT_EQ(xd.shape(), (std::vector<std::size_t>{5, 72}));
  expect_images_of_file(xd, file, {0, 1, 2, 3, 4}, false);

  // head() keeps the channels; a broken Dataset is described with them.
  const Dataset h = d.head(2);
  EXPECT_EQ(h.channels, 3u);
  EXPECT_EQ(h.images, Bytes(file.begin() + 20, file.begin() + 20 + 144));
  Dataset broken = d;
  broken.images.pop_back();
  EXPECT_EQ(error_of([&] { convnet::slice_batch(broken, 0, 1, true, false, x, t); }),
            "slice_batch: expected a Dataset of 5x3x4x6 pixels and 5 labels, found 359 pixels and 5 labels");
}

TEST_F(MnistIdx4, OneChannelFourDimsEqualsThreeDims) {
  // A 4-dim file with C = 1 holds MNIST's layout: same Dataset, same (n, 1, H, W) batches.
  const Bytes pixels = pixels4();  // as 15 images of 1x4x6
  write_bytes(path("four"), idx_file(kImages4, {15, 1, 4, 6}, pixels));
  const Dataset d = convnet::read_idx_images(path("four"));
  EXPECT_EQ(d.count, 15u);
  EXPECT_EQ(d.channels, 1u);
  EXPECT_EQ(d.rows, 4u);
  EXPECT_EQ(d.cols, 6u);
  EXPECT_EQ(d.images, pixels);
}

TEST_F(MnistIdx4, Gzip) {
  const Bytes file = idx_file(kImages4, {5, 3, 4, 6}, pixels4());
  for (const char* mode : {"wb0", "wb9"}) {
    write_gz(path("img.gz"), file, mode);
    Dataset d = convnet::read_idx_images(path("img.gz"));
    EXPECT_EQ(d.count, 5u) << mode;
    EXPECT_EQ(d.channels, 3u) << mode;
    EXPECT_EQ(d.rows, 4u) << mode;
    EXPECT_EQ(d.cols, 6u) << mode;
    EXPECT_EQ(d.images, Bytes(file.begin() + 20, file.end())) << mode;
    d.labels = Bytes(5, 0);
    Tensor<float> x;
    std::vector<std::int32_t> t;
    convnet::slice_batch(d, 0, 5, true, false, x, t);
    ASSERT_EQ(x.shape(), (std::vector<std::size_t>{5, 3, 4, 6}));
    expect_images_of_file(x, file, {0, 1, 2, 3, 4}, true);
  }
}

TEST_F(MnistIdx4, TruncatedOrTooLong) {
  Bytes file = idx_file(kImages4, {5, 3, 4, 6}, pixels4());  // 20 + 360 = 380 bytes
  write_bytes(path("cut"), Bytes(file.begin(), file.end() - 5));
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("cut")); }),
            path("cut") + ": expected 380 bytes for 5x3x4x6, found 375");
  write_gz(path("cut.gz"), Bytes(file.begin(), file.end() - 5));
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("cut.gz")); }),
            path("cut.gz") + ": expected 380 bytes after gunzip for 5x3x4x6, found 375");
  Bytes longer = file;
  longer.push_back(0);
  write_bytes(path("long"), longer);
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("long")); }),
            path("long") + ": expected 380 bytes for 5x3x4x6, found 381");
  // The header itself cut: a 4-dim header is 20 bytes.
  write_bytes(path("stub"), Bytes(file.begin(), file.begin() + 16));
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("stub")); }),
            path("stub") + ": expected an IDX header of 20 bytes, found 16 bytes");
  write_gz(path("stub.gz"), Bytes(file.begin(), file.begin() + 18));
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("stub.gz")); }),
            path("stub.gz") + ": expected an IDX header of 20 bytes, found 18 bytes");
}

TEST_F(MnistIdx4, OtherMagicsAreRefused) {
  const std::string expected =
      "expected IDX magic 0x00000803 (unsigned bytes, 3 dims) or 0x00000804 (unsigned bytes, 4 dims), found ";
  write_bytes(path("five"), idx_file(0x00000805, {5, 3, 4, 6, 1}, pixels4()));
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("five")); }), path("five") + ": " + expected + "0x00000805");
  write_gz(path("five.gz"), idx_file(0x00000805, {5, 3, 4, 6, 1}, pixels4()));
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("five.gz")); }),
            path("five.gz") + ": " + expected + "0x00000805");
  // 2 dims, and 4 dims of another type (0x0D: float), are not image files either.
  write_bytes(path("two"), idx_file(0x00000802, {5, 72}, pixels4()));
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("two")); }), path("two") + ": " + expected + "0x00000802");
  write_bytes(path("float"), idx_file(0x00000D04, {1, 1, 1, 1}, Bytes(4)));
  EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("float")); }),
            path("float") + ": " + expected + "0x00000d04");
  // A 4-dim image file where labels are expected.
  EXPECT_EQ(error_of([&] { convnet::read_idx_labels(path("float")); }),
            path("float") + ": expected IDX magic 0x00000801 (unsigned bytes, 1 dim), found 0x00000d04");
}

TEST_F(MnistIdx4, AbsurdDimensions) {
  struct Case { std::vector<std::uint32_t> dims; std::string expect; };
  for (const Case& c :
       {Case{{0, 3, 4, 6}, "expected 1 to 2147483647 items, found 0 (header 0x3x4x6)"},
        Case{{5, 0, 4, 6}, "expected 1 to 65536 channels, found 5x0x4x6"},
        Case{{5, 65537, 4, 6}, "expected 1 to 65536 channels, found 5x65537x4x6"},
        Case{{5, 3, 0, 6}, "expected image sides of 1 to 65536, found 5x3x0x6"},
        Case{{5, 3, 4, 100000}, "expected image sides of 1 to 65536, found 5x3x4x100000"},
        // 2 * 2^48 bytes: too many, counted exactly.
        Case{{2, 65536, 65536, 65536},
             "expected at most 17179869184 bytes of data, found a header of 2x65536x65536x65536 (562949953421312 "
             "bytes)"},
        // (2^31 - 1) * 2^48 passes 2^64: refused, not wrapped around to a small size.
        Case{{0x7FFFFFFFu, 65536, 65536, 65536},
             "expected at most 17179869184 bytes of data, found a header of 2147483647x65536x65536x65536 (over 2^64 "
             "bytes)"},
        // 2^16 * 2^16 * 2^16 * 2^16 = 2^64 exactly wraps to 0 in 64 bits.
        Case{{65536, 65536, 65536, 65536},
             "expected at most 17179869184 bytes of data, found a header of 65536x65536x65536x65536 (over 2^64 "
             "bytes)"}}) {
    // Raw and gzip: the header alone stops the read, before any allocation.
    write_bytes(path("img"), idx_file(kImages4, c.dims, Bytes(8)));
    write_gz(path("img.gz"), idx_file(kImages4, c.dims, Bytes(8)));
    EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("img")); }), path("img") + ": " + c.expect);
    EXPECT_EQ(error_of([&] { convnet::read_idx_images(path("img.gz")); }), path("img.gz") + ": " + c.expect);
  }
}

TEST_F(MnistIdx4, LoadMnistOfAThreeChannelDataset) {
  const auto data = convnet::test::write_idx_dataset(dir_, 12, 7, 3, 4, 6, 5, 42);
  // The helper wrote 4-dim files of the sizes asked for.
  EXPECT_EQ(fs::file_size(dir_ / "train-images-idx3-ubyte"), 20u + 12 * 72);
  EXPECT_EQ(fs::file_size(dir_ / "t10k-images-idx3-ubyte"), 20u + 7 * 72);
  EXPECT_EQ(fs::file_size(dir_ / "t10k-labels-idx1-ubyte"), 8u + 7);
  const convnet::Mnist m = convnet::load_mnist(dir_.string());
  for (const auto* d : {&m.train, &m.test}) {
    EXPECT_EQ(d->channels, 3u);
    EXPECT_EQ(d->rows, 4u);
    EXPECT_EQ(d->cols, 6u);
  }
  EXPECT_EQ(m.train.count, 12u);
  EXPECT_EQ(m.test.count, 7u);
  EXPECT_EQ(m.train.images, data.train.images);
  EXPECT_EQ(m.train.labels, data.train.labels);
  EXPECT_EQ(m.test.images, data.test.images);
  EXPECT_EQ(m.test.labels, data.test.labels);
  // Every class 0-4 in each split, nothing else.
  for (const Bytes* labels : {&data.train.labels, &data.test.labels}) {
    std::vector<int> seen(256, 0);
    for (auto l : *labels) ++seen[l];
    for (int k = 0; k < 5; ++k) EXPECT_GT(seen[k], 0) << "class " << k;
    EXPECT_EQ(std::accumulate(seen.begin(), seen.begin() + 5, 0), static_cast<int>(labels->size()));
  }
  EXPECT_EQ(m.train.num_classes(), 5u);
  // The same seed writes the same files; another seed other pixels.
  const fs::path again = dir_ / "again";
  EXPECT_EQ(convnet::test::write_idx_dataset(again, 12, 7, 3, 4, 6, 5, 42).train.images, data.train.images);
  EXPECT_EQ(read_all(again / "train-images-idx3-ubyte"), read_all(dir_ / "train-images-idx3-ubyte"));
  EXPECT_NE(convnet::test::write_idx_dataset(again, 12, 7, 3, 4, 6, 5, 43).train.images, data.train.images);
  // One channel: a 3-dim file like MNIST's, unless 4 dims are asked for.
  convnet::test::write_idx_dataset(again, 5, 5, 1, 4, 6, 5, 42);
  EXPECT_EQ(read_all(again / "train-images-idx3-ubyte").size(), 16u + 5 * 24);
  convnet::test::write_idx_dataset(again, 5, 5, 1, 4, 6, 5, 42, true);
  EXPECT_EQ(read_all(again / "train-images-idx3-ubyte").size(), 20u + 5 * 24);
}

TEST_F(MnistIdx4, LoadMnistRefusesTestImagesOfOtherChannels) {
  convnet::test::write_idx_dataset(dir_, 6, 5, 3, 4, 6, 2, 7);
  // The test set: 5 grey 4x6 images (3 dims).
  write_bytes(dir_ / "t10k-images-idx3-ubyte", idx_file(kImages, {5, 4, 6}, Bytes(120, 9)));
  EXPECT_EQ(error_of([&] { convnet::load_mnist(dir_.string()); }),
            path("t10k-images-idx3-ubyte") + ": expected 3x4x6 images like the training set, found 1x4x6");
  // The other way round, and with the test set as 4 dims of 1 channel.
  convnet::test::write_idx_dataset(dir_, 6, 5, 1, 4, 6, 2, 7);
  write_bytes(dir_ / "t10k-images-idx3-ubyte", idx_file(kImages4, {5, 2, 4, 6}, Bytes(240, 9)));
  EXPECT_EQ(error_of([&] { convnet::load_mnist(dir_.string()); }),
            path("t10k-images-idx3-ubyte") + ": expected 1x4x6 images like the training set, found 2x4x6");
  write_bytes(dir_ / "t10k-images-idx3-ubyte", idx_file(kImages4, {5, 1, 4, 6}, Bytes(120, 9)));
  const convnet::Mnist m = convnet::load_mnist(dir_.string());
  EXPECT_EQ(m.test.channels, 1u);
  EXPECT_EQ(m.test.images, Bytes(120, 9));
  // Same channels, other sides: still named.
  convnet::test::write_idx_dataset(dir_, 6, 5, 3, 4, 6, 2, 7);
  write_bytes(dir_ / "t10k-images-idx3-ubyte", idx_file(kImages4, {5, 3, 6, 4}, Bytes(360, 9)));
  EXPECT_EQ(error_of([&] { convnet::load_mnist(dir_.string()); }),
            path("t10k-images-idx3-ubyte") + ": expected 3x4x6 images like the training set, found 3x6x4");
}

// ---------------------------------------------------------------- the real MNIST

TEST(MnistReal, LoadsFetchedFiles) {
  const std::string dir = CONVNET_SOURCE_DIR "/data/mnist";
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"})
    if (!fs::exists(fs::path(dir) / name) && !fs::exists(fs::path(dir) / (std::string(name) + ".gz")))
      GTEST_SKIP() << dir << " lacks " << name << "; run scripts/fetch-mnist.sh";
  const convnet::Mnist m = convnet::load_mnist(dir);
  EXPECT_EQ(m.train.count, 60000u);
  EXPECT_EQ(m.test.count, 10000u);
  EXPECT_EQ(m.train.rows, 28u);
  EXPECT_EQ(m.train.cols, 28u);
  EXPECT_EQ(m.test.rows, 28u);
  EXPECT_EQ(m.test.cols, 28u);
  EXPECT_EQ(m.train.labels[0], 5);
  EXPECT_EQ(m.test.labels[0], 7);
  EXPECT_EQ(m.train.num_classes(), 10u);
  // Values NumPy computed from the same files (np.fromfile(..., offset=16).sum(), np.bincount).
  EXPECT_EQ(std::accumulate(m.train.images.begin(), m.train.images.end(), std::uint64_t{0}), 1567298545u);
  EXPECT_EQ(std::accumulate(m.test.images.begin(), m.test.images.end(), std::uint64_t{0}), 264923200u);
  std::vector<int> train_counts(10), test_counts(10);
  for (auto l : m.train.labels) ++train_counts[l];
  for (auto l : m.test.labels) ++test_counts[l];
  EXPECT_EQ(train_counts, (std::vector<int>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}));
  EXPECT_EQ(test_counts, (std::vector<int>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
  EXPECT_EQ(m.train.images[14 * 28 + 14], 240);

  // The book's x_train[:5000]: first batch of 100 as float32 / 255.
  const Dataset small = m.train.head(5000);
  EXPECT_EQ(small.count, 5000u);
  Tensor<float> x;
  std::vector<std::int32_t> t;
  convnet::slice_batch(small, 0, 100, true, false, x, t);
  EXPECT_EQ(x.shape(), (std::vector<std::size_t>{100, 1, 28, 28}));
  EXPECT_EQ(t[0], 5);
  EXPECT_EQ(x[14 * 28 + 14], 240.0f / 255.0f);
}
