// The command line facing bad input: option values in our own words, one bad
// picture among good ones, FIFOs, blank pictures, labels out of range.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "cli_util.hpp"
#include "convnet/convnet.hpp"

using namespace convnet;
using convnet::test::fresh_dir;
using convnet::test::run_cli;
namespace fs = std::filesystem;

namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// A model trained for two steps on the toy set, shared by the tests here.
const std::string& tiny_model() {
  static const std::string path = [] {
    const auto d = fresh_dir("input-model");
    test::write_toy_idx(d / "data", 60, 20);
    const auto r = run_cli("train --data " + d.string() + "/data --train-size 0 --test-size 0 --iters 2 "
                           "--batch-size 5 --threads 1 --save " + d.string() + "/m.npz");
    EXPECT_EQ(r.status, 0) << r.err;
    return d.string() + "/m.npz";
  }();
  return path;
}

// A class-4 picture of the toy set, as a PNG.
void write_toy_png(const std::string& path) {
  GrayImage g{28, 28, std::vector<std::uint8_t>(28 * 28, 10)};
  for (std::size_t c = 0; c < 28; ++c) g.pixels[14 * 28 + c] = 230;
  write_png_gray(path, g);
}

void set_byte(const std::string& path, std::size_t offset, char value) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(std::streamoff(offset));
  f.write(&value, 1);
}

void gzip_file(const std::string& from, const std::string& to) {
  const std::string bytes = test::slurp(from);
  gzFile gz = gzopen(to.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  gzclose(gz);
}

}  // namespace

// Like cat or grep: every readable file gets its line, each bad one is named
// on stderr, and the exit status at the end says that one failed.
TEST(CliInput, PredictGoesOnPastABadFileAndExits2) {
  const auto d = fresh_dir("predict-many");
  const std::string o = d.string();
  write_toy_png(o + "/a.png");
  write_toy_png(o + "/c.png");
  std::ofstream(o + "/b.png") << "hello";
  const auto r = run_cli("predict --model " + tiny_model() + " " + o + "/a.png " + o + "/b.png " + o + "/missing.png " +
                         o + "/c.png");
  EXPECT_EQ(r.status, 2);
  const std::regex lines("^" + o + R"(/a\.png: \d  \(.*\)\n)" + o + R"(/c\.png: \d  \(.*\)\n$)");
  EXPECT_TRUE(std::regex_match(r.out, lines)) << r.out;
  EXPECT_EQ(r.err, "convnet: error: " + o + "/b.png: not a PNG file\n" + "convnet: error: " + o +
                       "/missing.png: cannot open: No such file or directory\n");
  // --json: the readable ones, in order.
  const auto j = run_cli("predict --json --model " + tiny_model() + " " + o + "/b.png " + o + "/c.png");
  EXPECT_EQ(j.status, 2);
  EXPECT_NE(j.out.find("\"file\": \"" + o + "/c.png\""), std::string::npos) << j.out;
  EXPECT_EQ(j.out.find("b.png"), std::string::npos) << j.out;
  // All good: exit 0, nothing on stderr.
  const auto g = run_cli("predict --model " + tiny_model() + " " + o + "/a.png " + o + "/c.png");
  EXPECT_EQ(g.status, 0) << g.err;
  EXPECT_EQ(g.err, "");
}

