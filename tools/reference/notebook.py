#!/usr/bin/python3
"""The course notebook's CNN (cnn_notebook.md, In [2], In [6]-In [15]) as one NumPy script.

The reference that `convnet train --numpy-compatible` is compared against
(docs/NUMPY.md). The layers and Adam the notebook imports from `common` are
written out here exactly as the book ("ゼロから作るDeep Learning",
common/layers.py, functions.py, optimizer.py) has them; im2col, col2im,
Convolution, Pooling and SimpleConvNet are the notebook's. Only the plotting
and tqdm are left out, and a seed is set before the network is built.

    /usr/bin/python3 tools/reference/notebook.py --seed 0 [--log run.json] [--dump-init init.npz]

Needs only NumPy (Debian's python3-numpy) and the four raw MNIST IDX files in --data.
"""
import argparse
import json
import sys

import numpy as np


# ---- common/functions.py ---------------------------------------------------

def softmax(x):
    if x.ndim == 2:
        x = x.T
        x = x - np.max(x, axis=0)
        y = np.exp(x) / np.sum(np.exp(x), axis=0)
        return y.T

    x = x - np.max(x)  # overflow guard
    return np.exp(x) / np.sum(np.exp(x))


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)

    # one-hot labels: turn them into class indices
    if t.size == y.size:
        t = t.argmax(axis=1)

    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


# ---- notebook In [2], In [6]: im2col / col2im --------------------------------

