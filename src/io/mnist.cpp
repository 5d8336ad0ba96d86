// IDX reading (raw or gzip through zlib) and minibatch drawing.
// File format: http://yann.lecun.com/exdb/mnist/ — a big-endian header
// (magic 0x000008DD: ubyte data, DD dims; then one uint32 per dim), then the
// bytes in row-major order. Images have 3 dims (count, rows, cols: one
// channel, as MNIST) or 4 (count, channels, rows, cols: N x C x H x W).
#include "convnet/io/mnist.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>
#include <system_error>

#include "convnet/core/error.hpp"

namespace convnet {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kImagesMagic = 0x00000803;   // ubyte, 3 dims: count, rows, cols
constexpr std::uint32_t kImages4Magic = 0x00000804;  // ubyte, 4 dims: count, channels, rows, cols
constexpr std::uint32_t kLabelsMagic = 0x00000801;   // ubyte, 1 dim
// IDX sizes are signed 32-bit; a side (or a channel count) over 65536 or a
// set over 16 GiB is not an image set but a corrupt header, refused before
// any allocation.
constexpr std::uint64_t kMaxCount = 0x7FFFFFFF;
constexpr std::uint64_t kMaxSide = 65536;
constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 34;
constexpr std::size_t kChunk = std::size_t{1} << 20;  // gzip read step

const char* const kFetchHint = "run scripts/fetch-mnist.sh (or make demo) to fetch it";

std::string hex32(std::uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += digits[(v >> shift) & 0xF];
  return s;
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// A regular file read front to back, raw or gzip (chosen by the magic 1f 8b).
// Errors (unreadable file, corrupt or truncated gzip) throw convnet::Error.
class ByteSource {
 public:
  explicit ByteSource(const std::string& path) : path_(path) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (!fs::exists(status)) throw Error(path + ": file not found");
    // Refuse FIFOs, devices and directories: reading them could block or never end.
    if (!fs::is_regular_file(status)) throw Error(path + ": expected a regular file");
    file_size_ = fs::file_size(path, ec);
    if (ec) throw Error(path + ": cannot read its size: " + ec.message());

    raw_.open(path, std::ios::binary);
    if (!raw_) throw Error(path + ": cannot open for reading");
    char magic[2] = {0, 0};
    raw_.read(magic, 2);
    const bool is_gzip = raw_.gcount() == 2 && static_cast<std::uint8_t>(magic[0]) == 0x1f &&
                         static_cast<std::uint8_t>(magic[1]) == 0x8b;
    if (is_gzip) {
      raw_.close();
      gz_ = gzopen(path.c_str(), "rb");
      if (!gz_) throw Error(path + ": cannot open for reading (gzip)");
      gzbuffer(gz_, 1 << 17);
    } else {
      raw_.clear();
      raw_.seekg(0);
    }
  }
  ~ByteSource() {
    if (gz_) gzclose_r(gz_);
  }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  bool gzip() const { return gz_ != nullptr; }
  std::uint64_t file_size() const { return file_size_; }

  // Reads up to n bytes; fewer only at the end of the data.
  std::size_t read(std::uint8_t* dst, std::size_t n) {
    if (!gz_) {
      raw_.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
      if (raw_.bad()) throw Error(path_ + ": read error");
      return static_cast<std::size_t>(raw_.gcount());
    }
    std::size_t got = 0;
    while (got < n) {
      const unsigned step = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 30));
      const int r = gzread(gz_, dst + got, step);
      if (r < 0) throw_gzip_error();
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    // A truncated stream ends "cleanly" with Z_BUF_ERROR set: check every time.
    int err = Z_OK;
    gzerror(gz_, &err);
    if (err != Z_OK) throw_gzip_error();
    return got;
  }

 private:
  [[noreturn]] void throw_gzip_error() {
    int err = Z_OK;
    std::string msg = gzerror(gz_, &err);
    // zlib prefixes its message with the path; keep only its own words.
    if (const auto p = msg.rfind(": "); p != std::string::npos) msg = msg.substr(p + 2);
    throw Error(path_ + ": corrupt or truncated gzip data (zlib: " + msg + ")");
  }

  std::string path_;
  std::uint64_t file_size_ = 0;
  std::ifstream raw_;
  gzFile gz_ = nullptr;
};

