#include "commands.hpp"

namespace convnet::cli {
void add_predict(CLI::App&, Runner&) {}
}  // namespace convnet::cli
