// libFuzzer target: read_png_gray (libpng) then to_mnist_like.
// An input that starts with the PNG signature goes through the file reader;
// any other input is taken as a raw grey picture so that to_mnist_like is
// fuzzed directly too (mutated PNGs rarely survive the CRC and zlib checks):
//   byte 0: rows % 64, byte 1: cols % 64, byte 2: size % 64, byte 3: box % 65,
//   then the pixels (zero-padded or cut to rows * cols).
// Every input must give a picture or a convnet::Error.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "convnet/core/error.hpp"
#include "convnet/io/image.hpp"
#include "fuzz_common.hpp"

namespace {

void check_mnist_like(const convnet::GrayImage& img, std::size_t size, std::size_t box) {
  const convnet::GrayImage out = convnet::to_mnist_like(img, size, box);
  FUZZ_CHECK(out.rows == size && out.cols == size && out.pixels.size() == size * size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::uint8_t kSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size >= 8 && std::memcmp(data, kSig, 8) == 0) {
    static convnet_fuzz::MemFile file("fuzz_png");
    const std::string& path = file.set(data, size);
    try {
      const convnet::GrayImage img = convnet::read_png_gray(path);
      FUZZ_CHECK(img.rows >= 1 && img.cols >= 1 && img.rows <= convnet::kMaxPngSide &&
                 img.cols <= convnet::kMaxPngSide);
      FUZZ_CHECK(img.pixels.size() == img.rows * img.cols);
      check_mnist_like(img, 28, 20);
    } catch (const convnet::Error&) {
    }
    return 0;
  }
  if (size < 4) return 0;
  convnet::GrayImage img;
  img.rows = data[0] % 64;
  img.cols = data[1] % 64;
  const std::size_t out_size = data[2] % 64, box = data[3] % 65;
  img.pixels.assign(data + 4, data + size);
  img.pixels.resize(img.rows * img.cols, 0);
  try {
    check_mnist_like(img, out_size, box);
    FUZZ_CHECK(out_size > 0 && box > 0 && box <= out_size);
  } catch (const convnet::Error&) {
    FUZZ_CHECK(out_size == 0 || box == 0 || box > out_size);
  }
  return 0;
}
