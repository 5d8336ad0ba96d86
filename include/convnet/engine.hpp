#pragma once
// The engine alone (library convnet::engine): tensors, im2col, the layers,
// networks and optimizers. No file formats; for embedders such as the
// Python module. convnet/convnet.hpp adds I/O and training.
#include "convnet/core/architecture.hpp"
#include "convnet/core/error.hpp"
#include "convnet/core/im2col.hpp"
#include "convnet/core/layers/affine.hpp"
#include "convnet/core/layers/conv_relu_pool.hpp"
#include "convnet/core/layers/convolution.hpp"
#include "convnet/core/layers/layer.hpp"
#include "convnet/core/layers/pooling.hpp"
#include "convnet/core/layers/relu.hpp"
#include "convnet/core/layers/softmax_with_loss.hpp"
#include "convnet/core/memory.hpp"
#include "convnet/core/network.hpp"
#include "convnet/core/optimizer.hpp"
#include "convnet/core/random.hpp"
#include "convnet/core/sequential.hpp"
#include "convnet/core/simple_convnet.hpp"
#include "convnet/core/tensor.hpp"
#include "convnet/core/threads.hpp"
#include "convnet/core/version.hpp"
