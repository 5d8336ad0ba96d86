// Nothing lost, nothing crashes: checkpoints and exact resume, interrupts,
// divergence, a full disk — each fault tried for real on the CLI.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
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

// Starts `convnet ARGS` in the background; returns its pid.
pid_t spawn_cli(const std::string& args, const std::string& out, const std::string& err) {
  const pid_t pid = fork();
  if (pid == 0) {
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
  for (int sig : {SIGINT, SIGTERM}) {
    fs::remove(o + "/ck.npz");
    const pid_t pid = spawn_cli("train --data " + o + "/data" + kToyRun + " --iters 1000000 --checkpoint " + o +
                                    "/ck.npz --checkpoint-every 3 --save " + o + "/m.npz --metrics " + o + "/m.csv",
                                o + "/out", o + "/err");
    ASSERT_TRUE(wait_for_file(o + "/ck.npz"));
    kill(pid, sig);
    EXPECT_EQ(wait_status(pid), 128 + sig);
    const std::string err = slurp(o + "/err");
    EXPECT_NE(err.find(sig == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)"), std::string::npos) << err;
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
