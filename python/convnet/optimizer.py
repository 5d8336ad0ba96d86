"""The book's optimizers (common/optimizer.py) on the engine's update kernels.

update(params, grads) changes the arrays of `params` in place, as the book's
`params[key] -= ...` does, so a network whose params are views of its
memory (convnet.SimpleConvNet) or whose layers share the arrays is updated.
Constructor arguments, defaults and attributes (lr, v, h, m, iter) are the book's.
"""
import numpy as np

from ._util import engine


def _zeros(params):
    # The book's {key: np.zeros_like(val)}, always C-contiguous for the kernels.
    return {key: np.zeros(np.shape(val), dtype=np.asarray(val).dtype) for key, val in params.items()}


class _Optimizer:
    def _each(self, params, grads):
        """(key, param, its dtype, grad as a C-contiguous array of that dtype) for each parameter."""
        for key in params.keys():
            p = params[key]
            if not isinstance(p, np.ndarray) or p.dtype not in (np.float32, np.float64):
                what = p.dtype if isinstance(p, np.ndarray) else type(p).__name__
                raise TypeError(f"params['{key}']: expected a float32 or float64 NumPy array, got {what}")
            g = np.ascontiguousarray(grads[key], dtype=p.dtype)
            if g.shape != p.shape:
                raise ValueError(f"grads['{key}']: expected shape {p.shape} like params['{key}'], got {g.shape}")
            yield key, p, p.dtype, g

    @staticmethod
    def _state(store, key, p):
        s = store[key]
        if s.shape != p.shape or s.dtype != p.dtype:
            raise ValueError(f"params['{key}']: shape {p.shape} {p.dtype} changed since the first update "
                             f"(state {s.shape} {s.dtype})")
        return s

    @staticmethod
    def _in_place(key, p, update):
        """update(a) on p's memory; through a contiguous copy written back when p is strided."""
        if not p.flags.writeable:
            raise ValueError(f"params['{key}']: a read-only array cannot be updated in place")
        if p.flags.c_contiguous:
            update(p)
        else:
            tmp = np.ascontiguousarray(p)
            update(tmp)
            p[...] = tmp


class SGD(_Optimizer):
    """params -= lr * grad"""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key, p, dt, g in self._each(params, grads):
            self._in_place(key, p, lambda a: engine('sgd_update', dt)(float(self.lr), g, a))


class Momentum(_Optimizer):
    """v = momentum * v - lr * grad; params += v"""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = _zeros(params)
        for key, p, dt, g in self._each(params, grads):
            v = self._state(self.v, key, p)
            self._in_place(key, p, lambda a: engine('momentum_update', dt)(float(self.lr), float(self.momentum), g, v, a))


class Nesterov(_Optimizer):
    """The book's Nesterov: v = momentum*v - lr*grad; params += momentum^2 * v; params -= (1 + momentum) * lr * grad"""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = _zeros(params)
        for key, p, dt, g in self._each(params, grads):
            v = self._state(self.v, key, p)
            self._in_place(key, p, lambda a: engine('nesterov_update', dt)(float(self.lr), float(self.momentum), g, v, a))


class AdaGrad(_Optimizer):
    """h += grad^2; params -= lr * grad / (sqrt(h) + 1e-7)"""

    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = _zeros(params)
        for key, p, dt, g in self._each(params, grads):
            h = self._state(self.h, key, p)
            self._in_place(key, p, lambda a: engine('adagrad_update', dt)(float(self.lr), g, h, a))


class RMSprop(_Optimizer):
    """h = decay_rate * h + (1 - decay_rate) * grad^2; params -= lr * grad / (sqrt(h) + 1e-7)"""

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = _zeros(params)
        for key, p, dt, g in self._each(params, grads):
            h = self._state(self.h, key, p)
            self._in_place(key, p, lambda a: engine('rmsprop_update', dt)(float(self.lr), float(self.decay_rate), g, h, a))


class Adam(_Optimizer):
    """The book's Adam: lr_t = lr * sqrt(1 - beta2^iter) / (1 - beta1^iter);
    m += (1 - beta1) * (grad - m); v += (1 - beta2) * (grad^2 - v); params -= lr_t * m / (sqrt(v) + 1e-7)"""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = _zeros(params), _zeros(params)
        self.iter += 1
        # In Python floats, as the book computes it.
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key, p, dt, g in self._each(params, grads):
            m, v = self._state(self.m, key, p), self._state(self.v, key, p)
            self._in_place(key, p, lambda a: engine('adam_update', dt)(float(lr_t), float(1 - self.beta1),
                                                                  float(1 - self.beta2), g, m, v, a))


__all__ = ['SGD', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSprop', 'Adam']
