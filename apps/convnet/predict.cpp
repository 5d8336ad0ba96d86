// convnet predict: classify PNG pictures with a saved model.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>

#include "cli_util.hpp"
#include "commands.hpp"
#include "convnet/convnet.hpp"

namespace convnet::cli {

namespace {
struct PredictArgs {
  std::string model;
  std::vector<std::string> images;
  bool json = false;
  std::size_t top = 3;
};

int run_predict(const PredictArgs& a) {
  auto net = load_model<float>(a.model);
  const auto& in = net->config().input_dim;
  if (in[0] != 1)
    throw Error(a.model + ": predict reads grey pictures, but the model expects " + std::to_string(in[0]) +
                " channels");
  const std::size_t K = net->config().output_size;
  const std::size_t top = std::min(a.top, K);
  // Read every picture first: a bad file fails the command before any output.
  std::vector<GrayImage> pics;
  for (const auto& path : a.images) {
    const GrayImage g = read_png_gray(path);
    // MNIST-like: ink scaled to 20/28 of the frame, as LeCun's preprocessing.
    pics.push_back(to_mnist_like(g, in[1], std::max<std::size_t>(1, in[1] * 20 / 28)));
    if (pics.back().cols != in[2])
      throw Error(path + ": cannot fit a " + std::to_string(in[1]) + "x" + std::to_string(in[2]) + " model input");
  }
  Tensor<float> x({pics.size(), 1, in[1], in[2]});
  for (std::size_t i = 0; i < pics.size(); ++i)
    for (std::size_t j = 0; j < in[1] * in[2]; ++j)
      x[i * in[1] * in[2] + j] = float(pics[i].pixels[j]) / 255.0f;  // as load_mnist(normalize=True)
  Tensor<float> prob;
  softmax(net->predict(x, Mode::Eval), prob);
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < pics.size(); ++i) {
    const float* p = prob.data() + i * K;
    std::vector<std::size_t> order(K);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto l, auto r) { return p[l] > p[r]; });
    if (a.json) {
      nlohmann::json item;
      item["file"] = a.images[i];
      item["prediction"] = order[0];
      for (std::size_t k = 0; k < top; ++k)
        item["top"].push_back({{"class", order[k]}, {"probability", double(p[order[k]])}});
      out.push_back(item);
    } else {
      std::printf("%s: %zu  (", a.images[i].c_str(), order[0]);
      for (std::size_t k = 0; k < top; ++k) std::printf("%s%zu: %.4f", k ? ", " : "", order[k], double(p[order[k]]));
      std::printf(")\n");
    }
  }
  if (a.json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
}  // namespace

void add_predict(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("predict", "Classify PNG pictures (any size, grey or colour) with a saved model");
  static PredictArgs a;
  cmd->add_option("--model", a.model, "Model file written by 'convnet train --save'")->required();
  cmd->add_option("images", a.images, "PNG files")->required();
  cmd->add_option("--top", a.top, "How many classes to list")->capture_default_str()->check(positive_int());
  cmd->add_flag("--json", a.json, "Machine-readable output");
  cmd->callback([&run]() { run = [] { return run_predict(a); }; });
}

}  // namespace convnet::cli
