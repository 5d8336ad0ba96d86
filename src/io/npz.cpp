// .npz reading and writing: libzip for the archive, a small strict parser for
// the .npy header (a Python dict literal), see docs/FORMATS.md.
#include "convnet/io/npz.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "convnet/io/atomic_file.hpp"
#include "convnet/core/error.hpp"

namespace convnet {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;
constexpr std::size_t kMaxDims = 64;             // NumPy 2's limit (1.x: 32)
constexpr std::size_t kMaxHeaderLen = 1u << 20;  // real headers are < 1 KiB
constexpr std::size_t kGrowthAxisMaxDigits = 21; // NumPy pads shape[0] to this many digits

std::size_t itemsize_of(std::string_view descr) {
  if (descr == "<f4" || descr == "<i4" || descr == "<u4") return 4;
  if (descr == "<f8" || descr == "<i8" || descr == "<u8") return 8;
  if (descr == "|u1" || descr == "|b1") return 1;
  return 0;
}

// product(shape) * itemsize, or false on overflow.
bool byte_count(const std::vector<std::size_t>& shape, std::size_t itemsize, std::size_t& out) {
  std::size_t n = itemsize;
  for (std::size_t d : shape)
    if (__builtin_mul_overflow(n, d, &n)) return false;
  out = n;
  return true;
}

std::string data_mismatch(std::size_t expected, const std::string& descr,
                          const std::vector<std::size_t>& shape, std::size_t found) {
  return "expected " + std::to_string(expected) + " bytes of data for " + descr + " " +
         shape_str(shape) + ", found " + std::to_string(found);
}

template <class T>
T byteswap_if_big(T v) {
  if constexpr (std::endian::native == std::endian::big && sizeof(T) > 1) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    std::reverse(b, b + sizeof(T));
    std::memcpy(&v, b, sizeof(T));
  }
  return v;
}

// ---- .npy header ---------------------------------------------------------

// The header NumPy 1.24 writes: keys sorted, repr() values, room for shape[0]
// to grow to 21 digits, spaces, '\n', total (magic + length + header) a multiple of 64.
std::string npy_header(const NpyArray& a) {
  std::string dict = "{'descr': '" + a.descr + "', 'fortran_order': False, 'shape': " +
                     shape_str(a.shape) + ", }";
  if (!a.shape.empty()) {
    const std::size_t digits = std::to_string(a.shape[0]).size();
    if (digits < kGrowthAxisMaxDigits) dict.append(kGrowthAxisMaxDigits - digits, ' ');
  }
  std::size_t hlen = dict.size() + 1;  // + '\n'
  const std::size_t pad = 64 - (kMagicLen + 2 + 2 + hlen) % 64;  // magic, version, length
  hlen += pad;
  std::string out(kMagic, kMagicLen);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(hlen & 0xff);
  out += static_cast<char>(hlen >> 8);  // < 65536: ndim <= 64 keeps the dict under 2 KiB
  out += dict;
  out.append(pad, ' ');
  out += '\n';
  return out;
}

// Parses the dict literal of a .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (30, 1, 5, 5), }
// Strict: exactly the three keys, Python literal syntax, no expressions.
class HeaderParser {
 public:
  HeaderParser(std::string_view s, const std::string& where) : s_(s), where_(where) {}