def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """(N, C, H, W) images -> (N*out_h*out_w, C*filter_h*filter_w) matrix."""
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1

    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], 'constant')
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))

    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]

    col = col.transpose(0, 4, 5, 1, 2, 3)
    col = col.reshape(N * out_h * out_w, -1)
    return col


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The adjoint of im2col: overlapping patches add up."""
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1

    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)

    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))

    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]

    return img[:, :, pad:H + pad, pad:W + pad]


# ---- common/layers.py ------------------------------------------------------

class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        dx = dout
        return dx


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        # tensors (N, C, H, W) are flattened to (N, -1)
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        out = np.dot(self.x, self.W) + self.b
        return out

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        dx = dx.reshape(*self.original_x_shape)
        return dx


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None  # softmax output
        self.t = None  # labels

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:  # one-hot labels
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx


# ---- notebook In [7], In [8]: Convolution / Pooling (= common/layers.py) ------

class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        # kept for backward
        self.x = None
        self.col = None
        self.col_W = None
        self.dW = None
        self.db = None

    def forward(self, x):
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = 1 + int((H + 2 * self.pad - FH) / self.stride)
        out_w = 1 + int((W + 2 * self.pad - FW) / self.stride)

        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T

        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)

        self.x = x
        self.col = col
        self.col_W = col_W
        return out

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)

        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout)
        self.dW = self.dW.transpose(1, 0).reshape(FN, C, FH, FW)

        dcol = np.dot(dout, self.col_W.T)
        dx = col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)
        return dx


class Pooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.x = None
        self.arg_max = None

    def forward(self, x):
        N, C, H, W = x.shape
        out_h = int(1 + (H - self.pool_h) / self.stride)
        out_w = int(1 + (W - self.pool_w) / self.stride)

        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)

        arg_max = np.argmax(col, axis=1)  # first maximum wins ties
        out = np.max(col, axis=1)
        out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

        self.x = x
        self.arg_max = arg_max
        return out

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)

        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))

        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        dx = col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
        return dx


# ---- common/optimizer.py ---------------------------------------------------

class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = {}, {}
            for key, val in params.items():
                self.m[key] = np.zeros_like(val)
                self.v[key] = np.zeros_like(val)

        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)

        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key]**2 - self.v[key])
            # in place: the layers hold the same arrays
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


# ---- notebook In [9]: SimpleConvNet -----------------------------------------

class SimpleConvNet:
    # conv - relu - pool - affine - relu - affine - softmax
    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1},
                 hidden_size=100, output_size=10, weight_init_std=0.01):
        filter_num = conv_param['filter_num']
        filter_size = conv_param['filter_size']
        filter_pad = conv_param['pad']
        filter_stride = conv_param['stride']
        input_size = input_dim[1]

        conv_output_size = (input_size - filter_size + 2 * filter_pad) / filter_stride + 1
        pool_output_size = int(filter_num * (conv_output_size / 2) * (conv_output_size / 2))

        # weights: the only random draws before training, in this order
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(filter_num, input_dim[0], filter_size, filter_size)
        self.params['b1'] = np.zeros(filter_num)
        self.params['W2'] = weight_init_std * np.random.randn(pool_output_size, hidden_size)
        self.params['b2'] = np.zeros(hidden_size)
        self.params['W3'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b3'] = np.zeros(output_size)

        self.layers = {}  # the notebook's OrderedDict: dicts keep insertion order
        self.layers['Conv1'] = Convolution(self.params['W1'], self.params['b1'], conv_param['stride'], conv_param['pad'])
        self.layers['Relu1'] = Relu()
        self.layers['Pool1'] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers['Affine1'] = Affine(self.params['W2'], self.params['b2'])
        self.layers['Relu2'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W3'], self.params['b3'])

        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for key in self.layers.keys():
            x = self.layers[key].forward(x)
        return x

    def loss(self, x, d):
        y = self.predict(x)
        return self.last_layer.forward(y, d)

    def accuracy(self, x, d, batch_size=100):
        if d.ndim != 1:
            d = np.argmax(d, axis=1)

        acc = 0.0
        # as the notebook: a last partial batch is skipped but still counted in the denominator
        for i in range(int(x.shape[0] / batch_size)):
            tx = x[i * batch_size:(i + 1) * batch_size]
            td = d[i * batch_size:(i + 1) * batch_size]
            y = self.predict(tx)
            y = np.argmax(y, axis=1)
            acc += np.sum(y == td)

        return acc / x.shape[0]

    def gradient(self, x, d):
        # forward
        self.loss(x, d)

        # backward
        dout = 1
        dout = self.last_layer.backward(dout)
        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)

        grad = {}
        grad['W1'], grad['b1'] = self.layers['Conv1'].dW, self.layers['Conv1'].db
        grad['W2'], grad['b2'] = self.layers['Affine1'].dW, self.layers['Affine1'].db
        grad['W3'], grad['b3'] = self.layers['Affine2'].dW, self.layers['Affine2'].db
        return grad


# ---- data: the book's load_mnist(normalize=True, flatten=False, one_hot_label=False) ----

MNIST_FILES = {
    'train_img': ('train-images-idx3-ubyte', 2051),
    'train_label': ('train-labels-idx1-ubyte', 2049),
    'test_img': ('t10k-images-idx3-ubyte', 2051),
    'test_label': ('t10k-labels-idx1-ubyte', 2049),
}


def _read_idx(data_dir, key):
    name, magic = MNIST_FILES[key]
    path = data_dir.rstrip('/') + '/' + name
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as e:
        raise SystemExit(f'notebook.py: error: {path}: cannot read ({e.strerror}); '
                         f'run scripts/fetch-mnist.sh or pass --data DIR')
    header = 16 if magic == 2051 else 8
    if len(raw) < header:
        raise SystemExit(f'notebook.py: error: {path}: expected an IDX header of {header} bytes, found {len(raw)} bytes')
    dims = np.frombuffer(raw, '>u4', count=header // 4)
    if int(dims[0]) != magic:
        raise SystemExit(f'notebook.py: error: {path}: expected IDX magic {magic}, found {int(dims[0])}')
    count = int(np.prod(dims[1:].astype(np.int64)))
    if len(raw) != header + count:
        shape = 'x'.join(str(int(d)) for d in dims[1:])
        raise SystemExit(f'notebook.py: error: {path}: expected {header + count} bytes for {shape}, found {len(raw)}')
    return np.frombuffer(raw, np.uint8, offset=header)


def load_mnist(data_dir):
    """((x_train, t_train), (x_test, t_test)): images float32 (N,1,28,28) in [0,1], labels int."""
    out = {}
    for key in ('train_img', 'test_img'):
        img = _read_idx(data_dir, key).reshape(-1, 784)
        img = img.astype(np.float32)
        img /= 255.0  # in float32, as the book: not the same bits as a float64 division
        out[key] = img.reshape(-1, 1, 28, 28)
    for key in ('train_label', 'test_label'):
        out[key] = _read_idx(data_dir, key).astype(np.int64)
    for part in ('train', 'test'):
        if out[part + '_img'].shape[0] != out[part + '_label'].shape[0]:
            raise SystemExit(f'notebook.py: error: {data_dir}: {part} images and labels differ in count: '
                             f'{out[part + "_img"].shape[0]} vs {out[part + "_label"].shape[0]}')
    return (out['train_img'], out['train_label']), (out['test_img'], out['test_label'])


# ---- notebook In [10]-In [15] ------------------------------------------------

def load_subset(data_dir, train_size, test_size, prog='notebook.py'):
    """In [10], In [11]: the first train_size training and test_size test images."""
    (x_train, d_train), (x_test, d_test) = load_mnist(data_dir)
    if train_size > x_train.shape[0] or test_size > x_test.shape[0]:
        raise SystemExit(f'{prog}: error: asked for {train_size}/{test_size} images, '
                         f'{data_dir} has {x_train.shape[0]}/{x_test.shape[0]}')
    return (x_train[:train_size], d_train[:train_size]), (x_test[:test_size], d_test[:test_size])


def notebook_network(seed):
    """In [12]: the seed comes right before the only random draws of initialisation."""
    np.random.seed(seed)
    return SimpleConvNet(input_dim=(1, 28, 28),
                         conv_param={'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1},
                         hidden_size=100, output_size=10, weight_init_std=0.01)


def positive(text):
    v = int(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f'expected a positive integer, found {text}')
    return v


def seed_type(text):
    v = int(text)
    if not 0 <= v <= 2**32 - 1:
        raise argparse.ArgumentTypeError(f'expected a seed in [0, 4294967295], found {text}')
    return v


def main(argv=None):
    here = __file__.rsplit('/', 1)[0] if '/' in __file__ else '.'
    repo = here + '/../..'  # tools/reference/ -> repo root
    ap = argparse.ArgumentParser(description='The course notebook\'s CNN training, in NumPy.')
    ap.add_argument('--seed', type=seed_type, default=0, help='np.random.seed before building the network (0)')
    ap.add_argument('--iters', type=positive, default=1000, help='iters_num (1000)')
    ap.add_argument('--train-size', type=positive, default=5000, help='first N training images (5000)')
    ap.add_argument('--test-size', type=positive, default=1000, help='first N test images (1000)')
    ap.add_argument('--batch-size', type=positive, default=100, help='batch_size (100)')
    ap.add_argument('--eval-interval', type=positive, default=10, help='plot_interval: accuracies every N iterations (10)')
    ap.add_argument('--print-interval', type=positive, default=100,
                    help='print an evaluation every N iterations (100; only on evaluation iterations)')
    ap.add_argument('--data', default=repo + '/data/mnist', help='directory of the raw IDX files (data/mnist)')
    ap.add_argument('--log', help='write losses, accuracies and initial sums as JSON')
    ap.add_argument('--dump-init', help='write the initial W1..b3 (float64) with np.savez')
    args = ap.parse_args(argv)

    # In [10], In [11]
    (x_train, d_train), (x_test, d_test) = load_subset(args.data, args.train_size, args.test_size)

    # In [12], In [13]
    network = notebook_network(args.seed)
    optimizer = Adam()

    init = {}
    for key in ('W1', 'b1', 'W2', 'b2', 'W3', 'b3'):
        init[key + '_sum'] = float(np.sum(network.params[key]))
    if args.dump_init:
        np.savez(args.dump_init, **{k: v.copy() for k, v in network.params.items()})

    # In [14], In [15]
    iters_num = args.iters
    train_size = x_train.shape[0]
    batch_size = args.batch_size
    plot_interval = args.eval_interval

    train_loss_list = []
    evals = []
    for i in range(iters_num):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        d_batch = d_train[batch_mask]

        grad = network.gradient(x_batch, d_batch)
        optimizer.update(network.params, grad)

        loss = network.loss(x_batch, d_batch)
        train_loss_list.append(loss)

        if (i + 1) % plot_interval == 0:
            accr_train = network.accuracy(x_train, d_train)
            accr_test = network.accuracy(x_test, d_test)
            evals.append({'iter': i + 1, 'accr_train': float(accr_train), 'accr_test': float(accr_test)})

            if (i + 1) % args.print_interval == 0:
                print(f'iter: {i+1}. accr_train={accr_train}, accr_test={accr_test}', flush=True)

    if args.log:
        log = {'seed': args.seed, 'iters': iters_num, 'train_size': train_size,
               'test_size': int(x_test.shape[0]), 'batch_size': batch_size,
               'eval_interval': plot_interval, 'numpy': np.__version__,
               'losses': [float(v) for v in train_loss_list], 'evals': evals, 'init': init}
        with open(args.log, 'w') as f:
            json.dump(log, f)  # floats as repr: they read back exactly
            f.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
