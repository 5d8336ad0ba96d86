// convnet predict: classify PNG pictures with a saved model.
#include <algorithm>
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
  const Architecture arch = net->architecture();
  const auto& in = arch.input;
  if (in[0] != 1)
    throw Error(a.model + ": predict reads grey pictures, but the model expects " + std::to_string(in[0]) +
                " channels");
  const std::size_t K = arch.classes();
  const std::size_t top = std::min(a.top, K);
  // Like cat or grep: a bad file is reported and skipped, the others are
  // still classified, and the exit status says that something failed.
  std::vector<GrayImage> pics;
  std::vector<std::string> names;
  int status = 0;
  for (const auto& path : a.images) {
    try {
      const GrayImage g = read_png_gray(path);
      // MNIST-like: ink scaled to 20/28 of the frame, as LeCun's preprocessing.
      GrayImage m = to_mnist_like(g, in[1], std::max<std::size_t>(1, in[1] * 20 / 28));
      if (m.cols != in[2])
        throw Error(path + ": cannot fit a " + std::to_string(in[1]) + "x" + std::to_string(in[2]) + " model input");
      // A blank picture is still classified (one line per readable file), but
      // the answer means nothing: say so.
      if (std::all_of(m.pixels.begin(), m.pixels.end(), [](auto v) { return v == 0; })) {
        const bool constant = !g.pixels.empty() && std::all_of(g.pixels.begin(), g.pixels.end(), [&](auto v) { return v == g.pixels[0]; });
        std::fprintf(stderr, "convnet: warning: %s: %s; it holds no digit\n", path.c_str(),
                     constant ? ("the picture is constant (all pixels " + std::to_string(g.pixels[0]) + ")").c_str()
                              : "nothing stands out from the background");
      }
      pics.push_back(std::move(m));
      names.push_back(path);
    } catch (const IoError& e) {
      std::fprintf(stderr, "convnet: error: %s\n", e.what());
      status = std::max(status, 1);
    } catch (const Error& e) {
      std::fprintf(stderr, "convnet: error: %s\n", e.what());
      status = 2;
    }
  }
  if (pics.empty()) return status;
  // In batches of 100, as the model's memory was checked for.
  const std::size_t per = in[1] * in[2];
  Tensor<float> prob({pics.size(), K}), x, p;
  for (std::size_t b = 0; b < pics.size(); b += 100) {
    const std::size_t n = std::min<std::size_t>(100, pics.size() - b);
    x.resize({n, 1, in[1], in[2]}, false);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < per; ++j)
        x[i * per + j] = float(pics[b + i].pixels[j]) / 255.0f;  // as load_mnist(normalize=True)
    softmax(net->predict(x, Mode::Eval), p);
    std::copy(p.begin(), p.end(), prob.begin() + std::ptrdiff_t(b * K));
  }
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < pics.size(); ++i) {
    const float* p = prob.data() + i * K;
    std::vector<std::size_t> order(K);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto l, auto r) { return p[l] > p[r]; });
    if (a.json) {
      nlohmann::json item;
      item["file"] = names[i];
      item["prediction"] = order[0];
      for (std::size_t k = 0; k < top; ++k)
        item["top"].push_back({{"class", order[k]}, {"probability", double(p[order[k]])}});
      out.push_back(item);
    } else {
      std::printf("%s: %zu  (", names[i].c_str(), order[0]);
      for (std::size_t k = 0; k < top; ++k) std::printf("%s%zu: %.4f", k ? ", " : "", order[k], double(p[order[k]]));
      std::printf(")\n");
    }
  }
  if (a.json) std::printf("%s\n", out.dump(2).c_str());
  return status;
}
}  // namespace

void add_predict(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("predict", "Classify PNG pictures (any size, grey or colour) with a saved model");
  static PredictArgs a;
  cmd->add_option("--model", a.model, "Model file written by 'convnet train --save'")->required();
  cmd->add_option("images", a.images,
                  "PNG files. One that cannot be read is named on stderr and skipped; the others are still "
                  "classified, and the exit status is then 2. A blank picture is classified with a warning")
      ->required();
  cmd->add_option("--top", a.top, "How many classes to list")->capture_default_str()->check(positive_int());
  cmd->add_flag("--json", a.json, "Machine-readable output");
  cmd->callback([&run]() { run = [] { return run_predict(a); }; });
}

}  // namespace convnet::cli
