// convnet: the notebook's CNN from the command line.
// Exit status: 0 success, 2 bad usage or bad input, 1 any other failure
// (DESIGN.md §5). Errors are one line on stderr: "convnet: error: ...".
#include <cstdio>
#include <exception>
#include <string>

#include "commands.hpp"
#include "convnet/error.hpp"
#include "convnet/version.hpp"

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
  auto known = [&](const char* name) {
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      if (sub->get_name() == name) return true;
    return false;
  };
  // An unknown word where the subcommand goes: say so, not "subcommand required".
  if (argc > 1 && argv[1][0] != '-' && !known(argv[1])) {
    std::fprintf(stderr, "convnet: error: unknown command '%s' (expected train, eval, predict or im2col-demo)\n",
                 argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "convnet: error: %s\n", e.what());
    std::fprintf(stderr, "Run 'convnet --help' for usage.\n");
    return 2;
  }
  try {
    return run ? run() : 0;
  } catch (const convnet::IoError& e) {
    std::fprintf(stderr, "convnet: error: %s\n", e.what());
    return 1;
  } catch (const convnet::Error& e) {
    std::fprintf(stderr, "convnet: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "convnet: error: %s\n", e.what());
    return 1;
  }
}
