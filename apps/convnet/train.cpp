// convnet train: notebook In [10]-In [16] — load MNIST, build SimpleConvNet,
// train with Adam, print the accuracy lines, plot, save. Plus what a long
// run needs: checkpoints and exact resume, a clean stop on SIGINT/SIGTERM,
// and a stop with a clear message when the loss diverges.
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli_util.hpp"
#include "commands.hpp"
#include "parallel.hpp"
#include "convnet/convnet.hpp"

namespace convnet::cli {

namespace {

// The command line: the run's options (RunOptions, stored in checkpoints)
// bound directly, the network's description, and what only this process needs.
struct TrainArgs {
  RunOptions run;
  std::string net = "simple";  // or a JSON file (docs/FORMATS.md, "Architecture")
  // --net simple: the notebook's SimpleConvNet arguments.
  std::size_t filters = 30, filter_size = 5, pad = 0, stride = 1, hidden = 100;
  std::string weight_init_std = "0.01";  // or he/relu, xavier/sigmoid
  std::string data = "data/mnist";
  int threads = 0;
  bool quiet = false;
  bool dry_run = false;
  std::string plot, loss_plot, metrics, save, save_init, timings, losses;
  std::string checkpoint, resume;
  std::size_t checkpoint_every = 0;
};

// SIGINT / SIGTERM: the first asks for a clean stop after the current
// iteration; a second one exits at once, writing nothing more and removing
// the temp file of a write in progress (async-signal-safe). SIGUSR1 and
// SIGUSR2 act as SIGINT and SIGTERM: they are the signals mpirun forwards to
// every rank as they are, where its own SIGINT/SIGTERM ends the job with
// status 1 whatever the ranks exit with (docs/SCALING.md).
volatile std::sig_atomic_t g_signal = 0;
// The exit status a stop by `sig` gives: 130 for SIGINT/SIGUSR1, 143 for SIGTERM/SIGUSR2.
int stop_status(int sig) { return 128 + (sig == SIGUSR1 ? SIGINT : sig == SIGUSR2 ? SIGTERM : sig); }
extern "C" void on_signal(int sig) {
  if (g_signal) {
    remove_temp_files_in_flight();
    _exit(stop_status(sig));
  }
  g_signal = sig;
}
void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGUSR1, SIGUSR2}) sigaction(sig, &sa, nullptr);
}
const char* stop_reason(int sig) {
  switch (sig) {
    case SIGINT: return "interrupted (SIGINT)";
    case SIGUSR1: return "interrupted (SIGUSR1)";
    case SIGUSR2: return "terminated (SIGUSR2)";
    default: return "terminated (SIGTERM)";
  }
}

// Training diverged: exit 1 (not bad input), nothing written.
struct Diverged : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string metrics_csv(const std::vector<EvalRecord>& evals) {
  std::ostringstream os;
  os << "iter,loss,accr_train,accr_test,seconds\n";
  for (const auto& r : evals)
    os << r.iter << ',' << python_float(r.loss) << ',' << python_float(r.accr_train) << ','
       << python_float(r.accr_test) << ',' << python_float(std::round(r.seconds * 1e6) / 1e6) << '\n';
  return os.str();
}

// The options of --net simple's network; they cannot change a network file.
const char* const kSimpleNetOptions[] = {"--filters", "--filter-size", "--pad", "--stride", "--hidden",
                                         "--weight-init-std"};

RunOptions run_options(const TrainArgs& a, const CLI::App& cmd) {
  RunOptions r = a.run;
  // The printed accuracies are the evaluation's: without an explicit
  // --print-interval, print at the smallest multiple of --eval-interval >= 100.
  if (!cmd.count("--print-interval") && r.eval_interval && r.print_interval % r.eval_interval)
    r.print_interval = (r.print_interval + r.eval_interval - 1) / r.eval_interval * r.eval_interval;
  // The book's Trainer trains on the whole data set.
  if (r.epochs && !cmd.count("--train-size")) r.train_size = 0;
  if (r.epochs && !cmd.count("--test-size")) r.test_size = 0;
  return r;
}

