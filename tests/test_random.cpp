// RandomState against NumPy's legacy np.random: golden streams written by
// tools/reference/make_golden.py (tests/data/numpy/), compared with ==.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "convnet/core/error.hpp"
#include "convnet/core/random.hpp"

namespace {

using convnet::RandomState;

const std::vector<std::uint32_t> kSeeds = {0U, 1U, 42U, 12345U, 4294967295U};

std::string golden_path(const std::string& name) {
  return std::string(CONVNET_SOURCE_DIR) + "/tests/data/numpy/" + name;
}

// Non-comment lines of a golden file; fails the test if the file is missing.
std::vector<std::string> read_lines(const std::string& name) {
  std::ifstream in(golden_path(name));
  EXPECT_TRUE(in.good()) << "cannot open " << golden_path(name);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  return lines;
}

// strtod round-trips repr() exactly; reject anything it did not fully parse.
double parse_double(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  EXPECT_TRUE(end != s.c_str() && *end == '\0') << "bad double '" << s << "'";
  return v;
}

std::uint64_t parse_u64(const std::string& s) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  EXPECT_TRUE(end != s.c_str() && *end == '\0') << "bad integer '" << s << "'";
  return v;
}

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string seed_file(const char* stem, std::uint32_t seed) {
  return std::string(stem) + "_seed" + std::to_string(seed) + ".txt";
}

// Compares a whole stream and reports the first mismatch only.
template <class Next, class Parse>
void expect_stream(const std::string& file, Next next, Parse parse, std::size_t min_count) {
  auto lines = read_lines(file);
  ASSERT_GE(lines.size(), min_count) << file;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto want = parse(lines[i]);
    auto got = next();
    if (got != want) {
      ADD_FAILURE() << file << ": value " << i << " is " << exact(static_cast<double>(got))
                    << ", NumPy gives " << lines[i];
      return;
    }
  }
}

// Independent truth for the generator itself: std::mt19937 uses the same
// init_genrand seeding and tempering.
TEST(RandomState, Uint32MatchesStdMt19937) {
  for (std::uint32_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomState rs(seed);
    std::mt19937 ref(seed);
    for (int i = 0; i < 5000; ++i) {
      std::uint32_t want = ref();
      std::uint32_t got = rs.next_uint32();
      ASSERT_EQ(got, want) << "draw " << i;
    }
  }
  // The reference value of MT19937: 10000th output for seed 5489.
  RandomState rs(5489);
  for (int i = 0; i < 9999; ++i) rs.next_uint32();
  EXPECT_EQ(rs.next_uint32(), 4123659995U);
}

TEST(RandomState, RandomSampleMatchesNumPy) {
  for (std::uint32_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomState rs(seed);
    expect_stream(seed_file("random_sample", seed), [&] { return rs.random_sample(); },
                  parse_double, 100);
  }
}

TEST(RandomState, RandnMatchesNumPy) {
  for (std::uint32_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomState rs(seed);
    expect_stream(seed_file("randn", seed), [&] { return rs.randn(); }, parse_double, 2000);
  }
}

// The notebook's batch_mask = np.random.choice(5000, 100), iteration after iteration.
TEST(RandomState, ChoiceMatchesNumPy) {
  for (std::uint32_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto lines = read_lines(seed_file("choice", seed));
    ASSERT_EQ(lines.size() % 100, 0U);
    ASSERT_GE(lines.size(), 2000U);
    RandomState rs(seed);
    std::vector<std::int64_t> batch(100);
    for (std::size_t it = 0; it < lines.size() / 100; ++it) {
      rs.choice(5000, batch.size(), batch.data());
      for (std::size_t j = 0; j < batch.size(); ++j) {
        std::int64_t want = static_cast<std::int64_t>(parse_u64(lines[it * 100 + j]));
        ASSERT_EQ(batch[j], want) << "batch " << it << ", index " << j;
      }
    }
  }
}

// One stream mixing randn, choice, randint, random_sample and a reseed: the
// cached second Gaussian must survive the calls in between, and a reseed must drop it.
TEST(RandomState, MixedCallsMatchNumPy) {
  for (std::uint32_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto lines = read_lines(seed_file("mixed", seed));
    ASSERT_GE(lines.size(), 100U);
    RandomState rs(seed);
    int reseeds = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::istringstream ls(lines[i]);
      std::string op, value;
      ls >> op >> value;
      SCOPED_TRACE("line " + std::to_string(i) + ": " + lines[i]);
      if (op == "randn") {
        ASSERT_EQ(exact(rs.randn()), exact(parse_double(value)));
      } else if (op == "random_sample") {
        ASSERT_EQ(exact(rs.random_sample()), exact(parse_double(value)));
      } else if (op.rfind("choice", 0) == 0) {
        std::uint32_t idx = 0;
        rs.choice(parse_u64(op.substr(6)), 1, &idx);
        ASSERT_EQ(idx, parse_u64(value));
      } else if (op.rfind("randint", 0) == 0) {
        ASSERT_EQ(rs.randint(parse_u64(op.substr(7))), parse_u64(value));
      } else if (op == "seed") {
        rs.seed_(static_cast<std::uint32_t>(parse_u64(value)));
        ++reseeds;
      } else {
        FAIL() << "unknown op '" << op << "'";
      }
    }
    EXPECT_EQ(reseeds, 1);
  }
}

