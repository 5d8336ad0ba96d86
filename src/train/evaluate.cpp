#include "convnet/train/evaluate.hpp"

#include <algorithm>
#include <string>

#include "convnet/core/error.hpp"

namespace convnet {

template <class T>
Evaluator<T>::Evaluator(std::size_t batch_size, bool normalize) : batch_size_(batch_size), normalize_(normalize) {
  if (batch_size_ == 0) throw Error("evaluation batch size must be >= 1");
}

template <class T>
std::size_t Evaluator<T>::count_correct(Network<T>& net, const Dataset& d, std::vector<std::int32_t>* predicted) {
  if (predicted) predicted->resize(d.count);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < d.count; i += batch_size_) {
    const std::size_t n = std::min(batch_size_, d.count - i);
    slice_batch(d, i, n, normalize_, false, x_, t_);
    const std::vector<std::int32_t>& p = net.predict_classes(x_);
    for (std::size_t j = 0; j < n; ++j) correct += p[j] == t_[j];
    if (predicted) std::copy(p.begin(), p.end(), predicted->begin() + std::ptrdiff_t(i));
  }
  return correct;
}

template <class T>
std::size_t Evaluator<T>::count_correct(Network<T>& net, const Dataset& d, std::size_t begin, std::size_t n) {
  if (begin > d.count || n > d.count - begin)
    throw Error("evaluation: images [" + std::to_string(begin) + ", " + std::to_string(begin + n) +
                ") are not inside the " + std::to_string(d.count) + " of the data set");
  std::size_t correct = 0;
  for (std::size_t i = begin; i < begin + n; i += batch_size_) {
    const std::size_t m = std::min(batch_size_, begin + n - i);
    slice_batch(d, i, m, normalize_, false, x_, t_);
    const std::vector<std::int32_t>& p = net.predict_classes(x_);
    for (std::size_t j = 0; j < m; ++j) correct += p[j] == t_[j];
  }
  return correct;
}

template <class T>
double Evaluator<T>::accuracy(Network<T>& net, const Dataset& d) {
  return d.count ? double(count_correct(net, d)) / double(d.count) : 0.0;
}

template class Evaluator<float>;
template class Evaluator<double>;

}  // namespace convnet