// A FIFO would block open() until a writer came: refused at once instead.
// `timeout` turns a hang into a failure (status 124) instead of a stuck test.
TEST(CliInput, PredictRefusesAFifoOrADirectoryWithoutBlocking) {
  const auto d = fresh_dir("predict-fifo");
  const std::string o = d.string();
  ASSERT_EQ(mkfifo((o + "/pipe.png").c_str(), 0600), 0);
  write_toy_png(o + "/a.png");
  fs::create_directory(o + "/dir.png");
  const auto r = run_cli("predict --model " + tiny_model() + " " + o + "/pipe.png " + o + "/dir.png " + o + "/a.png",
                         "timeout 20");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(r.err, "convnet: error: " + o + "/pipe.png: is a FIFO (named pipe), expected a PNG file\n" +
                       "convnet: error: " + o + "/dir.png: is a directory, expected a PNG file\n");
  EXPECT_EQ(r.out.rfind(o + "/a.png: ", 0), 0u) << r.out;
  // A FIFO as the model: refused as well.
  const auto m = run_cli("predict --model " + o + "/pipe.png " + o + "/a.png", "timeout 20");
  EXPECT_EQ(m.status, 2) << m.err;
  EXPECT_EQ(m.err, "convnet: error: " + o + "/pipe.png: cannot open: not a regular file\n");
  // The library call itself, in this process: should it block in open(), a
  // writer opening the FIFO 5 s later releases it, and the message is wrong.
  std::atomic<bool> returned{false};
  std::thread release([&] {
    for (int i = 0; i < 50 && !returned; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (returned) return;
    const int fd = ::open((o + "/pipe.png").c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
  });
  try {
    read_png_gray(o + "/pipe.png");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), o + "/pipe.png: is a FIFO (named pipe), expected a PNG file");
  }
  returned = true;
  release.join();
  EXPECT_THROW(read_png_gray("/dev/null"), Error);
}