// state() after np.random.seed(42); randn(3) equals NumPy's get_state(), and
// set_state() of NumPy's state continues NumPy's stream.
TEST(RandomState, StateMatchesNumPyGetState) {
  auto lines = read_lines("state_seed42.txt");
  ASSERT_EQ(lines.size(), 6U);
  auto field = [&](std::size_t i, const std::string& name) {
    std::istringstream ls(lines[i]);
    std::string tag;
    ls >> tag;
    EXPECT_EQ(tag, name);
    std::vector<std::string> out;
    for (std::string w; ls >> w;) out.push_back(w);
    return out;
  };
  RandomState::State np_state;
  np_state.pos = static_cast<int>(parse_u64(field(0, "pos").at(0)));
  np_state.has_gauss = static_cast<int>(parse_u64(field(1, "has_gauss").at(0)));
  np_state.gauss = parse_double(field(2, "gauss").at(0));
  auto key = field(3, "key");
  ASSERT_EQ(key.size(), static_cast<std::size_t>(RandomState::kStateLen));
  for (std::size_t i = 0; i < key.size(); ++i)
    np_state.key[i] = static_cast<std::uint32_t>(parse_u64(key[i]));
  auto randn_after = field(4, "randn");
  auto choice_after = field(5, "choice60000");
  ASSERT_EQ(np_state.has_gauss, 1);

  RandomState rs(42);
  for (int i = 0; i < 3; ++i) rs.randn();
  const auto& s = rs.state();
  EXPECT_EQ(s.pos, np_state.pos);
  EXPECT_EQ(s.has_gauss, np_state.has_gauss);
  EXPECT_EQ(exact(s.gauss), exact(np_state.gauss));
  EXPECT_TRUE(s.key == np_state.key) << "MT19937 key differs from NumPy's get_state()";

  RandomState other(7);
  other.randn();  // leave a cached value that set_state must overwrite
  other.set_state(np_state);
  for (const auto& v : randn_after) EXPECT_EQ(exact(other.randn()), exact(parse_double(v)));
  for (const auto& v : choice_after) EXPECT_EQ(other.randint(60000), parse_u64(v));
}

// Draws a mix of everything, for the round-trip tests.
std::vector<double> draw_mix(RandomState& rs) {
  std::vector<double> out;
  for (int i = 0; i < 700; ++i) {  // crosses a 624-word reload
    out.push_back(rs.randn());
    out.push_back(static_cast<double>(rs.randint(60000)));
    if (i % 3 == 0) out.push_back(rs.random_sample());
  }
  return out;
}

TEST(RandomState, StateRoundTripContinuesStream) {
  for (int pending : {0, 1}) {
    SCOPED_TRACE(pending ? "with a cached Gaussian" : "without a cached Gaussian");
    RandomState rs(12345);
    for (int i = 0; i < 4 + pending; ++i) rs.randn();  // 4: cache empty, 5: one pending
    RandomState::State saved = rs.state();
    ASSERT_EQ(saved.has_gauss, pending);
    std::vector<double> first = draw_mix(rs);

    RandomState restored(99);
    restored.randn();
    restored.set_state(saved);
    EXPECT_EQ(restored.state().has_gauss, pending);
    std::vector<double> second = draw_mix(restored);
    ASSERT_EQ(first.size(), second.size());
    for (std::size_t i = 0; i < first.size(); ++i)
      ASSERT_EQ(exact(first[i]), exact(second[i])) << "value " << i;

    // Rewinding the same object works too.
    rs.set_state(saved);
    EXPECT_EQ(exact(rs.randn()), exact(first[0]));
  }
}

TEST(RandomState, SetStateRejectsInvalidState) {
  RandomState rs(0);
  RandomState::State bad = rs.state();
  for (int pos : {-1, RandomState::kStateLen + 1, 100000}) {
    bad.pos = pos;
    EXPECT_THROW(rs.set_state(bad), convnet::Error) << "pos " << pos;
  }
  bad = rs.state();
  bad.has_gauss = 2;
  EXPECT_THROW(rs.set_state(bad), convnet::Error);
  // Boundary positions are valid: 624 means "reload on next draw".
  RandomState ref(0);
  bad = rs.state();
  bad.pos = RandomState::kStateLen;
  EXPECT_NO_THROW(rs.set_state(bad));
  EXPECT_EQ(rs.next_uint32(), ref.next_uint32());
  // The rejected calls left the stream where it was.
  EXPECT_EQ(rs.next_uint32(), ref.next_uint32());
}

TEST(RandomState, RandintEmptyRangeThrows) {
  RandomState rs(0);
  EXPECT_THROW(rs.randint(0), convnet::Error);
  // np.random.randint(0, 1) is 0 and draws nothing.
  RandomState ref(0);
  EXPECT_EQ(rs.randint(1), 0U);
  EXPECT_EQ(rs.next_uint32(), ref.next_uint32());
}

}  // namespace
