// Nothing lost, nothing crashes: checkpoints and exact resume, interrupts,
// divergence, a full disk — each fault tried for real on the CLI.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli_util.hpp"
#include "convnet/convnet.hpp"

using namespace convnet;
using convnet::test::fresh_dir;
using convnet::test::run_cli;
using convnet::test::slurp;
namespace fs = std::filesystem;

namespace {
// The CSV without its wall-clock column, which no two runs share.
std::string without_seconds(const std::string& csv) {
  std::string out;
  std::size_t pos = 0;
  while (pos < csv.size()) {
    const std::size_t nl = csv.find('\n', pos);
    const std::string line = csv.substr(pos, nl - pos);
    out += line.substr(0, line.rfind(',')) + "\n";
    pos = nl == std::string::npos ? csv.size() : nl + 1;
  }
  return out;
}

// Starts `convnet ARGS` in the background; returns its pid. env: "NAME=VALUE" or "".
pid_t spawn_cli(const std::string& args, const std::string& out, const std::string& err,
                const std::string& env = "") {
  const pid_t pid = fork();
  if (pid == 0) {
    if (!env.empty()) putenv(strdup(env.c_str()));
    const std::string cmd = "exec " + std::string(CONVNET_CLI) + " " + args + " >" + out + " 2>" + err + " </dev/null";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}
int wait_status(pid_t pid) {
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
bool wait_for_file(const std::string& path, double seconds = 60) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

const char* kToyRun = " --train-size 0 --test-size 0 --batch-size 20 --eval-interval 10 --threads 1 --seed 5 -q";
}  // namespace

TEST(Reliability, ResumeAfterSigkillIsExact) {
  const auto d = fresh_dir("resume");
  const std::string o = d.string(), data = " --data " + o + "/data";
  test::write_toy_idx(d / "data", 300, 100);
  for (const char* mode : {"", " --numpy-compatible"}) {
    SCOPED_TRACE(mode);
    const std::string base = std::string("train") + data + kToyRun + mode + " --iters 40";
    // Uninterrupted.
    ASSERT_EQ(run_cli(base + " --save " + o + "/a.npz --metrics " + o + "/a.csv").status, 0);
    // Killed by SIGKILL at iteration 25, after the checkpoint at 20 ...
    fs::remove(o + "/ck.npz");
    fs::remove(o + "/b.npz");
    const auto killed = run_cli(base + " --checkpoint " + o + "/ck.npz --checkpoint-every 20 --save " + o + "/b.npz",
                                "CONVNET_TEST_KILL_AFTER_ITER=25");
    EXPECT_EQ(killed.status, 128 + SIGKILL);
    EXPECT_FALSE(fs::exists(o + "/b.npz"));
    // ... and resumed: the same parameters, bit for bit, and the same metrics.
    const auto resumed = run_cli("train" + data + " --threads 1 -q --resume " + o + "/ck.npz --save " + o +
                                 "/b.npz --metrics " + o + "/b.csv");
    ASSERT_EQ(resumed.status, 0) << resumed.err;
    EXPECT_EQ(slurp(o + "/a.npz"), slurp(o + "/b.npz"));
    EXPECT_EQ(without_seconds(slurp(o + "/a.csv")), without_seconds(slurp(o + "/b.csv")));
    const std::string b_csv = slurp(o + "/b.csv");
    EXPECT_EQ(std::count(b_csv.begin(), b_csv.end(), '\n'), 5);  // header + evaluations at 10..40
  }
}

TEST(Reliability, ResumeRefusesContradictionsAndForeignFiles) {
  const auto d = fresh_dir("resume-bad");
  const std::string o = d.string(), data = " --data " + o + "/data";
  test::write_toy_idx(d / "data", 100, 40);
  ASSERT_EQ(run_cli("train" + data + kToyRun + " --iters 10 --checkpoint " + o + "/ck.npz --save " + o + "/m.npz")
                .status,
            0);
  struct Case {
    std::string args, expect;
  };
  std::ofstream(o + "/junk.npz") << "not a zip at all";
  for (const Case& c : std::vector<Case>{
           {" --resume " + o + "/ck.npz --batch-size 50", "--batch-size 50 contradicts the checkpoint's 20"},
           {" --resume " + o + "/ck.npz --filters 8", "--filters 8 contradicts the checkpoint's 30"},
           // Every contradicting option is named, in one message.
           {" --resume " + o + "/ck.npz --batch-size 50 --optimizer sgd --seed 6",
            "--batch-size 50 contradicts the checkpoint's 20; --optimizer sgd contradicts the checkpoint's adam; "
            "--seed 6 contradicts the checkpoint's 5"},
           {" --resume " + o + "/ck.npz --iters 5", "past --iters 5"},
           {" --resume " + o + "/m.npz", "not a convnet checkpoint"},
           {" --resume " + o + "/junk.npz", "junk.npz"},
           {" --resume " + o + "/none.npz", "none.npz"}}) {
    const auto r = run_cli("train" + data + " --threads 1" + c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
  }
}

TEST(Reliability, AKillDuringTheWriteLeavesTheOldCheckpoint) {
  const auto d = fresh_dir("torn");
  const std::string o = d.string(), data = " --data " + o + "/data";
  test::write_toy_idx(d / "data", 100, 40);
  ASSERT_EQ(run_cli("train" + data + kToyRun + " --iters 10 --checkpoint " + o + "/ck.npz --checkpoint-every 10")
                .status,
            0);
  const std::string before = slurp(o + "/ck.npz");
  // The writer aborts after half of the new checkpoint's bytes.
  const auto r = run_cli("train" + data + kToyRun + " --iters 20 --checkpoint " + o + "/ck.npz --checkpoint-every 5",
                         "CONVNET_TEST_ABORT_MIDWRITE=1");
  EXPECT_EQ(r.status, 128 + SIGABRT);
  EXPECT_EQ(slurp(o + "/ck.npz"), before);
  EXPECT_NO_THROW(read_checkpoint(o + "/ck.npz"));
}

TEST(Reliability, SigintAndSigtermStopCleanlyAndWriteWhatWasAskedFor) {
  const auto d = fresh_dir("signal");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 300, 100);
  // SIGUSR1/SIGUSR2 as SIGINT/SIGTERM: what mpirun forwards to the ranks as is.
  for (int sig : {SIGINT, SIGTERM, SIGUSR1, SIGUSR2}) {
    SCOPED_TRACE(sig);
    fs::remove(o + "/ck.npz");
    const pid_t pid = spawn_cli("train --data " + o + "/data" + kToyRun + " --iters 1000000 --checkpoint " + o +
                                    "/ck.npz --checkpoint-every 3 --save " + o + "/m.npz --metrics " + o + "/m.csv",
                                o + "/out", o + "/err");
    ASSERT_TRUE(wait_for_file(o + "/ck.npz"));
    kill(pid, sig);
    const bool interrupt = sig == SIGINT || sig == SIGUSR1;
    EXPECT_EQ(wait_status(pid), interrupt ? 130 : 143);
    const std::string err = slurp(o + "/err");
    const std::string name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2";
    EXPECT_NE(err.find((interrupt ? "interrupted (" : "terminated (") + name + ")"), std::string::npos) << err;
    EXPECT_NE(err.find("m.npz"), std::string::npos) << err;
    auto net = load_model<float>(o + "/m.npz");
    const auto ck = read_checkpoint(o + "/ck.npz");
    EXPECT_GT(ck.at("iter").as<std::int64_t>()[0], 0);
    EXPECT_EQ(slurp(o + "/m.csv").rfind("iter,loss,accr_train,accr_test,seconds\n", 0), 0u);
    fs::remove(o + "/m.npz");
  }
  // A second Ctrl-C exits at once, writing nothing more: it arrives while
  // the charts (slow to draw) are being written after the first.
  fs::remove(o + "/ck.npz");
  const pid_t pid = spawn_cli("train --data " + o + "/data" + kToyRun + " --iters 1000000 --checkpoint " + o +
                                  "/ck.npz --checkpoint-every 3 --plot " + o + "/a.png --loss-plot " + o + "/l.png",
                              o + "/out", o + "/err");
  ASSERT_TRUE(wait_for_file(o + "/ck.npz"));
  kill(pid, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(15));  // signals sent together would merge into one
  kill(pid, SIGINT);
  EXPECT_EQ(wait_status(pid), 130);
  EXPECT_EQ(slurp(o + "/err").find("stopped after"), std::string::npos);
}

TEST(Reliability, DivergenceStopsWithTheLayerNamedAndKeepsTheLastGoodFiles) {
  const auto d = fresh_dir("nan");
  const std::string o = d.string(), data = " --data " + o + "/data";
  test::write_toy_idx(d / "data", 100, 40);
  ASSERT_EQ(run_cli("train" + data + kToyRun + " --iters 10 --save " + o + "/m.npz").status, 0);
  const std::string model_before = slurp(o + "/m.npz");
  const auto r = run_cli("train" + data + kToyRun + " --iters 200 --optimizer sgd --lr 1e30 --checkpoint " + o +
                         "/ck.npz --checkpoint-every 1 --save " + o + "/m.npz");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("training diverged"), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.find("non-finite values in") != std::string::npos ||
              r.err.find("parameters grew to") != std::string::npos)
      << r.err;
  EXPECT_EQ(slurp(o + "/m.npz"), model_before);  // the existing model untouched
  if (fs::exists(o + "/ck.npz")) {                // the last good checkpoint: finite
    const auto ck = read_checkpoint(o + "/ck.npz");
    for (float v : ck.at("W2").as<float>()) ASSERT_TRUE(std::isfinite(v));
  }
}

TEST(Reliability, AFullDiskIsAClearErrorAndLeavesNoTemporaryFile) {
  const auto d = fresh_dir("full");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 60, 20);
  fs::create_directories(d / "tiny");
  if (geteuid() != 0 || mount("tmpfs", (d / "tiny").c_str(), "tmpfs", 0, "size=64k") != 0)
    GTEST_SKIP() << "cannot mount a tiny tmpfs here (needs root)";
  const auto r = run_cli("train --data " + o + "/data" + kToyRun + " --iters 2 --save " + o + "/tiny/m.npz");
  const bool empty = fs::is_empty(d / "tiny");  // checked on the tmpfs, before unmounting
  umount((d / "tiny").c_str());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("m.npz: cannot write: No space left on device"), std::string::npos) << r.err;
  EXPECT_TRUE(empty);
}