TEST(CliInput, PredictWarnsThatABlankPictureHoldsNoDigit) {
  const auto d = fresh_dir("predict-blank");
  const std::string o = d.string();
  write_png_gray(o + "/blank.png", GrayImage{40, 30, std::vector<std::uint8_t>(40 * 30, 255)});
  const auto r = run_cli("predict --model " + tiny_model() + " " + o + "/blank.png");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "convnet: warning: " + o + "/blank.png: the picture is constant (all pixels 255); it holds no digit\n");
  // Still one line per readable file, so scripts can count on it.
  EXPECT_EQ(r.out.rfind(o + "/blank.png: ", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  // A digit gets no warning.
  write_toy_png(o + "/a.png");
  EXPECT_EQ(run_cli("predict --model " + tiny_model() + " " + o + "/a.png").err, "");
}

// Option errors in our words, for every subcommand: "<option> <value>: <why>",
// one line, then the usage hint; exit 2 and nothing on stdout.
TEST(CliInput, OptionErrorsAreInOurWords) {
  struct Case {
    std::string args, line;
  };
  const std::vector<Case> cases = {
      {"train --seed -1", "--seed -1: must be an integer from 0 to 4294967295"},
      {"train --seed 4294967296", "--seed 4294967296: must be an integer from 0 to 4294967295"},
      {"im2col-demo --seed -1", "--seed -1: must be an integer from 0 to 4294967295"},
      {"train --iters abc", "--iters abc: must be a positive integer"},
      {"train --iters 0", "--iters 0: must be a positive integer"},
      {"train --iters 99999999999999999999",
       "--iters 99999999999999999999: must be a positive integer of at most 9223372036854775807"},
      {"train --iters ''", "--iters '': must be a positive integer"},
      // CLI11 alone would read 010 as octal 8.
      {"im2col-demo --seed 010", "--seed 010: must be written in plain decimal, without a leading 0"},
      {"train --iters 0x10", "--iters 0x10: must be a positive integer"},
      {"train --batch-size -5", "--batch-size -5: must be a positive integer"},
      {"train --pad -1", "--pad -1: must be an integer >= 0"},
      {"train --lr abc", "--lr abc: must be a positive number"},
      {"train --weight-init-std -0.5", "--weight-init-std -0.5: must be a number >= 0, he (relu) or xavier (sigmoid)"},
      {"train --weight-init-std gauss", "--weight-init-std gauss: must be a number >= 0, he (relu) or xavier (sigmoid)"},
      {"train --optimizer adamw", "--optimizer adamw: must be one of sgd, momentum, nesterov, adagrad, rmsprop, adam"},
      {"train --threads 5000", "--threads 5000: must be an integer from 0 to 1024"},
      {"eval --model m.npz --threads 5000", "--threads 5000: must be an integer from 0 to 1024"},
      {"eval --model m.npz --test-size x", "--test-size x: must be an integer >= 0"},
      {"predict --model m.npz --top 0 a.png", "--top 0: must be a positive integer"},
      {"train --itres 5", "--itres: unknown option for 'convnet train' (did you mean --iters?)"},
      {"train --frobnicate", "--frobnicate: unknown option for 'convnet train'"},
      {"eval --model m.npz --jsn", "--jsn: unknown option for 'convnet eval' (did you mean --json?)"},
      {"train --save", "--save: expects a value"},
      {"train --save --iters 5",
       "--save: expects a value, but is followed by the option --iters (write ./--iters for a file of that name)"},
      {"train --iters 5 --iters 6", "--iters: given more than once"},
      {"train --quiet=abc", "--quiet: takes no value, got abc"},
      {"train extra.txt", "extra.txt: unexpected argument for 'convnet train'"},
      {"eval --model m.npz extra.txt", "extra.txt: unexpected argument for 'convnet eval'"},
      {"eval", "--model: required by 'convnet eval', but not given"},
      {"predict --model m.npz", "'convnet predict' needs images, but none were given"},
      {"", "a command is required: train, eval, predict, show, plot or im2col-demo"},
  };
  for (const auto& c : cases) {
    const auto r = run_cli(c.args);
    EXPECT_EQ(r.status, 2) << c.args;
    EXPECT_EQ(first_line(r.err), "convnet: error: " + c.line) << c.args;
    EXPECT_EQ(r.err.substr(r.err.find('\n') + 1), "Run 'convnet --help' for usage.\n") << c.args;
    EXPECT_EQ(r.out, "") << c.args;
  }
}


// A label beyond the classes names the file (raw or .gz) and the index.
TEST(CliInput, ABadLabelNamesTheFileAndTheIndex) {
  const auto d = fresh_dir("bad-label");
  const std::string o = d.string();
  test::write_toy_idx(d / "data", 60, 20);
  set_byte(o + "/data/train-labels-idx1-ubyte", 8 + 3, 12);  // IDX header: 8 bytes
  const std::string train = "train --data " + o + "/data --train-size 0 --test-size 0 --iters 1 --batch-size 5";
  auto r = run_cli(train);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "convnet: error: " + o + "/data/train-labels-idx1-ubyte: label 12 at index 3 is out of range 0-9\n");
  // The same file gzipped.
  gzip_file(o + "/data/train-labels-idx1-ubyte", o + "/data/train-labels-idx1-ubyte.gz");
  fs::remove(o + "/data/train-labels-idx1-ubyte");
  r = run_cli(train);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err,
            "convnet: error: " + o + "/data/train-labels-idx1-ubyte.gz: label 12 at index 3 is out of range 0-9\n");
  // eval --data: the test labels.
  test::write_toy_idx(d / "data2", 20, 20);
  set_byte(o + "/data2/t10k-labels-idx1-ubyte", 8 + 17, char(200));
  r = run_cli("eval --model " + tiny_model() + " --data " + o + "/data2");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "convnet: error: " + o + "/data2/t10k-labels-idx1-ubyte: label 200 at index 17 is out of range 0-9\n");
}

TEST(CliInput, CheckLabelsWithoutAFileNamesTheSet) {
  Dataset d;
  d.labels = {0, 9, 10};
  EXPECT_NO_THROW(d.check_labels(11));
  try {
    d.check_labels(10, "test set");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "test set: label 10 at index 2 is out of range 0-9");
  }
  // head() keeps the file name.
  d.labels = {0, 9, 10, 1};
  d.images = {0, 0, 0, 0};
  d.count = 4, d.rows = 1, d.cols = 1;
  d.labels_path = "x-labels";
  EXPECT_THROW(
      {
        try {
          d.head(3).check_labels(10);
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(), "x-labels: label 10 at index 2 is out of range 0-9");
          throw;
        }
      },
      Error);
}
