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
//   conv:      filters, size (square filter), stride, pad, init
//   relu:      none
//   pool:      size (square window), stride, pad      (max pooling)
//   affine:    units, init
//   sigmoid:   none
//   dropout:   ratio                                  (the book's, not inverted)
//   batchnorm: momentum, per_channel                  (the book's BatchNormalization)
enum class LayerType { Conv, Relu, Pool, Affine, Sigmoid, Dropout, BatchNorm };
// "conv", "relu", "pool", "affine", "sigmoid", "dropout", "batchnorm"
const char* layer_type_name(LayerType t);

// How the initial weights W are drawn: scale * randn(shape), biases zero
// (the book's MultiLayerNet): scale = std, or sqrt(2/n) (He, for ReLU), or
// sqrt(1/n) (Xavier, for sigmoid), with n the inputs per unit (C*FH*FW for
// a conv layer, the input size for an affine one). In JSON a number, or
// "he"/"relu", or "xavier"/"sigmoid".
enum class InitScheme { Std, He, Xavier };
struct WeightInit {
  InitScheme scheme = InitScheme::Std;
  double std = 0.01;  // InitScheme::Std only
  double scale(std::size_t fan_in) const;
  bool operator==(const WeightInit&) const = default;
  // "0.01", "he" (or "relu"), "xavier" (or "sigmoid"); throws convnet::Error naming `what`.
  static WeightInit parse(const std::string& text, const std::string& what = "weight_init_std");
  std::string str() const;  // "0.01", "he", "xavier"
};

struct LayerSpec {
  LayerType type = LayerType::Relu;
  std::size_t filters = 0;  // conv
  std::size_t size = 0;     // conv, pool
  std::size_t stride = 1;   // conv, pool
  std::size_t pad = 0;      // conv, pool
  std::size_t units = 0;    // affine
  double ratio = 0.5;       // dropout: dropout_ratio
  double momentum = 0.9;    // batchnorm
  bool per_channel = false; // batchnorm: statistics per channel over N*H*W (PyTorch's BatchNorm2d)
  bool has_init = false;    // conv, affine: `init` replaces the architecture's
  WeightInit init;

  static LayerSpec conv(std::size_t filters, std::size_t size, std::size_t stride = 1, std::size_t pad = 0) {
    LayerSpec s;
    s.type = LayerType::Conv, s.filters = filters, s.size = size, s.stride = stride, s.pad = pad;
    return s;
  }
  static LayerSpec relu() { return {}; }
  static LayerSpec pool(std::size_t size, std::size_t stride, std::size_t pad = 0) {
    LayerSpec s;
    s.type = LayerType::Pool, s.size = size, s.stride = stride, s.pad = pad;
    return s;
  }
  static LayerSpec affine(std::size_t units) {
    LayerSpec s;
    s.type = LayerType::Affine, s.units = units;
    return s;
  }
  static LayerSpec sigmoid() {
    LayerSpec s;
    s.type = LayerType::Sigmoid;
    return s;
  }
  static LayerSpec dropout(double ratio = 0.5) {
    LayerSpec s;
    s.type = LayerType::Dropout, s.ratio = ratio;
    return s;
  }
  static LayerSpec batchnorm(double momentum = 0.9, bool per_channel = false) {
    LayerSpec s;
    s.type = LayerType::BatchNorm, s.momentum = momentum, s.per_channel = per_channel;
    return s;
  }
  bool operator==(const LayerSpec&) const = default;
};

struct Architecture {
  std::array<std::size_t, 3> input{1, 28, 28};  // (C, H, W) of one image
  std::vector<LayerSpec> layers;
  double weight_init_std = 0.01;  // W = weight_init_std * randn(shape), b = 0 (InitScheme::Std)
  InitScheme weight_init = InitScheme::Std;  // He or Xavier: the scale from each layer's fan-in
  // The mode of the loss the trainer logs after each update (the network's
  // own loss()): false = evaluation (MultiLayerNetExtend's loss(train_flg=
  // False); the notebook's net, which has no mode-dependent layer), true =
  // training (DeepConvNet's loss() predicts with train_flg=True: dropout
  // draws masks, batchnorm uses and updates batch statistics). JSON
  // "loss_mode": "eval" | "train".
  bool loss_train_mode = false;

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
  // The book's DeepConvNet (ch08/deep_convnet.py): conv(16,3,p1) relu
  // conv(16,3,p1) relu pool2 - conv(32,3,p1) relu conv(32,3,p2) relu pool2 -
  // conv(64,3,p1) relu conv(64,3,p1) relu pool2 - affine(50) relu dropout(0.5)
  // - affine(10) dropout(0.5); He initialisation (W1..W8).
  static Architecture deep_convnet(std::array<std::size_t, 3> input_dim = {1, 28, 28}, std::size_t hidden_size = 50,
                                   std::size_t output_size = 10);
  // The initial weight scale of layer i (conv or affine) with fan-in n.
  double init_scale(std::size_t i, std::size_t fan_in) const;

  // The number of class scores: the units of the last affine layer, which
  // only shape-keeping layers (relu, sigmoid, dropout, batchnorm) may follow
  // (0 otherwise, which validate() refuses).
  std::size_t classes() const {
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
      if (it->type == LayerType::Affine) return it->units;
      if (it->type == LayerType::Conv || it->type == LayerType::Pool) return 0;
    }
    return 0;
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
