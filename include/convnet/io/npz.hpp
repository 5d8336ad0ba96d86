#pragma once
// NumPy's .npz files: a zip archive of "NAME.npy" members (docs/FORMATS.md).
// save_npz writes what np.savez writes (stored members, .npy format 1.0, the
// same header bytes); load_npz reads np.savez and np.savez_compressed files.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace convnet {

// One array as stored in a .npy file.
struct NpyArray {
  std::string descr;                 // "<f4", "<f8", "<i4", "<i8", "<u4", "<u8", "|u1", "|b1"
  std::vector<std::size_t> shape;    // () for a scalar
  std::vector<unsigned char> bytes;  // C-order little-endian data, size = count() * itemsize

  // Number of elements: the product of shape (1 for a scalar).
  std::size_t count() const;

  // An array of `shape` copied from data[0 .. product(shape)); descr follows T.
  // Defined for float, double, int32_t, int64_t, uint32_t, uint64_t, uint8_t, bool.
  template <class T>
  static NpyArray from(const std::vector<std::size_t>& shape, const T* data);

  // The elements as T; throws convnet::Error unless descr is exactly T's
  // (no conversions) and bytes has count() elements.
  template <class T>
  std::vector<T> as() const;
};

// Arrays by name (without ".npy"), ordered by name.
using NpzArchive = std::map<std::string, NpyArray>;

// The descr that NumPy writes for T on a little-endian machine, e.g. "<f4" for float.
template <class T>
const char* npy_descr();

// Writes `arrays` to `path` atomically (write_file_atomic); each becomes the
// stored member "NAME.npy". Throws convnet::Error for an array whose bytes do
// not match its descr and shape, or for an unsupported descr.
void save_npz(const std::string& path, const NpzArchive& arrays);

// Reads a .npz as NumPy writes it (stored or deflated members, .npy format
// 1.0/2.0/3.0 headers, C order). Errors name the file and the member, e.g.
// "model.npz: not a zip archive", "model.npz: W1.npy: bad .npy magic",
// "model.npz: W1.npy: expected 3000 bytes of data for <f4 (30, 1, 5, 5), found 12".
NpzArchive load_npz(const std::string& path);

// Same, from the file's contents in memory; `name` is used in messages.
// (This is also the entry point for fuzzing.)
NpzArchive load_npz_bytes(std::string_view contents, const std::string& name);

// The array `name` of `a`, checked: throws "model.npz: missing array W1",
// "model.npz: W1 has dtype <f8, expected <f4" or
// "model.npz: W1 has shape (30, 1, 5), expected (30, 1, 5, 5)".
const NpyArray& require(const NpzArchive& a, const std::string& file, const std::string& name,
                        const std::string& descr, const std::vector<std::size_t>& shape);

}  // namespace convnet
