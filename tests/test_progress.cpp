// The training progress bar on a real terminal: `script` gives convnet a
// pseudo-terminal, whose width is set with stty (or $COLUMNS); every frame
// the bar draws is checked to fit (issue #15).
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_util.hpp"

using convnet::test::fresh_dir;
namespace fs = std::filesystem;

namespace {

bool have_script() { return std::system("command -v script >/dev/null 2>&1 && command -v stty >/dev/null 2>&1") == 0; }

// Runs `shell` (a command line; $CONVNET is the CLI) under `script`, with
// COLUMNS unset; returns what the terminal received.
std::string on_terminal(const fs::path& dir, const std::string& shell) {
  const std::string out = (dir / "tty.txt").string(), cmd = (dir / "cmd.sh").string();
  std::ofstream(cmd) << "CONVNET=" << CONVNET_CLI << "\n" << shell << "\n";
  const std::string run = "env -u COLUMNS script -qec 'sh " + cmd + "' /dev/null > " + out + " 2>&1 </dev/null";
  EXPECT_EQ(std::system(run.c_str()), 0) << convnet::test::slurp(out);
  return convnet::test::slurp(out);
}

// The frames: the text between carriage returns and newlines that ends with
// the erase-line sequence (each of the bar's frames does), without it.
std::vector<std::string> frames(const std::string& tty) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    const auto k = cur.find("\x1b[K");
    if (k != std::string::npos && k > 0 && k + 3 == cur.size()) out.push_back(cur.substr(0, k));
    cur.clear();
  };
  for (char c : tty) {
    if (c == '\r' || c == '\n') flush();
    else cur += c;
  }
  flush();
  return out;
}

std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

std::string train(const fs::path& dir, const std::string& extra) {
  return "$CONVNET train --data " + (dir / "data").string() +
         " --train-size 0 --test-size 0 --batch-size 10 --threads 1 " + extra;
}

}  // namespace

TEST(ProgressBar, FitsSixtyColumnsAndStartsAsTqdm) {
  if (!have_script()) GTEST_SKIP() << "no script(1)";
  const auto d = fresh_dir("bar60");
  convnet::test::write_toy_idx(d / "data", 200, 50);
  for (int cols : {60, 34}) {
    // $COLUMNS wins over the tty's width (stty says 200).
    const auto f = frames(on_terminal(d, "stty cols 200; COLUMNS=" + std::to_string(cols) + " " +
                                             train(d, "--iters 300 --print-interval 0")));
    ASSERT_GE(f.size(), 2u);
    for (const auto& fr : f) EXPECT_LT(columns(fr), std::size_t(cols)) << cols << ": '" << fr << "'";
    if (cols == 60) EXPECT_EQ(f.front(), "  0%|          | 0/300 [00:00<?, ?it/s]");
    if (cols == 34) EXPECT_EQ(f.front(), "  0%|    | 0/300 [00:00<?, ?it/s]");  // the bar shrank to 4 cells
    EXPECT_NE(f.back().find("100%"), std::string::npos) << f.back();
    EXPECT_NE(f.back().find("300/300"), std::string::npos) << f.back();
  }
  fs::remove_all(d);
}

TEST(ProgressBar, TakesTheTtyWidthAndShowsTheEpoch) {
  if (!have_script()) GTEST_SKIP() << "no script(1)";
  const auto d = fresh_dir("bartty");
  convnet::test::write_toy_idx(d / "data", 200, 50);
  const auto f = frames(on_terminal(d, "stty cols 60; " + train(d, "--epochs 2 --epoch-eval-size 50")));
  ASSERT_GE(f.size(), 2u);
  for (const auto& fr : f) EXPECT_LT(columns(fr), 60u) << "'" << fr << "'";
  EXPECT_EQ(f.front().rfind("epoch 1/2   0%|", 0), 0u) << f.front();
  EXPECT_EQ(f.back().rfind("epoch 2/2 100%|", 0), 0u) << f.back();
  fs::remove_all(d);
}

TEST(ProgressBar, FollowsAResizedTerminal) {
  if (!have_script()) GTEST_SKIP() << "no script(1)";
  const auto d = fresh_dir("barwinch");
  convnet::test::write_toy_idx(d / "data", 200, 50);
  // The window narrows while training: the kernel sends SIGWINCH. (A
  // background job's stdin is /dev/null, so stty is pointed at the tty.)
  const auto f = frames(on_terminal(d, "stty cols 100; (sleep 1; stty cols 40 </dev/tty) & " + train(d, "--iters 600 --print-interval 0") +
                                           "; wait"));
  ASSERT_GE(f.size(), 3u);
  std::size_t widest = 0;
  for (const auto& fr : f) widest = std::max(widest, columns(fr));
  EXPECT_GT(widest, 40u);  // before the resize
  EXPECT_LT(columns(f.back()), 40u) << f.back();
  fs::remove_all(d);
}
