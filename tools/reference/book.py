#!/usr/bin/python3
"""The book's chapter 6 and 8 networks and its Trainer, in NumPy.

The reference that `convnet train --numpy-compatible --epochs E` is compared
against for the networks beyond the notebook's (docs/NUMPY.md, "book.py"):
ゼロから作るDeep Learning's common/layers.py Sigmoid, Dropout,
BatchNormalization; common/multi_layer_net_extend.py MultiLayerNetExtend;
ch08/deep_convnet.py DeepConvNet; common/optimizer.py SGD; common/trainer.py
Trainer. The layers, Adam and the MNIST loader the notebook shares with the
book are imported from notebook.py, not written twice.

    /usr/bin/python3 tools/reference/book.py --net deep --epochs 1 --train-size 200 --test-size 200 --batch-size 20
    /usr/bin/python3 tools/reference/book.py --net bn-mlp --epochs 2 --train-size 1000 [--log run.json] [--dump-init init.npz]

Prints the Trainer's epoch and final lines (not its per-iteration "train loss:"
lines: those go to --log). Needs only NumPy and the raw MNIST IDX files in --data.
"""
import argparse
import json
import os
import sys
from collections import OrderedDict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notebook import (Adam, Affine, Convolution, Pooling, Relu, SoftmaxWithLoss,  # noqa: E402
                      load_mnist, positive, seed_type)


# ---- common/functions.py, common/layers.py ------------------------------------

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        out = sigmoid(x)
        self.out = out
        return out

    def backward(self, dout):
        dx = dout * (1.0 - self.out) * self.out
        return dx


class Dropout:
    # not inverted: training keeps values unscaled, evaluation scales by 1 - ratio
    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        if train_flg:
            # one random_sample per element, C order: the run's stream (docs/NUMPY.md)
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            return x * self.mask
        else:
            return x * (1.0 - self.dropout_ratio)

    def backward(self, dout):
        return dout * self.mask


class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.input_shape = None  # 4-D for a conv layer, 2-D for an affine one

        # used at test time
        self.running_mean = running_mean
        self.running_var = running_var

        # kept for backward
        self.batch_size = None
        self.xc = None
        self.std = None
        self.dgamma = None
        self.dbeta = None

    def forward(self, x, train_flg=True):
        self.input_shape = x.shape
        if x.ndim != 2:
            N, C, H, W = x.shape
            x = x.reshape(N, -1)  # every value of a sample is a feature

        out = self.__forward(x, train_flg)

        return out.reshape(*self.input_shape)

    def __forward(self, x, train_flg):
        if self.running_mean is None:
            N, D = x.shape
            self.running_mean = np.zeros(D)
            self.running_var = np.zeros(D)

        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc**2, axis=0)
            std = np.sqrt(var + 10e-7)  # the book's literal: 1e-6
            xn = xc / std

            self.batch_size = x.shape[0]
            self.xc = xc
            self.xn = xn
            self.std = std
            # updated only in training, with the biased var
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            xc = x - self.running_mean
            xn = xc / ((np.sqrt(self.running_var + 10e-7)))

        out = self.gamma * xn + self.beta
        return out

    def backward(self, dout):
        if dout.ndim != 2:
            N, C, H, W = dout.shape
            dout = dout.reshape(N, -1)

        dx = self.__backward(dout)

        dx = dx.reshape(*self.input_shape)
        return dx

    def __backward(self, dout):
        dbeta = dout.sum(axis=0)
        dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        dxc = dxn / self.std
        dstd = -np.sum((dxn * self.xc) / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc += (2.0 / self.batch_size) * self.xc * dvar
        dmu = np.sum(dxc, axis=0)
        dx = dxc - dmu / self.batch_size

        self.dgamma = dgamma
        self.dbeta = dbeta

        return dx


# ---- common/optimizer.py SGD (Adam comes from notebook.py) ----------------------

class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]  # in place: the layers hold the same arrays


# ---- common/multi_layer_net_extend.py -------------------------------------------

