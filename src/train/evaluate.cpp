#include "convnet/train/evaluate.hpp"

#include <algorithm>
#include <string>

#include "convnet/core/error.hpp"
#include "convnet/core/memory.hpp"

namespace convnet {

std::size_t eval_forward_size(const Architecture& arch, Kernels kernels, std::size_t elem_size,
                              std::size_t batch_size) {
  constexpr std::size_t kImages = 500, kBytes = std::size_t(64) << 20;
  if (kernels == Kernels::NumpyExact || batch_size == 0 || batch_size >= kImages) return batch_size;
  std::size_t per_image = 0;  // saturating: an absurd network keeps batch_size
  for (const LayerFootprint& l : sequential_footprint(arch, kernels)) per_image = sat_add(per_image, l.eval_sample);
  const std::size_t batch_bytes = std::max<std::size_t>(1, sat_mul(sat_mul(per_image, elem_size), batch_size));
  return batch_size * std::max<std::size_t>(1, std::min(kImages / batch_size, kBytes / batch_bytes));
}

template <class T>
std::size_t Evaluator<T>::forward_size(const Network<T>& net) {
  if (&net != sized_) {  // once per network: architecture() allocates
    const auto* seq = dynamic_cast<const Sequential<T>*>(&net);
    step_ = seq ? eval_forward_size(seq->architecture(), seq->kernels(), sizeof(T), batch_size_) : batch_size_;
    sized_ = &net;
  }
  return step_;
}

template <class T>
Evaluator<T>::Evaluator(std::size_t batch_size, bool normalize) : batch_size_(batch_size), normalize_(normalize) {
  if (batch_size_ == 0) throw Error("evaluation batch size must be >= 1");
}

template <class T>
std::size_t Evaluator<T>::count_correct(Network<T>& net, const Dataset& d, std::vector<std::int32_t>* predicted) {
  if (predicted) predicted->resize(d.count);
  std::size_t correct = 0;
  const std::size_t step = forward_size(net);
  for (std::size_t i = 0; i < d.count; i += step) {
    const std::size_t n = std::min(step, d.count - i);
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
  const std::size_t step = forward_size(net);
  for (std::size_t i = begin; i < begin + n; i += step) {
    const std::size_t m = std::min(step, begin + n - i);
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
