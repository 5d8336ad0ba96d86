// The fuzz targets' seed corpora (fuzz/corpus/, written by fuzz/make_corpus.py
// with NumPy and Python's zlib) read by the real readers: valid seeds give the
// values Python put in them, near-valid ones a clean convnet::Error. Also
// checks the /proc/self/fd/N route the fuzzers use to hand inputs to the
// path-taking readers, and holds regression tests for fuzzer findings.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "convnet/core/error.hpp"
#include "convnet/io/image.hpp"
#include "convnet/io/mnist.hpp"
#include "convnet/io/npz.hpp"

namespace convnet {
namespace {

const std::string kCorpus = std::string(CONVNET_SOURCE_DIR) + "/fuzz/corpus/";

std::string seed(const std::string& kind, const std::string& name) { return kCorpus + kind + "/" + name; }

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The pixels of fuzz/corpus/idx/images-3x5x4: everything after the 16-byte header.
std::vector<std::uint8_t> seed_pixels() {
  const std::string raw = slurp(seed("idx", "images-3x5x4"));
  return std::vector<std::uint8_t>(raw.begin() + 16, raw.end());
}

// Expects a convnet::Error whose message names `path` (the input).
template <class F>
void expect_error_naming(const std::string& path, F&& f) {
  try {
    f();
    ADD_FAILURE() << path << ": no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

// ---- IDX ---------------------------------------------------------------------

TEST(FuzzSeedsIdx, ValidImagesRawGzipAndTwoGzipMembers) {
  const auto expected = seed_pixels();
  ASSERT_EQ(expected.size(), 3u * 5 * 4);
  for (const char* name : {"images-3x5x4", "images-3x5x4.gz", "images-two-gzip-members.gz"}) {
    SCOPED_TRACE(name);
    const Dataset d = read_idx_images(seed("idx", name));
    EXPECT_EQ(d.count, 3u);
    EXPECT_EQ(d.rows, 5u);
    EXPECT_EQ(d.cols, 4u);
    EXPECT_EQ(d.images, expected);
  }
}

TEST(FuzzSeedsIdx, ValidFourDimImagesRawAndGzip) {
  // make_corpus.py: 2 images of 3x5x4, data byte i = (37 i + 11) mod 256.
  std::vector<std::uint8_t> expected(2 * 3 * 5 * 4);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = std::uint8_t((i * 37 + 11) % 256);
  for (const char* name : {"images-2x3x5x4", "images-2x3x5x4.gz"}) {
    SCOPED_TRACE(name);
    const Dataset d = read_idx_images(seed("idx", name));
    EXPECT_EQ(d.count, 2u);
    EXPECT_EQ(d.channels, 3u);
    EXPECT_EQ(d.rows, 5u);
    EXPECT_EQ(d.cols, 4u);
    EXPECT_EQ(d.images, expected);
  }
}

TEST(FuzzSeedsIdx, ValidLabelsRawAndGzip) {
  for (const char* name : {"labels-3", "labels-3.gz"})
    EXPECT_EQ(read_idx_labels(seed("idx", name)), (std::vector<std::uint8_t>{7, 2, 1})) << name;
}

TEST(FuzzSeedsIdx, NearValidImagesGiveErrorNamingTheFile) {
  for (const char* name : {"images-truncated", "images-too-long", "images-truncated.gz",
                           "images-too-long.gz", "images-zero-count", "images-huge-header",
                           "images-huge-header.gz", "header-only", "labels-3", "images-4d-truncated",
                           "images-4d-zero-channels", "images-4d-huge-header", "images-5-dims"}) {
    SCOPED_TRACE(name);
    const std::string p = seed("idx", name);
    expect_error_naming(p, [&] { read_idx_images(p); });
  }
}

TEST(FuzzSeedsIdx, NearValidLabelsGiveErrorNamingTheFile) {
  for (const char* name : {"labels-wrong-magic", "images-3x5x4", "images-2x3x5x4", "header-only"}) {
    SCOPED_TRACE(name);
    const std::string p = seed("idx", name);
    expect_error_naming(p, [&] { read_idx_labels(p); });
  }
}

// The fuzzers write each input to a memfd and pass /proc/self/fd/N: the
// readers must accept that path, or only their error paths would be fuzzed.
TEST(FuzzSeedsIdx, ReadersAcceptAMemfdThroughProcSelfFd) {
  for (const char* name : {"images-3x5x4", "images-3x5x4.gz"}) {
    SCOPED_TRACE(name);
    const std::string bytes = slurp(seed("idx", name));
    const int fd = memfd_create("test_fuzz_regressions", MFD_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    const Dataset d = read_idx_images("/proc/self/fd/" + std::to_string(fd));
    close(fd);
    EXPECT_EQ(d.count, 3u);
    EXPECT_EQ(d.images, seed_pixels());
  }
}

// ---- npz -----------------------------------------------------------------------

NpzArchive load_seed(const std::string& name) {
  const std::string p = seed("npz", name);
  return load_npz_bytes(slurp(p), p);
}

TEST(FuzzSeedsNpz, SavezAndSavezCompressedHoldTheSameArrays) {
  const NpzArchive a = load_seed("savez");
  const NpzArchive c = load_seed("savez_compressed");
  ASSERT_EQ(a.size(), 8u);
  ASSERT_EQ(c.size(), 8u);
  for (const auto& [name, arr] : a) {
    SCOPED_TRACE(name);
    ASSERT_EQ(c.count(name), 1u);
    EXPECT_EQ(c.at(name).descr, arr.descr);
    EXPECT_EQ(c.at(name).shape, arr.shape);
    EXPECT_EQ(c.at(name).bytes, arr.bytes);
  }
  EXPECT_EQ(a.at("W1").descr, "<f4");
  EXPECT_EQ(a.at("W1").shape, (std::vector<std::size_t>{2, 1, 3, 3}));
  EXPECT_EQ(a.at("b1").as<double>(), std::vector<double>(2, 0.0));
  EXPECT_TRUE(a.at("n").shape.empty());
  EXPECT_EQ(a.at("n").as<std::int64_t>(), std::vector<std::int64_t>{5});
  EXPECT_EQ(a.at("u").shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(a.at("u").as<std::uint8_t>(), (std::vector<std::uint8_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(a.at("m").as<bool>(), (std::vector<bool>{true, false, false, true}));
  EXPECT_EQ(a.at("i4").as<std::int32_t>(), (std::vector<std::int32_t>{-1, 2}));
  EXPECT_EQ(a.at("u4").as<std::uint32_t>(), std::vector<std::uint32_t>{3});
  EXPECT_EQ(a.at("u8").shape, std::vector<std::size_t>{0});
  EXPECT_TRUE(a.at("u8").as<std::uint64_t>().empty());
}

TEST(FuzzSeedsNpz, OtherValidSeeds) {
  EXPECT_TRUE(load_seed("empty").empty());
  EXPECT_EQ(load_seed("one-array").at("x").as<float>(), (std::vector<float>{0, 1, 2, 3}));
  EXPECT_EQ(load_seed("npy-v2").at("a").as<float>(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(load_seed("npy-v3").at("a").as<std::int32_t>(), std::vector<std::int32_t>(3, 1));
  EXPECT_EQ(load_seed("deflated-v1").at("a").as<std::int64_t>(),
            (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
}

TEST(FuzzSeedsNpz, NearValidSeedsGiveErrorNamingTheFile) {
  for (const char* name : {"fortran", "not-npy-member", "truncated", "short-data",
                           "structured", "big-endian"}) {
    SCOPED_TRACE(name);
    const std::string p = seed("npz", name);
    const std::string bytes = slurp(p);
    expect_error_naming(p, [&] { load_npz_bytes(bytes, p); });
  }
}

// ---- PNG -----------------------------------------------------------------------

// The 7x6 picture of a "1" every PNG seed encodes: ink where the mask is set.
const char* const kDigit[7] = {"000000", "001100", "000100", "000100",
                               "000100", "000100", "000000"};

// The grey picture read_png_gray should give: `ink` on `paper`.
std::vector<std::uint8_t> digit_pixels(std::uint8_t ink, std::uint8_t paper) {
  std::vector<std::uint8_t> p;
  for (const char* row : kDigit)
    for (int c = 0; c < 6; ++c) p.push_back(row[c] == '1' ? ink : paper);
  return p;
}

TEST(FuzzSeedsPng, EveryColourTypeAndDepthDecodesToTheDigit) {
  // Black ink on white; transparent paper is composited on white.
  for (const char* name : {"grey1", "grey2", "grey4", "grey8", "grey16",
                           "grey8-interlaced", "grey-alpha8", "rgba8", "palette2",
                           "palette-trns"}) {
    SCOPED_TRACE(name);
    const GrayImage g = read_png_gray(seed("png", name));
    EXPECT_EQ(g.rows, 7u);
    EXPECT_EQ(g.cols, 6u);
    EXPECT_EQ(g.pixels, digit_pixels(0, 255));
  }
  // Blue ink (20, 30, 200) on cream (250, 240, 230): luma by hand,
  // 0.299*20 + 0.587*30 + 0.114*200 = 46.39 and 241.85.
  for (const char* name : {"rgb8", "rgb8-interlaced", "rgb16"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(read_png_gray(seed("png", name)).pixels, digit_pixels(46, 242));
  }
}

TEST(FuzzSeedsPng, NearValidSeedsGiveErrorNamingTheFile) {
  for (const char* name : {"truncated", "bad-crc", "huge-header", "too-large",
                           "raw-digit"}) {
    SCOPED_TRACE(name);
    const std::string p = seed("png", name);
    expect_error_naming(p, [&] { read_png_gray(p); });
  }
}

// ---- Regressions: inputs the fuzzers found --------------------------------------

// Peak resident memory of this process (VmHWM), in bytes; 0 if unknown.
std::size_t peak_rss() {
  std::ifstream f("/proc/self/status");
  std::string key;
  while (f >> key) {
    if (key == "VmHWM:") {
      std::size_t kb = 0;
      f >> kb;
      return kb * 1024;
    }
    f.ignore(1 << 20, '\n');
  }
  return 0;
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string png_chunk(const std::string& type, const std::string& data) {
  const std::string td = type + data;
  const auto crc = static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(td.data()), static_cast<uInt>(td.size())));
  return be32(static_cast<std::uint32_t>(data.size())) + td + be32(crc);
}

// fuzz_png, out-of-memory (libFuzzer: malloc(1650614850)): a 93-byte PNG whose
// zTXt chunk claims 0x62626242 bytes. libpng 1.6.39 warns "chunk data is too
// large" but still allocates and zero-fills a buffer of the claimed size
// (png_read_buffer) before finding the file ends; tEXt, iTXt, sPLT, pCAL and
// sCAL do the same. So a 57-byte file made read_png_gray touch 1.6 GB. The
// reader must refuse it with a clean convnet::Error at a cost bounded by what
// the file holds. Here the claim is 256 MiB, to stay gentle while it fails.
TEST(FuzzRegressions, PngAncillaryChunkLengthDoesNotAllocateTheClaim) {
  const std::string sig("\x89PNG\r\n\x1a\n", 8);
  const std::string ihdr = png_chunk("IHDR", be32(1) + be32(1) + std::string("\x08\x00\x00\x00\x00", 5));
  for (const char* type : {"tEXt", "zTXt", "iTXt", "sPLT", "pCAL", "sCAL"}) {
    SCOPED_TRACE(type);
    const std::string bytes = sig + ihdr + be32(0x10000000) + type + std::string(16, 'x');
    const int fd = memfd_create("png_chunk_claim", MFD_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    // Reset the peak to the current RSS (Linux >= 4.0), so the peak after the
    // call is what the call itself needed.
    std::ofstream("/proc/self/clear_refs") << "5";
    const std::size_t before = peak_rss();
    expect_error_naming(path, [&] { read_png_gray(path); });
    const std::size_t after = peak_rss();
    close(fd);
    ASSERT_GT(before, 0u) << "cannot read VmHWM from /proc/self/status";
    EXPECT_LT(after - before, std::size_t{32} << 20)
        << "read_png_gray of a " << bytes.size() << "-byte PNG raised peak memory by "
        << ((after - before) >> 20) << " MiB";
  }
}

}  // namespace
}  // namespace convnet
