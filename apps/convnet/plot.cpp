// convnet plot: the accuracy (and loss) charts again, from the metrics CSV
// files 'convnet train --metrics' writes — after an interrupted or resumed
// run, or to compare runs (one line per file and set).
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "cli_util.hpp"
#include "commands.hpp"
#include "convnet/convnet.hpp"

namespace convnet::cli {

namespace {

constexpr const char* kHeader = "iter,loss,accr_train,accr_test,seconds";

struct PlotArgs {
  std::vector<std::string> csv;
  std::string out, loss;
};

struct Metrics {
  std::vector<double> iter, loss, train, test;
};

// A metrics file; a bad one is bad input (exit 2), named with what was expected.
Metrics read_metrics(const std::string& path) {
  const std::string expected = "expected a metrics CSV written by 'convnet train --metrics' (header " +
                               std::string(kHeader) + ")";
  std::string text;
  try {
    text = read_text_file(path);
  } catch (const IoError& e) {
    throw Error(std::string(e.what()) + "; " + expected);
  }
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kHeader)
    throw Error(path + ": " + (text.empty() ? "empty" : "first line is '" + line.substr(0, 60) + "'") + "; " + expected);
  Metrics m;
  for (std::size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    double v[5];
    const char* p = line.data();
    const char* end = line.data() + line.size();
    int k = 0;
    for (; k < 5; ++k) {
      const auto [q, ec] = std::from_chars(p, end, v[k]);
      if (ec != std::errc() || (k < 4 ? (q == end || *q != ',') : q != end)) break;
      p = q + 1;
    }
    if (k < 5)
      throw Error(path + ": line " + std::to_string(n) + " is '" + line.substr(0, 60) + "'; expected 5 numbers, " +
                  kHeader);
    m.iter.push_back(v[0]), m.loss.push_back(v[1]), m.train.push_back(v[2]), m.test.push_back(v[3]);
  }
  if (m.iter.empty()) throw Error(path + ": holds only the header; expected at least one evaluation");
  return m;
}

int run_plot(const PlotArgs& a, const CLI::App& cmd) {
  std::vector<NamedPath> outputs{{"-o", a.out, ""}}, inputs;
  check_output_path("-o", a.out);
  if (cmd.count("--loss")) check_output_path("--loss", a.loss), outputs.push_back({"--loss", a.loss, ""});
  for (const auto& f : a.csv) inputs.push_back({"metrics", f, ""});
  check_distinct_outputs(outputs, inputs);
  std::vector<Metrics> runs;
  for (const auto& f : a.csv) runs.push_back(read_metrics(f));
  const bool several = runs.size() > 1;
  auto label = [&](std::size_t i, const std::string& what) { return several ? a.csv[i] + " " + what : what; };
  // As 'train --plot' draws it.
  Chart acc;
  acc.title = "accuracy";
  acc.xlabel = "count";
  acc.ylabel = "accuracy";
  acc.ylim = std::pair{0.0, 1.0};
  for (std::size_t i = 0; i < runs.size(); ++i) {
    acc.series.push_back({label(i, "training set"), runs[i].iter, runs[i].train});
    acc.series.push_back({label(i, "test set"), runs[i].iter, runs[i].test});
  }
  plot_png(a.out, acc);
  if (cmd.count("--loss")) {
    // The CSV holds the loss at each evaluation, not every iteration's (--losses).
    Chart c;
    c.title = "loss";
    c.xlabel = "iteration";
    c.ylabel = "loss";
    for (std::size_t i = 0; i < runs.size(); ++i)
      c.series.push_back({several ? a.csv[i] : "training loss", runs[i].iter, runs[i].loss});
    plot_png(a.loss, c);
  }
  return 0;
}

}  // namespace

void add_plot(CLI::App& app, Runner& run) {
  auto* cmd = app.add_subcommand(
      "plot", "Redraw the accuracy chart (as 'train --plot') from metrics CSV files ('train --metrics'); several "
              "files: one line per file and set, the file named in the legend");
  static PlotArgs a;
  cmd->add_option("metrics", a.csv, "Metrics CSV files (header iter,loss,accr_train,accr_test,seconds)")->required();
  cmd->add_option("-o,--output", a.out, "The accuracy chart (PNG) to write")->required();
  cmd->add_option("--loss", a.loss, "Also write the loss at each evaluation to this PNG");
  cmd->callback([&run, cmd] { run = [cmd] { return run_plot(a, *cmd); }; });
}

}  // namespace convnet::cli
