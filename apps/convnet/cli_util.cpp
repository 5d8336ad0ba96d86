#include "cli_util.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
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

ProgressBar::ProgressBar(std::size_t total, bool enabled)
    : total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { clear(); }

namespace {
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

void ProgressBar::draw_(std::size_t done, double loss) {
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = el > 0 ? double(done) / el : 0;
  const double eta = rate > 0 ? double(total_ - done) / rate : 0;
  const double frac = total_ ? double(done) / double(total_) : 1;
  // tqdm's bar: 10 cells, with eighth-blocks for the partial cell.
  static const char* eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  const int cells = 10, units = int(frac * cells * 8);
  std::string bar;
  for (int i = 0; i < units / 8; ++i) bar += "█";
  int used = units / 8;
  if (used < cells && units % 8) bar += eighths[units % 8], ++used;
  bar += std::string(std::size_t(cells - used), ' ');
  std::fprintf(stderr, "\r%3d%%|%s| %zu/%zu [%s<%s, %.2fit/s, loss=%.4g]\x1b[K", int(frac * 100), bar.c_str(), done,
               total_, hms(el).c_str(), hms(eta).c_str(), rate, loss);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::update(std::size_t done, double loss) {
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
