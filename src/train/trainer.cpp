#include "convnet/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace convnet {

template <class T>
Trainer<T>::Trainer(Network<T>& net, Optimizer<T>& optimizer, const Dataset& train, const Dataset& test,
                    TrainOptions options, RandomState& rng)
    : net_(net), optimizer_(optimizer), train_(train), test_(test), opt_(options), rng_(rng),
      evaluator_(options.eval_batch_size ? options.eval_batch_size : 1, options.normalize) {
  if (opt_.batch_size == 0) throw Error("train: batch size must be >= 1");
  if (opt_.eval_batch_size == 0) throw Error("train: evaluation batch size must be >= 1");
  if (train_.count == 0) throw Error("train: the training set is empty");
  const Architecture arch = net.architecture();
  const auto& in = arch.input;
  for (const Dataset* d : {&train_, &test_})
    if (d->count && (d->channels != in[0] || d->rows != in[1] || d->cols != in[2]))
      throw Error("train: images are " + shape_str({d->channels, d->rows, d->cols}) +
                  " but the network takes input " + shape_str({in[0], in[1], in[2]}));
  const std::size_t classes = arch.classes();
  // Every label must pick one of the network's outputs.
  train_.check_labels(classes, "train: the training set");
  test_.check_labels(classes, "train: the test set");
  loss_mode_ = arch.loss_train_mode ? Mode::Train : Mode::Eval;
  if (opt_.iter_per_epoch > 0) {
    const std::size_t n = opt_.epoch_eval_size;
    epoch_train_ = train_.head(n ? std::min(n, train_.count) : train_.count);
    epoch_test_ = test_.head(n ? std::min(n, test_.count) : test_.count);
  }
  batch_mask_.resize(opt_.batch_size);
  losses_.reserve(std::min<std::size_t>(opt_.iters, std::size_t(1) << 24));
}

namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

template <class T>
void Trainer<T>::set_communicator(Communicator& comm) {
  if (std::size_t(comm.size()) > opt_.batch_size)
    throw Error("train: " + std::to_string(comm.size()) + " processes share a minibatch of " +
                std::to_string(opt_.batch_size) + " images; give each at least one (--batch-size)");
  comm_ = &comm;
}

// Sums weight * (each gradient), then the BatchNorm running statistics
// weighted the same way, over the processes, in one allreduce of one packed
// buffer. The running mean's update is linear in the batch mean, so the
// weighted average is the whole batch's; the running variance becomes the
// average of the shares' (docs/SCALING.md).
template <class T>
void Trainer<T>::reduce_(const NamedTensors<T>* grads, T weight) {
  const auto t0 = std::chrono::steady_clock::now();
  const NamedTensors<T>& buffers = net_.buffers();
  std::size_t n = 0;
  if (grads)
    for (const auto& [name, t] : *grads) n += t->size();
  for (const auto& [name, t] : buffers) n += t->size();
  if (n == 0) return;
  flat_.resize(n);
  T* p = flat_.data();
  auto pack = [&](const NamedTensors<T>& ts) {
    for (const auto& [name, t] : ts)
      for (T v : *t) *p++ = v * weight;
  };
  auto unpack = [&](const NamedTensors<T>& ts) {
    for (const auto& [name, t] : ts) std::copy(p, p + t->size(), t->data()), p += t->size();
  };
  if (grads) pack(*grads);
  pack(buffers);
  comm_->allreduce_sum(flat_.data(), n);
  p = flat_.data();
  if (grads) unpack(*grads);
  unpack(buffers);
  allreduce_seconds_ += since(t0);
}

