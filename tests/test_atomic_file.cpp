// write_file_atomic: the old file or the new one, never a partial file, no
// leftover temp files on failure; errors name the path and the reason.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "convnet/atomic_file.hpp"
#include "convnet/error.hpp"
#include "file_util.hpp"
#include "convnet/npz.hpp"

namespace fs = std::filesystem;

namespace {

using convnet::test::read_file;
using convnet::test::TempDir;
using convnet::test::write_raw;

// Names in a directory, sorted.
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const convnet::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(AtomicFile, ReplacesTheOldFileAndLeavesNothingElse) {
  TempDir dir;
  const std::string p = dir / "out.csv";
  write_raw(p, "old contents\n");
  convnet::write_file_atomic(p, std::string_view("new,contents\n1,2\n"));
  EXPECT_EQ(read_file(p), "new,contents\n1,2\n");
  EXPECT_EQ(listing(dir.path), std::vector<std::string>{"out.csv"});
  // A new file, and an empty one.
  convnet::write_file_atomic(dir / "fresh.txt", std::string_view(""));
  EXPECT_TRUE(fs::exists(dir / "fresh.txt"));
  EXPECT_EQ(fs::file_size(dir / "fresh.txt"), 0u);
}

TEST(AtomicFile, WriterGetsATempPathInTheSameDirectory) {
  TempDir dir;
  const std::string p = dir / "plot.png";
  write_raw(p, "old");
  std::string seen;
  convnet::write_file_atomic(p, [&](const std::string& tmp) {
    seen = tmp;
    EXPECT_EQ(read_file(p), "old");  // not replaced yet
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << "new picture";
  });
  EXPECT_EQ(fs::path(seen).parent_path(), dir.path);
  EXPECT_EQ(fs::path(seen).filename().string().rfind(".plot.png.tmp.", 0), 0u) << seen;
  EXPECT_EQ(read_file(p), "new picture");
  EXPECT_EQ(listing(dir.path), std::vector<std::string>{"plot.png"});
}

TEST(AtomicFile, ThrowingWriterLeavesTheOldFileAndNoTempFile) {
  TempDir dir;
  const std::string p = dir / "model.npz";
  write_raw(p, "old model");
  const auto half_then_throw = [](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary);
    f << "half of a new mod";
    f.flush();
    throw std::runtime_error("disk on fire");
  };
  EXPECT_EQ(error_of([&] { convnet::write_file_atomic(p, half_then_throw); }), p + ": cannot write: disk on fire");
  EXPECT_EQ(read_file(p), "old model");
  EXPECT_EQ(listing(dir.path), std::vector<std::string>{"model.npz"});
  // A convnet::Error from the writer comes through unchanged.
  EXPECT_EQ(error_of([&] {
              convnet::write_file_atomic(p, [](const std::string&) { throw convnet::Error("W1: bad"); });
            }),
            "W1: bad");
  EXPECT_EQ(read_file(p), "old model");
  EXPECT_EQ(listing(dir.path), std::vector<std::string>{"model.npz"});
}

TEST(AtomicFile, MissingDirectoryOrDirectoryTargetNamesThePath) {
  TempDir dir;
  const std::string p = dir / "out/model.npz";
  EXPECT_EQ(error_of([&] { convnet::write_file_atomic(p, std::string_view("x")); }),
            p + ": cannot write: No such file or directory");
  EXPECT_EQ(error_of([&] { convnet::write_file_atomic(p, [](const std::string&) {}); }),
            p + ": cannot write: No such file or directory");
  fs::create_directory(dir / "sub");
  EXPECT_EQ(error_of([&] { convnet::write_file_atomic(dir / "sub", std::string_view("x")); }),
            (dir / "sub") + ": cannot write: Is a directory");
  EXPECT_EQ(listing(dir.path), std::vector<std::string>{"sub"});
  EXPECT_TRUE(fs::is_empty(dir.path / "sub"));
}

