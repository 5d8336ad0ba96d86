// write_file_atomic: temp file in the same directory + fsync + rename; a
// symlink is written through, a device or pipe written directly.
#include "convnet/io/atomic_file.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <random>
#include <thread>

#include "convnet/core/error.hpp"

namespace convnet {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw IoError(path + ": cannot write: " + reason);
}

// "dir/name" -> {"dir", "name"}; "name" -> {".", "name"}; "/name" -> {"/", "name"}.
struct SplitPath {
  std::string dir, base;
};
SplitPath split_path(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return {std::string(1, '.'), path};
  return {slash == 0 ? std::string(1, '/') : path.substr(0, slash), path.substr(slash + 1)};
}

// The temp files of the writes in flight, for remove_temp_files_in_flight()
// in a signal handler: fixed storage and lock-free atomics only.
struct InFlight {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 holds a temp path
  char path[4096];
};
static_assert(std::atomic<int>::is_always_lock_free);
InFlight g_in_flight[16];

// Records a temp path for the lifetime of the object (the file is removed or
// renamed before the record is dropped).
class TempRecord {
 public:
  explicit TempRecord(const std::string& tmp) {
    if (tmp.size() >= sizeof(InFlight::path)) return;
    for (int i = 0; i < int(std::size(g_in_flight)); ++i) {
      int free = 0;
      if (!g_in_flight[i].state.compare_exchange_strong(free, 1)) continue;
      std::memcpy(g_in_flight[i].path, tmp.c_str(), tmp.size() + 1);
      g_in_flight[i].state.store(2);
      slot_ = i;
      return;
    }
  }
  ~TempRecord() {
    if (slot_ >= 0) g_in_flight[slot_].state.store(0);
  }
  TempRecord(const TempRecord&) = delete;
  TempRecord& operator=(const TempRecord&) = delete;

 private:
  int slot_ = -1;
};

// CONVNET_TEST_PAUSE_MIDWRITE=SECONDS: sleep that long, signals or not.
void pause_if_asked() {
  const char* s = std::getenv("CONVNET_TEST_PAUSE_MIDWRITE");
  if (s == nullptr) return;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(std::strtod(s, nullptr));
  while (std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// Opens a new, unique ".<base>.tmp.XXXXXX" in dir with O_EXCL. Unlike mkstemp
// the kernel applies the umask to mode 0666, so new outputs get normal modes.
int create_temp(const std::string& path, const std::string& dir, const std::string& base,
                std::string& tmp_path) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static std::atomic<unsigned long> counter{0};
  std::mt19937_64 rng(std::random_device{}() ^
                      static_cast<unsigned long>(
                          std::chrono::steady_clock::now().time_since_epoch().count()) ^
                      (static_cast<unsigned long>(::getpid()) << 32) ^ counter.fetch_add(1));
  const std::string prefix = (dir == "/" ? std::string("/") : dir + "/") + "." + base + ".tmp.";
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string name = prefix;
    for (int i = 0; i < 6; ++i) name += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      tmp_path = std::move(name);
      return fd;
    }
    if (errno != EEXIST) fail(path, errno_text(errno));
  }
  fail(path, "could not create a unique temporary file");
}

// Gives the temp file the permission bits of the file it will replace.
void copy_mode(int fd, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) (void)::fchmod(fd, st.st_mode & 07777);
}

// Writes all of [data, data+n), retrying on EINTR and short writes.
int write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return 0;
}

int fsync_path(const std::string& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = 0;
  if (::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0 && errno != EINTR) err = errno;
  return err;
}

// A Refused target: bad input, not an I/O failure.
[[noreturn]] void refuse(const std::string& path, const OutputTarget& t) {
  if (t.what == "a directory") throw Error(path + ": cannot write: " + errno_text(EISDIR));
  throw Error(path + ": cannot write: it is " + t.what + ", expected a regular file, a character device or a FIFO");
}

// A device or pipe: opened and written, never replaced. No O_TRUNC (a
// regular file behind /dev/stdout is appended to) and no fsync (EINVAL there).
void write_stream(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) fail(path, errno_text(errno));
  int err = write_all(fd, bytes.data(), bytes.size());
  if (::close(fd) != 0 && err == 0 && errno != EINTR) err = errno;
  if (err != 0) fail(path, errno_text(err));
}

// Runs the caller's writer; on any exception calls cleanup() and throws as
// documented (convnet::Error unchanged, anything else as IoError).
template <class Cleanup>
void call_writer(const std::string& path, const std::string& tmp_path,
                 const std::function<void(const std::string&)>& write, Cleanup cleanup) {
  try {
    write(tmp_path);
  } catch (const Error&) {
    cleanup();
    throw;
  } catch (const std::exception& e) {
    cleanup();
    fail(path, e.what());
  } catch (...) {
    cleanup();
    fail(path, "unknown exception from the writer");
  }
}