class MultiLayerNetExtend:
    # (affine - [batchnorm] - activation - [dropout]) x len(hidden_size_list) - affine - softmax
    def __init__(self, input_size, hidden_size_list, output_size,
                 activation='relu', weight_init_std='relu', weight_decay_lambda=0,
                 use_dropout=False, dropout_ration=0.5, use_batchnorm=False):
        self.input_size = input_size
        self.output_size = output_size
        self.hidden_size_list = hidden_size_list
        self.hidden_layer_num = len(hidden_size_list)
        self.use_dropout = use_dropout
        self.weight_decay_lambda = weight_decay_lambda
        self.use_batchnorm = use_batchnorm
        self.params = {}

        # the only draws of initialisation: W1, W2, ... in order
        self.__init_weight(weight_init_std)

        activation_layer = {'sigmoid': Sigmoid, 'relu': Relu}
        self.layers = OrderedDict()
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers['Affine' + str(idx)] = Affine(self.params['W' + str(idx)],
                                                      self.params['b' + str(idx)])
            if self.use_batchnorm:
                self.params['gamma' + str(idx)] = np.ones(hidden_size_list[idx - 1])
                self.params['beta' + str(idx)] = np.zeros(hidden_size_list[idx - 1])
                self.layers['BatchNorm' + str(idx)] = BatchNormalization(self.params['gamma' + str(idx)],
                                                                         self.params['beta' + str(idx)])

            self.layers['Activation_function' + str(idx)] = activation_layer[activation]()

            if self.use_dropout:
                self.layers['Dropout' + str(idx)] = Dropout(dropout_ration)

        idx = self.hidden_layer_num + 1
        self.layers['Affine' + str(idx)] = Affine(self.params['W' + str(idx)], self.params['b' + str(idx)])

        self.last_layer = SoftmaxWithLoss()

    def __init_weight(self, weight_init_std):
        all_size_list = [self.input_size] + self.hidden_size_list + [self.output_size]
        for idx in range(1, len(all_size_list)):
            scale = weight_init_std
            if str(weight_init_std).lower() in ('relu', 'he'):
                scale = np.sqrt(2.0 / all_size_list[idx - 1])  # He, for ReLU
            elif str(weight_init_std).lower() in ('sigmoid', 'xavier'):
                scale = np.sqrt(1.0 / all_size_list[idx - 1])  # Xavier, for sigmoid
            self.params['W' + str(idx)] = scale * np.random.randn(all_size_list[idx - 1], all_size_list[idx])
            self.params['b' + str(idx)] = np.zeros(all_size_list[idx])

    def predict(self, x, train_flg=False):
        for key, layer in self.layers.items():
            if "Dropout" in key or "BatchNorm" in key:
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)

        return x

    def loss(self, x, t, train_flg=False):
        # the Trainer's logged loss: eval mode (running statistics, no dropout draws)
        y = self.predict(x, train_flg)

        weight_decay = 0
        for idx in range(1, self.hidden_layer_num + 2):
            W = self.params['W' + str(idx)]
            weight_decay += 0.5 * self.weight_decay_lambda * np.sum(W**2)

        return self.last_layer.forward(y, t) + weight_decay

    def accuracy(self, X, T):
        # unbatched, unlike DeepConvNet's
        Y = self.predict(X, train_flg=False)
        Y = np.argmax(Y, axis=1)
        if T.ndim != 1:
            T = np.argmax(T, axis=1)

        accuracy = np.sum(Y == T) / float(X.shape[0])
        return accuracy

    def gradient(self, x, t):
        # forward, in training mode
        self.loss(x, t, train_flg=True)

        # backward
        dout = 1
        dout = self.last_layer.backward(dout)

        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)

        grads = {}
        for idx in range(1, self.hidden_layer_num + 2):
            grads['W' + str(idx)] = self.layers['Affine' + str(idx)].dW + \
                self.weight_decay_lambda * self.params['W' + str(idx)]
            grads['b' + str(idx)] = self.layers['Affine' + str(idx)].db

            if self.use_batchnorm and idx != self.hidden_layer_num + 1:
                grads['gamma' + str(idx)] = self.layers['BatchNorm' + str(idx)].dgamma
                grads['beta' + str(idx)] = self.layers['BatchNorm' + str(idx)].dbeta

        return grads


# ---- ch08/deep_convnet.py -----------------------------------------------------

