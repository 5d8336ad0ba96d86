#pragma once
// A trained SimpleConvNet in NumPy's .npz format (docs/FORMATS.md):
// W1 b1 W2 b2 W3 b3 with the notebook's shapes, plus the architecture
// (input_dim, conv_param, hidden_size, output_size) so it can be rebuilt.
#include <memory>
#include <string>

#include "convnet/io/npz.hpp"
#include "convnet/core/simple_convnet.hpp"

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
// Copies W1..b3 from `a` into `net`, checking every name, dtype and shape,
// and that every value is finite ("model.npz: array W2 holds NaN at index 17;
// refusing a model with non-finite values").
template <class T>
void load_params(const NpzArchive& a, const std::string& file, SimpleConvNet<T>& net);
// Rebuilds the network stored in a .npz file. Before building it, checks the
// arrays' shapes against the architecture and the memory it needs for
// batches of `batch_size` against what is available (convnet/core/memory.hpp).
template <class T>
std::unique_ptr<SimpleConvNet<T>> load_model(const std::string& path, std::size_t batch_size = 100);

// The shapes of W1 b1 W2 b2 W3 b3 for a configuration (throws as
// simple_convnet_shape); computed without building the network.
std::vector<std::vector<std::size_t>> param_shapes(const SimpleConvNetConfig& config);
// Throws when a float array ("<f4"/"<f8") holds a NaN or an infinity, naming
// `file`, the array and the first bad index; other dtypes pass.
void check_finite_array(const NpyArray& arr, const std::string& file, const std::string& name);

}  // namespace convnet