// The callback version for a Stream: the writer gets an in-memory file.
void write_stream_via_memfd(const std::string& path, const std::function<void(const std::string&)>& write) {
  const int mfd = ::memfd_create("convnet-output", MFD_CLOEXEC);
  if (mfd < 0) fail(path, "cannot create an in-memory file: " + errno_text(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{mfd};
  call_writer(path, "/proc/self/fd/" + std::to_string(mfd), write, [] {});
  struct stat st;
  if (::fstat(mfd, &st) != 0) fail(path, errno_text(errno));
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = ::pread(mfd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) fail(path, "cannot read back the in-memory file");
    got += static_cast<std::size_t>(r);
  }
  write_stream(path, bytes);
}

// Renames the finished temp file into place, then fsyncs the directory so the
// rename itself is durable (some file systems cannot fsync a directory: EINVAL).
// Errors name `path`, the name the caller gave; `target` is what is replaced.
void rename_into_place(const std::string& path, const std::string& target, const std::string& dir,
                       const std::string& tmp_path) {
  if (::rename(tmp_path.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_path.c_str());
    fail(path, errno_text(err));
  }
  const int err = fsync_path(dir, O_RDONLY | O_DIRECTORY);
  if (err != 0 && err != EINVAL)
    fail(path, "renamed, but fsync of directory " + dir + " failed: " + errno_text(err));
}

}  // namespace

OutputTarget resolve_output(const std::string& path) {
  using Kind = OutputTarget::Kind;
  std::string p = path;
  for (int hop = 0; hop < 40; ++hop) {  // Linux's own limit on a chain of links
    struct stat st;
    // Missing (a new file) or unreachable: the write itself reports why.
    if (::lstat(p.c_str(), &st) != 0) return {Kind::File, p, ""};
    if (S_ISLNK(st.st_mode)) {
      const std::string dir = split_path(p).dir;
      struct statfs sfs;
      if (::statfs(dir.c_str(), &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC) {
        // /proc/self/fd/N: the kernel follows it to an open file; open() decides.
        struct stat t;
        if (::stat(p.c_str(), &t) == 0 && !S_ISREG(t.st_mode) && !S_ISCHR(t.st_mode) && !S_ISFIFO(t.st_mode))
          return {Kind::Refused, path, S_ISDIR(t.st_mode) ? "a directory" : S_ISSOCK(t.st_mode) ? "a socket"
                                                                                            : "a block device"};
        return {Kind::Stream, path, ""};
      }
      std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 4095) + 1, '\0');
      const ssize_t n = ::readlink(p.c_str(), target.data(), target.size());
      if (n <= 0 || static_cast<std::size_t>(n) >= target.size()) return {Kind::File, p, ""};
      target.resize(static_cast<std::size_t>(n));
      // A relative target is relative to the link's directory (as given, not
      // normalised: the kernel resolves "dir/../" with dir's real links).
      const auto slash = p.find_last_of('/');
      p = target[0] == '/' || slash == std::string::npos ? target : p.substr(0, slash + 1) + target;
      continue;
    }
    if (S_ISREG(st.st_mode)) return {Kind::File, p, ""};
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return {Kind::Stream, path, ""};
    return {Kind::Refused, path,
            S_ISDIR(st.st_mode)    ? "a directory"
            : S_ISSOCK(st.st_mode) ? "a socket"
            : S_ISBLK(st.st_mode)  ? "a block device"
                                   : "not a regular file"};
  }
  return {OutputTarget::Kind::Refused, path, "a loop of symlinks"};
}

void write_file_atomic(const std::string& path,
                       const std::function<void(const std::string& tmp_path)>& write) {
  const OutputTarget t = resolve_output(path);
  if (t.kind == OutputTarget::Kind::Refused) refuse(path, t);
  if (t.kind == OutputTarget::Kind::Stream) return write_stream_via_memfd(path, write);
  const auto [dir, base] = split_path(t.path);
  if (base.empty() || base == "." || base == "..") fail(path, errno_text(EISDIR));
  std::string tmp_path;
  const int fd = create_temp(path, dir, base, tmp_path);
  const TempRecord record(tmp_path);
  copy_mode(fd, t.path);
  ::close(fd);  // the writer opens the file by name (libraries want a path)
  pause_if_asked();
  call_writer(path, tmp_path, write, [&] { ::unlink(tmp_path.c_str()); });
  if (const int err = fsync_path(tmp_path, O_RDONLY)) {
    ::unlink(tmp_path.c_str());
    fail(path, errno_text(err));
  }
  rename_into_place(path, t.path, dir, tmp_path);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  const OutputTarget t = resolve_output(path);
  if (t.kind == OutputTarget::Kind::Refused) refuse(path, t);
  if (t.kind == OutputTarget::Kind::Stream) return write_stream(path, bytes);
  const auto [dir, base] = split_path(t.path);
  if (base.empty() || base == "." || base == "..") fail(path, errno_text(EISDIR));
  std::string tmp_path;
  const int fd = create_temp(path, dir, base, tmp_path);
  const TempRecord record(tmp_path);
  copy_mode(fd, t.path);
  if (std::getenv("CONVNET_TEST_ABORT_MIDWRITE") != nullptr) {
    (void)write_all(fd, bytes.data(), bytes.size() / 2);
    std::abort();
  }
  int err = 0;
  if (std::getenv("CONVNET_TEST_PAUSE_MIDWRITE") != nullptr) {
    err = write_all(fd, bytes.data(), bytes.size() / 2);
    pause_if_asked();
    if (err == 0) err = write_all(fd, bytes.data() + bytes.size() / 2, bytes.size() - bytes.size() / 2);
  } else {
    err = write_all(fd, bytes.data(), bytes.size());
  }
  // Delayed allocation errors (ENOSPC, EIO) can surface at fsync or close.
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0 && errno != EINTR) err = errno;
  if (err != 0) {
    ::unlink(tmp_path.c_str());
    fail(path, errno_text(err));
  }
  rename_into_place(path, t.path, dir, tmp_path);
}

void remove_temp_files_in_flight() noexcept {
  for (auto& f : g_in_flight)
    if (f.state.load() == 2) (void)::unlink(f.path);
}

}  // namespace convnet
