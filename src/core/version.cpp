#include "convnet/core/version.hpp"
namespace convnet {
const char* version() { return CONVNET_VERSION; }
}  // namespace convnet
