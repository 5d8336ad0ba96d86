#pragma once
// A trained network in NumPy's .npz format (docs/FORMATS.md): its
// parameters by the book's names (W1, b1, W2, ...) and its architecture as
// JSON text (the array "architecture", uint8 bytes), so that it can be
// rebuilt without being told. The notebook's network also carries the
// fields input_dim, conv_param, hidden_size, output_size (older files have
// only those; they are still read).
#include <memory>
#include <optional>
#include <string>

#include "convnet/core/architecture.hpp"
#include "convnet/core/network.hpp"
#include "convnet/core/sequential.hpp"
#include "convnet/core/simple_convnet.hpp"
#include "convnet/io/npz.hpp"

namespace convnet {

// The parameters and architecture as .npz arrays. Parameters are stored as
// float32 ("<f4") for a float network and float64 ("<f8") for a double one.
template <class T>
NpzArchive model_arrays(const Network<T>& net);
// Written atomically (temp file, fsync, rename).
template <class T>
void save_model(const std::string& path, const Network<T>& net);

// The architecture stored in `a` (file names the source in errors): the
// JSON of "architecture" when present, else the notebook's network from the
// older fields. Validated.
Architecture model_architecture(const NpzArchive& a, const std::string& file);
// An array of UTF-8 text (1-D "|u1"), and back; get_text names the file
// and the array when it is missing or not text.
NpyArray text_array(const std::string& s);
std::string get_text(const NpzArchive& a, const std::string& file, const std::string& name);

// The notebook's configuration when `arch` is a SimpleConvNet (conv - relu -
// pool 2x2/2 - affine - relu - affine), else nothing.
std::optional<SimpleConvNetConfig> simple_convnet_config(const Architecture& arch);

// Copies every parameter and buffer (BatchNorm's running statistics) of `net` from `a`, checking every name, dtype and
// shape, and that every value is finite ("model.npz: array W2 holds NaN at
// index 17; refusing a model with non-finite values").
template <class T>
void load_params(const NpzArchive& a, const std::string& file, Network<T>& net);
// Rebuilds the network stored in a .npz file. Before building it, checks the
// arrays' shapes against the architecture and the memory it needs for
// batches of `batch_size` against what is available (convnet/core/memory.hpp).
template <class T>
std::unique_ptr<Sequential<T>> load_model(const std::string& path, std::size_t batch_size = 100);

// Throws when a float array ("<f4"/"<f8") holds a NaN or an infinity, naming
// `file`, the array and the first bad index; other dtypes pass.
void check_finite_array(const NpyArray& arr, const std::string& file, const std::string& name);

}  // namespace convnet
