// write_file_atomic: the old file or the new one, never a partial file, no
// leftover temp files on failure; errors name the path and the reason.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
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
#include <thread>
#include <vector>

#include "convnet/io/atomic_file.hpp"
#include "convnet/core/error.hpp"
#include "file_util.hpp"
#include "convnet/io/npz.hpp"

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

// ---- what is renamed over: symlinks, devices, pipes, other file types ------

namespace {
bool is_link(const std::string& p) { return fs::is_symlink(fs::symlink_status(p)); }
}  // namespace

// A symlink stays; its target is replaced, through chains of links and
// relative targets (relative to the link's own directory), with the temp file
// next to the target; a dangling link creates its target.
TEST(AtomicFile, SymlinkIsWrittenThroughAndKept) {
  TempDir dir;
  fs::create_directory(dir.path / "sub");
  write_raw(dir / "sub/target.txt", "old");
  ASSERT_EQ(::chmod((dir / "sub/target.txt").c_str(), 0640), 0);
  fs::create_symlink("sub/b", dir.path / "a");          // a -> sub/b (relative to dir)
  fs::create_symlink("target.txt", dir.path / "sub/b");  // sub/b -> target.txt (relative to sub)
  convnet::write_file_atomic(dir / "a", std::string_view("new"));
  EXPECT_TRUE(is_link(dir / "a"));
  EXPECT_TRUE(is_link(dir / "sub/b"));
  EXPECT_EQ(fs::read_symlink(dir.path / "a"), fs::path("sub/b"));
  EXPECT_EQ(read_file(dir / "sub/target.txt"), "new");
  struct stat st;
  ASSERT_EQ(::stat((dir / "sub/target.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);  // the target's mode, not the link's
  EXPECT_EQ(listing(dir.path), (std::vector<std::string>{"a", "sub"}));
  EXPECT_EQ(listing(dir.path / "sub"), (std::vector<std::string>{"b", "target.txt"}));

  // The callback version: the writer's temp file is in the target's directory.
  std::string seen;
  convnet::write_file_atomic(dir / "a", [&](const std::string& tmp) {
    seen = tmp;
    write_raw(tmp, "newer");
  });
  EXPECT_EQ(fs::path(seen).parent_path(), dir.path / "sub");
  EXPECT_TRUE(is_link(dir / "a"));
  EXPECT_EQ(read_file(dir / "sub/target.txt"), "newer");

  // An absolute target, dangling: created; the link stays.
  fs::create_symlink(dir.path / "sub/made.txt", dir.path / "dangling");
  convnet::write_file_atomic(dir / "dangling", std::string_view("made"));
  EXPECT_TRUE(is_link(dir / "dangling"));
  EXPECT_EQ(read_file(dir / "sub/made.txt"), "made");
  // Dangling into a missing directory: the usual error, naming the link.
  fs::create_symlink("nowhere/x.txt", dir.path / "lost");
  EXPECT_EQ(error_of([&] { convnet::write_file_atomic(dir / "lost", std::string_view("x")); }),
            (dir / "lost") + ": cannot write: No such file or directory");
  EXPECT_TRUE(is_link(dir / "lost"));
  // A loop of links is refused, not followed forever.
  fs::create_symlink("loop2", dir.path / "loop1");
  fs::create_symlink("loop1", dir.path / "loop2");
  EXPECT_NE(error_of([&] { convnet::write_file_atomic(dir / "loop1", std::string_view("x")); }).find("loop"),
            std::string::npos);
  EXPECT_EQ(listing(dir.path), (std::vector<std::string>{"a", "dangling", "loop1", "loop2", "lost", "sub"}));
}

// A character device (here our own /dev/null node, as root) is written, not
// replaced by a regular file; a write error there is an IoError.
TEST(AtomicFile, CharacterDeviceIsWrittenNotReplaced) {
  TempDir dir;
  const std::string null = dir / "null";
  if (::geteuid() != 0 || ::mknod(null.c_str(), S_IFCHR | 0666, ::makedev(1, 3)) != 0)
    GTEST_SKIP() << "cannot create a character device here (needs root)";
  convnet::write_file_atomic(null, std::string_view("bytes"));
  convnet::write_file_atomic(null, [](const std::string& tmp) { write_raw(tmp, "png"); });
  struct stat st;
  ASSERT_EQ(::lstat(null.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, ::makedev(1, 3));
  EXPECT_EQ(listing(dir.path), std::vector<std::string>{"null"});
  // A symlink to the device: written through, both stay.
  fs::create_symlink(null, dir.path / "link");
  convnet::write_file_atomic(dir / "link", std::string_view("bytes"));
  EXPECT_TRUE(is_link(dir / "link"));
  ASSERT_EQ(::lstat(null.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(AtomicFile, AFullDeviceIsANoSpaceErrorAndStaysADevice) {
  TempDir dir;
  const std::string full = convnet::test::make_full_device(dir.path);
  if (full.empty()) GTEST_SKIP() << "cannot create a character device here (needs root)";
  try {
    convnet::write_file_atomic(full, std::string_view("x"));
    ADD_FAILURE() << "no error";
  } catch (const convnet::IoError& e) {
    EXPECT_EQ(std::string(e.what()), full + ": cannot write: No space left on device");
  }
  EXPECT_THROW(convnet::write_file_atomic(full, [](const std::string& tmp) { write_raw(tmp, "x"); }),
               convnet::IoError);
  struct stat st;
  ASSERT_EQ(::lstat(full.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(listing(dir.path), std::vector<std::string>{"full"});
}

// A FIFO: the reader gets the bytes (both versions), the FIFO stays.
TEST(AtomicFile, FifoIsWrittenToItsReader) {
  TempDir dir;
  const std::string fifo = dir / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (int version = 0; version < 2; ++version) {
    std::string got;
    std::thread reader([&] { got = convnet::test::read_fifo(fifo); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the reader opens first
    if (version == 0)
      convnet::write_file_atomic(fifo, std::string_view("through the pipe\n"));
    else
      convnet::write_file_atomic(fifo, [](const std::string& tmp) { write_raw(tmp, "through the pipe\n"); });
    reader.join();
    EXPECT_EQ(got, "through the pipe\n") << version;
    struct stat st;
    ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
  }
  EXPECT_EQ(listing(dir.path), std::vector<std::string>{"pipe"});
}

// A socket or a directory is bad input (convnet::Error, not IoError), left alone.
TEST(AtomicFile, SocketAndDirectoryAreRefused) {
  TempDir dir;
  const std::string sock = dir / "sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock.size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  fs::create_symlink(sock, dir.path / "to-sock");
  for (const std::string& p : {sock, dir / "to-sock"}) {
    try {
      convnet::write_file_atomic(p, std::string_view("x"));
      ADD_FAILURE() << "no error for " << p;
    } catch (const convnet::IoError& e) {
      ADD_FAILURE() << "an IoError: " << e.what();
    } catch (const convnet::Error& e) {
      EXPECT_EQ(std::string(e.what()),
                p + ": cannot write: it is a socket, expected a regular file, a character device or a FIFO");
    }
  }
  ::close(fd);
  EXPECT_EQ(convnet::resolve_output(sock).kind, convnet::OutputTarget::Kind::Refused);
  EXPECT_EQ(convnet::resolve_output(dir.path.string()).what, "a directory");
  EXPECT_TRUE(fs::is_socket(sock));
  EXPECT_EQ(listing(dir.path), (std::vector<std::string>{"sock", "to-sock"}));
}

// /dev/stdout leads into /proc (a "link" to an open file, "pipe:[123]"): a
// stream, never resolved and replaced as a path.
TEST(AtomicFile, DevStdoutIsAStream) {
  struct stat st;
  if (::stat("/dev/stdout", &st) != 0 || S_ISSOCK(st.st_mode)) GTEST_SKIP() << "stdout is not a file or pipe";
  EXPECT_EQ(convnet::resolve_output("/dev/stdout").kind, convnet::OutputTarget::Kind::Stream);
  EXPECT_EQ(convnet::resolve_output("/dev/stdout").path, "/dev/stdout");
}

// What a signal handler calls before _exit: the temp file of a write in
// flight is removed; a finished write's is not remembered.
TEST(AtomicFile, TempFilesInFlightCanBeRemovedFromASignalHandler) {
  TempDir dir;
  const std::string p = dir / "model.npz";
  write_raw(p, "old");
  std::string seen;
  EXPECT_THROW(convnet::write_file_atomic(p,
                                          [&](const std::string& tmp) {
                                            seen = tmp;
                                            ASSERT_TRUE(fs::exists(tmp));
                                            convnet::remove_temp_files_in_flight();
                                            EXPECT_FALSE(fs::exists(tmp)) << "the temp file was not recorded";
                                          }),
               convnet::IoError);  // the temp file is gone when it is fsynced
  EXPECT_EQ(read_file(p), "old");
  EXPECT_EQ(listing(dir.path), std::vector<std::string>{"model.npz"});
  // Nothing recorded after a write ends: a file that takes the old temp
  // name later is not touched.
  convnet::write_file_atomic(p, std::string_view("new"));
  write_raw(seen, "someone else's");
  convnet::remove_temp_files_in_flight();
  EXPECT_TRUE(fs::exists(seen));
}
