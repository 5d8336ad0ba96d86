#pragma once
// The CLI only parses options and wires the library's pieces (DESIGN.md §1).
// Each subcommand lives in its own file and registers itself here.
#include <CLI/CLI.hpp>
#include <functional>

namespace convnet::cli {

// A subcommand's run function, called after parsing; returns the exit status.
using Runner = std::function<int()>;

void add_im2col_demo(CLI::App& app, Runner& run);
void add_train(CLI::App& app, Runner& run);
void add_eval(CLI::App& app, Runner& run);
void add_predict(CLI::App& app, Runner& run);
void add_show(CLI::App& app, Runner& run);
void add_plot(CLI::App& app, Runner& run);

}  // namespace convnet::cli