// The network to train: --net simple (the notebook's, sized by --filters ...
// and shaped by the data: input (C, H, W) and `classes` outputs) or a JSON
// description, whose input must be the data's.
Architecture cli_architecture(const TrainArgs& a, const CLI::App& cmd, std::array<std::size_t, 3> input,
                              std::size_t classes) {
  if (a.net == "simple") {
    const WeightInit init = WeightInit::parse(a.weight_init_std, "--weight-init-std");
    SimpleConvNetConfig c;
    c.input_dim = input;
    c.conv_param = {a.filters, a.filter_size, a.pad, a.stride};
    c.hidden_size = a.hidden;
    c.output_size = classes;
    c.weight_init_std = init.std;
    Architecture arch = simple_convnet_architecture(c);
    arch.weight_init = init.scheme;
    return arch;
  }
  for (const char* opt : kSimpleNetOptions)
    if (cmd.count(opt))
      throw Error(std::string(opt) + " sizes --net simple; the network of --net " + a.net + " is set " +
                  (a.net == "deep" ? "by the book" : "in that file"));
  // book: ch08/deep_convnet.py, hidden_size=50, output_size=10 (here: the data's classes)
  if (a.net == "deep") return Architecture::deep_convnet(input, 50, classes);
  const Architecture arch = Architecture::from_json(read_text_file(a.net), a.net);  // (a file named "deep": ./deep)
  if (arch.input != input)
    throw Error(a.net + ": the network takes input " + shape_str({arch.input[0], arch.input[1], arch.input[2]}) +
                ", but the images of --data " + a.data + " are " + shape_str({input[0], input[1], input[2]}));
  return arch;
}

// The checkpoint's options and network, with --iters (a new target) and
// --print-interval taken from the command line. Every option given
// explicitly that contradicts the checkpoint is named, field by field.
RunOptions reconcile(const RunOptions& cli, const RunOptions& saved, const CLI::App& cmd, const std::string& file) {
  std::vector<std::string> bad;
  const auto stored = json_fields(saved.to_json());
  for (const auto& [name, given] : json_fields(cli.to_json())) {
    std::string opt = "--" + name;
    std::replace(opt.begin(), opt.end(), '_', '-');
    if (name == "iters" || name == "epochs" || name == "print_interval" || !cmd.count(opt)) continue;
    auto it = std::find_if(stored.begin(), stored.end(), [&](const auto& f) { return f.first == name; });
    if (it != stored.end() && it->second != given)
      bad.push_back(opt + (name == "numpy_compatible" ? "" : " " + given) + " contradicts the checkpoint's " +
                    (name == "numpy_compatible" ? (it->second == "true" ? "float64 run" : "float32 run") : it->second));
  }
  if (!bad.empty()) {
    std::string msg = "--resume " + file + ": ";
    for (std::size_t i = 0; i < bad.size(); ++i) msg += (i ? "; " : "") + bad[i];
    throw Error(msg);
  }
  // A new target in the run's own unit.
  if (saved.epochs && cmd.count("--iters"))
    throw Error("--resume " + file + ": the checkpoint's run counts epochs (--epochs " + std::to_string(saved.epochs) +
                "); extend it with --epochs, not --iters");
  if (!saved.epochs && cmd.count("--epochs"))
    throw Error("--resume " + file + ": the checkpoint's run counts iterations (--iters " +
                std::to_string(saved.iters) + "); extend it with --iters, not --epochs");
  RunOptions r = saved;
  if (cmd.count("--iters")) r.iters = cli.iters;
  if (cmd.count("--epochs")) r.epochs = cli.epochs;
  // Printing does not change the results: an explicit value overrides.
  if (cmd.count("--print-interval")) r.print_interval = cli.print_interval;
  return r;
}

