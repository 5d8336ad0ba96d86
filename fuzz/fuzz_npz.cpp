// libFuzzer target: the .npz reader (libzip + the .npy header parser), from
// memory. Every input must give an archive or a convnet::Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "convnet/core/error.hpp"
#include "convnet/io/npz.hpp"
#include "fuzz_common.hpp"

namespace {

// Reads the array back as its own type, which re-checks bytes vs shape.
template <class T>
void touch(const convnet::NpyArray& a) {
  const std::vector<T> v = a.as<T>();
  FUZZ_CHECK(v.size() == a.count());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const convnet::NpzArchive ar = convnet::load_npz_bytes(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.npz");
    for (const auto& [name, a] : ar) {
      const std::string& d = a.descr;
      if (d == "<f4") touch<float>(a);
      else if (d == "<f8") touch<double>(a);
      else if (d == "<i4") touch<std::int32_t>(a);
      else if (d == "<i8") touch<std::int64_t>(a);
      else if (d == "<u4") touch<std::uint32_t>(a);
      else if (d == "<u8") touch<std::uint64_t>(a);
      else if (d == "|u1") touch<std::uint8_t>(a);
      else if (d == "|b1") touch<bool>(a);
      else FUZZ_CHECK(!"load_npz_bytes returned an unsupported descr");
      // A wrong type must be refused, never reinterpreted.
      try {
        (void)(d == "<f8" ? a.as<float>() : std::vector<float>(a.as<double>().size()));
        FUZZ_CHECK(!"as<T>() accepted a mismatched descr");
      } catch (const convnet::Error&) {
      }
    }
  } catch (const convnet::Error&) {
  }
  return 0;
}
