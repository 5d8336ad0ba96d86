// write_file_atomic: temp file in the same directory + fsync + rename.
#include "convnet/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <random>

#include "convnet/error.hpp"

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

// Renames the finished temp file into place, then fsyncs the directory so the
// rename itself is durable (some file systems cannot fsync a directory: EINVAL).
void rename_into_place(const std::string& path, const std::string& dir, const std::string& tmp_path) {
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_path.c_str());
    fail(path, errno_text(err));
  }
  const int err = fsync_path(dir, O_RDONLY | O_DIRECTORY);
  if (err != 0 && err != EINVAL)
    fail(path, "renamed, but fsync of directory " + dir + " failed: " + errno_text(err));
}

}  // namespace

void write_file_atomic(const std::string& path,
                       const std::function<void(const std::string& tmp_path)>& write) {
  const auto [dir, base] = split_path(path);
  if (base.empty() || base == "." || base == "..") fail(path, errno_text(EISDIR));
  std::string tmp_path;
  const int fd = create_temp(path, dir, base, tmp_path);
  copy_mode(fd, path);
  ::close(fd);  // the writer opens the file by name (libraries want a path)
  try {
    write(tmp_path);
  } catch (const Error&) {
    ::unlink(tmp_path.c_str());
    throw;
  } catch (const std::exception& e) {
    ::unlink(tmp_path.c_str());
    fail(path, e.what());
  } catch (...) {
    ::unlink(tmp_path.c_str());
    fail(path, "unknown exception from the writer");
  }
  if (const int err = fsync_path(tmp_path, O_RDONLY)) {
    ::unlink(tmp_path.c_str());
    fail(path, errno_text(err));
  }
  rename_into_place(path, dir, tmp_path);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  const auto [dir, base] = split_path(path);
  if (base.empty() || base == "." || base == "..") fail(path, errno_text(EISDIR));
  std::string tmp_path;
  const int fd = create_temp(path, dir, base, tmp_path);
  copy_mode(fd, path);
  if (std::getenv("CONVNET_TEST_ABORT_MIDWRITE") != nullptr) {
    (void)write_all(fd, bytes.data(), bytes.size() / 2);
    std::abort();
  }
  int err = write_all(fd, bytes.data(), bytes.size());
  // Delayed allocation errors (ENOSPC, EIO) can surface at fsync or close.
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0 && errno != EINTR) err = errno;
  if (err != 0) {
    ::unlink(tmp_path.c_str());
    fail(path, errno_text(err));
  }
  rename_into_place(path, dir, tmp_path);
}

}  // namespace convnet
