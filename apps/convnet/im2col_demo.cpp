// convnet im2col-demo: the notebook's In [3]-In [5].
#include <cmath>
#include <ctime>
#include <cstdio>

#include "cli_util.hpp"
#include "commands.hpp"
#include "convnet/io/format.hpp"
#include "convnet/core/im2col.hpp"
#include "convnet/core/random.hpp"

namespace convnet::cli {

void add_im2col_demo(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("im2col-demo",
                                 "Print a random (2,1,4,4) input and its im2col with 3x3 filters (notebook In [3]-[5])");
  static std::uint32_t seed = 0;
  static bool seeded = false;
  cmd->add_option("--seed", seed, "np.random.seed(N) before drawing (omitted: a seed from the clock)")
      ->check(int_range(0, 4294967295))
      ->each([](const std::string&) { seeded = true; });
  cmd->callback([&run]() {
    run = []() {
      RandomState rng(seeded ? seed : std::uint32_t(std::time(nullptr)));
      // input_data = np.random.rand(2, 1, 4, 4) * 100 // 1
      Tensor<double> input_data({2, 1, 4, 4});
      for (auto& v : input_data) v = std::floor(rng.random_sample() * 100.0);
      std::printf("input_data: \n%s\n", numpy_str(input_data).c_str());
      // filter_h = 3, filter_w = 3, stride = 1, pad = 0
      const Tensor<double> col = im2col(input_data, 3, 3, 1, 0);
      std::printf("col: \n%s\n", numpy_str(col).c_str());
      return 0;
    };
  });
}

}  // namespace convnet::cli
