#pragma once
// Numbers and arrays printed the way Python and NumPy print them, so that the
// CLI's lines read exactly like the notebook's.
#include <string>

#include "convnet/core/tensor.hpp"

namespace convnet {

// repr(float): the shortest string that reads back to the same double, in
// Python's style ("0.86", "1.0", "1e-05", "0.0001", "1e+16").
std::string python_float(double v);

// str(ndarray) for a float array, as NumPy prints it with default options
// (integer-valued arrays as "92." aligned; others with up to 8 decimals).
std::string numpy_str(const Tensor<double>& a);

}  // namespace convnet
