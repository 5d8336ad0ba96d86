// .npz reading/writing, checked against files NumPy writes and reads, against
// hand-made zip archives (built here with zlib's crc32) and hand-written bytes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "convnet/core/error.hpp"
#include "file_util.hpp"
#include "convnet/io/npz.hpp"

namespace fs = std::filesystem;
using convnet::NpyArray;
using convnet::NpzArchive;

namespace {

using convnet::test::read_file;
using convnet::test::TempDir;
using convnet::test::write_raw;

void put16(std::string& s, unsigned v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& s, std::uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}
unsigned get16(const std::string& s, std::size_t at) {
  return static_cast<unsigned char>(s[at]) | static_cast<unsigned char>(s[at + 1]) << 8;
}
std::uint32_t get32(const std::string& s, std::size_t at) { return get16(s, at) | get16(s, at + 2) << 16; }

// A stored (uncompressed) zip archive written by hand, as in PKWARE's APPNOTE.
// corrupt_crc writes a wrong CRC for every member.
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& members,
                     bool corrupt_crc = false) {
  std::string out, cd;
  for (const auto& [name, data] : members) {
    std::uint32_t crc = static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    if (corrupt_crc) crc ^= 1;
    const auto offset = static_cast<std::uint32_t>(out.size());
    put32(out, 0x04034b50);
    put16(out, 20);    // version needed
    put16(out, 0);     // flags
    put16(out, 0);     // stored
    put16(out, 0);     // time
    put16(out, 0x21);  // date 1980-01-01
    put32(out, crc);
    put32(out, static_cast<std::uint32_t>(data.size()));
    put32(out, static_cast<std::uint32_t>(data.size()));
    put16(out, static_cast<unsigned>(name.size()));
    put16(out, 0);
    out += name;
    out += data;
    put32(cd, 0x02014b50);
    put16(cd, 20);
    put16(cd, 20);
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0x21);
    put32(cd, crc);
    put32(cd, static_cast<std::uint32_t>(data.size()));
    put32(cd, static_cast<std::uint32_t>(data.size()));
    put16(cd, static_cast<unsigned>(name.size()));
    put16(cd, 0);  // extra
    put16(cd, 0);  // comment
    put16(cd, 0);  // disk
    put16(cd, 0);  // internal attributes
    put32(cd, 0);  // external attributes
    put32(cd, offset);
    cd += name;
  }
  const auto cd_offset = static_cast<std::uint32_t>(out.size());
  out += cd;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<unsigned>(members.size()));
  put16(out, static_cast<unsigned>(members.size()));
  put32(out, static_cast<std::uint32_t>(cd.size()));
  put32(out, cd_offset);
  put16(out, 0);
  return out;
}

