// PNG input/output with libpng, and the MNIST-style normalisation of a digit.
//
// libpng reports errors by longjmp. To keep that well-defined in C++, every
// setjmp lives in a small function whose own locals are trivial; all buffers
// and libpng handles sit in a struct owned by the caller, whose destructor
// frees them whether decoding succeeded or not.
#include "convnet/io/image.hpp"

#include <fcntl.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <limits>

#include "convnet/io/atomic_file.hpp"
#include "convnet/core/error.hpp"

namespace convnet {

namespace {

// ---------------------------------------------------------------- reading

struct PngReader {
  std::FILE* file = nullptr;
  png_structp png = nullptr;
  png_infop info = nullptr;
  char message[256] = "";           // libpng's error text, copied by on_error
  std::uint32_t width = 0, height = 0;
  bool too_large = false;           // set instead of decoding (kMaxPngSide)
  std::vector<png_byte> buffer;     // one row, or the whole image if interlaced
  std::vector<png_bytep> row_ptrs;
  GrayImage out;

  ~PngReader() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    if (file) std::fclose(file);
  }
};

[[noreturn]] void on_png_error(png_structp png, png_const_charp msg) {
  auto* r = static_cast<PngReader*>(png_get_error_ptr(png));
  std::snprintf(r->message, sizeof r->message, "%s", msg ? msg : "unknown error");
  png_longjmp(png, 1);
}

// Warnings (e.g. about colour profiles) are not the user's concern.
void on_png_warning(png_structp, png_const_charp) {}

void on_png_read(png_structp png, png_bytep data, std::size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (std::fread(data, 1, n, r->file) != n)
    png_error(png, std::ferror(r->file) ? "read error" : "unexpected end of file");
}

// One row of `channels` 8-bit samples (grey, grey+alpha, RGB or RGBA) to grey,
// alpha composited on white.
void row_to_gray(const png_byte* in, int channels, std::size_t cols, std::uint8_t* out) {
  for (std::size_t c = 0; c < cols; ++c, in += channels) {
    double luma, alpha = 255.0;
    if (channels <= 2) {
      luma = in[0];
      if (channels == 2) alpha = in[1];
    } else {
      luma = 0.299 * in[0] + 0.587 * in[1] + 0.114 * in[2];
      if (channels == 4) alpha = in[3];
    }
    const double v = (luma * alpha + 255.0 * (255.0 - alpha)) / 255.0;
    out[c] = static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
  }
}

// Decodes after the 8 signature bytes were read; false on a libpng error.
bool decode_png(PngReader& r) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  // Chunks we never use are skipped unread: libpng would otherwise allocate
  // and zero whatever length they claim (up to 2 GiB) before reading them
  // (found by fuzz_png; FuzzRegressions.PngAncillaryChunkLength...).
  static const png_byte kIgnored[] = "tEXt\0zTXt\0iTXt\0iCCP\0sPLT\0eXIf\0pCAL\0sCAL";
  png_set_keep_unknown_chunks(r.png, PNG_HANDLE_CHUNK_NEVER, kIgnored, 8);
  png_set_read_fn(r.png, &r, on_png_read);
  png_set_sig_bytes(r.png, 8);
  png_read_info(r.png, r.info);
  r.width = png_get_image_width(r.png, r.info);
  r.height = png_get_image_height(r.png, r.info);
  if (r.width > kMaxPngSide || r.height > kMaxPngSide) {
    r.too_large = true;
    return true;
  }
  png_set_expand(r.png);    // palette -> RGB, grey < 8 bits -> 8, tRNS -> alpha
  png_set_scale_16(r.png);  // 16 -> 8 bits, rounded
  const int passes = png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  const int channels = png_get_channels(r.png, r.info);
  const std::size_t rowbytes = png_get_rowbytes(r.png, r.info);
  if (channels < 1 || channels > 4 || png_get_bit_depth(r.png, r.info) != 8 ||
      rowbytes != static_cast<std::size_t>(channels) * r.width)
    png_error(r.png, "unsupported pixel layout");

