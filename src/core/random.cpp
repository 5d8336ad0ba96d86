#include "convnet/core/random.hpp"

#include <cmath>

#include "convnet/core/error.hpp"

namespace convnet {

// numpy/random/src/mt19937/mt19937.c: mt19937_seed == init_genrand.
void RandomState::seed_(std::uint32_t seed) {
  for (int pos = 0; pos < kStateLen; ++pos) {
    s_.key[pos] = seed;
    seed = 1812433253U * (seed ^ (seed >> 30)) + static_cast<std::uint32_t>(pos + 1);
  }
  s_.pos = kStateLen;
  s_.has_gauss = 0;
  s_.gauss = 0.0;
}

void RandomState::set_state(const State& s) {
  if (s.pos < 0 || s.pos > kStateLen || (s.has_gauss != 0 && s.has_gauss != 1))
    throw Error("RandomState: invalid state (pos " + std::to_string(s.pos) + ")");
  s_ = s;
}

// The MT19937 twist (Matsumoto & Nishimura).
void RandomState::reload_() {
  constexpr int N = kStateLen, M = 397;
  constexpr std::uint32_t kUpper = 0x80000000U, kLower = 0x7fffffffU, kMatrix = 0x9908b0dfU;
  auto& k = s_.key;
  int i = 0;
  for (; i < N - M; ++i) {
    std::uint32_t y = (k[i] & kUpper) | (k[i + 1] & kLower);
    k[i] = k[i + M] ^ (y >> 1) ^ (-(y & 1U) & kMatrix);
  }
  for (; i < N - 1; ++i) {
    std::uint32_t y = (k[i] & kUpper) | (k[i + 1] & kLower);
    k[i] = k[i + (M - N)] ^ (y >> 1) ^ (-(y & 1U) & kMatrix);
  }
  std::uint32_t y = (k[N - 1] & kUpper) | (k[0] & kLower);
  k[N - 1] = k[M - 1] ^ (y >> 1) ^ (-(y & 1U) & kMatrix);
  s_.pos = 0;
}

std::uint32_t RandomState::next_uint32() {
  if (s_.pos == kStateLen) reload_();
  std::uint32_t y = s_.key[s_.pos++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

// legacy_double: (a >> 5) * 2^26 + (b >> 6), over 2^53.
double RandomState::random_sample() {
  std::int32_t a = static_cast<std::int32_t>(next_uint32() >> 5);
  std::int32_t b = static_cast<std::int32_t>(next_uint32() >> 6);
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

// legacy_gauss: the polar method; each accepted pair yields two values,
// the second one kept for the next call.
double RandomState::randn() {
  if (s_.has_gauss) {
    s_.has_gauss = 0;
    double g = s_.gauss;
    s_.gauss = 0.0;
    return g;
  }
  double x1, x2, r2;
  do {
    x1 = 2.0 * random_sample() - 1.0;
    x2 = 2.0 * random_sample() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  double f = std::sqrt(-2.0 * std::log(r2) / r2);
  s_.gauss = f * x1;
  s_.has_gauss = 1;
  return f * x2;
}

// random_bounded_uint64_fill with use_masked=true, for a range that fits in
// 32 bits (buffered_bounded_masked_uint32): draw, mask to the smallest
// 2^k-1 >= rng, reject values above rng.
std::uint64_t RandomState::randint(std::uint64_t n) {
  if (n == 0) throw Error("RandomState::randint: high must be > 0");
  std::uint64_t rng = n - 1;
  if (rng == 0) return 0;
  if (rng > 0xFFFFFFFFULL)
    throw Error("RandomState::randint: ranges above 2^32 are not supported");
  if (rng == 0xFFFFFFFFULL) return next_uint32();
  std::uint32_t mask = static_cast<std::uint32_t>(rng);
  mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16;
  std::uint32_t v;
  while ((v = next_uint32() & mask) > rng) {
  }
  return v;
}

}  // namespace convnet