// Reads a ubyte IDX file whose magic is one of `magics` (0x000008DD: DD
// dims, at most 4); returns the dims in `dims` and the data bytes.
std::vector<std::uint8_t> read_idx(const std::string& path, std::initializer_list<std::uint32_t> magics,
                                   std::vector<std::uint64_t>& dims) {
  ByteSource src(path);
  std::array<std::uint8_t, 4 + 4 * 4> header{};
  // Until the magic is read, the header expected is the first magic's.
  std::size_t header_bytes = 4 + 4 * (*magics.begin() & 0xFF);
  std::size_t got = src.read(header.data(), 4);
  if (got < 4)
    throw Error(path + ": expected an IDX header of " + std::to_string(header_bytes) + " bytes, found " +
                std::to_string(src.gzip() ? got : src.file_size()) + " bytes");
  const std::uint32_t found_magic = be32(header.data());
  if (std::find(magics.begin(), magics.end(), found_magic) == magics.end()) {
    std::string expected;
    for (const std::uint32_t m : magics) {
      if (!expected.empty()) expected += " or ";
      const std::size_t n = m & 0xFF;
      expected += hex32(m) + " (unsigned bytes, " + std::to_string(n) + (n == 1 ? " dim)" : " dims)");
    }
    throw Error(path + ": expected IDX magic " + expected + ", found " + hex32(found_magic));
  }
  const std::size_t ndims = found_magic & 0xFF;
  header_bytes = 4 + 4 * ndims;
  got += src.read(header.data() + 4, header_bytes - 4);
  if (got < header_bytes)
    throw Error(path + ": expected an IDX header of " + std::to_string(header_bytes) +
                " bytes, found " + std::to_string(src.gzip() ? got : src.file_size()) + " bytes");

  dims.assign(ndims, 0);
  for (std::size_t i = 0; i < ndims; ++i) dims[i] = be32(header.data() + 4 + 4 * i);
  std::string desc;  // "60000x28x28", "50000x3x32x32" or "60000 labels"
  for (std::size_t i = 0; i < ndims; ++i) {
    if (i) desc += 'x';
    desc += std::to_string(dims[i]);
  }
  if (ndims == 1) desc += " labels";

  if (dims[0] == 0 || dims[0] > kMaxCount)
    throw Error(path + ": expected 1 to " + std::to_string(kMaxCount) + " items, found " +
                std::to_string(dims[0]) + " (header " + desc + ")");
  for (std::size_t i = 1; i < ndims; ++i) {
    if (dims[i] >= 1 && dims[i] <= kMaxSide) continue;
    if (ndims == 4 && i == 1)
      throw Error(path + ": expected 1 to " + std::to_string(kMaxSide) + " channels, found " + desc);
    throw Error(path + ": expected image sides of 1 to " + std::to_string(kMaxSide) + ", found " + desc);
  }
  // 4 dims can multiply past 2^64 (2^31 * 2^16 * 2^16 * 2^16): checked.
  std::uint64_t payload = 1;
  bool overflow = false;
  for (const std::uint64_t d : dims) overflow = __builtin_mul_overflow(payload, d, &payload) || overflow;
  if (overflow || payload > kMaxBytes)
    throw Error(path + ": expected at most " + std::to_string(kMaxBytes) + " bytes of data, found a header of " + desc +
                " (" + (overflow ? std::string("over 2^64") : std::to_string(payload)) + " bytes)");
  const std::uint64_t expected = header_bytes + payload;
  const std::string expect_msg =
      path + ": expected " + std::to_string(expected) + " bytes" + (src.gzip() ? " after gunzip" : "") +
      " for " + desc + ", found ";

  std::vector<std::uint8_t> data;
  if (!src.gzip()) {
    if (src.file_size() != expected) throw Error(expect_msg + std::to_string(src.file_size()));
    data.resize(payload);
    const std::size_t n = src.read(data.data(), payload);
    if (n != payload) throw Error(expect_msg + std::to_string(header_bytes + n) + " (file shrank while read)");
    return data;
  }
  // gzip: the real size is unknown until read, so grow step by step (a file
  // that lies about its size costs only what it holds) and stop one byte
  // past the header's promise (a gzip bomb cannot fill memory).
  data.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(payload, 64 * kChunk)));
  std::uint64_t have = 0;
  while (have < payload) {
    const std::size_t step = static_cast<std::size_t>(std::min<std::uint64_t>(payload - have, kChunk));
    data.resize(have + step);
    const std::size_t n = src.read(data.data() + have, step);
    have += n;
    if (n < step) throw Error(expect_msg + std::to_string(header_bytes + have));
  }
  std::uint8_t extra = 0;
  if (src.read(&extra, 1) != 0) throw Error(expect_msg + "more");
  return data;
}

