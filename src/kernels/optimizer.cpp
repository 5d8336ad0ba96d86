// The optimizers' update loops, one parameter at a time. Built with
// -fno-math-errno (CMakeLists.txt): with no errno to set, sqrt vectorises;
// it still rounds as IEEE requires, so the float64 path stays NumPy's.
#include <cmath>
#include <type_traits>

#include "kernels.hpp"

namespace convnet::kernels {

namespace {
// A state that decays geometrically (Adam's m and v, momentum's v, RMSprop's
// h) for a parameter whose gradient stays 0 (a dead ReLU unit) sinks into
// float subnormals after a few hundred steps, and subnormal arithmetic is
// ~100x slower. Below 1e-30 such a value cannot move a parameter: set it to
// 0. float only: float64 runs stay NumPy's arithmetic, untouched.
template <class T>
inline T flush_tiny(T x) {
  if constexpr (std::is_same_v<T, float>)
    return std::fabs(x) < 1e-30f ? 0.0f : x;
  else
    return x;
}
}  // namespace

template <class T>
void sgd_update(std::size_t n, T lr, const T* g, T* p) {
  for (std::size_t i = 0; i < n; ++i) p[i] -= lr * g[i];
}

template <class T>
void momentum_update(std::size_t n, T lr, T momentum, const T* g, T* v, T* p) {
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = flush_tiny(momentum * v[i] - lr * g[i]);
    p[i] += v[i];
  }
}

template <class T>
void nesterov_update(std::size_t n, T lr, T momentum, const T* g, T* v, T* p) {
  for (std::size_t i = 0; i < n; ++i) {
    v[i] *= momentum;
    v[i] = flush_tiny(v[i] - lr * g[i]);
    p[i] += momentum * momentum * v[i];
    p[i] -= (T(1) + momentum) * lr * g[i];
  }
}

template <class T>
void adagrad_update(std::size_t n, T lr, const T* g, T* h, T* p) {
  for (std::size_t i = 0; i < n; ++i) {
    h[i] += g[i] * g[i];
    p[i] -= lr * g[i] / (std::sqrt(h[i]) + T(1e-7));
  }
}

template <class T>
void rmsprop_update(std::size_t n, T lr, T decay_rate, const T* g, T* h, T* p) {
  for (std::size_t i = 0; i < n; ++i) {
    h[i] *= decay_rate;
    h[i] = flush_tiny(h[i] + (T(1) - decay_rate) * g[i] * g[i]);
    p[i] -= lr * g[i] / (std::sqrt(h[i]) + T(1e-7));
  }
}

template <class T>
void adam_update(std::size_t n, T lr_t, T one_m_beta1, T one_m_beta2, const T* g, T* m, T* v, T* p) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (std::size_t i = 0; i < n; ++i) {
    m[i] = flush_tiny(m[i] + one_m_beta1 * (g[i] - m[i]));
    v[i] = flush_tiny(v[i] + one_m_beta2 * (g[i] * g[i] - v[i]));
    p[i] -= lr_t * m[i] / (std::sqrt(v[i]) + T(1e-7));
  }
}

#define CONVNET_INSTANTIATE(T)                                                      \
  template void sgd_update<T>(std::size_t, T, const T*, T*);                        \
  template void momentum_update<T>(std::size_t, T, T, const T*, T*, T*);            \
  template void nesterov_update<T>(std::size_t, T, T, const T*, T*, T*);            \
  template void adagrad_update<T>(std::size_t, T, const T*, T*, T*);                \
  template void rmsprop_update<T>(std::size_t, T, T, const T*, T*, T*);             \
  template void adam_update<T>(std::size_t, T, T, T, const T*, T*, T*, T*);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(double)
#undef CONVNET_INSTANTIATE

}  // namespace convnet::kernels
