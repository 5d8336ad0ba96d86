#pragma once
// im2col / col2im with exactly the notebook's layout (In [2], In [6]).
#include <cstddef>
#include <vector>

#include "convnet/core/tensor.hpp"

namespace convnet {

// Output size of a window sliding over `size` (floor division, as `//`).
// Throws convnet::Error when the window does not fit or stride is 0.
std::size_t conv_output_size(std::size_t size, std::size_t filter, std::size_t stride,
                             std::size_t pad, const char* what = "im2col");

// Image (N,C,H,W) -> 2-D (N*out_h*out_w, C*filter_h*filter_w).
// Rows are ordered (n, out_y, out_x) and columns (c, filter_y, filter_x).
template <class T>
Tensor<T> im2col(const Tensor<T>& input_data, std::size_t filter_h, std::size_t filter_w,
                 std::size_t stride = 1, std::size_t pad = 0);

// The exact adjoint of im2col: each column entry is added back to the pixel it
// came from (overlapping windows add up); padding is cropped.
template <class T>
Tensor<T> col2im(const Tensor<T>& col, const std::vector<std::size_t>& input_shape,
                 std::size_t filter_h, std::size_t filter_w, std::size_t stride = 1,
                 std::size_t pad = 0);

}  // namespace convnet