  r.out.rows = r.height;
  r.out.cols = r.width;
  if (passes == 1) {
    // Row by row, the output growing with each row decoded: a small file
    // whose header claims a huge picture fails at its first missing row
    // having allocated about one row, not the whole claimed size.
    r.buffer.resize(rowbytes);
    for (std::uint32_t y = 0; y < r.height; ++y) {
      png_read_row(r.png, r.buffer.data(), nullptr);
      r.out.pixels.resize(std::size_t(y + 1) * r.width);
      row_to_gray(r.buffer.data(), channels, r.width, &r.out.pixels[std::size_t(y) * r.width]);
    }
  } else {  // interlaced: libpng needs the whole image
    r.out.pixels.resize(static_cast<std::size_t>(r.width) * r.height);
    r.buffer.resize(rowbytes * r.height);
    r.row_ptrs.resize(r.height);
    for (std::uint32_t y = 0; y < r.height; ++y) r.row_ptrs[y] = &r.buffer[rowbytes * y];
    png_read_image(r.png, r.row_ptrs.data());
    for (std::uint32_t y = 0; y < r.height; ++y)
      row_to_gray(r.row_ptrs[y], channels, r.width, &r.out.pixels[std::size_t(y) * r.width]);
  }
  png_read_end(r.png, nullptr);  // a file cut short after the pixels is corrupt too
  return true;
}

// ---------------------------------------------------------------- writing

struct PngWriter {
  std::FILE* file = nullptr;
  png_structp png = nullptr;
  png_infop info = nullptr;
  char message[256] = "";

  ~PngWriter() {
    if (png) png_destroy_write_struct(&png, info ? &info : nullptr);
    if (file) std::fclose(file);
  }
};

[[noreturn]] void on_png_write_error(png_structp png, png_const_charp msg) {
  auto* w = static_cast<PngWriter*>(png_get_error_ptr(png));
  std::snprintf(w->message, sizeof w->message, "%s", msg ? msg : "unknown error");
  png_longjmp(png, 1);
}

bool encode_png(PngWriter& w, const GrayImage& img) {
  if (setjmp(png_jmpbuf(w.png))) return false;
  png_init_io(w.png, w.file);
  png_set_IHDR(w.png, w.info, static_cast<png_uint_32>(img.cols),
               static_cast<png_uint_32>(img.rows), 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(w.png, w.info);
  for (std::size_t y = 0; y < img.rows; ++y)
    png_write_row(w.png, img.pixels.data() + y * img.cols);
  png_write_end(w.png, nullptr);
  return true;
}

void write_gray_file(const std::string& path, const std::string& tmp, const GrayImage& img) {
  PngWriter w;
  w.file = std::fopen(tmp.c_str(), "wb");
  if (!w.file) throw Error(path + ": cannot create " + tmp + ": " + std::strerror(errno));
  w.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &w, on_png_write_error, on_png_warning);
  if (w.png) w.info = png_create_info_struct(w.png);
  if (!w.png || !w.info) throw Error(path + ": cannot write PNG: out of memory");
  if (!encode_png(w, img)) throw Error(path + ": cannot write PNG: " + w.message);
  std::FILE* f = w.file;
  w.file = nullptr;
  const bool failed = std::fflush(f) != 0 || std::ferror(f);
  const int err = errno;
  if (std::fclose(f) != 0 || failed)
    throw Error(path + ": cannot write PNG: " + std::strerror(failed ? err : errno));
}

// ---------------------------------------------------------------- MNIST form

// Source spans of an area-averaging resample of n pixels to m: output pixel i
// covers [i * n / m, (i + 1) * n / m) of the input, each input pixel weighted
// by how much of it lies inside.
struct Span {
  std::size_t first;
  std::vector<double> weights;  // for inputs first, first + 1, ...; sum = 1
};

