#pragma once
// convnet::Error — what the library throws (DESIGN.md §5): the message names
// the input and what was expected, e.g.
// "train-images-idx3-ubyte: expected 47040016 bytes for 60000x28x28, found 1024".
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace convnet {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failure of the machine rather than of the input: a full disk, an
// unwritable file. The CLI exits 1 for these, 2 for other Errors.
class IoError : public Error {
 public:
  using Error::Error;
};

// "(2, 1, 4, 4)" — shapes written as NumPy prints them.
inline std::string shape_str(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace convnet