// The stored member `name` of a zip, found by walking its local headers;
// also checks the member is stored, with a correct CRC.
std::string stored_member(const std::string& zip, const std::string& name) {
  std::size_t at = 0;
  while (at + 30 <= zip.size() && get32(zip, at) == 0x04034b50) {
    const unsigned method = get16(zip, at + 8);
    const std::uint32_t crc = get32(zip, at + 14), size = get32(zip, at + 18);
    const unsigned nlen = get16(zip, at + 26), xlen = get16(zip, at + 28);
    const std::string member = zip.substr(at + 30, nlen);
    const std::string data = zip.substr(at + 30 + nlen + xlen, size);
    if (member == name) {
      EXPECT_EQ(method, 0u) << name << " is not stored";
      EXPECT_EQ(crc, crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
      return data;
    }
    at += 30 + nlen + xlen + size;
  }
  ADD_FAILURE() << "no stored member " << name;
  return {};
}

// A .npy file: magic, version, header length, the dict padded with spaces to
// a multiple of 64 and ended by '\n', then data.
std::string npy(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string h = dict;
  const std::size_t total = prefix + h.size() + 1;
  h.append((64 - total % 64) % 64, ' ');
  h += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  if (major == 1)
    put16(out, static_cast<unsigned>(h.size()));
  else
    put32(out, static_cast<std::uint32_t>(h.size()));
  return out + h + data;
}

template <class T>
std::string bytes_of(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// Runs load_npz and returns the message of the convnet::Error it throws ("" if none).
std::string load_error(const std::string& path) {
  try {
    convnet::load_npz(path);
  } catch (const convnet::Error& e) {
    return e.what();
  }
  return "";
}

bool have_numpy() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

// Runs a Python script with the directory as argv[1]; returns the exit status, output in `out`.
int run_python(const TempDir& dir, const std::string& script, std::string& out) {
  write_raw(dir / "script.py", script);
  const std::string cmd = "/usr/bin/python3 '" + (dir / "script.py") + "' '" + dir.path.string() +
                          "' >'" + (dir / "py.out") + "' 2>&1";
  const int status = std::system(cmd.c_str());
  out = read_file(dir / "py.out");
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// One array of every supported dtype, including a scalar, 0-d, empty and 4-D case.
NpzArchive sample_archive() {
  NpzArchive a;
  std::vector<float> w(30 * 1 * 5 * 5);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.01f);
  for (auto& x : w) x = normal(rng);
  a["W1"] = NpyArray::from<float>({30, 1, 5, 5}, w.data());
  const std::vector<double> d = {0.1, -2.5e300, M_PI, -0.0};
  a["d"] = NpyArray::from<double>({4}, d.data());
  const std::int64_t scalar = -1234567890123;
  a["scalar"] = NpyArray::from<std::int64_t>({}, &scalar);
  const std::vector<std::int32_t> i32 = {std::numeric_limits<std::int32_t>::min(), -1, 0, 2147483647};
  a["i32"] = NpyArray::from<std::int32_t>({2, 2}, i32.data());
  const std::vector<std::uint32_t> u32 = {0, 4294967295u, 17};
  a["u32"] = NpyArray::from<std::uint32_t>({3, 1}, u32.data());
  const std::vector<std::uint64_t> u64 = {18446744073709551615ull, 1};
  a["u64"] = NpyArray::from<std::uint64_t>({2}, u64.data());
  const std::vector<std::uint8_t> u8 = {0, 1, 254, 255, 128, 7};
  a["u8"] = NpyArray::from<std::uint8_t>({1, 2, 3}, u8.data());
  const bool b[4] = {true, false, false, true};
  a["b"] = NpyArray::from<bool>({2, 2}, b);
  a["empty"] = NpyArray::from<float>({0, 3}, nullptr);
  const float one = 1.5f;
  a["one"] = NpyArray::from<float>({1}, &one);
  return a;
}

}  // namespace

// ---- round trip ---------------------------------------------------------------

TEST(NpzRoundTrip, EveryDtypeShapeAndScalar) {
  TempDir dir;
  const NpzArchive a = sample_archive();
  convnet::save_npz(dir / "m.npz", a);
  const NpzArchive b = convnet::load_npz(dir / "m.npz");
  ASSERT_EQ(b.size(), a.size());
  for (const auto& [name, arr] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    const NpyArray& got = b.at(name);
    EXPECT_EQ(got.descr, arr.descr) << name;
    EXPECT_EQ(got.shape, arr.shape) << name;
    EXPECT_EQ(got.bytes, arr.bytes) << name;
  }
  EXPECT_TRUE(b.at("scalar").shape.empty());
  EXPECT_EQ(b.at("scalar").count(), 1u);
  EXPECT_EQ(b.at("scalar").as<std::int64_t>(), std::vector<std::int64_t>{-1234567890123});
  EXPECT_EQ(b.at("empty").count(), 0u);
  EXPECT_TRUE(b.at("empty").as<float>().empty());
  EXPECT_EQ(b.at("b").as<bool>(), (std::vector<bool>{true, false, false, true}));
  EXPECT_EQ(b.at("u64").as<std::uint64_t>()[0], 18446744073709551615ull);
  EXPECT_EQ(b.at("d").as<double>()[2], M_PI);
  EXPECT_TRUE(std::signbit(b.at("d").as<double>()[3]));
}

TEST(NpzRoundTrip, EmptyArchiveIsTheBareEndRecord) {
  TempDir dir;
  convnet::save_npz(dir / "e.npz", {});
  // What np.savez("e.npz") writes: only the 22-byte end-of-central-directory record.
  EXPECT_EQ(read_file(dir / "e.npz"), std::string("PK\x05\x06", 4) + std::string(18, '\0'));
  EXPECT_TRUE(convnet::load_npz(dir / "e.npz").empty());
}

TEST(NpzRoundTrip, SavingTwiceGivesTheSameBytes) {
  TempDir dir;
  convnet::save_npz(dir / "a.npz", sample_archive());
  convnet::save_npz(dir / "b.npz", sample_archive());
  EXPECT_EQ(read_file(dir / "a.npz"), read_file(dir / "b.npz"));
}

// The member bytes are those NumPy 1.24 writes: header padded so that magic,
// length and header fill 128 bytes, with room for shape[0] to grow to 21 digits.
TEST(NpzFormat, MembersAreStoredNpyV1LikeNumpy) {
  TempDir dir;
  NpzArchive a;
  std::vector<float> w(750);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i) * 0.5f;
  a["W1"] = NpyArray::from<float>({30, 1, 5, 5}, w.data());
  const std::int64_t seven = 7;
  a["s"] = NpyArray::from<std::int64_t>({}, &seven);
  convnet::save_npz(dir / "m.npz", a);
  const std::string zip = read_file(dir / "m.npz");

  const std::string w1 = stored_member(zip, "W1.npy");
  const std::string dict1 = "{'descr': '<f4', 'fortran_order': False, 'shape': (30, 1, 5, 5), }";
  std::string expect1 = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict1;
  expect1.append(128 - 1 - expect1.size(), ' ');
  expect1 += '\n';
  ASSERT_EQ(w1.size(), 128u + 3000u);
  EXPECT_EQ(w1.substr(0, 128), expect1);
  EXPECT_EQ(w1.substr(128), bytes_of(w));

  const std::string s = stored_member(zip, "s.npy");
  const std::string dict2 = "{'descr': '<i8', 'fortran_order': False, 'shape': (), }";
  std::string expect2 = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict2;
  expect2.append(127 - expect2.size(), ' ');
  expect2 += '\n';
  EXPECT_EQ(s, expect2 + bytes_of(std::vector<std::int64_t>{7}));
}

