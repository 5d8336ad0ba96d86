#pragma once
// RandomState: NumPy's legacy np.random stream (np.random.seed(S)), so that a
// C++ run and the notebook draw the same numbers from the same seed.
//  - MT19937 seeded as RandomState(S) (init_genrand: the standard 32-bit seeding)
//  - random_sample(): 53-bit double from two 32-bit draws
//  - randn(): the legacy polar (Marsaglia) Gaussian, caching its second value
//  - choice(n, k): legacy randint(0, n, k): masked rejection sampling
// The algorithms are written out in docs/NUMPY.md.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace convnet {

class RandomState {
 public:
  static constexpr int kStateLen = 624;

  explicit RandomState(std::uint32_t seed = 0) { seed_(seed); }
  void seed_(std::uint32_t seed);

  std::uint32_t next_uint32();      // one MT19937 output
  double random_sample();           // [0, 1), np.random.random_sample()
  double randn();                   // standard normal, np.random.randn()
  // One integer uniform in [0, n), as np.random.randint(0, n) (legacy, masked).
  std::uint64_t randint(std::uint64_t n);
  // np.random.choice(n, k) with replacement: k indices in [0, n).
  template <class Int>
  void choice(std::uint64_t n, std::size_t k, Int* out) {
    for (std::size_t i = 0; i < k; ++i) out[i] = static_cast<Int>(randint(n));
  }

  // The whole state, for checkpoints: NumPy's get_state() fields.
  struct State {
    std::array<std::uint32_t, kStateLen> key{};
    int pos = kStateLen;
    int has_gauss = 0;
    double gauss = 0.0;
  };
  const State& state() const { return s_; }
  void set_state(const State& s);

 private:
  void reload_();
  State s_;
};

}  // namespace convnet