// Whether an option that describes the network was given; then the network
// given on the command line must equal the checkpoint's, every differing
// field named.
bool network_given(const CLI::App& cmd) {
  bool given = cmd.count("--net") > 0;
  for (const char* opt : kSimpleNetOptions) given |= cmd.count(opt) > 0;
  return given;
}
void reconcile_network(const TrainArgs& a, const CLI::App& cmd, const Architecture& cli, const Architecture& saved,
                       const std::string& file) {
  // The notebook's network: in the words of its options.
  const auto c = simple_convnet_config(saved);
  if (c && a.net == "simple") {
    const std::size_t given[] = {a.filters, a.filter_size, a.pad, a.stride, a.hidden};
    const std::size_t stored[] = {c->conv_param.filter_num, c->conv_param.filter_size, c->conv_param.pad,
                                  c->conv_param.stride, c->hidden_size};
    std::string bad;
    for (std::size_t i = 0; i < 5; ++i)
      if (cmd.count(kSimpleNetOptions[i]) && given[i] != stored[i])
        bad += (bad.empty() ? "" : "; ") + std::string(kSimpleNetOptions[i]) + " " + std::to_string(given[i]) +
               " contradicts the checkpoint's " + std::to_string(stored[i]);
    const WeightInit given_init = WeightInit::parse(a.weight_init_std, "--weight-init-std"),
                     saved_init{saved.weight_init, saved.weight_init_std};
    if (cmd.count("--weight-init-std") && !(given_init == saved_init))
      bad += (bad.empty() ? "" : "; ") + std::string("--weight-init-std ") + given_init.str() +
             " contradicts the checkpoint's " + saved_init.str();
    if (!bad.empty()) throw Error("--resume " + file + ": " + bad);
  }
  const auto stored = json_fields(saved.to_json()), mine = json_fields(cli.to_json());
  std::string diffs;
  for (std::size_t i = 0; i < std::max(mine.size(), stored.size()); ++i) {
    const std::string g = i < mine.size() ? mine[i].first + " " + mine[i].second : "(none)";
    const std::string t = i < stored.size() ? stored[i].first + " " + stored[i].second : "(none)";
    if (g != t) diffs += (diffs.empty() ? "" : ", ") + g + " (checkpoint: " + t + ")";
  }
  if (!diffs.empty())
    throw Error("--resume " + file + ": the network given contradicts the checkpoint's: " + diffs);
}

// Refuses sizes the machine cannot hold, before the network allocates
// anything: "train: the network for --filters 100000000, ... needs about ...".
template <class T>
void check_train_memory(const TrainArgs& a, const RunOptions& run, const Architecture& arch, const Mnist& mnist,
                        const Dataset& train, const Dataset& test) {
  MemoryUse use;
  use.training = true;
  use.batch_size = run.batch_size;
  use.eval_batch_size = eval_forward_size(arch, default_kernels<T>(), sizeof(T), 100);
  use.optimizer_copies = 2;  // Adam's m and v; the others keep one or none
  std::size_t data = 0;
  for (const Dataset* d : {&mnist.train, &mnist.test, &train, &test})
    data = sat_add(data, sat_add(d->images.size(), d->labels.size()));
  use.data_bytes = data;
  const std::string net = a.net == "simple" ? "--filters " + std::to_string(a.filters) + ", --filter-size " +
                                                  std::to_string(a.filter_size) + ", --pad " + std::to_string(a.pad) +
                                                  ", --stride " + std::to_string(a.stride) + ", --hidden " +
                                                  std::to_string(a.hidden)
                                            : "--net " + a.net;
  check_memory(estimate_memory(sequential_footprint(arch, default_kernels<T>()), sizeof(T), use),
               "train: the network for " + net + ", --batch-size " + std::to_string(run.batch_size) + " on " +
                   (train.channels == 1 ? "" : std::to_string(train.channels) + "x") + std::to_string(train.rows) +
                   "x" + std::to_string(train.cols) + " images (" +
                   (sizeof(T) == 4 ? "float32" : "float64") + ")");
}

