#pragma once
// A trained SimpleConvNet in NumPy's .npz format (docs/FORMATS.md):
// W1 b1 W2 b2 W3 b3 with the notebook's shapes, plus the architecture
// (input_dim, conv_param, hidden_size, output_size) so it can be rebuilt.
#include <memory>
#include <string>

#include "convnet/npz.hpp"
#include "convnet/simple_convnet.hpp"

namespace convnet {

// The parameters and architecture as .npz arrays. Parameters are stored as
// float32 ("<f4") for a float network and float64 ("<f8") for a double one.
template <class T>
NpzArchive model_arrays(const SimpleConvNet<T>& net);
// Written atomically (temp file, fsync, rename).
template <class T>
void save_model(const std::string& path, const SimpleConvNet<T>& net);

// Reads the architecture stored in `a` (file names the source in errors).
SimpleConvNetConfig model_config(const NpzArchive& a, const std::string& file);
// Copies W1..b3 from `a` into `net`, checking every name, dtype and shape.
template <class T>
void load_params(const NpzArchive& a, const std::string& file, SimpleConvNet<T>& net);
// Rebuilds the network stored in a .npz file.
template <class T>
std::unique_ptr<SimpleConvNet<T>> load_model(const std::string& path);

}  // namespace convnet
