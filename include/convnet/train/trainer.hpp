#pragma once
// The training loop of notebook In [15]: draw a minibatch with replacement,
// gradient, update, log the loss; every eval_interval iterations measure the
// accuracy on the whole train and test subsets. Or the book's Trainer
// (common/trainer.py): the same step, and an evaluation on the first
// epoch_eval_size images at the start of every epoch.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "convnet/io/mnist.hpp"
#include "convnet/core/optimizer.hpp"
#include "convnet/core/random.hpp"
#include "convnet/core/network.hpp"
#include "convnet/train/communicator.hpp"
#include "convnet/train/evaluate.hpp"

namespace convnet {

struct TrainOptions {
  std::size_t iters = 1000;          // iters_num
  std::size_t batch_size = 100;
  std::size_t eval_interval = 10;    // plot_interval; 0 = never
  std::size_t eval_batch_size = 100; // accuracy(x, d, batch_size=100)
  bool normalize = true;
  // The book's Trainer when > 0: iter_per_epoch = max(train_size / batch_size,
  // 1) as a float; after the update of every 0-based iteration i with
  // i % iter_per_epoch == 0, an evaluation (epoch k) on the first
  // epoch_eval_size (0 = all) images of each set. eval_interval is then unused.
  double iter_per_epoch = 0;
  std::size_t epoch_eval_size = 1000;  // evaluate_sample_num_per_epoch
};

// One row of the metrics: an evaluation after iteration `iter` (1-based).
struct EvalRecord {
  std::size_t iter = 0;
  double loss = 0;        // the training loss logged at that iteration
  double accr_train = 0;
  double accr_test = 0;
  double seconds = 0;     // wall time since training started
  std::size_t epoch = 0;  // the book's regime: the epoch it opens (1-based); 0 otherwise
};

// Everything of a Trainer that a checkpoint must carry to continue exactly.
struct TrainerState {
  std::size_t iter = 0;
  std::vector<double> losses;
  std::vector<EvalRecord> evals;
  double train_seconds = 0, eval_seconds = 0;
  double seconds = 0;  // wall time of the run so far
  RandomState::State rng;
};

template <class T>
class Trainer {
 public:
  // `rng` draws the minibatches (np.random.choice); it must outlive the trainer.
  Trainer(Network<T>& net, Optimizer<T>& optimizer, const Dataset& train, const Dataset& test,
          TrainOptions options, RandomState& rng);

  // One iteration; returns the loss logged for it (computed after the update,
  // as the notebook's `loss = network.loss(x_batch, d_batch)`, in the mode
  // of the network's loss(): Architecture::loss_train_mode).
  double step();
  // Accuracy of the network on a whole data set, in batches (accuracy()).
  // Over several processes each counts its share; the counts are summed.
  double accuracy(const Dataset& d);
  // Data-parallel training (docs/SCALING.md): every process draws the same
  // minibatch, takes its contiguous share (share_of), and the gradients,
  // weighted by share size, are summed so every process makes the
  // single-process update up to summation order. Every process must call
  // step/run/accuracy/evaluate together. Default: one process. `comm` must
  // outlive the trainer.
  void set_communicator(Communicator& comm);
  // The network trained.
  Network<T>& network() { return net_; }
  EvalRecord evaluate();

  // Runs until options.iters; on_eval after every evaluation, then on_step
  // after every iteration (its evaluation included); stop() is polled after
  // each iteration (e.g. a signal) and, over several processes, all stop
  // when any asks to. A non-finite loss skips the evaluation.
  void run(const std::function<void(std::size_t iter, double loss)>& on_step = nullptr,
           const std::function<void(const EvalRecord&)>& on_eval = nullptr,
           const std::function<bool()>& stop = nullptr);

  std::size_t iter() const { return iter_; }
  TrainerState state() const;
  void restore(const TrainerState& s);
  const std::vector<double>& train_loss_list() const { return losses_; }
  const std::vector<EvalRecord>& evals() const { return evals_; }
  const TrainOptions& options() const { return opt_; }
  // Wall seconds spent in step() and in evaluate(), for benchmarks.
  double train_seconds() const { return train_seconds_; }
  double eval_seconds() const { return eval_seconds_; }
  // Wall seconds spent in the gradient allreduce (included in train_seconds).
  double allreduce_seconds() const { return allreduce_seconds_; }

 private:
  Network<T>& net_;
  Optimizer<T>& optimizer_;
  const Dataset& train_;
  const Dataset& test_;
  TrainOptions opt_;
  RandomState& rng_;
  std::size_t iter_ = 0;
  double seconds_ = 0;
  double train_seconds_ = 0, eval_seconds_ = 0, allreduce_seconds_ = 0;
  LocalCommunicator local_;
  Communicator* comm_ = &local_;
  std::vector<T> flat_;  // the gradients (and buffers) packed for one allreduce
  void reduce_(const NamedTensors<T>* grads, T weight);
  std::vector<double> losses_;
  std::vector<EvalRecord> evals_;
  std::vector<std::size_t> batch_mask_;
  Tensor<T> x_batch_;
  std::vector<std::int32_t> d_batch_;
  Evaluator<T> evaluator_;
  Mode loss_mode_ = Mode::Eval;
  Dataset epoch_train_, epoch_test_;  // the book's regime: the first epoch_eval_size images
};

}  // namespace convnet
