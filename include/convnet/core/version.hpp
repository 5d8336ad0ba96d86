#pragma once
namespace convnet {
// The library's version, "MAJOR.MINOR.PATCH".
const char* version();
}  // namespace convnet
