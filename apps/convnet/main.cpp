// convnet: the notebook's CNN from the command line.
// Exit status: 0 success, 2 bad usage or bad input, 1 any other failure
// (DESIGN.md §5). Errors are one line on stderr: "convnet: error: ...".
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "commands.hpp"
#include "parallel.hpp"
#include "convnet/core/error.hpp"
#include "convnet/core/version.hpp"

namespace {

constexpr const char* kCommands = "train, eval, predict, show, plot or im2col-demo";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "convnet: error: %s\n", message.c_str());
  std::fprintf(stderr, "Run 'convnet --help' for usage.\n");
  return 2;
}

// A value as the user would type it back: '' when empty, quoted when it has spaces.
std::string shown(const std::string& v) {
  return v.empty() || v.find_first_of(" \t\n") != std::string::npos ? "'" + v + "'" : v;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

// Every name an option of `cmd` answers to: "--iters", "-q", "--help".
std::vector<std::string> option_names(const CLI::App& cmd) {
  std::vector<std::string> names;
  for (const CLI::Option* o : cmd.get_options()) {
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    for (const auto& s : o->get_snames()) names.push_back("-" + s);
  }
  return names;
}

const CLI::Option* find_option(const CLI::App& cmd, const std::string& name) {
  for (const CLI::Option* o : cmd.get_options())
    if (o->nonpositional() && o->check_name(name)) return o;
  return nullptr;
}

bool takes_value(const CLI::Option& o) { return o.get_type_size_max() > 0 && o.get_expected_max() > 0; }

// "--itres: unknown option for 'convnet train' (did you mean --iters?)"
std::string unknown_option(const CLI::App& cmd, const std::string& where, const std::string& arg) {
  const std::string name = arg.substr(0, arg.find('='));
  std::string best;
  std::size_t best_d = 3;  // suggest only a near miss: at most 2 edits
  for (const auto& n : option_names(cmd))
    if (const std::size_t d = edit_distance(name, n); d < best_d && d < n.size() / 2) best = n, best_d = d;
  return name + ": unknown option for '" + where + "'" + (best.empty() ? "" : " (did you mean " + best + "?)");
}

// CLI11 takes the word after an option as its value even when that word is
// another option ("--save --iters 5" would save to a file named --iters).
// Returns the message for the first such case, or "".
std::string option_as_value(const CLI::App& cmd, int argc, char** argv, int first) {
  for (int i = first; i + 1 < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-' || arg.find('=') != std::string::npos) continue;
    const CLI::Option* o = find_option(cmd, arg);
    if (!o || !takes_value(*o)) continue;
    const std::string next = argv[i + 1];
    if (next.size() > 1 && next[0] == '-' && find_option(cmd, next.substr(0, next.find('='))))
      return arg + ": expects a value, but is followed by the option " + next.substr(0, next.find('=')) +
             " (write ./" + next + " for a file of that name)";
    ++i;  // the value
  }
  return "";
}

// "convnet show filters" for a nested command.
std::string command_path(const CLI::App& cmd) {
  std::string path = cmd.get_name();
  for (const CLI::App* p = cmd.get_parent(); p && p->get_parent(); p = p->get_parent()) path = p->get_name() + " " + path;
  return "convnet " + path;
}

// CLI11's error, in our words: "<option> <value>: <why>" where there is a value.
std::string reword(const CLI::ParseError& e, const CLI::App& app, const CLI::App* cmd) {
  const std::string what = e.what();
  const std::string where = cmd ? command_path(*cmd) : "convnet";
  const CLI::App& scope = cmd ? *cmd : app;
  const std::string name = what.substr(0, what.find(':'));
  if (dynamic_cast<const CLI::ValidationError*>(&e)) {
    // Our validators recorded the value: "--seed: must be ..." -> "--seed -1: must be ...".
    auto& r = convnet::cli::last_refusal();
    const std::string tail = r ? ": " + r->why : "";
    if (r && what.size() > tail.size() && what.compare(what.size() - tail.size(), tail.size(), tail) == 0)
      return what.substr(0, what.size() - tail.size()) + " " + shown(r->value) + tail;
    return what;
  }
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    auto extra = scope.remaining();
    if (extra.empty()) extra = app.remaining();
    if (extra.empty()) return what;
    const std::string& x = extra.front();
    if (x.size() > 1 && x[0] == '-' && !(x[1] >= '0' && x[1] <= '9')) return unknown_option(scope, where, x);
    return shown(x) + ": unexpected argument for '" + where + "'";
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e)) {
    if (what.find("At Most") != std::string::npos) return name + ": given more than once";
    return name + ": expects a value";
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e)) {
    // "Could not convert: --quiet = abc"
    const std::string prefix = "Could not convert: ";
    const auto eq = what.find(" = ");
    if (what.rfind(prefix, 0) == 0 && eq != std::string::npos) {
      const std::string opt = what.substr(prefix.size(), eq - prefix.size());
      const std::string value = what.substr(eq + 3);
      const CLI::Option* o = find_option(scope, opt);
      if (o && !takes_value(*o)) return opt + ": takes no value, got " + shown(value);
      return opt + " " + shown(value) + ": is not a valid value";
    }
    return what;
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e)) {
    if (!cmd) {
      const auto extra = app.remaining();
      if (!extra.empty() && extra.front().size() > 1 && extra.front()[0] == '-')
        return unknown_option(app, where, extra.front());
      return "a command is required: " + std::string(kCommands);
    }
    const std::string required = " is required";
    if (what.find("subcommand") != std::string::npos && !cmd->get_subcommands({}).empty())
      return "'" + where + "' needs one of: " + [&] {
        std::string names;
        for (const auto* sub : cmd->get_subcommands({})) names += (names.empty() ? "" : ", ") + sub->get_name();
        return names;
      }();
    if (what.size() > required.size() && what.compare(what.size() - required.size(), required.size(), required) == 0) {
      const std::string missing = what.substr(0, what.size() - required.size());
      if (missing[0] == '-') return missing + ": required by '" + where + "', but not given";
      return "'" + where + "' needs " + missing + ", but none were given";
    }
    return what;
  }
  return what;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"convnet — the course notebook's convolutional network (SimpleConvNet) in C++", "convnet"};
  app.set_version_flag("-V,--version", std::string("convnet ") + convnet::version());
  app.require_subcommand(1);
  app.fallthrough(false);
  convnet::cli::Runner run;
  convnet::cli::add_im2col_demo(app, run);
  convnet::cli::add_train(app, run);
  convnet::cli::add_eval(app, run);
  convnet::cli::add_predict(app, run);
  convnet::cli::add_show(app, run);
  convnet::cli::add_plot(app, run);
  const CLI::App* cmd = nullptr;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (argc > 1 && sub->get_name() == argv[1]) cmd = sub;
  // An unknown word where the subcommand goes: say so, not "subcommand required".
  if (argc > 1 && argv[1][0] != '-' && !cmd) {
    std::fprintf(stderr, "convnet: error: unknown command '%s' (expected %s)\n", argv[1], kCommands);
    return 2;
  }
  // A nested command (show filters): its own options are the ones to check.
  int first_option = 2;
  if (cmd && argc > 2)
    for (const auto* sub : cmd->get_subcommands([](const CLI::App*) { return true; }))
      if (sub->get_name() == argv[2]) cmd = sub, first_option = 3;
  if (cmd)
    if (const std::string m = option_as_value(*cmd, argc, argv, first_option); !m.empty()) return usage_error(m);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(reword(e, app, cmd));
  }
  // Several processes from mpirun: only an MPI build's train joins them.
  if (cmd)
    if (const std::string m = convnet::cli::launch_refusal(cmd->get_name()); !m.empty()) {
      if (convnet::cli::launched_rank() == 0) std::fprintf(stderr, "convnet: error: %s\n", m.c_str());
      return 2;
    }
  // Under mpirun every process meets the same error: rank 0 reports it.
  const bool report = convnet::cli::launched_rank() == 0;
  try {
    return run ? run() : 0;
  } catch (const convnet::IoError& e) {
    if (report) std::fprintf(stderr, "convnet: error: %s\n", e.what());
    return 1;
  } catch (const convnet::Error& e) {
    if (report) std::fprintf(stderr, "convnet: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    if (report) std::fprintf(stderr, "convnet: error: %s\n", e.what());
    return 1;
  }
}
