#pragma once
// Small pieces the subcommands share: output path checks and the progress bar.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace convnet::cli {

// Fails early (before hours of training) with convnet::Error when `path`
// cannot be written: empty; a directory, socket or block device (or a symlink
// to one); or its directory (the symlink target's, for a symlink) does not
// exist or is not writable: "--save out/model.npz: directory out does not exist".
// A character device or FIFO (/dev/null, /dev/stdout, a pipe) is fine.
void check_output_path(const std::string& option, const std::string& path);

// An option and the file it names. `allowed` (inputs only): the output option
// that may name this input, e.g. --checkpoint for --resume (read whole first).
struct NamedPath {
  std::string option, path, allowed;
};
// Refuses (convnet::Error, naming both options) two outputs that name one
// file, and an output that names an input, however spelled: "./x" and "x", a
// symlink to it, a hard link (the same device and inode). Character devices
// and FIFOs may be named by several outputs: they are streams, written one
// output after the other; so may a file reached through /proc (/dev/stdout
// redirected to a file), which is appended to.
void check_distinct_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs);

// A tqdm-like bar on stderr, drawn only when stderr is a terminal:
//  45%|████▌     | 450/1000 [00:02<00:02, 190.12it/s, loss=0.123]
// "<?, ?it/s" until a rate is known (tqdm's first frame); no loss before the
// first step. It fits the terminal: the width is $COLUMNS when set (as
// Python's shutil.get_terminal_size), else the tty's (TIOCGWINSZ), else 80,
// read again after SIGWINCH; the bar shrinks, then the loss goes, then the
// line is cut, so a frame never reaches the last column and never wraps.
class ProgressBar {
 public:
  ProgressBar(std::size_t total, bool enabled);
  ~ProgressBar();
  void update(std::size_t done, double loss);
  // With --epochs: frames start "epoch 2/5 ", from done and the epoch's length.
  void set_epochs(std::size_t epochs, std::size_t iters_per_epoch);
  // Clears the bar's line so a message can be printed, then redraws later.
  void clear();
  void finish();
  bool enabled() const { return enabled_; }
  // The text of one frame, `width` columns at most (without the leading \r).
  std::string frame(std::size_t done, double loss, double elapsed, int width) const;

 private:
  void draw_(std::size_t done, double loss);
  std::size_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::size_t done_ = 0, start_done_ = 0;
  bool started_ = false;
  double loss_ = 0;
  std::size_t epochs_ = 0, iters_per_epoch_ = 0;
  int width_ = 80;
};

// The whole of a (small) text file; convnet::IoError naming it when it cannot
// be read: "net.json: cannot open: No such file or directory".
std::string read_text_file(const std::string& path);

// True when `fd` is a terminal.
bool is_terminal(int fd);

}  // namespace convnet::cli

#include <CLI/CLI.hpp>
#include <optional>
#include <vector>

namespace convnet::cli {
// Option checks. Each refusal reads "--iters abc: must be a positive integer"
// once main() has added the option's name and the value (see last_refusal).
CLI::Validator positive_int();
CLI::Validator nonnegative_int();
CLI::Validator positive_real();
CLI::Validator nonnegative_real();
CLI::Validator weight_init();  // a number >= 0, he/relu, xavier/sigmoid
CLI::Validator int_range(long long lo, long long hi);  // "must be an integer from 0 to 1024"
CLI::Validator one_of(const std::vector<std::string>& names);

// The value the last of these validators refused and why: CLI11's
// ValidationError carries only "--name: why".
struct Refusal {
  std::string value, why;
};
std::optional<Refusal>& last_refusal();
}  // namespace convnet::cli