template <class T>
void shape_batch(const Dataset& d, std::size_t n, bool flatten, Tensor<T>& x) {
  // Compare before resizing: building the shape vector would allocate.
  const bool same = flatten ? (x.ndim() == 2 && x.shape(0) == n && x.shape(1) == d.image_size())
                            : (x.ndim() == 4 && x.shape(0) == n && x.shape(1) == d.channels &&
                               x.shape(2) == d.rows && x.shape(3) == d.cols);
  if (same) return;
  if (flatten)
    x.resize({n, d.image_size()}, false);
  else
    x.resize({n, d.channels, d.rows, d.cols}, false);
}

// "3x32x32", or "32x32" for one channel (MNIST's pictures).
std::string image_shape(const Dataset& d) {
  return (d.channels == 1 ? std::string() : std::to_string(d.channels) + "x") + std::to_string(d.rows) + "x" +
         std::to_string(d.cols);
}

void check_dataset(const Dataset& d, const char* fn) {
  if (d.images.size() != d.count * d.image_size() || d.labels.size() != d.count)
    throw Error(std::string(fn) + ": expected a Dataset of " + std::to_string(d.count) + "x" + image_shape(d) +
                " pixels and " + std::to_string(d.count) + " labels, found " + std::to_string(d.images.size()) +
                " pixels and " + std::to_string(d.labels.size()) + " labels");
}

// Image `src` of d into row i of x, as T.
template <class T>
inline void convert_image(const Dataset& d, std::size_t src, std::size_t i, bool normalize, T* x) {
  const std::size_t sz = d.image_size();
  const std::uint8_t* in = d.images.data() + src * sz;
  T* out = x + i * sz;
  if (normalize) {
    // float32 division, as NumPy's astype(np.float32) / 255.0 does.
    for (std::size_t j = 0; j < sz; ++j) out[j] = static_cast<T>(static_cast<float>(in[j]) / 255.0f);
  } else {
    for (std::size_t j = 0; j < sz; ++j) out[j] = static_cast<T>(in[j]);
  }
}

std::string find_file(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  const fs::path raw = dir / name;
  if (fs::exists(raw, ec)) return raw.string();
  const fs::path gz = dir / (name + ".gz");
  if (fs::exists(gz, ec)) return gz.string();
  throw Error(raw.string() + ": file not found (nor " + name + ".gz); " + kFetchHint);
}

}  // namespace

std::vector<std::string> mnist_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"})
    for (const char* suffix : {"", ".gz"}) files.push_back((fs::path(dir) / (std::string(name) + suffix)).string());
  return files;
}

Dataset Dataset::head(std::size_t n) const {
  if (n == 0 || n >= count) return *this;
  Dataset out;
  out.count = n;
  out.channels = channels;
  out.rows = rows;
  out.cols = cols;
  out.labels_path = labels_path;
  out.images.assign(images.begin(), images.begin() + static_cast<std::ptrdiff_t>(n * image_size()));
  out.labels.assign(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(n));
  return out;
}

std::size_t Dataset::num_classes() const {
  if (labels.empty()) return 0;
  return static_cast<std::size_t>(*std::max_element(labels.begin(), labels.end())) + 1;
}

void Dataset::check_labels(std::size_t classes, const std::string& name) const {
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] >= classes)
      throw Error((labels_path.empty() ? name : labels_path) + ": label " + std::to_string(labels[i]) + " at index " +
                  std::to_string(i) + " is out of range " +
                  (classes ? "0-" + std::to_string(classes - 1) : std::string("(no classes)")));
}

Dataset read_idx_images(const std::string& path) {
  std::vector<std::uint64_t> dims;
  Dataset d;
  d.images = read_idx(path, {kImagesMagic, kImages4Magic}, dims);
  d.count = static_cast<std::size_t>(dims[0]);
  d.channels = dims.size() == 4 ? static_cast<std::size_t>(dims[1]) : 1;
  d.rows = static_cast<std::size_t>(dims[dims.size() - 2]);
  d.cols = static_cast<std::size_t>(dims[dims.size() - 1]);
  return d;
}

std::vector<std::uint8_t> read_idx_labels(const std::string& path) {
  std::vector<std::uint64_t> dims;
  return read_idx(path, {kLabelsMagic}, dims);
}

