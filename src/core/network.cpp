#include "convnet/core/network.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/kernels.hpp"

namespace convnet {

template <class T>
std::size_t Network<T>::count_correct(const Tensor<T>& x, const std::vector<std::int32_t>& t) {
  const Tensor<T>& y = predict(x, Mode::Eval);
  const std::size_t N = y.shape(0), M = y.shape(1);
  if (t.size() != N)
    throw Error("accuracy: " + std::to_string(t.size()) + " labels for " + std::to_string(N) + " inputs");
  return kernels::count_correct(N, M, y.data(), t.data());
}

template <class T>
const std::vector<std::int32_t>& Network<T>::predict_classes(const Tensor<T>& x) {
  const Tensor<T>& y = predict(x, Mode::Eval);
  classes_.resize(y.shape(0));
  kernels::argmax_rows(y.shape(0), y.shape(1), y.data(), classes_.data());
  return classes_;
}

// notebook In [9] accuracy(), batch by batch through predict(x, Eval).
template <class T>
double Network<T>::accuracy(const Tensor<T>& x, const std::vector<std::int32_t>& t, std::size_t batch_size) {
  if (x.ndim() != 4 || x.shape(0) != t.size())
    throw Error("accuracy: " + std::to_string(t.size()) + " labels for input " + shape_str(x.shape()));
  if (batch_size == 0) throw Error("accuracy: batch_size must be >= 1");
  const std::size_t N = x.shape(0);
  if (N == 0) return 0.0;
  const std::size_t per = x.size() / N;
  std::size_t acc = 0;
  for (std::size_t i = 0; i < N; i += batch_size) {  // the last partial batch too
    const std::size_t n = std::min(batch_size, N - i);
    batch_x_.resize({n, x.shape(1), x.shape(2), x.shape(3)}, false);
    std::memcpy(batch_x_.data(), x.data() + i * per, n * per * sizeof(T));
    batch_t_.assign(t.begin() + long(i), t.begin() + long(i + n));
    acc += count_correct(batch_x_, batch_t_);
  }
  return double(acc) / double(N);
}

template class Network<float>;
template class Network<double>;

}  // namespace convnet