template <class T>
int run_train(const TrainArgs& a, const CLI::App& cmd, RunOptions run, const NpzArchive* resume,
              ProcessGroup& group) {
  if (run.eval_interval && run.print_interval % run.eval_interval)
    throw Error("--print-interval " + std::to_string(run.print_interval) + " must be a multiple of --eval-interval " +
                std::to_string(run.eval_interval) + " (the printed accuracies are the evaluation's)");
  // Over MPI only rank 0 prints and writes (docs/SCALING.md); processes on
  // one machine share its cores unless --threads says otherwise.
  const bool root = group.root(), quiet = a.quiet || !root;
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  set_num_threads(a.threads || group.local_size() == 1 ? a.threads : std::max(1, cores / group.local_size()));
  if (const char* w = blas_slow_kernel_warning(); w && root) std::cerr << "convnet: warning: " << w << "\n";

  // In [10], In [11]
  const Mnist mnist = load_mnist(a.data);
  if (run.train_size > mnist.train.count || run.test_size > mnist.test.count)
    throw Error("--train-size/--test-size: " + a.data + " holds " + std::to_string(mnist.train.count) + " training and " +
                std::to_string(mnist.test.count) + " test images, fewer than asked for (0 = all)");
  const Dataset x_train = mnist.train.head(run.train_size);
  const Dataset x_test = mnist.test.head(run.test_size);
  // book: common/trainer.py, max_iter = int(epochs * iter_per_epoch)
  if (run.epochs) run.iters = std::size_t(double(run.epochs) * run.iter_per_epoch(x_train.count));
  // A resumed run must see the data it was trained on (old checkpoints
  // carry no fingerprint and are not checked).
  const DataFingerprint data = data_fingerprint(x_train, x_test, a.data);
  if (resume && run.data.present && !(run.data == data))
    throw Error("--resume " + a.resume + ": the checkpoint was trained on " + describe(run.data) +
                ", this run's --data " + describe(data));
  run.data = data;

  // The network's input is the data's (C, H, W); --net simple has as many
  // outputs as the training file has classes: labels 0..N-1, every one
  // present (a stray label beyond them is refused below, naming its index).
  std::size_t classes = 0;
  {
    std::vector<bool> seen(256, false);
    for (auto l : mnist.train.labels) seen[l] = true;
    while (classes < seen.size() && seen[classes]) ++classes;
  }
  const std::array<std::size_t, 3> input{x_train.channels, x_train.rows, x_train.cols};
  // A resume rebuilds the checkpoint's network; one given again must agree.
  Architecture arch = resume ? checkpoint_architecture(*resume, a.resume) : cli_architecture(a, cmd, input, classes);
  if (resume && network_given(cmd))
    reconcile_network(a, cmd, cli_architecture(a, cmd, input, classes), arch, a.resume);
  if (resume && arch.input != input)
    throw Error("--resume " + a.resume + ": the checkpoint's network takes input " +
                shape_str({arch.input[0], arch.input[1], arch.input[2]}) + ", but the images of --data " + a.data +
                " are " + shape_str({input[0], input[1], input[2]}));
  if (a.dry_run) {
    std::printf("%s", summary(arch).c_str());
    return 0;
  }
  // In [12], In [13]: np.random.seed(seed), then the network draws its weights.
  RandomState rng(run.seed);
  check_train_memory<T>(a, run, arch, mnist, x_train, x_test);
  Sequential<T> network(arch, rng);
  auto optimizer = make_optimizer<T>(run.optimizer, run.lr);
  // The weights as drawn, before any step: the "before" of show filters.
  if (!a.save_init.empty()) save_model(a.save_init, network);

  // In [14], In [15]
  Trainer<T> trainer(network, *optimizer, x_train, x_test, run.train_options(x_train.count), rng);
  if (group.size() > 1) trainer.set_communicator(group.comm());
  if (resume) {
    restore_checkpoint(*resume, a.resume, network, *optimizer, trainer);
    if (trainer.iter() > run.iters)
      throw Error("--resume " + a.resume + ": the checkpoint is at iteration " + std::to_string(trainer.iter()) +
                  ", past " + (run.epochs ? "--epochs " + std::to_string(run.epochs) + " (" +
                                                std::to_string(run.iters) + " iterations)"
                                          : "--iters " + std::to_string(run.iters)));
  }

  auto write_checkpoint = [&] {
    if (!a.checkpoint.empty() && root) save_checkpoint(a.checkpoint, run, network, *optimizer, trainer);
  };
  // A test hook for the resume test: die by SIGKILL after this iteration.
  const char* kill_at = std::getenv("CONVNET_TEST_KILL_AFTER_ITER");
  const std::size_t kill_after = kill_at ? std::size_t(std::strtoull(kill_at, nullptr, 10)) : 0;
  // Over MPI: only this rank dies (the dead-rank test).
  const char* kill_rank_env = std::getenv("CONVNET_TEST_KILL_RANK");
  const int kill_rank = kill_rank_env ? std::atoi(kill_rank_env) : -1;

  install_signal_handlers();
  ProgressBar bar(run.iters, !quiet && is_terminal(2));
  if (run.epochs) bar.set_epochs(run.epochs, run.iter_per_epoch(x_train.count));
  bar.update(trainer.iter(), trainer.train_loss_list().empty() ? 0.0 : trainer.train_loss_list().back());
  try {
  trainer.run(
      [&](std::size_t i, double loss) {
        if (!std::isfinite(loss)) {
          // Name the layer whose parameters went bad (non-finite, or else the
          // largest in magnitude), for the user to act on.
          std::string where, largest;
          double top = -1;
          for (const auto& [name, t] : network.params()) {
            bool bad = false;
            double mx = 0;
            for (T v : *t) bad |= !std::isfinite(v), mx = std::max(mx, double(std::fabs(v)));
            std::string label = name;
            for (const auto& [layer_name, layer] : network.layers())
              for (const auto& p : layer->params())
                if (p.value == t) label += " (" + layer_name + ")";
            if (bad) where += (where.empty() ? "" : ", ") + label;
            if (mx > top) top = mx, largest = label;
          }
          bar.clear();
          throw Diverged("train: iteration " + std::to_string(i) + ": the loss is " + python_float(loss) + "; " +
                         (where.empty() ? "parameters grew to " + python_float(top) + " in " + largest
                                        : "non-finite values in " + where) +
                         " — training diverged (try a smaller --lr); nothing was written");
        }
        bar.update(i, loss);
        if (a.checkpoint_every && i % a.checkpoint_every == 0) write_checkpoint();
        if (kill_after && i == kill_after && (kill_rank < 0 || kill_rank == group.rank())) raise(SIGKILL);
      },
      [&](const EvalRecord& r) {
        if (quiet) return;
        if (r.epoch) {
          bar.clear();  // book: trainer.py's line
          std::printf("=== epoch:%zu, train acc:%s, test acc:%s ===\n", r.epoch, python_float(r.accr_train).c_str(),
                      python_float(r.accr_test).c_str());
        } else {
          if (!run.print_interval || r.iter % run.print_interval) return;
          bar.clear();
          std::printf("iter: %zu. accr_train=%s, accr_test=%s\n", r.iter, python_float(r.accr_train).c_str(),
                      python_float(r.accr_test).c_str());
        }
        std::fflush(stdout);
      },
      [] { return g_signal != 0; });
  } catch (const Diverged&) {
    throw;  // every process saw the same loss and stops here
  } catch (const std::exception& e) {
    // One process failed (a checkpoint write) while the others wait for it
    // in the next allreduce: end them all rather than hang.
    if (group.size() == 1) throw;
    bar.clear();
    std::fprintf(stderr, "convnet: error: rank %d: %s\n", group.rank(), e.what());
    group.abort(1);
  }
  bar.finish();
  // The signal as all processes agree (any one's stopped them all).
  const int sig = group.size() > 1 ? group.comm().allreduce_max(int(g_signal)) : int(g_signal);
  // book: trainer.py, after the last step: the accuracy on the whole test set.
  if (run.epochs && !a.quiet && !sig && trainer.iter() == run.iters) {
    const double acc = trainer.accuracy(x_test);  // collective: every process counts its share
    if (root) std::printf("=============== Final Test Accuracy ===============\ntest acc:%s\n", python_float(acc).c_str());
    std::fflush(stdout);
  }
  if (!root) return sig ? stop_status(sig) : 0;  // rank 0 writes everything

  // In [16], and the outputs asked for.
  std::vector<std::string> written;
  auto wrote = [&](const std::string& path) { written.push_back(path); };
  // The final state too, so a finished run can be extended with --iters.
  // What cannot be redone first, the slow charts last: under mpirun a
  // stopped job has a deadline (SIGKILL 1 s after the ranks' SIGTERM).
  if (!a.checkpoint.empty()) write_checkpoint(), wrote(a.checkpoint);
  if (!a.save.empty()) save_model(a.save, network), wrote(a.save);
  if (!a.metrics.empty()) write_file_atomic(a.metrics, metrics_csv(trainer.evals())), wrote(a.metrics);
  if (!a.losses.empty()) {
    std::string text;
    for (double l : trainer.train_loss_list()) text += python_float(l) + "\n";
    write_file_atomic(a.losses, text);
    wrote(a.losses);
  }
  if (!a.timings.empty()) {
    const std::size_t evals = trainer.evals().size();
    std::ostringstream js;
    js << "{\"iters\": " << trainer.iter() << ", \"batch_size\": " << run.batch_size
       << ", \"train_seconds\": " << python_float(trainer.train_seconds())
       << ", \"eval_seconds\": " << python_float(trainer.eval_seconds())
       << ", \"total_seconds\": " << python_float(trainer.train_seconds() + trainer.eval_seconds())
       << ", \"train_images\": " << trainer.iter() * run.batch_size
       << ", \"eval_images\": "
       << evals * (run.epochs && run.epoch_eval_size
                       ? std::min(run.epoch_eval_size, x_train.count) + std::min(run.epoch_eval_size, x_test.count)
                       : x_train.count + x_test.count)
       << ", \"threads\": " << num_threads() << ", \"processes\": " << group.size()
       << ", \"allreduce_seconds\": " << python_float(trainer.allreduce_seconds())
       << ", \"dtype\": \"" << (sizeof(T) == 4 ? "float32" : "float64") << "\", \"blas\": \"" << blas_info()
       << "\"}\n";
    write_file_atomic(a.timings, js.str());
    wrote(a.timings);
  }
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
    wrote(a.plot);
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
    wrote(a.loss_plot);
  }
  if (sig) {
    std::string list;
    for (const auto& w : written) list += (list.empty() ? "" : ", ") + w;
    std::fprintf(stderr, "convnet: %s: stopped after iteration %zu of %zu%s%s\n", stop_reason(sig), trainer.iter(),
                 run.iters, list.empty() ? "" : "; wrote ", list.c_str());
    // mpirun turns its own SIGINT/SIGTERM into SIGTERM for the ranks and exits 1.
    if (sig == SIGTERM && launched_processes() > 0)
      std::fprintf(stderr, "convnet: note: under mpirun, Ctrl-C or SIGTERM to mpirun arrives as SIGTERM and mpirun "
                           "exits 1 (Open MPI's status for a job it ends); SIGUSR1 to mpirun stops the same way "
                           "with status 130\n");
    return stop_status(sig);
  }
  return 0;
}

}  // namespace