Dataset read_idx_pair(const std::string& images_path, const std::string& labels_path) {
  Dataset d = read_idx_images(images_path);
  d.labels = read_idx_labels(labels_path);
  d.labels_path = labels_path;
  if (d.labels.size() != d.count)
    throw Error(labels_path + ": expected " + std::to_string(d.count) + " labels to match " +
                images_path + ", found " + std::to_string(d.labels.size()));
  return d;
}

Mnist load_mnist(const std::string& dir, MnistOptions options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    if (fs::exists(dir, ec)) throw Error(dir + ": expected a directory of MNIST IDX files, found a file");
    throw Error(dir + ": MNIST directory not found; " + kFetchHint);
  }
  const fs::path p(dir);
  Mnist m;
  m.options = options;
  m.train = read_idx_pair(find_file(p, "train-images-idx3-ubyte"), find_file(p, "train-labels-idx1-ubyte"));
  const std::string test_images = find_file(p, "t10k-images-idx3-ubyte");
  m.test = read_idx_pair(test_images, find_file(p, "t10k-labels-idx1-ubyte"));
  if (m.test.channels != m.train.channels || m.test.rows != m.train.rows || m.test.cols != m.train.cols) {
    // One channel on both sides: "28x28"; otherwise both as CxHxW.
    const bool grey = m.train.channels == 1 && m.test.channels == 1;
    auto shape = [&](const Dataset& d) {
      return (grey ? std::string() : std::to_string(d.channels) + "x") + std::to_string(d.rows) + "x" +
             std::to_string(d.cols);
    };
    throw Error(test_images + ": expected " + shape(m.train) + " images like the training set, found " +
                shape(m.test));
  }
  return m;
}

template <class T>
void gather_batch(const Dataset& d, const std::size_t* index, std::size_t n, bool normalize,
                  bool flatten, Tensor<T>& x, std::vector<std::int32_t>& t) {
  check_dataset(d, "gather_batch");
  for (std::size_t i = 0; i < n; ++i)
    if (index[i] >= d.count)
      throw Error("gather_batch: index " + std::to_string(index[i]) + " at position " +
                  std::to_string(i) + " is out of range for a dataset of " + std::to_string(d.count) +
                  " images");
  shape_batch(d, n, flatten, x);
  t.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    convert_image(d, index[i], i, normalize, x.data());
    t[i] = d.labels[index[i]];
  }
}

template <class T>
void slice_batch(const Dataset& d, std::size_t begin, std::size_t n, bool normalize, bool flatten,
                 Tensor<T>& x, std::vector<std::int32_t>& t) {
  check_dataset(d, "slice_batch");
  if (begin > d.count || n > d.count - begin)
    throw Error("slice_batch: samples [" + std::to_string(begin) + ", " + std::to_string(begin + n) +
                ") are out of range for a dataset of " + std::to_string(d.count) + " images");
  shape_batch(d, n, flatten, x);
  t.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    convert_image(d, begin + i, i, normalize, x.data());
    t[i] = d.labels[begin + i];
  }
}

template <class T>
Tensor<T> one_hot(const std::vector<std::int32_t>& t, std::size_t classes) {
  Tensor<T> out({t.size(), classes});
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] < 0 || static_cast<std::size_t>(t[i]) >= classes)
      throw Error("one_hot: label " + std::to_string(t[i]) + " at position " + std::to_string(i) +
                  " is outside [0, " + std::to_string(classes) + ")");
    out[i * classes + static_cast<std::size_t>(t[i])] = T(1);
  }
  return out;
}

template void gather_batch<float>(const Dataset&, const std::size_t*, std::size_t, bool, bool,
                                  Tensor<float>&, std::vector<std::int32_t>&);
template void gather_batch<double>(const Dataset&, const std::size_t*, std::size_t, bool, bool,
                                   Tensor<double>&, std::vector<std::int32_t>&);
template void slice_batch<float>(const Dataset&, std::size_t, std::size_t, bool, bool, Tensor<float>&,
                                 std::vector<std::int32_t>&);
template void slice_batch<double>(const Dataset&, std::size_t, std::size_t, bool, bool,
                                  Tensor<double>&, std::vector<std::int32_t>&);
template Tensor<float> one_hot<float>(const std::vector<std::int32_t>&, std::size_t);
template Tensor<double> one_hot<double>(const std::vector<std::int32_t>&, std::size_t);

}  // namespace convnet