TEST(AtomicFile, KeepsTheModeOfTheReplacedFileAndHonoursTheUmask) {
  TempDir dir;
  const std::string p = dir / "a.txt";
  write_raw(p, "old");
  ASSERT_EQ(::chmod(p.c_str(), 0640), 0);
  convnet::write_file_atomic(p, std::string_view("new"));
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);

  const mode_t old_mask = ::umask(022);
  convnet::write_file_atomic(dir / "b.txt", std::string_view("new"));
  ::umask(old_mask);
  ASSERT_EQ(::stat((dir / "b.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);  // 0666 less the umask, not mkstemp's 0600
}

// The reliability hook: a child process dies (SIGABRT) half way through
// writing a model over an existing one; the old model must be intact.
TEST(AtomicFile, AbortMidWriteLeavesTheOldModelLoadable) {
  TempDir dir;
  const std::string p = dir / "model.npz";
  const std::vector<float> old_w = {1, 2, 3, 4};
  convnet::save_npz(p, {{"W1", convnet::NpyArray::from<float>({2, 2}, old_w.data())}});
  const std::string old_bytes = read_file(p);

  std::vector<float> new_w(10000, 7.0f);
  const convnet::NpzArchive replacement = {{"W1", convnet::NpyArray::from<float>({100, 100}, new_w.data())}};
  convnet::save_npz(dir / "reference.npz", replacement);  // the size a complete write has
  const auto full_size = fs::file_size(dir / "reference.npz");
  fs::remove(dir / "reference.npz");

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    struct rlimit no_core = {0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::setenv("CONVNET_TEST_ABORT_MIDWRITE", "1", 1);
    try {
      convnet::save_npz(p, replacement);
    } catch (...) {
    }
    ::_exit(0);  // reached only if the hook did not fire
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited normally: the abort hook did not fire";
  EXPECT_EQ(WTERMSIG(status), SIGABRT);

  EXPECT_EQ(read_file(p), old_bytes);
  const convnet::NpzArchive back = convnet::load_npz(p);
  EXPECT_EQ(convnet::require(back, p, "W1", "<f4", {2, 2}).as<float>(), old_w);
  // What the dead process left: one half-written temp file, never the target.
  std::vector<std::string> names = listing(dir.path);
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].rfind(".model.npz.tmp.", 0), 0u) << names[0];
  EXPECT_EQ(fs::file_size(dir.path / names[0]), full_size / 2);
}

// A write error (here EFBIG from RLIMIT_FSIZE, which needs no privileges) is
// reported with strerror, and leaves the old file and no temp file. Runs in a
// child so the limit does not touch the test runner.
TEST(AtomicFile, WriteErrorIsReportedAndCleanedUp) {
  TempDir dir;
  const std::string p = dir / "big.bin";
  write_raw(p, "old");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    const std::string e = error_of([&] { convnet::write_file_atomic(p, std::string(100000, 'x')); });
    ::_exit(e == p + ": cannot write: File too large" ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "wrong or missing error message";
  EXPECT_EQ(read_file(p), "old");
  EXPECT_EQ(listing(dir.path), std::vector<std::string>{"big.bin"});
}

// ENOSPC on a real full file system: a 64 KiB tmpfs, if we may mount one.
TEST(AtomicFile, NoSpaceLeftOnDevice) {
  TempDir dir;
  const std::string mnt = dir / "tiny";
  fs::create_directory(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0)
    GTEST_SKIP() << "cannot mount a 64 KiB tmpfs (needs root or CAP_SYS_ADMIN): " << std::strerror(errno);
  struct Unmount {
    std::string at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{mnt};

  const std::string p = mnt + "/x.csv";
  write_raw(p, "old,file\n");
  EXPECT_EQ(error_of([&] { convnet::write_file_atomic(p, std::string(1 << 20, 'y')); }),
            p + ": cannot write: No space left on device");
  EXPECT_EQ(read_file(p), "old,file\n");
  EXPECT_EQ(listing(mnt), std::vector<std::string>{"x.csv"});
  // The same through save_npz.
  std::vector<double> big(1 << 17, 0.5);
  EXPECT_EQ(error_of([&] {
              convnet::save_npz(mnt + "/m.npz", {{"W", convnet::NpyArray::from<double>({big.size()}, big.data())}});
            }),
            mnt + "/m.npz: cannot write: No space left on device");
  EXPECT_EQ(listing(mnt), std::vector<std::string>{"x.csv"});
}
