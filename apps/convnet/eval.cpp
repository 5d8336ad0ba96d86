#include "commands.hpp"

namespace convnet::cli {
void add_eval(CLI::App&, Runner&) {}
}  // namespace convnet::cli