std::vector<Span> area_spans(std::size_t n, std::size_t m) {
  std::vector<Span> spans(m);
  const double step = static_cast<double>(n) / static_cast<double>(m);
  for (std::size_t i = 0; i < m; ++i) {
    const double lo = i * step, hi = std::min<double>((i + 1) * step, n);
    const auto first = static_cast<std::size_t>(std::floor(lo));
    spans[i].first = first;
    for (std::size_t k = first; k < n && static_cast<double>(k) < hi; ++k) {
      const double overlap = std::min<double>(k + 1, hi) - std::max<double>(k, lo);
      if (overlap > 0) spans[i].weights.push_back(overlap / step);
      else if (spans[i].weights.empty()) spans[i].first = k + 1;
    }
  }
  return spans;
}

}  // namespace

namespace {
// "" for a regular file, else what it is ("a FIFO (named pipe)").
const char* not_regular(mode_t mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Opens a regular file for reading. A FIFO, device, socket or directory is
// refused without blocking: stat first, then open O_NONBLOCK (a FIFO swapped
// in after the stat must not hang either) and check again on the descriptor.
std::FILE* open_regular(const std::string& path) {
  auto refuse = [&](mode_t mode) {
    throw Error(path + ": is " + not_regular(mode) + ", expected a PNG file");
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) refuse(st.st_mode);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const mode_t mode = st.st_mode;
    ::close(fd);
    refuse(mode);
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  std::FILE* f = ::fdopen(fd, "rb");
  if (!f) {
    const int err = errno;
    ::close(fd);
    throw Error(path + ": cannot open: " + std::strerror(err));
  }
  return f;
}
}  // namespace

GrayImage read_png_gray(const std::string& path) {
  PngReader r;
  r.file = open_regular(path);
  png_byte sig[8];
  if (std::fread(sig, 1, 8, r.file) != 8 || png_sig_cmp(sig, 0, 8) != 0)
    throw Error(path + ": not a PNG file");
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, on_png_error, on_png_warning);
  if (r.png) r.info = png_create_info_struct(r.png);
  if (!r.png || !r.info) throw Error(path + ": cannot read PNG: out of memory");
  if (!decode_png(r)) throw Error(path + ": corrupt PNG: " + r.message);
  if (r.too_large)
    throw Error(path + ": PNG is " + std::to_string(r.width) + "x" + std::to_string(r.height) +
                ", expected at most " + std::to_string(kMaxPngSide) + "x" +
                std::to_string(kMaxPngSide));
  return std::move(r.out);
}

void write_png_gray(const std::string& path, const GrayImage& img) {
  if (img.rows == 0 || img.cols == 0 || img.pixels.size() != img.rows * img.cols)
    throw Error(path + ": cannot write a " + std::to_string(img.rows) + "x" +
                std::to_string(img.cols) + " PNG from " + std::to_string(img.pixels.size()) +
                " pixels");
  constexpr std::size_t kPngMaxSide = 0x7fffffff;  // PNG's own limit (2^31 - 1)
  if (img.rows > kPngMaxSide || img.cols > kPngMaxSide)
    throw Error(path + ": PNG sides must be at most 2^31-1 pixels");
  write_file_atomic(path, [&](const std::string& tmp) { write_gray_file(path, tmp, img); });
}

