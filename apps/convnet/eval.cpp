// convnet eval: a saved model's accuracy on the test set, its confusion
// matrix and per-class accuracy.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "commands.hpp"
#include "convnet/convnet.hpp"

namespace convnet::cli {

namespace {
struct EvalArgs {
  std::string model, data = "data/mnist";
  std::size_t test_size = 0;
  int threads = 0;
  bool json = false;
};

int run_eval(const EvalArgs& a) {
  set_num_threads(a.threads);
  auto net = load_model<float>(a.model);
  const Mnist mnist = load_mnist(a.data);
  if (a.test_size > mnist.test.count)
    throw Error("--test-size " + std::to_string(a.test_size) + ": " + a.data + " holds only " +
                std::to_string(mnist.test.count) + " test images");
  const Dataset test = mnist.test.head(a.test_size);
  const Architecture arch = net->architecture();
  const auto& in = arch.input;
  if (in[0] != test.channels || in[1] != test.rows || in[2] != test.cols)
    throw Error(a.model + ": the model takes input " + shape_str({in[0], in[1], in[2]}) + " but " + a.data +
                " holds images of " + shape_str({test.channels, test.rows, test.cols}));
  const std::size_t K = arch.classes();
  test.check_labels(K);  // labels 0..K-1 for the model's K outputs
  // The trainer's evaluation path, keeping every prediction.
  std::vector<std::int32_t> predicted;
  Evaluator<float>().count_correct(*net, test, &predicted);
  // confusion[true][predicted]
  std::vector<std::vector<std::size_t>> confusion(K, std::vector<std::size_t>(K, 0));
  for (std::size_t i = 0; i < test.count; ++i) ++confusion[test.labels[i]][std::size_t(predicted[i])];
  std::size_t correct = 0;
  for (std::size_t k = 0; k < K; ++k) correct += confusion[k][k];
  const double acc = test.count ? double(correct) / double(test.count) : 0.0;
  if (a.json) {
    nlohmann::json j;
    j["model"] = a.model;
    j["images"] = test.count;
    j["correct"] = correct;
    j["accuracy"] = acc;
    j["confusion"] = confusion;
    std::vector<nlohmann::json> per;
    for (std::size_t k = 0; k < K; ++k) {
      std::size_t tot = 0;
      for (auto v : confusion[k]) tot += v;
      per.push_back(tot ? nlohmann::json(double(confusion[k][k]) / double(tot)) : nlohmann::json(nullptr));
    }
    j["per_class_accuracy"] = per;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("accuracy: %s (%zu/%zu)\n\n", python_float(acc).c_str(), correct, test.count);
  std::printf("confusion matrix (rows: true class, columns: predicted)\n      ");
  for (std::size_t k = 0; k < K; ++k) std::printf("%6zu", k);
  std::printf("\n");
  for (std::size_t r = 0; r < K; ++r) {
    std::printf("%6zu", r);
    for (std::size_t c = 0; c < K; ++c) std::printf("%6zu", confusion[r][c]);
    std::printf("\n");
  }
  std::printf("\nper-class accuracy\n");
  for (std::size_t k = 0; k < K; ++k) {
    std::size_t tot = 0;
    for (auto v : confusion[k]) tot += v;
    if (tot)
      std::printf("%6zu  %.4f  (%zu/%zu)\n", k, double(confusion[k][k]) / double(tot), confusion[k][k], tot);
    else
      std::printf("%6zu  -       (no images)\n", k);
  }
  return 0;
}
}  // namespace

void add_eval(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("eval", "Accuracy, confusion matrix and per-class accuracy of a saved model");
  static EvalArgs a;
  cmd->add_option("--model", a.model, "Model file written by 'convnet train --save'")->required();
  cmd->add_option("--data", a.data, "Directory with the IDX files")->capture_default_str();
  cmd->add_option("--test-size", a.test_size, "Test images used, from the start (0 = all)")
      ->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--threads", a.threads, "Threads (0 = all cores)")->check(int_range(0, 1024));
  cmd->add_flag("--json", a.json, "Machine-readable output");
  cmd->callback([&run]() { run = [] { return run_eval(a); }; });
}

}  // namespace convnet::cli