  void parse(std::string& descr, bool& fortran, std::vector<std::size_t>& shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        if (have_descr) fail("duplicate key 'descr'");
        skip_ws();
        if (peek() != '\'' && peek() != '"')
          fail("structured dtypes are not supported (descr must be a string)");
        descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        if (have_fortran) fail("duplicate key 'fortran_order'");
        fortran = boolean_literal();
        have_fortran = true;
      } else if (key == "shape") {
        if (have_shape) fail("duplicate key 'shape'");
        shape = shape_literal();
        have_shape = true;
      } else {
        fail("unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++i_;  // '}'
    skip_ws();
    if (i_ != s_.size()) fail("unexpected text after '}'");
    if (!have_descr || !have_fortran || !have_shape)
      fail("missing key '" + std::string(!have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape") + "'");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(where_ + ": bad .npy header: " + what);
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  // 'text' or "text", printable ASCII, no escapes (NumPy's keys and descrs need none).
  std::string string_literal() {
    skip_ws();
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    const std::size_t start = ++i_;
    while (i_ < s_.size() && s_[i_] != q) {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '\\' || c < 0x20 || c > 0x7e) fail("unsupported character in string");
      ++i_;
    }
    if (i_ >= s_.size()) fail("unterminated string");
    return std::string(s_.substr(start, i_++ - start));
  }
  bool boolean_literal() {
    skip_ws();
    if (s_.substr(i_, 4) == "True") {
      i_ += 4;
      return true;
    }
    if (s_.substr(i_, 5) == "False") {
      i_ += 5;
      return false;
    }
    fail("fortran_order must be True or False");
  }
  std::size_t int_literal() {
    skip_ws();
    if (!(peek() >= '0' && peek() <= '9')) fail("expected a non-negative integer in shape");
    std::size_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      if (__builtin_mul_overflow(v, std::size_t{10}, &v) ||
          __builtin_add_overflow(v, static_cast<std::size_t>(peek() - '0'), &v))
        fail("dimension too large in shape");
      ++i_;
    }
    if (peek() == 'L') ++i_;  // Python 2 longs, as old NumPy wrote them
    return v;
  }
  // (), (n,), (n, m) or (n, m,).
  std::vector<std::size_t> shape_literal() {
    std::vector<std::size_t> shape;
    expect('(');
    skip_ws();
    if (peek() == ')') {
      ++i_;
      return shape;
    }
    while (true) {
      if (shape.size() == kMaxDims) fail("more than " + std::to_string(kMaxDims) + " dimensions");
      shape.push_back(int_literal());
      skip_ws();
      if (peek() == ')') {
        if (shape.size() == 1) fail("shape must be a tuple, e.g. (5,)");
        ++i_;
        return shape;
      }
      expect(',');
      skip_ws();
      if (peek() == ')') {
        ++i_;
        return shape;
      }
    }
  }

  std::string_view s_;
  std::string where_;
  std::size_t i_ = 0;
};

// Parses a whole .npy file held in buf and moves its data into `out`.
// `where` is "file.npz: NAME.npy" for messages.
void parse_npy(std::vector<unsigned char>& buf, const std::string& where, NpyArray& out) {
  const std::size_t n = buf.size();
  if (n < kMagicLen + 2 || std::memcmp(buf.data(), kMagic, kMagicLen) != 0)
    throw Error(where + ": bad .npy magic");
  const unsigned major = buf[6], minor = buf[7];
  if (major < 1 || major > 3 || minor != 0)
    throw Error(where + ": unsupported .npy format version " + std::to_string(major) + "." +
                std::to_string(minor) + " (expected 1.0, 2.0 or 3.0)");
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  if (n < kMagicLen + 2 + len_bytes) throw Error(where + ": truncated .npy header");
  std::size_t hlen = 0;
  for (std::size_t k = 0; k < len_bytes; ++k) hlen |= std::size_t{buf[8 + k]} << (8 * k);
  const std::size_t off = kMagicLen + 2 + len_bytes;
  if (hlen > kMaxHeaderLen)
    throw Error(where + ": .npy header length " + std::to_string(hlen) + " exceeds " +
                std::to_string(kMaxHeaderLen));
  if (hlen > n - off)
    throw Error(where + ": truncated .npy header: expected " + std::to_string(hlen) +
                " bytes, found " + std::to_string(n - off));
  std::string_view header(reinterpret_cast<const char*>(buf.data()) + off, hlen);
  if (header.empty() || header.back() != '\n')
    throw Error(where + ": bad .npy header: does not end in a newline");
  header.remove_suffix(1);

  std::string descr;
  bool fortran = false;
  std::vector<std::size_t> shape;
  HeaderParser(header, where).parse(descr, fortran, shape);

  const std::size_t itemsize = itemsize_of(descr);
  if (itemsize == 0)
    throw Error(where + ": unsupported dtype '" + descr +
                "' (expected <f4, <f8, <i4, <i8, <u4, <u8, |u1 or |b1)");
  // For 0-d and 1-d arrays C and Fortran order are the same bytes.
  if (fortran && shape.size() > 1) throw Error(where + ": fortran_order arrays are not supported");
  std::size_t expected = 0;
  if (!byte_count(shape, itemsize, expected))
    throw Error(where + ": shape " + shape_str(shape) + " is too large");
  const std::size_t found = n - off - hlen;
  if (found != expected) throw Error(where + ": " + data_mismatch(expected, descr, shape, found));

  buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(off + hlen));
  out.descr = std::move(descr);
  out.shape = std::move(shape);
  out.bytes = std::move(buf);
}

// ---- zip (libzip) ----------------------------------------------------------

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
struct SourceFreer {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};

// The message of a zip_error_t, which is then released.
std::string take_error(zip_error_t* e) {
  std::string s = zip_error_strerror(e);
  zip_error_fini(e);
  return s;
}

std::string zip_error_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

// Reads one member completely. The buffer grows only as data actually arrives,
// so a size claimed by a corrupt directory cannot make us allocate far more
// than the member really holds.
std::vector<unsigned char> read_member(zip_t* za, zip_uint64_t index, const zip_stat_t& st,
                                       const std::string& where) {
  std::unique_ptr<zip_file_t, ZipFileCloser> f(zip_fopen_index(za, index, 0));
  if (!f) throw Error(where + ": cannot read: " + std::string(zip_strerror(za)));
  const std::size_t declared = static_cast<std::size_t>(st.size);
  std::vector<unsigned char> buf;
  std::size_t have = 0;
  while (true) {
    // Stop at the declared size, asking for one more byte to reach EOF, where
    // libzip checks the CRC and notices a member longer than declared.
    const std::size_t want = have < declared ? std::min<std::size_t>(declared - have, 1u << 20) : 1;
    if (buf.size() < have + want) buf.resize(std::max(have + want, std::min(declared, 2 * buf.size())));
    const zip_int64_t r = zip_fread(f.get(), buf.data() + have, want);
    if (r < 0) throw Error(where + ": cannot read: " + std::string(zip_file_strerror(f.get())));
    if (r == 0) break;
    have += static_cast<std::size_t>(r);
    if (have > declared) throw Error(where + ": member is longer than the zip directory says");
  }
  if (have < declared)
    throw Error(where + ": truncated member: expected " + std::to_string(declared) +
                " bytes, found " + std::to_string(have));
  buf.resize(have);
  return buf;
}

}  // namespace

