#pragma once
// Running the convnet CLI from tests, and writing small IDX data sets.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "file_util.hpp"

namespace convnet::test {

struct CliResult {
  int status = -1;
  std::string out, err;
};

inline std::string slurp(const std::string& path) { return read_file(path); }

// A fresh, empty directory for one test.
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("convnet-test-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// Runs `convnet ARGS` through the shell (ARGS is shell-quoted by the caller).
inline CliResult run_cli(const std::string& args, const std::string& env = "") {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string tag = std::to_string(getpid()) + "-" + std::to_string(std::rand());
  const std::string out = (dir / ("cli-out-" + tag)).string(), err = (dir / ("cli-err-" + tag)).string();
  const std::string cmd = env + " " + std::string(CONVNET_CLI) + " " + args + " >" + out + " 2>" + err + " </dev/null";
  const int rc = std::system(cmd.c_str());
  CliResult r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

inline void put_be32(std::ofstream& f, std::uint32_t v) {
  const unsigned char b[4] = {std::uint8_t(v >> 24), std::uint8_t(v >> 16), std::uint8_t(v >> 8), std::uint8_t(v)};
  f.write(reinterpret_cast<const char*>(b), 4);
}

// Writes DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte: a toy data set
// whose class k is a bright horizontal bar at row 2+3k (learnable in a few
// steps), `rows`x`cols` pictures with some noise.
inline void write_toy_idx(const std::filesystem::path& dir, std::size_t ntrain, std::size_t ntest,
                          std::size_t rows = 28, std::size_t cols = 28, int max_label = 9) {
  std::filesystem::create_directories(dir);
  std::uint32_t seed = 12345;
  auto rnd = [&] { return (seed = seed * 1103515245u + 12345u) >> 16; };
  for (auto [prefix, n] : {std::pair{"train", ntrain}, {"t10k", ntest}}) {
    std::ofstream im(dir / (std::string(prefix) + "-images-idx3-ubyte"), std::ios::binary);
    std::ofstream lb(dir / (std::string(prefix) + "-labels-idx1-ubyte"), std::ios::binary);
    put_be32(im, 0x803), put_be32(im, std::uint32_t(n)), put_be32(im, std::uint32_t(rows)), put_be32(im, std::uint32_t(cols));
    put_be32(lb, 0x801), put_be32(lb, std::uint32_t(n));
    for (std::size_t i = 0; i < n; ++i) {
      const int label = int(i % std::size_t(max_label + 1));
      const char l = char(label);
      lb.write(&l, 1);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
          const bool bar = r == std::size_t(2 + 3 * (label % 9)) || (label == 9 && c == cols / 2);
          const char px = char(bar ? 200 + rnd() % 56 : rnd() % 30);
          im.write(&px, 1);
        }
    }
  }
}

}  // namespace convnet::test
