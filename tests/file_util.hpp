#pragma once
// Files in tests: a temporary directory removed at the end, whole-file read
// and write.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>

namespace convnet::test {

// A fresh directory under the system temp dir, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "convnet_test_XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline std::string read_file(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_raw(const std::string& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Reads a FIFO until its writer closes it, or `seconds` pass. Opened at once
// (non-blocking) and polled, so it never hangs: not even when the code under
// test wrongly renames a file over the FIFO instead of writing into it.
// Returns what was read; call it from a thread started before the writer.
inline std::string read_fifo(const std::string& p, double seconds = 20) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return "";
  std::string got;
  bool writer_seen = false;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    char buf[4096];
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r > 0) {
      got.append(buf, std::size_t(r));
      writer_seen = true;
    } else if (r == 0 && writer_seen) {
      break;  // the writer closed it
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // no writer yet, or EAGAIN
    }
  }
  ::close(fd);
  return got;
}

// A private character device that behaves like /dev/full (1, 7), so a test
// that fails never replaces the machine's own /dev/full. "" if not root.
inline std::string make_full_device(const std::filesystem::path& dir) {
  const std::string p = (dir / "full").string();
  if (::geteuid() != 0 || ::mknod(p.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) return "";
  return p;
}

}  // namespace convnet::test