TEST(NpzFormat, ReadsHandMadeZipAndVersion2Headers) {
  TempDir dir;
  const std::vector<float> v = {1.0f, -2.0f, 3.25f};
  const std::vector<std::uint8_t> u = {9, 8};
  write_raw(dir / "h.npz",
            make_zip({{"a.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", bytes_of(v))},
                      // version 2.0, keys in another order, double quotes, no spaces, Python 2 long
                      {"b.npy", npy("{\"shape\":(1,2L),\"descr\":\"|u1\",\"fortran_order\":False}", bytes_of(u), 2)},
                      // Fortran order is harmless for 1-d arrays
                      {"c.npy", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", bytes_of(v))}}));
  const NpzArchive a = convnet::load_npz(dir / "h.npz");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a.at("a").as<float>(), v);
  EXPECT_EQ(a.at("b").shape, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(a.at("b").as<std::uint8_t>(), u);
  EXPECT_EQ(a.at("c").as<float>(), v);
}

// ---- NumPy interop ----------------------------------------------------------------

TEST(NpzNumpy, LoadsWhatNumpyWrites) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
  TempDir dir;
  const std::string script = R"PY(
import sys, numpy as np
d = sys.argv[1]
arrays = dict(
    W1=(np.arange(60, dtype=np.float32).reshape(3, 1, 4, 5) / 8 - 2),
    d=np.array([0.1, -2.5e300, np.pi]),
    n=np.int64(-1234567890123),
    i32=np.array([[-2147483648, 5]], dtype=np.int32),
    u32=np.array([4294967295, 3], dtype=np.uint32),
    u64=np.array([18446744073709551615], dtype=np.uint64),
    u8=np.arange(250, 256, dtype=np.uint8).reshape(2, 3),
    b=np.array([True, False, True]),
)
np.savez(d + "/stored.npz", **arrays)
np.savez_compressed(d + "/deflated.npz", **arrays)
)PY";
  std::string out;
  ASSERT_EQ(run_python(dir, script, out), 0) << out;

  std::vector<float> w(60);
  for (int i = 0; i < 60; ++i) w[i] = static_cast<float>(i) / 8.0f - 2.0f;
  for (const char* file : {"stored.npz", "deflated.npz"}) {
    SCOPED_TRACE(file);
    const std::string path = dir / file;
    const NpzArchive a = convnet::load_npz(path);
    EXPECT_EQ(a.size(), 8u);
    EXPECT_EQ(convnet::require(a, path, "W1", "<f4", {3, 1, 4, 5}).as<float>(), w);
    EXPECT_EQ(convnet::require(a, path, "d", "<f8", {3}).as<double>(), (std::vector<double>{0.1, -2.5e300, M_PI}));
    EXPECT_EQ(convnet::require(a, path, "n", "<i8", {}).as<std::int64_t>(), std::vector<std::int64_t>{-1234567890123});
    EXPECT_EQ(convnet::require(a, path, "i32", "<i4", {1, 2}).as<std::int32_t>(),
              (std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::min(), 5}));
    EXPECT_EQ(convnet::require(a, path, "u32", "<u4", {2}).as<std::uint32_t>(),
              (std::vector<std::uint32_t>{4294967295u, 3}));
    EXPECT_EQ(convnet::require(a, path, "u64", "<u8", {1}).as<std::uint64_t>(),
              std::vector<std::uint64_t>{18446744073709551615ull});
    EXPECT_EQ(convnet::require(a, path, "u8", "|u1", {2, 3}).as<std::uint8_t>(),
              (std::vector<std::uint8_t>{250, 251, 252, 253, 254, 255}));
    EXPECT_EQ(convnet::require(a, path, "b", "|b1", {3}).as<bool>(), (std::vector<bool>{true, false, true}));
  }
}