GrayImage to_mnist_like(const GrayImage& img, std::size_t size, std::size_t box) {
  if (img.pixels.size() != img.rows * img.cols)
    throw Error("to_mnist_like: image of " + std::to_string(img.rows) + "x" +
                std::to_string(img.cols) + " has " + std::to_string(img.pixels.size()) +
                " pixels");
  if (size == 0 || box == 0 || box > size)
    throw Error("to_mnist_like: expected 0 < box <= size, found box " + std::to_string(box) +
                ", size " + std::to_string(size));
  GrayImage out{size, size, std::vector<std::uint8_t>(size * size, 0)};
  const std::size_t rows = img.rows, cols = img.cols;
  if (rows == 0 || cols == 0) return out;

  // 1. Border pixels decide the polarity and give the background level.
  std::vector<std::uint8_t> border;
  for (std::size_t c = 0; c < cols; ++c) {
    border.push_back(img.pixels[c]);
    if (rows > 1) border.push_back(img.pixels[(rows - 1) * cols + c]);
  }
  for (std::size_t r = 1; r + 1 < rows; ++r) {
    border.push_back(img.pixels[r * cols]);
    if (cols > 1) border.push_back(img.pixels[r * cols + cols - 1]);
  }
  double border_sum = 0;
  for (auto v : border) border_sum += v;
  const bool invert = border_sum / static_cast<double>(border.size()) > 127.0;
  auto ink_of = [invert](std::uint8_t v) { return invert ? 255 - int(v) : int(v); };
  for (auto& v : border) v = static_cast<std::uint8_t>(ink_of(v));
  std::sort(border.begin(), border.end());
  const int background = border[border.size() / 2];
  // Noise: anything within 3x the border's spread (90th percentile - median)
  // of the background is not ink; 0 for a clean picture.
  const int spread = border[std::min(border.size() - 1, border.size() * 9 / 10)] - background;
  const int threshold = background + 3 * spread;

  // 2. Ink on a zero background, stretched to 0..255.
  int peak = 0;
  for (auto v : img.pixels) peak = std::max(peak, ink_of(v));
  if (peak <= threshold) return out;  // blank
  const double gain = 255.0 / (peak - background);
  std::vector<double> ink(rows * cols);
  std::size_t top = rows, bottom = 0, left = cols, right = 0;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      const int level = ink_of(img.pixels[r * cols + c]);
      const double v = level > threshold ? (level - background) * gain : 0.0;
      ink[r * cols + c] = v;
      if (v > 0) {
        top = std::min(top, r), bottom = std::max(bottom, r);
        left = std::min(left, c), right = std::max(right, c);
      }
    }
  const std::size_t bh = bottom - top + 1, bw = right - left + 1;

  // 3. Scale the bounding box so its longer side is `box`.
  const double scale = static_cast<double>(box) / static_cast<double>(std::max(bh, bw));
  const std::size_t nh = std::clamp<std::size_t>(std::lround(bh * scale), 1, box);
  const std::size_t nw = std::clamp<std::size_t>(std::lround(bw * scale), 1, box);
  const auto ys = area_spans(bh, nh), xs = area_spans(bw, nw);
  std::vector<double> tmp(bh * nw, 0.0);  // columns resampled first
  for (std::size_t r = 0; r < bh; ++r)
    for (std::size_t j = 0; j < nw; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < xs[j].weights.size(); ++k)
        s += xs[j].weights[k] * ink[(top + r) * cols + left + xs[j].first + k];
      tmp[r * nw + j] = s;
    }
  std::vector<double> patch(nh * nw, 0.0);
  double mass = 0, my = 0, mx = 0;
  for (std::size_t i = 0; i < nh; ++i)
    for (std::size_t j = 0; j < nw; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < ys[i].weights.size(); ++k)
        s += ys[i].weights[k] * tmp[(ys[i].first + k) * nw + j];
      patch[i * nw + j] = s;
      mass += s, my += s * i, mx += s * j;
    }

  // 4. Centre of mass to (size/2, size/2), whole pixels, kept inside the frame.
  auto offset = [size](double com, std::size_t extent) {
    const long o = std::lround(static_cast<double>(size) / 2.0 - com);
    return static_cast<std::size_t>(std::clamp(o, 0L, static_cast<long>(size - extent)));
  };
  const std::size_t oy = offset(my / mass, nh), ox = offset(mx / mass, nw);
  for (std::size_t i = 0; i < nh; ++i)
    for (std::size_t j = 0; j < nw; ++j)
      out.pixels[(oy + i) * size + ox + j] =
          static_cast<std::uint8_t>(std::clamp(std::lround(patch[i * nw + j]), 0L, 255L));
  return out;
}

}  // namespace convnet
