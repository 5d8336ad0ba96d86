// convnet train: notebook In [10]-In [16] — load MNIST, build SimpleConvNet,
// train with Adam, print the accuracy lines, plot, save.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "cli_util.hpp"
#include "commands.hpp"
#include "convnet/convnet.hpp"

namespace convnet::cli {

namespace {

struct TrainArgs {
  std::string data = "data/mnist";
  std::size_t train_size = 5000, test_size = 1000;
  std::size_t iters = 1000, batch_size = 100;
  std::string optimizer = "adam";
  double lr = 0;  // 0: the optimizer's default
  std::size_t filters = 30, filter_size = 5, pad = 0, stride = 1, hidden = 100;
  double weight_init_std = 0.01;
  std::size_t eval_interval = 10, print_interval = 100;
  std::uint32_t seed = 0;
  int threads = 0;
  bool quiet = false;
  bool numpy_compatible = false;
  std::string plot, loss_plot, metrics, save, timings, losses;
};

std::string metrics_csv(const std::vector<EvalRecord>& evals) {
  std::ostringstream os;
  os << "iter,loss,accr_train,accr_test,seconds\n";
  for (const auto& r : evals)
    os << r.iter << ',' << python_float(r.loss) << ',' << python_float(r.accr_train) << ','
       << python_float(r.accr_test) << ',' << python_float(std::round(r.seconds * 1e6) / 1e6) << '\n';
  return os.str();
}

template <class T>
int run_train(const TrainArgs& a) {
  // Fail before training, not after it, on outputs that cannot be written.
  for (auto [opt, path] : {std::pair{"--plot", &a.plot}, {"--loss-plot", &a.loss_plot},
                           {"--metrics", &a.metrics}, {"--save", &a.save},
                           {"--timings", &a.timings}, {"--losses", &a.losses}})
    if (!path->empty()) check_output_path(opt, *path);
  if (a.eval_interval && a.print_interval % a.eval_interval)
    throw Error("--print-interval " + std::to_string(a.print_interval) + " must be a multiple of --eval-interval " +
                std::to_string(a.eval_interval) + " (the printed accuracies are the evaluation's)");
  set_num_threads(a.threads);

  // In [10], In [11]
  const Mnist mnist = load_mnist(a.data);
  const Dataset x_train = mnist.train.head(a.train_size);
  const Dataset x_test = mnist.test.head(a.test_size);
  if (a.train_size > mnist.train.count || a.test_size > mnist.test.count)
    throw Error("--train-size/--test-size: " + a.data + " holds " + std::to_string(mnist.train.count) + " training and " +
                std::to_string(mnist.test.count) + " test images, fewer than asked for (0 = all)");

  // In [12], In [13]: np.random.seed(seed), then the network draws its weights.
  RandomState rng(a.seed);
  SimpleConvNetConfig cfg;
  cfg.input_dim = {1, x_train.rows, x_train.cols};
  cfg.conv_param = {a.filters, a.filter_size, a.pad, a.stride};
  cfg.hidden_size = a.hidden;
  cfg.output_size = 10;
  cfg.weight_init_std = a.weight_init_std;
  cfg.seed = a.seed;
  SimpleConvNet<T> network(cfg, rng);
  auto optimizer = make_optimizer<T>(a.optimizer, a.lr);

  // In [14], In [15]
  TrainOptions to;
  to.iters = a.iters;
  to.batch_size = a.batch_size;
  to.eval_interval = a.eval_interval;
  Trainer<T> trainer(network, *optimizer, x_train, x_test, to, rng);
  ProgressBar bar(a.iters, !a.quiet && is_terminal(2));
  trainer.run([&](std::size_t i, double loss) { bar.update(i, loss); },
              [&](const EvalRecord& r) {
                if (a.quiet || !a.print_interval || r.iter % a.print_interval) return;
                bar.clear();
                std::printf("iter: %zu. accr_train=%s, accr_test=%s\n", r.iter, python_float(r.accr_train).c_str(),
                            python_float(r.accr_test).c_str());
                std::fflush(stdout);
              });
  bar.finish();

  // In [16], and the outputs asked for.
  if (!a.metrics.empty()) write_file_atomic(a.metrics, metrics_csv(trainer.evals()));
  if (!a.plot.empty()) {
    Chart c;
    c.title = "accuracy";
    c.xlabel = "count";
    c.ylabel = "accuracy";
    c.ylim = std::pair{0.0, 1.0};
    Series tr{"training set", {}, {}}, te{"test set", {}, {}};
    for (const auto& r : trainer.evals()) {
      tr.x.push_back(double(r.iter)), tr.y.push_back(r.accr_train);
      te.x.push_back(double(r.iter)), te.y.push_back(r.accr_test);
    }
    c.series = {tr, te};
    plot_png(a.plot, c);
  }
  if (!a.loss_plot.empty()) {
    Chart c;
    c.title = "loss";
    c.xlabel = "iteration";
    c.ylabel = "loss";
    Series s{"training loss", {}, trainer.train_loss_list()};
    for (std::size_t i = 0; i < s.y.size(); ++i) s.x.push_back(double(i + 1));
    c.series = {s};
    plot_png(a.loss_plot, c);
  }
  if (!a.save.empty()) save_model(a.save, network);
  if (!a.losses.empty()) {
    std::string text;
    for (double l : trainer.train_loss_list()) text += python_float(l) + "\n";
    write_file_atomic(a.losses, text);
  }
  if (!a.timings.empty()) {
    const std::size_t evals = trainer.evals().size();
    std::ostringstream js;
    js << "{\"iters\": " << trainer.iter() << ", \"batch_size\": " << a.batch_size
       << ", \"train_seconds\": " << python_float(trainer.train_seconds())
       << ", \"eval_seconds\": " << python_float(trainer.eval_seconds())
       << ", \"total_seconds\": " << python_float(trainer.train_seconds() + trainer.eval_seconds())
       << ", \"train_images\": " << trainer.iter() * a.batch_size
       << ", \"eval_images\": " << evals * (x_train.count + x_test.count) << ", \"threads\": " << num_threads()
       << ", \"dtype\": \"" << (sizeof(T) == 4 ? "float32" : "float64") << "\", \"blas\": \"" << blas_info()
       << "\"}\n";
    write_file_atomic(a.timings, js.str());
  }
  return 0;
}

}  // namespace

void add_train(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("train", "Train SimpleConvNet on MNIST as the notebook does (In [10]-[16])");
  static TrainArgs a;
  cmd->add_option("--data", a.data, "Directory with the four IDX files (raw or .gz)")->capture_default_str();
  cmd->add_option("--train-size", a.train_size, "Training images used, from the start (0 = all)")
      ->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--test-size", a.test_size, "Test images used, from the start (0 = all)")
      ->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--iters", a.iters, "Iterations (iters_num)")->capture_default_str()->check(positive_int());
  cmd->add_option("--batch-size", a.batch_size, "Minibatch size")->capture_default_str()->check(positive_int());
  cmd->add_option("--optimizer", a.optimizer, "sgd, momentum, nesterov, adagrad, rmsprop or adam")
      ->capture_default_str()->check(CLI::IsMember(optimizer_names()));
  cmd->add_option("--lr", a.lr, "Learning rate (default: the optimizer's own)")->check(positive_real());
  cmd->add_option("--filters", a.filters, "conv_param filter_num")->capture_default_str()->check(positive_int());
  cmd->add_option("--filter-size", a.filter_size, "conv_param filter_size")->capture_default_str()->check(positive_int());
  cmd->add_option("--pad", a.pad, "conv_param pad")->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--stride", a.stride, "conv_param stride")->capture_default_str()->check(positive_int());
  cmd->add_option("--hidden", a.hidden, "hidden_size")->capture_default_str()->check(positive_int());
  cmd->add_option("--weight-init-std", a.weight_init_std, "weight_init_std")->capture_default_str()
      ->check(nonnegative_real());
  cmd->add_option("--eval-interval", a.eval_interval, "Evaluate train/test accuracy every N iterations (0 = never)")
      ->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--print-interval", a.print_interval, "Print the accuracy line every N iterations (0 = never)")
      ->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--seed", a.seed, "np.random.seed: weights and minibatches")->capture_default_str();
  cmd->add_option("--threads", a.threads, "Threads (0 = all cores)")->capture_default_str()->check(CLI::Range(0, 1024));
  cmd->add_flag("-q,--quiet", a.quiet, "Print nothing but errors");
  cmd->add_flag("--numpy-compatible", a.numpy_compatible,
                "float64 arithmetic, to reproduce the NumPy notebook run from the same seed");
  cmd->add_option("--plot", a.plot, "Write the accuracy chart (In [16]) to this PNG");
  cmd->add_option("--loss-plot", a.loss_plot, "Write the training-loss chart to this PNG");
  cmd->add_option("--metrics", a.metrics, "Write one CSV row per evaluation: iter,loss,accr_train,accr_test,seconds");
  cmd->add_option("--losses", a.losses, "Write every iteration's training loss, one per line (train_loss_list)");
  cmd->add_option("--timings", a.timings, "Write training/evaluation seconds and image counts to this JSON file");
  cmd->add_option("--save", a.save, "Save W1..b3 and the architecture to this .npz (numpy.load reads it)");
  cmd->callback([&run]() {
    run = [] {
      return a.numpy_compatible ? run_train<double>(a) : run_train<float>(a);
    };
  });
}

}  // namespace convnet::cli