TEST(NpzNumpy, NumpyLoadsWhatWeWrite) {
  if (!have_numpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
  TempDir dir;
  NpzArchive a;
  std::vector<float> w(60);
  for (int i = 0; i < 60; ++i) w[i] = static_cast<float>(i) / 8.0f - 2.0f;
  a["W1"] = NpyArray::from<float>({3, 1, 4, 5}, w.data());
  const std::vector<double> d = {0.1, -2.5e300, M_PI};
  a["d"] = NpyArray::from<double>({3}, d.data());
  const std::int64_t n = -1234567890123;
  a["n"] = NpyArray::from<std::int64_t>({}, &n);
  const std::vector<std::int32_t> i32 = {std::numeric_limits<std::int32_t>::min(), 5};
  a["i32"] = NpyArray::from<std::int32_t>({1, 2}, i32.data());
  const std::vector<std::uint32_t> u32 = {4294967295u, 3};
  a["u32"] = NpyArray::from<std::uint32_t>({2}, u32.data());
  const std::uint64_t u64 = 18446744073709551615ull;
  a["u64"] = NpyArray::from<std::uint64_t>({1}, &u64);
  const std::vector<std::uint8_t> u8 = {250, 251, 252, 253, 254, 255};
  a["u8"] = NpyArray::from<std::uint8_t>({2, 3}, u8.data());
  const bool b[3] = {true, false, true};
  a["b"] = NpyArray::from<bool>({3}, b);
  convnet::save_npz(dir / "ours.npz", a);

  const std::string script = R"PY(
import sys, zipfile, numpy as np
d = sys.argv[1]
expected = dict(
    W1=(np.arange(60, dtype=np.float32).reshape(3, 1, 4, 5) / 8 - 2),
    d=np.array([0.1, -2.5e300, np.pi]),
    n=np.array(-1234567890123, dtype=np.int64),
    i32=np.array([[-2147483648, 5]], dtype=np.int32),
    u32=np.array([4294967295, 3], dtype=np.uint32),
    u64=np.array([18446744073709551615], dtype=np.uint64),
    u8=np.arange(250, 256, dtype=np.uint8).reshape(2, 3),
    b=np.array([True, False, True]),
)
with np.load(d + "/ours.npz", allow_pickle=False) as f:
    assert sorted(f.files) == sorted(expected), f.files
    for k, v in expected.items():
        got = f[k]
        assert got.dtype == v.dtype, (k, got.dtype, v.dtype)
        assert got.shape == v.shape, (k, got.shape, v.shape)
        assert np.array_equal(got, v), (k, got, v)
# Every member stored, like np.savez, and byte-identical to what np.save writes.
z = zipfile.ZipFile(d + "/ours.npz")
assert z.testzip() is None
for info in z.infolist():
    assert info.compress_type == zipfile.ZIP_STORED, info
    import io
    buf = io.BytesIO()
    np.save(buf, expected[info.filename[:-4]])
    assert z.read(info) == buf.getvalue(), info.filename
print("OK")
)PY";
  std::string out;
  EXPECT_EQ(run_python(dir, script, out), 0) << out;
  EXPECT_EQ(out, "OK\n");
}

