#pragma once
// The one header users include (library convnet::convnet): the engine
// (convnet/engine.hpp) plus file formats (io/) and training (train/).
#include "convnet/engine.hpp"
#include "convnet/io/atomic_file.hpp"
#include "convnet/io/format.hpp"
#include "convnet/io/image.hpp"
#include "convnet/io/mnist.hpp"
#include "convnet/io/npz.hpp"
#include "convnet/io/pictures.hpp"
#include "convnet/io/plot.hpp"
#include "convnet/train/checkpoint.hpp"
#include "convnet/train/communicator.hpp"
#include "convnet/train/evaluate.hpp"
#include "convnet/train/model.hpp"
#include "convnet/train/trainer.hpp"
