// Small elementwise / reduction kernels shared by the layers.
#include "kernels.hpp"

namespace convnet::kernels {

// NumPy's pairwise summation of a contiguous run (numpy/core/src/umath/
// loops_utils.h.src): used where the notebook calls np.sum over a row, so a
// float64 run adds in the same order as NumPy.
template <class T>
T pairwise_sum(const T* a, std::size_t n) {
  if (n < 8) {
    T res = T(0);
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    T r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

template float pairwise_sum<float>(const float*, std::size_t);
template double pairwise_sum<double>(const double*, std::size_t);

}  // namespace convnet::kernels