class DeepConvNet:
    # conv - relu - conv - relu - pool (x3) - affine - relu - dropout - affine - dropout - softmax
    def __init__(self, input_dim=(1, 28, 28),
                 conv_param_1={'filter_num': 16, 'filter_size': 3, 'pad': 1, 'stride': 1},
                 conv_param_2={'filter_num': 16, 'filter_size': 3, 'pad': 1, 'stride': 1},
                 conv_param_3={'filter_num': 32, 'filter_size': 3, 'pad': 1, 'stride': 1},
                 conv_param_4={'filter_num': 32, 'filter_size': 3, 'pad': 2, 'stride': 1},
                 conv_param_5={'filter_num': 64, 'filter_size': 3, 'pad': 1, 'stride': 1},
                 conv_param_6={'filter_num': 64, 'filter_size': 3, 'pad': 1, 'stride': 1},
                 hidden_size=50, output_size=10):
        # inputs per unit of each layer, written out by hand in the book
        pre_node_nums = np.array([1 * 3 * 3, 16 * 3 * 3, 16 * 3 * 3, 32 * 3 * 3, 32 * 3 * 3, 64 * 3 * 3,
                                  64 * 4 * 4, hidden_size])
        wight_init_scales = np.sqrt(2.0 / pre_node_nums)  # He, for ReLU

        # the only draws of initialisation: W1 .. W8 in order
        self.params = {}
        pre_channel_num = input_dim[0]
        for idx, conv_param in enumerate([conv_param_1, conv_param_2, conv_param_3,
                                          conv_param_4, conv_param_5, conv_param_6]):
            self.params['W' + str(idx + 1)] = wight_init_scales[idx] * np.random.randn(
                conv_param['filter_num'], pre_channel_num, conv_param['filter_size'], conv_param['filter_size'])
            self.params['b' + str(idx + 1)] = np.zeros(conv_param['filter_num'])
            pre_channel_num = conv_param['filter_num']
        self.params['W7'] = wight_init_scales[6] * np.random.randn(64 * 4 * 4, hidden_size)
        self.params['b7'] = np.zeros(hidden_size)
        self.params['W8'] = wight_init_scales[7] * np.random.randn(hidden_size, output_size)
        self.params['b8'] = np.zeros(output_size)

        self.layers = []
        self.layers.append(Convolution(self.params['W1'], self.params['b1'],
                                       conv_param_1['stride'], conv_param_1['pad']))
        self.layers.append(Relu())
        self.layers.append(Convolution(self.params['W2'], self.params['b2'],
                                       conv_param_2['stride'], conv_param_2['pad']))
        self.layers.append(Relu())
        self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers.append(Convolution(self.params['W3'], self.params['b3'],
                                       conv_param_3['stride'], conv_param_3['pad']))
        self.layers.append(Relu())
        self.layers.append(Convolution(self.params['W4'], self.params['b4'],
                                       conv_param_4['stride'], conv_param_4['pad']))
        self.layers.append(Relu())
        self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers.append(Convolution(self.params['W5'], self.params['b5'],
                                       conv_param_5['stride'], conv_param_5['pad']))
        self.layers.append(Relu())
        self.layers.append(Convolution(self.params['W6'], self.params['b6'],
                                       conv_param_6['stride'], conv_param_6['pad']))
        self.layers.append(Relu())
        self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers.append(Affine(self.params['W7'], self.params['b7']))
        self.layers.append(Relu())
        self.layers.append(Dropout(0.5))
        self.layers.append(Affine(self.params['W8'], self.params['b8']))
        self.layers.append(Dropout(0.5))

        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        for layer in self.layers:
            if isinstance(layer, Dropout):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t):
        # training mode: the Trainer's logged loss draws fresh dropout masks too
        y = self.predict(x, train_flg=True)
        return self.last_layer.forward(y, t)

    def accuracy(self, x, t, batch_size=100):
        if t.ndim != 1:
            t = np.argmax(t, axis=1)

        acc = 0.0

        # a last partial batch is skipped but still counted in the denominator
        for i in range(int(x.shape[0] / batch_size)):
            tx = x[i * batch_size:(i + 1) * batch_size]
            tt = t[i * batch_size:(i + 1) * batch_size]
            y = self.predict(tx, train_flg=False)
            y = np.argmax(y, axis=1)
            acc += np.sum(y == tt)

        return acc / x.shape[0]

    def gradient(self, x, t):
        # forward
        self.loss(x, t)

        # backward
        dout = 1
        dout = self.last_layer.backward(dout)

        tmp_layers = self.layers.copy()
        tmp_layers.reverse()
        for layer in tmp_layers:
            dout = layer.backward(dout)

        grads = {}
        for i, layer_idx in enumerate((0, 2, 5, 7, 10, 12, 15, 18)):
            grads['W' + str(i + 1)] = self.layers[layer_idx].dW
            grads['b' + str(i + 1)] = self.layers[layer_idx].db

        return grads


