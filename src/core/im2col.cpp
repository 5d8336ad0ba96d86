#include "convnet/core/im2col.hpp"

#include <string>

#include "kernels/kernels.hpp"

namespace convnet {

std::size_t conv_output_size(std::size_t size, std::size_t filter, std::size_t stride,
                             std::size_t pad, const char* what) {
  if (stride == 0) throw Error(std::string(what) + ": stride must be >= 1, got 0");
  if (filter == 0) throw Error(std::string(what) + ": filter size must be >= 1, got 0");
  if (filter > size + 2 * pad)
    throw Error(std::string(what) + ": filter " + std::to_string(filter) +
                " is larger than the padded input " + std::to_string(size) + " + 2*" +
                std::to_string(pad));
  return (size + 2 * pad - filter) / stride + 1;
}

namespace {
kernels::ConvGeom geom_of(const std::vector<std::size_t>& s, std::size_t fh, std::size_t fw,
                          std::size_t stride, std::size_t pad, const char* what) {
  if (s.size() != 4)
    throw Error(std::string(what) + ": expected an (N, C, H, W) input, got shape " + shape_str(s));
  conv_output_size(s[2], fh, stride, pad, what);
  conv_output_size(s[3], fw, stride, pad, what);
  return {s[0], s[1], s[2], s[3], fh, fw, stride, pad};
}
}  // namespace

template <class T>
Tensor<T> im2col(const Tensor<T>& x, std::size_t fh, std::size_t fw, std::size_t stride,
                 std::size_t pad) {
  const auto g = geom_of(x.shape(), fh, fw, stride, pad, "im2col");
  Tensor<T> col({g.rows(), g.cols()});
  kernels::im2col(g, x.data(), col.data());
  return col;
}

template <class T>
Tensor<T> col2im(const Tensor<T>& col, const std::vector<std::size_t>& input_shape,
                 std::size_t fh, std::size_t fw, std::size_t stride, std::size_t pad) {
  const auto g = geom_of(input_shape, fh, fw, stride, pad, "col2im");
  if (col.ndim() != 2 || col.shape(0) != g.rows() || col.shape(1) != g.cols())
    throw Error("col2im: expected col of shape " + shape_str({g.rows(), g.cols()}) + " for input " +
                shape_str(input_shape) + ", got " + shape_str(col.shape()));
  Tensor<T> img(input_shape);
  kernels::col2im(g, col.data(), img.data());
  return img;
}

template Tensor<float> im2col(const Tensor<float>&, std::size_t, std::size_t, std::size_t, std::size_t);
template Tensor<double> im2col(const Tensor<double>&, std::size_t, std::size_t, std::size_t, std::size_t);
template Tensor<float> col2im(const Tensor<float>&, const std::vector<std::size_t>&, std::size_t,
                              std::size_t, std::size_t, std::size_t);
template Tensor<double> col2im(const Tensor<double>&, const std::vector<std::size_t>&, std::size_t,
                               std::size_t, std::size_t, std::size_t);

}  // namespace convnet
