#include "cli_util.hpp"

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <optional>

#include "convnet/io/atomic_file.hpp"
#include "convnet/core/architecture.hpp"
#include "convnet/core/error.hpp"

namespace convnet::cli {

namespace fs = std::filesystem;

void check_output_path(const std::string& option, const std::string& path) {
  if (path.empty()) throw Error(option + ": expected a file name, got an empty string");
  const OutputTarget t = resolve_output(path);
  if (t.kind == OutputTarget::Kind::Refused) {
    if (t.what == "a directory") throw Error(option + " " + path + ": is a directory, expected a file name");
    throw Error(option + " " + path + ": is " + t.what + ", expected a regular file, a character device or a FIFO");
  }
  if (t.kind == OutputTarget::Kind::Stream) {
    if (access(path.c_str(), W_OK) != 0) throw Error(option + " " + path + ": is not writable");
    return;
  }
  // The directory that will hold the temp file: the symlink target's.
  const fs::path p(t.path);
  std::error_code ec;
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    throw Error(option + " " + path + ": directory " + dir.string() + " does not exist");
  if (access(dir.c_str(), W_OK) != 0)
    throw Error(option + " " + path + ": directory " + dir.string() + " is not writable");
}

namespace {
// Equal keys for two names of one file. An existing file: its device and
// inode (hard links, symlinks, any spelling). A file still to be created: the
// path it will have, symlinks resolved. None for a character device or FIFO,
// which may be shared. `stream`: reached through /proc (/dev/stdout
// redirected to a file), so appended to, not replaced.
struct Identity {
  std::string key;
  bool stream = false;
};
std::optional<Identity> file_identity(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return std::nullopt;
    return Identity{"inode " + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino),
                    resolve_output(path).kind == OutputTarget::Kind::Stream};
  }
  std::error_code ec;
  const fs::path target = fs::absolute(resolve_output(path).path, ec);
  const fs::path canon = fs::weakly_canonical(target, ec);
  return Identity{"path " + (ec ? target.lexically_normal() : canon).string()};
}
}  // namespace

void check_distinct_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
  std::vector<std::optional<Identity>> ids;
  for (const auto& o : outputs) ids.push_back(file_identity(o.path));
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (!ids[i]) continue;
    for (std::size_t j = 0; j < i; ++j)
      if (ids[j] && ids[j]->key == ids[i]->key && !(ids[j]->stream && ids[i]->stream))  // two appends are fine
        throw Error(outputs[i].option + " " + outputs[i].path + ": names the same file as " + outputs[j].option +
                    " " + outputs[j].path + "; give each output its own file");
    for (const auto& in : inputs) {
      if (in.allowed == outputs[i].option) continue;
      if (const auto id = file_identity(in.path); id && id->key == ids[i]->key)
        throw Error(outputs[i].option + " " + outputs[i].path + ": names the input " + in.path + " of " + in.option +
                    ", which it would overwrite");
    }
  }
}

bool is_terminal(int fd) { return isatty(fd) == 1; }

std::string read_text_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw IoError(path + ": cannot open: " + std::strerror(errno));
  std::string text;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > (std::size_t(64) << 20)) {
      std::fclose(f);
      throw Error(path + ": larger than 64 MiB; not a network description");
    }
  }
  const bool failed = std::ferror(f);
  const int err = errno;
  std::fclose(f);
  if (failed) throw IoError(path + ": cannot read: " + std::strerror(err));
  return text;
}

namespace {
volatile std::sig_atomic_t g_resized = 0;
extern "C" void on_sigwinch(int) { g_resized = 1; }

// $COLUMNS, else the terminal's width on stderr, else 80.
int terminal_width() {
  if (const char* c = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long v = std::strtol(c, &end, 10);
    if (end != c && *end == '\0' && v > 0 && v < 10000) return int(v);
  }
  struct winsize ws {};
  if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

// Columns a UTF-8 string takes: one per code point (the bar's blocks are one column wide).
std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

std::string hms(double s) {
  if (!std::isfinite(s) || s < 0) s = 0;
  const long t = long(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", t / 60, t % 60);
  return buf;
}
}  // namespace

ProgressBar::ProgressBar(std::size_t total, bool enabled)
    : total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()) {
  if (!enabled_) return;
  width_ = terminal_width();
  struct sigaction sa {};
  sa.sa_handler = on_sigwinch;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a resize must not interrupt a read or write
  sigaction(SIGWINCH, &sa, nullptr);
}

ProgressBar::~ProgressBar() { clear(); }

void ProgressBar::set_epochs(std::size_t epochs, std::size_t iters_per_epoch) {
  epochs_ = epochs;
  iters_per_epoch_ = iters_per_epoch;
}

std::string ProgressBar::frame(std::size_t done, double loss, double elapsed, int width) const {
  // The rate counts the steps of this process (a resumed run starts at its checkpoint).
  const std::size_t steps = done > start_done_ ? done - start_done_ : 0;
  const bool known = steps > 0 && elapsed > 0;
  const double rate = known ? double(steps) / elapsed : 0;
  const double frac = total_ ? double(std::min(done, total_)) / double(total_) : 1;
  char buf[160];
  std::string left;
  if (epochs_ && iters_per_epoch_) {
    const std::size_t e = std::min(epochs_, done / iters_per_epoch_ + 1);
    std::snprintf(buf, sizeof buf, "epoch %zu/%zu ", e, epochs_);
    left = buf;
  }
  std::snprintf(buf, sizeof buf, "%3d%%|", int(frac * 100));
  left += buf;
  std::snprintf(buf, sizeof buf, "| %zu/%zu [%s<", done, total_, hms(elapsed).c_str());
  std::string right = buf;
  if (known)
    std::snprintf(buf, sizeof buf, "%s, %.2fit/s", hms(double(total_ - std::min(done, total_)) / rate).c_str(), rate);
  else
    std::snprintf(buf, sizeof buf, "?, ?it/s");
  right += buf;
  std::string postfix;
  if (steps > 0) {
    std::snprintf(buf, sizeof buf, ", loss=%.4g", loss);
    postfix = buf;
  }
  // One column spare: writing the last column would wrap on some terminals.
  const std::size_t room = width > 1 ? std::size_t(width - 1) : 1;
  if (columns(left) + columns(right) + postfix.size() + 2 > room) postfix.clear();  // the loss goes first
  right += postfix + "]";
  const std::size_t fixed = columns(left) + columns(right);
  // tqdm's bar: eighth-blocks for the partial cell; 10 cells at most, as before, at least 1.
  if (fixed + 1 <= room) {
    const int cells = int(std::min<std::size_t>(10, room - fixed)), units = int(frac * cells * 8);
    static const char* eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    std::string bar;
    for (int i = 0; i < units / 8; ++i) bar += "█";
    int used = units / 8;
    if (used < cells && units % 8) bar += eighths[units % 8], ++used;
    bar += std::string(std::size_t(cells - used), ' ');
    return left + bar + right;
  }
  // Too narrow for a bar: the text, cut to the room (whole code points).
  std::string text = left.substr(0, left.size() - 1) + " " + right.substr(2);
  std::string out;
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && ++n > room) break;
    out += text[i];
  }
  return out;
}