# ---- common/trainer.py --------------------------------------------------------

class Trainer:
    def __init__(self, network, x_train, t_train, x_test, t_test,
                 epochs=20, mini_batch_size=100,
                 optimizer='SGD', optimizer_param={'lr': 0.01},
                 evaluate_sample_num_per_epoch=None, verbose=True):
        self.network = network
        self.verbose = verbose
        self.x_train = x_train
        self.t_train = t_train
        self.x_test = x_test
        self.t_test = t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch

        optimizer_class_dict = {'sgd': SGD, 'adam': Adam}
        self.optimizer = optimizer_class_dict[optimizer.lower()](**optimizer_param)

        self.train_size = x_train.shape[0]
        # a float: with train_size not a multiple of the batch, epochs fall where the modulo is 0
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0

        self.train_loss_list = []
        self.train_acc_list = []
        self.test_acc_list = []
        self.evals = []  # for --log: {epoch, iter, train_acc, test_acc}
        self.test_acc = None

    def train_step(self):
        batch_mask = np.random.choice(self.train_size, self.batch_size)
        x_batch = self.x_train[batch_mask]
        t_batch = self.t_train[batch_mask]

        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)

        # after the update, on the same batch, with the network's own loss()
        loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(loss)
        # the book prints "train loss:" here; our CLI does not, so neither do we (see --log)

        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1

            x_train_sample, t_train_sample = self.x_train, self.t_train
            x_test_sample, t_test_sample = self.x_test, self.t_test
            if self.evaluate_sample_num_per_epoch is not None:
                t = self.evaluate_sample_num_per_epoch
                x_train_sample, t_train_sample = self.x_train[:t], self.t_train[:t]
                x_test_sample, t_test_sample = self.x_test[:t], self.t_test[:t]

            train_acc = self.network.accuracy(x_train_sample, t_train_sample)
            test_acc = self.network.accuracy(x_test_sample, t_test_sample)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            self.evals.append({'epoch': self.current_epoch, 'iter': self.current_iter,
                               'train_acc': float(train_acc), 'test_acc': float(test_acc)})

            if self.verbose:
                print("=== epoch:" + str(self.current_epoch) + ", train acc:" + str(train_acc) +
                      ", test acc:" + str(test_acc) + " ===", flush=True)
        self.current_iter += 1

    def train(self):
        for i in range(self.max_iter):
            self.train_step()

        test_acc = self.network.accuracy(self.x_test, self.t_test)
        self.test_acc = test_acc

        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc), flush=True)


# ---- the command line ---------------------------------------------------------

def nonnegative(text):
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f'expected an integer >= 0, found {text}')
    return v


def init_std(text):
    if text.lower() in ('relu', 'he', 'sigmoid', 'xavier'):
        return text
    v = float(text)
    if not v >= 0:
        raise argparse.ArgumentTypeError(f'expected he, relu, xavier, sigmoid or a number >= 0, found {text}')
    return v


def sizes(text):
    try:
        v = [int(s) for s in text.split(',')]
    except ValueError:
        v = []
    if not v or min(v) <= 0:
        raise argparse.ArgumentTypeError(f'expected positive integers separated by commas, found {text}')
    return v


def ratio(text):
    v = float(text)
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f'expected a ratio in [0, 1), found {text}')
    return v


def build_network(args):
    """np.random.seed right before the network: its init draws come first, then the Trainer's."""
    np.random.seed(args.seed)
    if args.net == 'deep':
        return DeepConvNet()  # ch08/train_deepnet.py: the defaults
    return MultiLayerNetExtend(input_size=784, hidden_size_list=args.hidden, output_size=10,
                               activation=args.activation, weight_init_std=args.weight_init_std,
                               use_dropout=args.dropout_ratio is not None,
                               dropout_ration=0.5 if args.dropout_ratio is None else args.dropout_ratio,
                               use_batchnorm=not args.no_batchnorm)