// ---- errors ----------------------------------------------------------------------------

TEST(NpzErrors, NotAZipEmptyOrTruncated) {
  TempDir dir;
  const std::string p = dir / "model.npz";
  write_raw(p, "this is not a zip file at all, just some text\n");
  EXPECT_EQ(load_error(p), p + ": not a zip archive");
  write_raw(p, "");
  EXPECT_EQ(load_error(p), p + ": not a zip archive (empty file)");

  convnet::save_npz(p, sample_archive());
  const std::string good = read_file(p);
  write_raw(p, good.substr(0, good.size() - 1));  // end record cut
  EXPECT_EQ(load_error(p), p + ": not a zip archive");
  write_raw(p, good.substr(0, good.size() / 2));
  EXPECT_EQ(load_error(p), p + ": not a zip archive");
}

TEST(NpzErrors, CannotOpen) {
  TempDir dir;
  EXPECT_EQ(load_error(dir / "nope.npz"), (dir / "nope.npz") + ": cannot open: No such file or directory");
  EXPECT_EQ(load_error(dir.path.string()), dir.path.string() + ": cannot open: Is a directory");
}

TEST(NpzErrors, BadMemberContents) {
  TempDir dir;
  const std::string p = dir / "model.npz";
  const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (30, 1, 5, 5), }";
  const std::string data3000(3000, '\0');
  struct Case {
    std::string member, contents, message;
  };
  const std::vector<Case> cases = {
      {"W1.npy", std::string("\x93NUMPZ\x01\x00", 8) + std::string(200, ' '), "W1.npy: bad .npy magic"},
      {"W1.npy", "", "W1.npy: bad .npy magic"},
      {"W1.npy", npy(f4, std::string(12, '\x01')),
       "W1.npy: expected 3000 bytes of data for <f4 (30, 1, 5, 5), found 12"},
      {"W1.npy", npy(f4, data3000 + "x"), "W1.npy: expected 3000 bytes of data for <f4 (30, 1, 5, 5), found 3001"},
      {"W1.npy", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (30, 1, 5, 5), }", data3000),
       "W1.npy: fortran_order arrays are not supported"},
      {"W1.npy", npy("{'descr': '>f4', 'fortran_order': False, 'shape': (30, 1, 5, 5), }", data3000),
       "W1.npy: unsupported dtype '>f4' (expected <f4, <f8, <i4, <i8, <u4, <u8, |u1 or |b1)"},
      {"W1.npy", npy("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (3,), }", std::string(12, '\0')),
       "W1.npy: bad .npy header: structured dtypes are not supported (descr must be a string)"},
      {"W1.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", std::string(12, '\0')),
       "W1.npy: bad .npy header: shape must be a tuple, e.g. (5,)"},
      {"W1.npy", npy("{'descr': '<f4', 'shape': (3,), }", std::string(12, '\0')),
       "W1.npy: bad .npy header: missing key 'fortran_order'"},
      {"W1.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1, }", std::string(12, '\0')),
       "W1.npy: bad .npy header: unexpected key 'x'"},
      {"W1.npy", npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", std::string(12, '\0')),
       "W1.npy: bad .npy header: duplicate key 'descr'"},
      {"W1.npy", npy("{'descr': '<f4, 'fortran_order': False, 'shape': (3,), }", std::string(12, '\0')),
       "W1.npy: bad .npy header: expected ',' or '}'"},
      {"W1.npy", npy("{'descr' '<f4', 'fortran_order': False, 'shape': (3,), }", std::string(12, '\0')),
       "W1.npy: bad .npy header: expected ':'"},
      {"W1.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), ", std::string(12, '\0')),
       "W1.npy: bad .npy header: expected a quoted string"},
      {"W1.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'descr", std::string(12, '\0')),
       "W1.npy: bad .npy header: unterminated string"},
      {"W1.npy", npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }", std::string(12, '\0')),
       "W1.npy: bad .npy header: fortran_order must be True or False"},
      {"W1.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", std::string(12, '\0')),
       "W1.npy: bad .npy header: expected a non-negative integer in shape"},
      {"W1.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", ""),
       "W1.npy: bad .npy header: dimension too large in shape"},
      {"W1.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", ""),
       "W1.npy: shape (4294967296, 4294967296, 16) is too large"},
      {"W1.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } junk", std::string(12, '\0')),
       "W1.npy: bad .npy header: unexpected text after '}'"},
      {"W1.npy", std::string("\x93NUMPY\x01\x00\x10\x00", 10) + "{'descr': '<f4'}", "W1.npy: bad .npy header: does not end in a newline"},
      {"W1.npy", std::string("\x93NUMPY\x01\x00\xff\xff", 10) + "{}\n", "W1.npy: truncated .npy header: expected 65535 bytes, found 3"},
      {"W1.npy", std::string("\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12) + "{}\n",
       "W1.npy: .npy header length 2147483647 exceeds 1048576"},
      {"W1.npy", std::string("\x93NUMPY\x04\x00\x10\x00", 10) + std::string(15, ' ') + "\n",
       "W1.npy: unsupported .npy format version 4.0 (expected 1.0, 2.0 or 3.0)"},
      {"W1.txt", "hello", "W1.txt: not a .npy member"},
  };
  for (const Case& c : cases) {
    write_raw(p, make_zip({{c.member, c.contents}}));
    EXPECT_EQ(load_error(p), p + ": " + c.message);
  }
}

