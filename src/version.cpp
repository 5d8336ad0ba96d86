#include "convnet/version.hpp"
namespace convnet {
const char* version() { return CONVNET_VERSION; }
}  // namespace convnet
