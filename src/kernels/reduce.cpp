// Reductions over the rows of a score matrix: np.argmax(y, axis=1).
#include "kernels.hpp"

namespace convnet::kernels {

namespace {
// np.argmax: strict '>' keeps the first maximum.
template <class T>
std::size_t argmax(const T* row, std::size_t M) {
  std::size_t best = 0;
  for (std::size_t j = 1; j < M; ++j)
    if (row[j] > row[best]) best = j;
  return best;
}
}  // namespace

template <class T>
void argmax_rows(std::size_t N, std::size_t M, const T* x, std::int32_t* out) {
  for (std::size_t i = 0; i < N; ++i) out[i] = std::int32_t(argmax(x + i * M, M));
}

template <class T>
std::size_t count_correct(std::size_t N, std::size_t M, const T* y, const std::int32_t* t) {
  std::size_t correct = 0;
  for (std::size_t i = 0; i < N; ++i) correct += (std::int32_t(argmax(y + i * M, M)) == t[i]);
  return correct;
}

#define CONVNET_INSTANTIATE(T)                                                      \
  template void argmax_rows<T>(std::size_t, std::size_t, const T*, std::int32_t*); \
  template std::size_t count_correct<T>(std::size_t, std::size_t, const T*, const std::int32_t*);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(double)
#undef CONVNET_INSTANTIATE

}  // namespace convnet::kernels
