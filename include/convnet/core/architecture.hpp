#pragma once
// A network's architecture as a value: the layers in order, the input shape
// and the initial weight scale — what a person writes in JSON (schema in
// docs/FORMATS.md, "Architecture") and what a model file carries. The
// softmax-with-loss last layer is implied. A plain struct: the JSON library
// stays private to the .cpp.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace convnet {

// One layer of the description. Which fields count depends on the type:
//   conv:   filters, size (square filter), stride, pad
//   relu:   none
//   pool:   size (square window), stride, pad      (max pooling)
//   affine: units
enum class LayerType { Conv, Relu, Pool, Affine };
const char* layer_type_name(LayerType t);  // "conv", "relu", "pool", "affine"

struct LayerSpec {
  LayerType type = LayerType::Relu;
  std::size_t filters = 0;  // conv
  std::size_t size = 0;     // conv, pool
  std::size_t stride = 1;   // conv, pool
  std::size_t pad = 0;      // conv, pool
  std::size_t units = 0;    // affine

  static LayerSpec conv(std::size_t filters, std::size_t size, std::size_t stride = 1, std::size_t pad = 0) {
    return {LayerType::Conv, filters, size, stride, pad, 0};
  }
  static LayerSpec relu() { return {LayerType::Relu, 0, 0, 1, 0, 0}; }
  static LayerSpec pool(std::size_t size, std::size_t stride, std::size_t pad = 0) {
    return {LayerType::Pool, 0, size, stride, pad, 0};
  }
  static LayerSpec affine(std::size_t units) { return {LayerType::Affine, 0, 0, 1, 0, units}; }
  bool operator==(const LayerSpec&) const = default;
};

struct Architecture {
  std::array<std::size_t, 3> input{1, 28, 28};  // (C, H, W) of one image
  std::vector<LayerSpec> layers;
  double weight_init_std = 0.01;  // W = weight_init_std * randn(shape), b = 0

  bool operator==(const Architecture&) const = default;

  // The notebook's SimpleConvNet (In [9]) with its constructor's arguments:
  // conv(filter_num, filter_size, stride, pad) - relu - pool(2, 2) -
  // affine(hidden_size) - relu - affine(output_size).
  static Architecture simple_convnet(std::array<std::size_t, 3> input_dim = {1, 28, 28},
                                     std::size_t filter_num = 30, std::size_t filter_size = 5,
                                     std::size_t pad = 0, std::size_t stride = 1, std::size_t hidden_size = 100,
                                     std::size_t output_size = 10, double weight_init_std = 0.01);
  // The notebook's network with its defaults: simple_convnet().
  static Architecture notebook() { return simple_convnet(); }

  // The number of class scores: the last layer's units (0 when the last
  // layer is not affine, which validate() refuses).
  std::size_t classes() const {
    return !layers.empty() && layers.back().type == LayerType::Affine ? layers.back().units : 0;
  }

  // The JSON document (every field written out, one layer a line).
  std::string to_json() const;
  // Parses and validates a JSON document. Throws convnet::Error naming
  // source_name, the layer's index and the problem, e.g.
  // "net.json: layers[2] (pool): missing field \"size\"".
  static Architecture from_json(std::string_view text, std::string_view source_name = "architecture");

  // Throws convnet::Error (prefixed by source_name) unless every layer's
  // fields are in range, the shapes chain from the input to a vector of
  // class scores, and no layer's output is empty.
  void validate(std::string_view source_name = "architecture") const;
};

// One row of the summary: a layer of the description with its name as the
// network names it (Conv1, Relu1, Pool1, Affine1, ...), the output shape of
// one image, its parameter count and its forward FLOPs for one image.
struct LayerInfo {
  std::string name;
  LayerType type;
  std::vector<std::size_t> output;  // (C, H, W) or (units,)
  std::size_t params = 0;
  std::size_t flops = 0;
};
// Validates (throws as validate) and lists the layers in order.
std::vector<LayerInfo> describe(const Architecture& arch);
// A table like PyTorch's model summary: layer, output shape, parameters,
// FLOPs per image, totals. FLOPs: a multiply-add counts 2 (conv and affine,
// bias included), ReLU and each max comparison 1; softmax not counted.
std::string summary(const Architecture& arch);

}  // namespace convnet
