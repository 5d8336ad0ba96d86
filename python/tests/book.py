"""Plain NumPy references for the tests: the notebook's im2col/col2im (In [2],
In [6]) and the book's layers and optimizers (common/layers.py,
common/optimizer.py). Independent of the engine."""
import importlib.util
import os
import sys

import numpy as np

# The notebook's im2col/col2im and the layers, Adam and softmax it shares with
# the book come from tools/reference/notebook.py; the book's Sigmoid, Dropout,
# BatchNormalization and SGD from tools/reference/book.py (loaded under another
# name: this file is also called book). Only what neither has is written here.
_REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools', 'reference')
sys.path.insert(0, _REF)
from notebook import (Adam, Affine, Convolution, Pooling, Relu, SoftmaxWithLoss,  # noqa: E402,F401
                      col2im, im2col, softmax)

_spec = importlib.util.spec_from_file_location('reference_book', os.path.join(_REF, 'book.py'))
_reference_book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_reference_book)
Sigmoid = _reference_book.Sigmoid
Dropout = _reference_book.Dropout
BatchNormalization = _reference_book.BatchNormalization
SGD = _reference_book.SGD


# common/optimizer.py
class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class Nesterov:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        for key in params.keys():
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr, self.h = lr, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {k: np.zeros_like(v) for k, v in params.items()}
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSprop:
    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr, self.decay_rate, self.h = lr, decay_rate, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {k: np.zeros_like(v) for k, v in params.items()}
        for key in params.keys():
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


def numerical_gradient(f, x, h=1e-5):
    """Central differences of the scalar f() with respect to x (changed in place and restored)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=['multi_index'])
    while not it.finished:
        i = it.multi_index
        v = x[i]
        x[i] = v + h
        fp = f()
        x[i] = v - h
        fm = f()
        x[i] = v
        grad[i] = (fp - fm) / (2 * h)
        it.iternext()
    return grad