TEST(NpzErrors, CorruptCrcAndDuplicateNames) {
  TempDir dir;
  const std::string p = dir / "model.npz";
  const std::string member = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", std::string(8, '\x01'));
  write_raw(p, make_zip({{"W1.npy", member}}, /*corrupt_crc=*/true));
  EXPECT_EQ(load_error(p), p + ": W1.npy: cannot read: CRC error");
  write_raw(p, make_zip({{"W1.npy", member}, {"W1.npy", member}}));
  EXPECT_EQ(load_error(p), p + ": corrupt zip archive: duplicate member names");
}

TEST(NpzErrors, RequireChecksPresenceDtypeAndShape) {
  NpzArchive a;
  const std::vector<float> w(150);
  a["W1"] = NpyArray::from<float>({30, 1, 5}, w.data());
  auto message = [&](const std::string& name, const std::string& descr, std::vector<std::size_t> shape) {
    try {
      convnet::require(a, "model.npz", name, descr, shape);
    } catch (const convnet::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(message("W2", "<f4", {30, 1, 5}), "model.npz: missing array W2");
  EXPECT_EQ(message("W1", "<f4", {30, 1, 5, 5}), "model.npz: W1 has shape (30, 1, 5), expected (30, 1, 5, 5)");
  EXPECT_EQ(message("W1", "<f8", {30, 1, 5}), "model.npz: W1 has dtype <f4, expected <f8");
  EXPECT_EQ(message("W1", "<f4", {30, 1, 5}), "");
  EXPECT_EQ(&convnet::require(a, "model.npz", "W1", "<f4", {30, 1, 5}), &a.at("W1"));
}

TEST(NpzErrors, AsRefusesOtherTypes) {
  const float x = 1.0f;
  const NpyArray a = NpyArray::from<float>({}, &x);
  EXPECT_THROW(a.as<double>(), convnet::Error);
  EXPECT_THROW(a.as<std::int32_t>(), convnet::Error);
  EXPECT_THROW(a.as<std::uint32_t>(), convnet::Error);
  NpyArray broken = a;
  broken.bytes.pop_back();
  EXPECT_THROW(broken.as<float>(), convnet::Error);
  EXPECT_EQ(a.as<float>(), std::vector<float>{1.0f});
}

TEST(NpzErrors, SaveRefusesInconsistentArrays) {
  TempDir dir;
  const std::string p = dir / "bad.npz";
  NpzArchive a;
  std::vector<float> w(3);
  a["W1"] = NpyArray::from<float>({3}, w.data());
  a["W1"].shape = {30, 1, 5, 5};
  try {
    convnet::save_npz(p, a);
    ADD_FAILURE() << "no error";
  } catch (const convnet::Error& e) {
    EXPECT_EQ(std::string(e.what()), p + ": W1: expected 3000 bytes of data for <f4 (30, 1, 5, 5), found 12");
  }
  a["W1"] = NpyArray::from<float>({3}, w.data());
  a["W1"].descr = ">f4";
  EXPECT_THROW(convnet::save_npz(p, a), convnet::Error);
  EXPECT_FALSE(fs::exists(p));
  EXPECT_TRUE(fs::is_empty(dir.path));  // no temp file either
}

// ---- robustness: corrupted inputs only ever give convnet::Error --------------------------

TEST(NpzRobustness, MutatedAndRandomInputsThrowOnlyConvnetError) {
  TempDir dir;
  convnet::save_npz(dir / "good.npz", sample_archive());
  const std::string good = read_file(dir / "good.npz");
  // A deflated archive too, so the inflate path gets corrupted inputs.
  std::string deflated;
  if (have_numpy()) {
    std::string out;
    if (run_python(dir, "import sys, numpy as np\nnp.savez_compressed(sys.argv[1] + '/c.npz', a=np.arange(300.0).reshape(3, 100), b=np.zeros(5, np.uint8))\n",
                   out) == 0)
      deflated = read_file(dir / "c.npz");
  }
  std::mt19937_64 rng(12345);
  std::size_t loaded = 0, rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s = (iter % 2 == 1 && !deflated.empty()) ? deflated : good;
    switch (iter % 4) {
      case 0:  // flip a few bytes
        for (int k = 0, n = 1 + static_cast<int>(rng() % 8); k < n; ++k) s[rng() % s.size()] = static_cast<char>(rng());
        break;
      case 1:  // truncate
        s.resize(rng() % s.size());
        break;
      case 2:  // flip bytes inside the first member's .npy header
        for (int k = 0; k < 3; ++k) s[30 + 6 + rng() % 128] = static_cast<char>(rng());
        break;
      default:  // random bytes that start like a zip
        s = "PK\x03\x04";
        for (std::size_t k = 0, n = rng() % 512; k < n; ++k) s += static_cast<char>(rng());
    }
    try {
      convnet::load_npz_bytes(s, "fuzz.npz");
      ++loaded;
    } catch (const convnet::Error& e) {
      ++rejected;
      EXPECT_EQ(std::string(e.what()).rfind("fuzz.npz: ", 0), 0u) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "iteration " << iter << ": non-convnet exception: " << e.what();
    }
  }
  EXPECT_GT(rejected, 1000u);
  EXPECT_EQ(loaded + rejected, 3000u);
}