// ---- outputs never destroy what they should not (DESIGN.md §5) -------------

namespace {
bool has_temp_file(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}
const char* kTiny = " --train-size 0 --test-size 0 --batch-size 20 --eval-interval 1 --threads 1 --seed 5 -q --iters 2";
}  // namespace

TEST(Outputs, SaveThroughASymlinkKeepsTheLink) {
  const auto d = fresh_dir("out-link");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 60, 20);
  fs::create_directories(d / "models");
  fs::create_symlink("models/m.npz", d / "link.npz");  // relative, dangling at first
  for (int run = 0; run < 2; ++run) {                   // creates, then replaces the target
    const auto r = run_cli("train --data " + o + "/data" + kTiny + " --save " + o + "/link.npz");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(fs::is_symlink(fs::symlink_status(d / "link.npz"))) << run;
    EXPECT_EQ(fs::read_symlink(d / "link.npz"), fs::path("models/m.npz"));
    EXPECT_NO_THROW(load_model<float>(o + "/models/m.npz"));
  }
  EXPECT_FALSE(has_temp_file(d));
}

TEST(Outputs, DevicesAndFifosAreWrittenNotReplaced) {
  const auto d = fresh_dir("out-dev");
  const std::string o = d.string(), base = "train --data " + o + "/data" + kTiny;
  test::write_toy_idx(d / "data", 60, 20);
  struct stat st;
  // A full device (our own /dev/full, as root): the write error, exit 1; the
  // device stays.
  if (const std::string full = test::make_full_device(d); !full.empty()) {
    const auto r = run_cli(base + " --metrics " + full);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "convnet: error: " + full + ": cannot write: No space left on device\n");
    ASSERT_EQ(::lstat(full.c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
  }
  // A FIFO: its reader gets the CSV; the FIFO stays.
  const std::string fifo = o + "/pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = test::read_fifo(fifo, 60); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the reader opens first
  const auto r = run_cli(base + " --metrics " + fifo);
  reader.join();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(got.rfind("iter,loss,accr_train,accr_test,seconds\n1,", 0), 0u) << got;
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  // /dev/stdout, here a regular file (run_cli redirects it): appended to,
  // never replaced, and may be named twice; the file behind it may not be
  // named again as a file to replace.
  const auto so = run_cli(base + " --metrics /dev/stdout --losses /dev/stdout");
  EXPECT_EQ(so.status, 0) << so.err;
  EXPECT_EQ(so.out.rfind("iter,loss,accr_train,accr_test,seconds\n1,", 0), 0u) << so.out;
  EXPECT_EQ(std::count(so.out.begin(), so.out.end(), '\n'), 3 + 2) << so.out;  // CSV + 2 losses
  const int rc = std::system((std::string(CONVNET_CLI) + " " + base + " --metrics /dev/stdout --losses " + o +
                               "/out.txt >" + o + "/out.txt 2>" + o + "/err.txt")
                                  .c_str());
  EXPECT_EQ(WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, 2);
  EXPECT_EQ(slurp(o + "/err.txt"), "convnet: error: --losses " + o +
                                       "/out.txt: names the same file as --metrics /dev/stdout; give each output "
                                       "its own file\n");
  // Our own /dev/null, named by two outputs (allowed: a stream), as root.
  const std::string null = o + "/null";
  if (::geteuid() != 0 || ::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
    GTEST_SKIP() << "cannot create a character device here (needs root)";
  const auto n = run_cli(base + " --metrics " + null + " --losses " + null + " --plot " + null);
  EXPECT_EQ(n.status, 0) << n.err;
  ASSERT_EQ(::lstat(null.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_FALSE(has_temp_file(d));
}

// Refused before anything is read: --data names no directory at all here, so
// an error about the output proves it came first.
TEST(Outputs, DirectorySocketAndEmptyNamesAreRefusedBeforeTraining) {
  const auto d = fresh_dir("out-refused");
  const std::string o = d.string(), base = "train --data " + o + "/no-data --save " + o + "/m.npz";
  fs::create_directories(d / "dir");
  const std::string sock = o + "/sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock.size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  fs::create_symlink(sock, d / "to-sock.csv");
  struct Case {
    std::string args, expect;
  };
  std::vector<Case> cases = {
      {" --metrics " + o + "/dir", "--metrics " + o + "/dir: is a directory"},
      {" --metrics " + sock, "--metrics " + sock + ": is a socket, expected a regular file, a character device or a FIFO"},
      {" --losses " + o + "/to-sock.csv", "--losses " + o + "/to-sock.csv: is a socket"},
      {" --plot ''", "--plot: expected a file name, got an empty string"},
      {" --checkpoint ''", "--checkpoint: expected a file name, got an empty string"},
  };
  if (::geteuid() == 0 && ::mknod((o + "/blk").c_str(), S_IFBLK | 0600, makedev(7, 200)) == 0)
    cases.push_back({" --timings " + o + "/blk", "--timings " + o + "/blk: is a block device"});
  for (const auto& c : cases) {
    const auto r = run_cli(base + c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("convnet: error: " + c.expect, 0), 0u) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  ::close(fd);
  EXPECT_TRUE(fs::is_socket(sock));
  EXPECT_TRUE(fs::is_directory(d / "dir") && fs::is_empty(d / "dir"));
  EXPECT_FALSE(fs::exists(d / "m.npz"));
}

// Two outputs naming one file, however spelled, or an output naming an
// input: refused before training, naming both options; nothing is written.
TEST(Outputs, CollidingOutputsAndOutputsNamingInputsAreRefused) {
  const auto d = fresh_dir("out-collide");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 60, 20);
  // One data file gzip-named (read by its magic, so a renamed raw file works).
  fs::rename(d / "data/t10k-labels-idx1-ubyte", d / "data/t10k-labels-idx1-ubyte.gz");
  std::ofstream(o + "/a.csv") << "keep me\n";
  fs::create_hard_link(d / "a.csv", d / "hard.csv");
  fs::create_symlink("a.csv", d / "soft.csv");
  fs::create_symlink(o + "/new.csv", d / "dangling.csv");
  std::ofstream(o + "/ck.npz") << "not read: the check comes first\n";
  const std::string in_dir = "cd " + o + " &&";  // for relative spellings
  struct Case {
    std::string args, first, second;
  };
  const std::string data = " --data data";
  for (const Case& c : std::vector<Case>{
           {" --plot x.png --loss-plot x.png", "--plot", "--loss-plot"},
           {" --plot ./x.png --loss-plot x.png", "--plot", "--loss-plot"},
           {" --plot sub/../x.png --loss-plot " + o + "/x.png", "--plot", "--loss-plot"},
           {" --save x.npz --checkpoint ./x.npz", "--save", "--checkpoint"},
           {" --metrics a.csv --losses hard.csv", "--metrics", "--losses"},
           {" --metrics a.csv --losses soft.csv", "--metrics", "--losses"},
           {" --metrics new.csv --losses dangling.csv", "--metrics", "--losses"},
           {" --timings data/train-images-idx3-ubyte", "--timings", "--data"},
           {" --save ./data/../data/train-labels-idx1-ubyte", "--save", "--data"},
           {" --metrics data/t10k-labels-idx1-ubyte.gz", "--metrics", "--data"},
           {" --save data/train-images-idx3-ubyte.gz", "--save", "--data"},  // would shadow the raw file
           {" --resume ck.npz --save ck.npz", "--save", "--resume"},
       }) {
    fs::create_directories(d / "sub");
    const auto t = run_cli("train" + data + kTiny + c.args, in_dir);
    EXPECT_EQ(t.status, 2) << c.args << "\n" << t.err;
    EXPECT_NE(t.err.find(c.first), std::string::npos) << c.args << "\n" << t.err;
    EXPECT_NE(t.err.find(c.second), std::string::npos) << c.args << "\n" << t.err;
    EXPECT_NE(t.err.find("names the"), std::string::npos) << c.args << "\n" << t.err;
    EXPECT_EQ(std::count(t.err.begin(), t.err.end(), '\n'), 1) << t.err;
  }
  for (const char* f : {"x.png", "x.npz", "new.csv", "data/train-images-idx3-ubyte.gz"})
    EXPECT_FALSE(fs::exists(d / f)) << f;
  EXPECT_EQ(slurp(o + "/a.csv"), "keep me\n");
  EXPECT_EQ(fs::file_size(d / "data/train-images-idx3-ubyte"), 16u + 60 * 28 * 28);
  EXPECT_EQ(fs::file_size(d / "data/train-labels-idx1-ubyte"), 8u + 60);
  EXPECT_EQ(fs::file_size(d / "data/t10k-labels-idx1-ubyte.gz"), 8u + 20);
  // Distinct files are fine; --resume X --checkpoint X is the normal way to
  // continue a run in place.
  ASSERT_EQ(run_cli("train" + data + kTiny + " --checkpoint ck.npz", in_dir).status, 0);
  const auto r = run_cli("train" + data + " --threads 1 -q --iters 4 --resume ck.npz --checkpoint ./ck.npz --save m.npz "
                         "--metrics a.csv --losses b.csv",
                         in_dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_checkpoint(o + "/ck.npz").at("iter").as<std::int64_t>()[0], 4);
  EXPECT_FALSE(has_temp_file(d));
}

// A second SIGINT or SIGTERM exits at once: the temp file of the write in
// progress goes too. CONVNET_TEST_PAUSE_MIDWRITE holds the save of the model
// half written, so both signals land while its temp file exists.
TEST(Outputs, ASecondSignalLeavesNoTempFile) {
  const auto d = fresh_dir("out-sig");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 60, 20);
  for (int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig);
    const pid_t pid = spawn_cli("train --data " + o + "/data" + kTiny + " --save " + o + "/m.npz", o + "/out",
                                o + "/err", "CONVNET_TEST_PAUSE_MIDWRITE=60");
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!has_temp_file(d) && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(has_temp_file(d)) << slurp(o + "/err");
    kill(pid, sig);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // two signals at once would merge into one
    kill(pid, sig);
    EXPECT_EQ(wait_status(pid), 128 + sig);
    EXPECT_FALSE(has_temp_file(d));
    EXPECT_FALSE(fs::exists(d / "m.npz"));
  }
}