template <class T>
double Trainer<T>::step() {
  const auto t0 = std::chrono::steady_clock::now();
  // batch_mask = np.random.choice(train_size, batch_size): the same on every process.
  rng_.choice(train_.count, opt_.batch_size, batch_mask_.data());
  const bool parallel = comm_->size() > 1;
  const Share share = share_of(opt_.batch_size, comm_->rank(), comm_->size());
  gather_batch(train_, batch_mask_.data() + share.begin, share.count, opt_.normalize, false, x_batch_, d_batch_);
  if (parallel) net_.set_batch_share(share.begin, opt_.batch_size);
  // The loss is the share's mean: weighting by the share's part of the batch
  // makes the sum over processes the whole batch's mean.
  const T weight = T(double(share.count) / double(opt_.batch_size));
  const NamedTensors<T>& grad = net_.gradient(x_batch_, d_batch_);
  if (parallel) reduce_(&grad, weight);
  optimizer_.update(net_.params(), grad);
  // loss = network.loss(x_batch, t_batch). No backward follows: in Mode::Eval
  // it may take the fused path.
  double loss = double(net_.loss(x_batch_, d_batch_, loss_mode_));
  if (parallel) {
    // A Train-mode loss moved the running statistics again.
    if (loss_mode_ == Mode::Train) reduce_(nullptr, weight);
    loss *= double(share.count);
    comm_->allreduce_sum(&loss, 1);
    loss /= double(opt_.batch_size);
  }
  losses_.push_back(loss);
  ++iter_;
  train_seconds_ += since(t0);
  return loss;
}

template <class T>
double Trainer<T>::accuracy(const Dataset& d) {
  if (comm_->size() == 1) return evaluator_.accuracy(net_, d);
  const Share share = share_of(d.count, comm_->rank(), comm_->size());
  std::uint64_t correct = share.count ? evaluator_.count_correct(net_, d, share.begin, share.count) : 0;
  comm_->allreduce_sum(&correct, 1);
  return d.count ? double(correct) / double(d.count) : 0.0;
}

template <class T>
EvalRecord Trainer<T>::evaluate() {
  const auto t0 = std::chrono::steady_clock::now();
  EvalRecord r;
  r.iter = iter_;
  r.loss = losses_.empty() ? 0.0 : losses_.back();
  const bool book = opt_.iter_per_epoch > 0;
  r.accr_train = accuracy(book ? epoch_train_ : train_);
  r.accr_test = accuracy(book ? epoch_test_ : test_);
  if (book) r.epoch = evals_.size() + 1;  // the book counts its evaluations: current_epoch += 1
  eval_seconds_ += since(t0);
  return r;
}

template <class T>
void Trainer<T>::run(const std::function<void(std::size_t, double)>& on_step,
                     const std::function<void(const EvalRecord&)>& on_eval, const std::function<bool()>& stop) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now() - std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds_));
  while (iter_ < opt_.iters) {
    const double loss = step();
    // book: trainer.py, `if self.current_iter % self.iter_per_epoch == 0` (floats)
    const bool due = opt_.iter_per_epoch > 0 ? std::fmod(double(iter_ - 1), opt_.iter_per_epoch) == 0
                                             : opt_.eval_interval && iter_ % opt_.eval_interval == 0;
    if (due && std::isfinite(loss)) {
      EvalRecord r = evaluate();
      r.seconds = std::chrono::duration<double>(clock::now() - start).count();
      evals_.push_back(r);
      if (on_eval) on_eval(r);
    }
    seconds_ = std::chrono::duration<double>(clock::now() - start).count();
    // After the evaluation: a checkpoint taken here holds it.
    if (on_step) on_step(iter_, loss);
    bool stopping = stop && stop();
    // Every process leaves at the same iteration, or the others would wait in the next allreduce.
    if (comm_->size() > 1) stopping = comm_->allreduce_max(stopping ? 1 : 0) != 0;
    if (stopping) break;
  }
}

template <class T>
TrainerState Trainer<T>::state() const {
  return {iter_, losses_, evals_, train_seconds_, eval_seconds_, seconds_, rng_.state()};
}

template <class T>
void Trainer<T>::restore(const TrainerState& s) {
  if (s.losses.size() != s.iter)
    throw Error("train: a state at iteration " + std::to_string(s.iter) + " must hold as many losses, not " +
                std::to_string(s.losses.size()));
  rng_.set_state(s.rng);
  iter_ = s.iter;
  losses_ = s.losses;
  losses_.reserve(std::max(opt_.iters, s.iter));
  evals_ = s.evals;
  train_seconds_ = s.train_seconds;
  eval_seconds_ = s.eval_seconds;
  seconds_ = s.seconds;
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace convnet