def main(argv=None):
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
    ap = argparse.ArgumentParser(description="The book's DeepConvNet or MultiLayerNetExtend, trained by its Trainer.")
    ap.add_argument('--net', choices=('deep', 'bn-mlp'), default='deep',
                    help='deep: ch08 DeepConvNet; bn-mlp: ch06 MultiLayerNetExtend(784, --hidden, 10, use_batchnorm=True)')
    ap.add_argument('--seed', type=seed_type, default=0, help='np.random.seed before building the network (0)')
    ap.add_argument('--train-size', type=positive, help='first N training images (all)')
    ap.add_argument('--test-size', type=positive, help='first N test images (all)')
    ap.add_argument('--batch-size', type=positive, default=100, help='mini_batch_size (100)')
    ap.add_argument('--epochs', type=nonnegative, default=20, help='epochs (20; 0: no step, only the final accuracy)')
    ap.add_argument('--epoch-eval-size', type=positive, default=1000,
                    help='evaluate_sample_num_per_epoch: accuracies on the first N of each set (1000)')
    ap.add_argument('--optimizer', choices=('adam', 'sgd'), default='adam', help='adam (the default) or sgd')
    ap.add_argument('--lr', type=float, help="learning rate (the optimizer's default: adam 0.001, sgd 0.01)")
    ap.add_argument('--hidden', type=sizes, default=[100, 100, 100, 100, 100],
                    help='bn-mlp: hidden_size_list (100,100,100,100,100)')
    ap.add_argument('--weight-init-std', type=init_std, default='he',
                    help='bn-mlp: he/relu, xavier/sigmoid or a number (he)')
    ap.add_argument('--activation', choices=('relu', 'sigmoid'), default='relu', help='bn-mlp: activation (relu)')
    ap.add_argument('--dropout-ratio', type=ratio, help='bn-mlp: use_dropout with this ratio (off)')
    ap.add_argument('--no-batchnorm', action='store_true', help='bn-mlp: use_batchnorm=False')
    ap.add_argument('--data', default=os.path.join(repo, 'data', 'mnist'), help='directory of the raw IDX files (data/mnist)')
    ap.add_argument('--log', help='write losses, epoch evaluations and the final test accuracy as JSON')
    ap.add_argument('--dump-init', help='write the initial parameters (float64) with np.savez')
    args = ap.parse_args(argv)

    # the book's load_mnist(normalize=True); flatten=True (the MLP's) gives the same values, Affine reshapes
    (x_train, t_train), (x_test, t_test) = load_mnist(args.data)
    for name, n, have in (('--train-size', args.train_size, x_train.shape[0]),
                          ('--test-size', args.test_size, x_test.shape[0])):
        if n is not None and n > have:
            raise SystemExit(f'book.py: error: {name} {n}: {args.data} has {have} images')
    if args.train_size:
        x_train, t_train = x_train[:args.train_size], t_train[:args.train_size]
    if args.test_size:
        x_test, t_test = x_test[:args.test_size], t_test[:args.test_size]

    network = build_network(args)
    init = {k + '_sum': float(np.sum(v)) for k, v in network.params.items()}
    if args.dump_init:
        np.savez(args.dump_init, **{k: v.copy() for k, v in network.params.items()})

    optimizer_param = {} if args.lr is None else {'lr': args.lr}
    trainer = Trainer(network, x_train, t_train, x_test, t_test,
                      epochs=args.epochs, mini_batch_size=args.batch_size,
                      optimizer=args.optimizer, optimizer_param=optimizer_param,
                      evaluate_sample_num_per_epoch=args.epoch_eval_size)
    trainer.train()

    if args.log:
        log = {'net': args.net, 'seed': args.seed, 'epochs': args.epochs, 'batch_size': args.batch_size,
               'train_size': int(x_train.shape[0]), 'test_size': int(x_test.shape[0]),
               'iter_per_epoch': float(trainer.iter_per_epoch), 'max_iter': trainer.max_iter,
               'numpy': np.__version__,
               'losses': [float(v) for v in trainer.train_loss_list], 'evals': trainer.evals,
               'test_acc': float(trainer.test_acc), 'init': init}
        with open(args.log, 'w') as f:
            json.dump(log, f)  # floats as repr: they read back exactly
            f.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