void add_train(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand("train", "Train SimpleConvNet on MNIST as the notebook does (In [10]-[16])");
  static TrainArgs a;
  cmd->add_option("--data", a.data, "Directory with the four IDX files (raw or .gz)")->capture_default_str();
  cmd->add_option("--train-size", a.run.train_size, "Training images used, from the start (0 = all)")
      ->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--test-size", a.run.test_size, "Test images used, from the start (0 = all)")
      ->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--iters", a.run.iters, "Iterations (iters_num)")->capture_default_str()->check(positive_int());
  cmd->add_option("--batch-size", a.run.batch_size, "Minibatch size")->capture_default_str()->check(positive_int());
  cmd->add_option("--optimizer", a.run.optimizer, "sgd, momentum, nesterov, adagrad, rmsprop or adam")
      ->capture_default_str()->check(one_of(optimizer_names()));
  cmd->add_option("--lr", a.run.lr, "Learning rate (default: the optimizer's own)")->check(positive_real());
  cmd->add_option("--net", a.net,
                  "The network: simple (the notebook's SimpleConvNet, sized by --filters ... --weight-init-std), deep "
                  "(the book's DeepConvNet, ch. 8) or a JSON file describing its layers (docs/FORMATS.md)")
      ->capture_default_str();
  cmd->add_flag("--dry-run", a.dry_run,
                "Print the network's layers (output shape, parameters, FLOPs per image) and exit without training");
  cmd->add_option("--filters", a.filters, "conv_param filter_num")->capture_default_str()->check(positive_int());
  cmd->add_option("--filter-size", a.filter_size, "conv_param filter_size")->capture_default_str()->check(positive_int());
  cmd->add_option("--pad", a.pad, "conv_param pad")->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--stride", a.stride, "conv_param stride")->capture_default_str()->check(positive_int());
  cmd->add_option("--hidden", a.hidden, "hidden_size")->capture_default_str()->check(positive_int());
  cmd->add_option("--weight-init-std", a.weight_init_std,
                  "weight_init_std: a number, or he (relu) for sqrt(2/n), xavier (sigmoid) for sqrt(1/n), n the "
                  "inputs per unit")
      ->capture_default_str()->check(weight_init());
  cmd->add_option("--epochs", a.run.epochs,
                  "The book's Trainer (common/trainer.py): N epochs of max(train size / batch size, 1) iterations, "
                  "all images unless --train-size/--test-size, an evaluation on --epoch-eval-size images at the "
                  "start of each epoch, the test accuracy on all at the end")
      ->check(positive_int());
  cmd->add_option("--epoch-eval-size", a.run.epoch_eval_size,
                  "With --epochs: images of each set evaluated per epoch (evaluate_sample_num_per_epoch; 0 = all)")
      ->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--eval-interval", a.run.eval_interval, "Evaluate train/test accuracy every N iterations (0 = never)")
      ->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--print-interval", a.run.print_interval,
                  "Print the accuracy line every N iterations (0 = never; a multiple of --eval-interval: by default "
                  "the smallest one >= 100)")
      ->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--seed", a.run.seed, "np.random.seed: weights and minibatches")->capture_default_str()
      ->check(int_range(0, 4294967295));
  cmd->add_option("--threads", a.threads, "Threads (0 = all cores)")->capture_default_str()->check(int_range(0, 1024));
  cmd->add_flag("-q,--quiet", a.quiet, "Print nothing but errors");
  cmd->add_flag("--numpy-compatible", a.run.numpy_compatible,
                "float64 arithmetic, to reproduce the NumPy notebook run from the same seed");
  cmd->add_option("--plot", a.plot, "Write the accuracy chart (In [16]) to this PNG");
  cmd->add_option("--loss-plot", a.loss_plot, "Write the training-loss chart to this PNG");
  cmd->add_option("--metrics", a.metrics, "Write one CSV row per evaluation: iter,loss,accr_train,accr_test,seconds");
  cmd->add_option("--losses", a.losses, "Write every iteration's training loss, one per line (train_loss_list)");
  cmd->add_option("--timings", a.timings, "Write training/evaluation seconds and image counts to this JSON file");
  cmd->add_option("--save", a.save, "Save W1..b3 and the architecture to this .npz (numpy.load reads it)");
  cmd->add_option("--save-init", a.save_init,
                  "Save the initial weights (before the first step), as --save does: the 'before' of "
                  "'convnet show filters --before'");
  cmd->add_option("--checkpoint", a.checkpoint, "Write a checkpoint (everything needed to resume) to this file");
  cmd->add_option("--checkpoint-every", a.checkpoint_every, "Checkpoint every N iterations (0 = only at the end or when stopped)")
      ->check(nonnegative_int());
  cmd->add_option("--resume", a.resume, "Continue the run saved in this checkpoint, exactly; under mpirun with any number of processes (the "
                 "checkpoint's number continues bit for bit, another differs only in the order of the gradient sums)");
  cmd->callback([&run, cmd]() {
    run = [cmd] {
      // Under mpirun: join the other processes (what fails before training
      // fails alike on all; main() lets rank 0 alone report it).
      ProcessGroup group;
      // Fail before training, not after it, on outputs that cannot be written
      // or would destroy another output or an input (DESIGN.md §5).
      std::vector<NamedPath> outputs, inputs;
      for (auto [opt, path] : {std::pair{"--plot", &a.plot}, {"--loss-plot", &a.loss_plot}, {"--metrics", &a.metrics},
                               {"--save", &a.save}, {"--save-init", &a.save_init}, {"--timings", &a.timings}, {"--losses", &a.losses},
                               {"--checkpoint", &a.checkpoint}})
        if (cmd->count(opt)) check_output_path(opt, *path), outputs.push_back({opt, *path, ""});
      for (const auto& f : mnist_files(a.data)) inputs.push_back({"--data", f, ""});
      if (!a.resume.empty()) inputs.push_back({"--resume", a.resume, "--checkpoint"});  // read whole first
      if (a.net != "simple" && a.net != "deep") inputs.push_back({"--net", a.net, ""});
      if (cmd->count("--epochs") && cmd->count("--iters"))
        throw Error("--epochs " + std::to_string(a.run.epochs) + " and --iters " + std::to_string(a.run.iters) +
                    " both set the length of the run; give one");
      for (const char* opt : {"--eval-interval", "--print-interval"})
        if (cmd->count("--epochs") && cmd->count(opt))
          throw Error(std::string(opt) + " sets the notebook's evaluations; with --epochs the book's Trainer "
                      "evaluates at the start of each epoch (--epoch-eval-size images)");
      if (cmd->count("--epoch-eval-size") && !cmd->count("--epochs") && a.resume.empty())
        throw Error("--epoch-eval-size " + std::to_string(a.run.epoch_eval_size) +
                    " sizes the book's per-epoch evaluation; it needs --epochs");
      check_distinct_outputs(outputs, inputs);
      if (cmd->count("--save-init") && !a.resume.empty())
        throw Error("--save-init " + a.save_init + ": a resumed run starts from the checkpoint --resume " + a.resume +
                    ", not from initial weights; save them in the first run");
      if (a.checkpoint_every && a.checkpoint.empty())
        throw Error("--checkpoint-every " + std::to_string(a.checkpoint_every) + " needs --checkpoint FILE");
      RunOptions options = run_options(a, *cmd);
      NpzArchive saved;
      if (!a.resume.empty()) {
        saved = read_checkpoint(a.resume);
        options = reconcile(options, checkpoint_options(saved, a.resume), *cmd, a.resume);
      }
      const NpzArchive* resume = a.resume.empty() ? nullptr : &saved;
      try {
        return options.numpy_compatible ? run_train<double>(a, *cmd, options, resume, group)
                                        : run_train<float>(a, *cmd, options, resume, group);
      } catch (const Diverged& e) {
        if (group.root()) std::fprintf(stderr, "convnet: error: %s\n", e.what());
        return 1;
      }
    };
  });
}

}  // namespace convnet::cli