// ---- NpyArray ----------------------------------------------------------------

std::size_t NpyArray::count() const {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

template <> const char* npy_descr<float>() { return "<f4"; }
template <> const char* npy_descr<double>() { return "<f8"; }
template <> const char* npy_descr<std::int32_t>() { return "<i4"; }
template <> const char* npy_descr<std::int64_t>() { return "<i8"; }
template <> const char* npy_descr<std::uint32_t>() { return "<u4"; }
template <> const char* npy_descr<std::uint64_t>() { return "<u8"; }
template <> const char* npy_descr<std::uint8_t>() { return "|u1"; }
template <> const char* npy_descr<bool>() { return "|b1"; }

template <class T>
NpyArray NpyArray::from(const std::vector<std::size_t>& shape, const T* data) {
  static_assert(sizeof(bool) == 1);
  NpyArray a;
  a.descr = npy_descr<T>();
  a.shape = shape;
  std::size_t nbytes = 0;
  if (!byte_count(shape, sizeof(T), nbytes))
    throw Error("NpyArray::from: shape " + shape_str(shape) + " is too large");
  const std::size_t n = nbytes / sizeof(T);
  a.bytes.resize(nbytes);
  for (std::size_t i = 0; i < n; ++i) {
    T v = data[i];
    if constexpr (std::is_same_v<T, bool>) v = v ? true : false;  // store 0/1 only
    v = byteswap_if_big(v);
    std::memcpy(a.bytes.data() + i * sizeof(T), &v, sizeof(T));
  }
  return a;
}

template <class T>
std::vector<T> NpyArray::as() const {
  if (descr != npy_descr<T>())
    throw Error("NpyArray: array has dtype " + descr + ", requested " + npy_descr<T>());
  std::size_t expected = 0;
  if (!byte_count(shape, sizeof(T), expected) || bytes.size() != expected)
    throw Error("NpyArray: " + data_mismatch(expected, descr, shape, bytes.size()));
  const std::size_t n = expected / sizeof(T);
  std::vector<T> out(n);
  if constexpr (std::is_same_v<T, bool>) {
    for (std::size_t i = 0; i < n; ++i) out[i] = bytes[i] != 0;
  } else {
    if (n) std::memcpy(out.data(), bytes.data(), expected);
    if constexpr (std::endian::native == std::endian::big)
      for (auto& v : out) v = byteswap_if_big(v);
  }
  return out;
}

#define CONVNET_NPY_INSTANTIATE(T)                                                  \
  template NpyArray NpyArray::from<T>(const std::vector<std::size_t>&, const T*); \
  template std::vector<T> NpyArray::as<T>() const;
CONVNET_NPY_INSTANTIATE(float)
CONVNET_NPY_INSTANTIATE(double)
CONVNET_NPY_INSTANTIATE(std::int32_t)
CONVNET_NPY_INSTANTIATE(std::int64_t)
CONVNET_NPY_INSTANTIATE(std::uint32_t)
CONVNET_NPY_INSTANTIATE(std::uint64_t)
CONVNET_NPY_INSTANTIATE(std::uint8_t)
CONVNET_NPY_INSTANTIATE(bool)
#undef CONVNET_NPY_INSTANTIATE

// ---- save ----------------------------------------------------------------------

void save_npz(const std::string& path, const NpzArchive& arrays) {
  // Build every .npy first: libzip reads them at zip_close.
  std::vector<std::string> members;
  members.reserve(arrays.size());
  for (const auto& [name, a] : arrays) {
    const std::string where = path + ": " + name;
    if (name.empty()) throw Error(path + ": array name is empty");
    if (name.find('\0') != std::string::npos) throw Error(where + ": array name contains a NUL byte");
    const std::size_t itemsize = itemsize_of(a.descr);
    if (itemsize == 0) throw Error(where + ": unsupported dtype '" + a.descr + "'");
    if (a.shape.size() > kMaxDims)
      throw Error(where + ": more than " + std::to_string(kMaxDims) + " dimensions");
    std::size_t expected = 0;
    if (!byte_count(a.shape, itemsize, expected))
      throw Error(where + ": shape " + shape_str(a.shape) + " is too large");
    if (a.bytes.size() != expected)
      throw Error(where + ": " + data_mismatch(expected, a.descr, a.shape, a.bytes.size()));
    std::string m = npy_header(a);
    m.append(reinterpret_cast<const char*>(a.bytes.data()), a.bytes.size());
    members.push_back(std::move(m));
  }

  std::string zip_bytes;
  if (arrays.empty()) {
    // libzip writes nothing for an empty archive; np.savez writes the bare end record.
    zip_bytes.assign("PK\x05\x06", 4);
    zip_bytes.append(18, '\0');
  } else {
    zip_error_t err;
    zip_error_init(&err);
    std::unique_ptr<zip_source_t, SourceFreer> src(zip_source_buffer_create(nullptr, 0, 0, &err));
    if (!src) throw Error(path + ": cannot create zip in memory: " + take_error(&err));
    std::unique_ptr<zip_t, ZipCloser> za(zip_open_from_source(src.get(), ZIP_TRUNCATE, &err));
    if (!za) throw Error(path + ": cannot create zip in memory: " + take_error(&err));
    zip_source_keep(src.get());  // we read the result from src after zip_close

    // Same timestamp as np.savez (1980-01-01 00:00), so equal arrays give equal files.
    std::tm tm{};
    tm.tm_year = 80;
    tm.tm_mday = 1;
    tm.tm_isdst = -1;
    const std::time_t mtime = std::mktime(&tm);
    std::size_t k = 0;
    for (const auto& [name, a] : arrays) {
      const std::string& m = members[k++];
      const std::string member_name = name + ".npy";
      zip_source_t* s = zip_source_buffer(za.get(), m.data(), m.size(), 0);
      if (!s) throw Error(path + ": " + member_name + ": " + zip_strerror(za.get()));
      const zip_int64_t idx = zip_file_add(za.get(), member_name.c_str(), s, ZIP_FL_ENC_UTF_8);
      if (idx < 0) {
        zip_source_free(s);
        throw Error(path + ": " + member_name + ": " + zip_strerror(za.get()));
      }
      const auto i = static_cast<zip_uint64_t>(idx);
      if (zip_set_file_compression(za.get(), i, ZIP_CM_STORE, 0) != 0 ||
          (mtime != static_cast<std::time_t>(-1) && zip_file_set_mtime(za.get(), i, mtime, 0) != 0))
        throw Error(path + ": " + member_name + ": " + zip_strerror(za.get()));
    }
    if (zip_close(za.get()) != 0) throw Error(path + ": cannot write zip: " + zip_strerror(za.get()));
    za.release();  // zip_close freed it

    zip_stat_t st;
    if (zip_source_stat(src.get(), &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
        zip_source_open(src.get()) != 0)
      throw Error(path + ": cannot read zip from memory");
    zip_bytes.resize(static_cast<std::size_t>(st.size));
    const zip_int64_t r = zip_source_read(src.get(), zip_bytes.data(), st.size);
    zip_source_close(src.get());
    if (r < 0 || static_cast<zip_uint64_t>(r) != st.size) throw Error(path + ": cannot read zip from memory");
  }
  members.clear();
  write_file_atomic(path, zip_bytes);
}

// ---- load ----------------------------------------------------------------------

NpzArchive load_npz_bytes(std::string_view contents, const std::string& name) {
  if (contents.empty()) throw Error(name + ": not a zip archive (empty file)");
  zip_error_t err;
  zip_error_init(&err);
  std::unique_ptr<zip_source_t, SourceFreer> src(
      zip_source_buffer_create(contents.data(), contents.size(), 0, &err));
  if (!src) throw Error(name + ": cannot read: " + take_error(&err));
  std::unique_ptr<zip_t, ZipCloser> za(zip_open_from_source(src.get(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
  if (!za) {
    const int code = zip_error_code_zip(&err);
    zip_error_fini(&err);
    if (code == ZIP_ER_NOZIP) throw Error(name + ": not a zip archive");
    if (code == ZIP_ER_EXISTS) throw Error(name + ": corrupt zip archive: duplicate member names");
    throw Error(name + ": corrupt zip archive: " + zip_error_text(code));
  }
  src.release();  // owned by the archive now

  NpzArchive out;
  const zip_int64_t n = zip_get_num_entries(za.get(), 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    zip_stat_t st;
    if (zip_stat_index(za.get(), index, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
        !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) ||
        !(st.valid & ZIP_STAT_COMP_METHOD))
      throw Error(name + ": corrupt zip archive: entry " + std::to_string(i) + ": " + zip_strerror(za.get()));
    const std::string member = st.name;
    const std::string where = name + ": " + member;
    if (member.size() < 4 || member.compare(member.size() - 4, 4, ".npy") != 0)
      throw Error(where + ": not a .npy member");
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
      throw Error(where + ": unsupported compression method " + std::to_string(st.comp_method) +
                  " (expected stored or deflate)");
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
      throw Error(where + ": encrypted members are not supported");
    // Deflate expands at most 1032:1 (zlib's figure); a larger claim is a corrupt directory.
    const zip_uint64_t max_size = st.comp_method == ZIP_CM_STORE ? st.comp_size
                                  : st.comp_size > (UINT64_MAX - 4096) / 1040
                                      ? UINT64_MAX
                                      : st.comp_size * 1040 + 4096;
    if (st.size > max_size || st.size > SIZE_MAX / 2)
      throw Error(where + ": corrupt zip archive: size " + std::to_string(st.size) +
                  " does not fit compressed size " + std::to_string(st.comp_size));
    std::vector<unsigned char> buf = read_member(za.get(), index, st, where);
    NpyArray a;
    parse_npy(buf, where, a);
    const std::string key = member.substr(0, member.size() - 4);
    if (!out.emplace(key, std::move(a)).second) throw Error(where + ": duplicate array " + key);
  }
  return out;
}

NpzArchive load_npz(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang; we refuse anything but a regular file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw Error(path + ": cannot open: " + std::strerror(EISDIR));
  if (!S_ISREG(st.st_mode)) throw Error(path + ": cannot open: not a regular file");
  std::string contents(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t have = 0;
  while (have < contents.size()) {
    const ssize_t r = ::read(fd, contents.data() + have, contents.size() - have);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Error(path + ": cannot read: " + std::strerror(errno));
    }
    if (r == 0) break;  // shrank while we read: parse what is there
    have += static_cast<std::size_t>(r);
  }
  contents.resize(have);
  return load_npz_bytes(contents, path);
}

// ---- typed access --------------------------------------------------------------

const NpyArray& require(const NpzArchive& a, const std::string& file, const std::string& name,
                        const std::string& descr, const std::vector<std::size_t>& shape) {
  const auto it = a.find(name);
  if (it == a.end()) throw Error(file + ": missing array " + name);
  const NpyArray& arr = it->second;
  if (arr.descr != descr) throw Error(file + ": " + name + " has dtype " + arr.descr + ", expected " + descr);
  if (arr.shape != shape)
    throw Error(file + ": " + name + " has shape " + shape_str(arr.shape) + ", expected " + shape_str(shape));
  return arr;
}

}  // namespace convnet