void ProgressBar::draw_(std::size_t done, double loss) {
  if (g_resized) g_resized = 0, width_ = terminal_width();
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "\r%s\x1b[K", frame(done, loss, el, width_).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::update(std::size_t done, double loss) {
  if (!started_) {
    // The first call gives where this process starts: the rate counts from here.
    started_ = true;
    start_done_ = done;
    start_ = std::chrono::steady_clock::now();
  }
  done_ = done;
  loss_ = loss;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw_(done, loss);
}

void ProgressBar::clear() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\r\x1b[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

void ProgressBar::finish() {
  if (!enabled_) return;
  draw_(done_, loss_);
  std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace convnet::cli

#include <charconv>
#include <climits>

namespace convnet::cli {

std::optional<Refusal>& last_refusal() {
  static std::optional<Refusal> r;
  return r;
}

namespace {
// A validator that records what it refused, for main() to word the error as
// "--iters abc: must be a positive integer" (CLI11 knows only the option name).
CLI::Validator refusing(std::function<std::string(const std::string&)> check, const std::string& tag) {
  return CLI::Validator(
      [check = std::move(check)](std::string& s) -> std::string {
        std::string why = check(s);
        if (!why.empty()) last_refusal() = Refusal{s, why};
        return why;
      },
      tag);
}

// Integers in [lo, hi], in plain decimal: CLI11's own conversion would read
// "010" as octal 8 after we checked it as 10, and Option::check() keeps a
// validator from rewriting the value, so a leading 0 is refused.
CLI::Validator int_check(long long lo, long long hi, std::string what, const std::string& tag) {
  return refusing(
      [=](const std::string& s) -> std::string {
        long long v = 0;
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        const bool range = ec == std::errc::result_out_of_range;
        if (p != s.data() + s.size() || (ec != std::errc() && !range)) return what;
        if (range || v < lo || v > hi) {
          const bool too_big = s[0] != '-' && (range || v > hi);
          return too_big && hi == LLONG_MAX ? what + " of at most " + std::to_string(hi) : what;
        }
        if (s != std::to_string(v)) return "must be written in plain decimal, without a leading 0";
        return "";
      },
      tag);
}

CLI::Validator real_check(bool allow_zero, std::string what, const std::string& tag) {
  return refusing(
      [=](const std::string& s) -> std::string {
        double v = 0;
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        const bool ok = ec == std::errc() && p == s.data() + s.size() && std::isfinite(v);
        return ok && (v > 0 || (allow_zero && v == 0)) ? "" : what;
      },
      tag);
}
}  // namespace

CLI::Validator positive_int() { return int_check(1, LLONG_MAX, "must be a positive integer", "INT>0"); }
CLI::Validator nonnegative_int() { return int_check(0, LLONG_MAX, "must be an integer >= 0", "INT>=0"); }
CLI::Validator positive_real() { return real_check(false, "must be a positive number", "NUMBER>0"); }
CLI::Validator nonnegative_real() { return real_check(true, "must be a number >= 0", "NUMBER>=0"); }
CLI::Validator weight_init() {
  return refusing(
      [](const std::string& s) -> std::string {
        try {
          WeightInit::parse(s);
          return "";
        } catch (const Error&) {
          return "must be a number >= 0, he (relu) or xavier (sigmoid)";
        }
      },
      "NUMBER>=0|he|xavier");
}
CLI::Validator int_range(long long lo, long long hi) {
  return int_check(lo, hi, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi),
                   "INT in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}
CLI::Validator one_of(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return refusing(
      [names, why = "must be one of " + list](const std::string& s) -> std::string {
        return std::find(names.begin(), names.end(), s) != names.end() ? "" : why;
      },
      "{" + list + "}");
}

}  // namespace convnet::cli
