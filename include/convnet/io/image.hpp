#pragma once
// Pictures for `convnet predict`: PNG in and out (libpng), and the conversion
// of any picture of a digit into MNIST's form.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace convnet {

// An 8-bit grey picture, row-major: pixels[r * cols + c].
struct GrayImage {
  std::size_t rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;
};

// Largest width or height read_png_gray accepts.
inline constexpr std::size_t kMaxPngSide = 16384;

// Reads a PNG of any bit depth and colour type (grey, grey+alpha, RGB, RGBA,
// palette; interlaced or not) into 8-bit grey: luma 0.299R + 0.587G + 0.114B,
// with any alpha composited on white. A FIFO, device, socket or directory is
// refused without opening it for a blocking read. Throws convnet::Error:
//   "x.png: cannot open: <reason>", "x.png: is a FIFO (named pipe), expected a
//   PNG file", "x.png: not a PNG file",
//   "x.png: corrupt PNG: <libpng message>", or a size over kMaxPngSide.
GrayImage read_png_gray(const std::string& path);

// Writes an 8-bit grey PNG, atomically (temporary file, then rename).
// Throws convnet::Error naming `path` if the picture is inconsistent
// (pixels.size() != rows * cols, or empty) or the file cannot be written.
void write_png_gray(const std::string& path, const GrayImage& img);

// Converts a picture of one digit to MNIST's form, as LeCun made MNIST:
//  1. a dark-on-light picture (mean of the border pixels > 127) is inverted,
//     so the ink is light on a dark background;
//  2. the background level (median of the border) is subtracted and the ink
//     stretched to 0..255; pixels within 3x the border's noise (90th
//     percentile - median) of the background count as background;
//  3. the ink's bounding box is scaled by area averaging, keeping its aspect
//     ratio, so that its longer side is `box` pixels;
//  4. it is placed in a size x size black frame with its centre of mass at
//     pixel (size/2, size/2), moved back inside the frame if it would stick out.
// A blank picture (nothing brighter than its background) gives all zeros.
// Throws convnet::Error if img.pixels.size() != rows * cols, size == 0,
// box == 0 or box > size.
GrayImage to_mnist_like(const GrayImage& img, std::size_t size = 28, std::size_t box = 20);

}  // namespace convnet
