#include "commands.hpp"

namespace convnet::cli {
void add_train(CLI::App&, Runner&) {}
}  // namespace convnet::cli
