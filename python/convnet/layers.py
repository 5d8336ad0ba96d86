"""The book's layers (common/layers.py; the notebook's In [7], In [8]) on the engine.

`from convnet import layers` reads like the notebook's `from common import layers`:
same constructors, forward/backward, and attributes (W, b, dW, db, ...) as
NumPy arrays. The Python attributes are the parameters: each forward copies
W and b into the engine, so an optimizer updating them in place (as the
book's network.params are shared with its layers) changes the layer.

A layer computes in float32 when NumPy's arithmetic on its inputs and
parameters would give float32, in float64 otherwise (float32 MNIST images
with the book's float64 weights: float64, as in the notebook).
"""
import numpy as np

from ._util import check_int, engine, promoted


class _Layer:
    """The engine object for the current dtype and settings, rebuilt when they change."""
    _name = None

    def __init__(self):
        self._impl = None
        self._key = None
        self._dtype = None

    def _engine(self, dtype, *args):
        key = (np.dtype(dtype),) + args
        if key != self._key:
            self._impl = engine(self._name, dtype)(*args)
            self._key, self._dtype = key, np.dtype(dtype)
        return self._impl

    def _last(self):
        if self._impl is None:
            raise ValueError(f'{type(self).__name__}.backward: called before forward')
        return self._impl

    def backward(self, dout):
        return self._last().backward(dout)


class Relu(_Layer):
    """out = max(x, 0); backward passes dout where x > 0."""
    _name = 'Relu'

    def forward(self, x):
        return self._engine(promoted(x)).forward(x)


class Sigmoid(_Layer):
    """out = 1 / (1 + exp(-x)); backward dx = dout * (1 - out) * out."""
    _name = 'Sigmoid'

    def forward(self, x):
        return self._engine(promoted(x)).forward(x)


class Affine(_Layer):
    """out = x·W + b with x flattened to (N, -1); W (D, M), b (M,)."""
    _name = 'Affine'

    def __init__(self, W, b):
        super().__init__()
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.original_x_shape = np.shape(x)
        self.x = x
        return self._engine(promoted(x, self.W, self.b)).forward(self.W, self.b, x)

    def backward(self, dout):
        dx = self._last().backward(dout)
        self.dW, self.db = self._impl.dW(), self._impl.db()
        return dx


class Convolution(_Layer):
    """im2col + GEMM (notebook In [7]): W (FN, C, FH, FW), b (FN,); x (N, C, H, W) -> (N, FN, out_h, out_w)."""
    _name = 'Convolution'

    def __init__(self, W, b, stride=1, pad=0):
        super().__init__()
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        impl = self._engine(promoted(x, self.W, self.b), check_int('stride', self.stride, 1),
                            check_int('pad', self.pad))
        return impl.forward(self.W, self.b, x)

    def backward(self, dout):
        dx = self._last().backward(dout)
        self.dW, self.db = self._impl.dW(), self._impl.db()
        return dx


class Pooling(_Layer):
    """Max pooling (notebook In [8]); the gradient goes to the first maximum of each window.

    stride defaults to 1 as in the notebook's In [8] (the book's common/layers.py
    has 2; the notebook's SimpleConvNet passes stride=2 explicitly).
    """
    _name = 'Pooling'

    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        super().__init__()
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.x = None

    def forward(self, x):
        self.x = x
        impl = self._engine(promoted(x), check_int('pool_h', self.pool_h, 1), check_int('pool_w', self.pool_w, 1),
                            check_int('stride', self.stride, 1), check_int('pad', self.pad))
        return impl.forward(x)


class SoftmaxWithLoss(_Layer):
    """Softmax, then cross-entropy against integer labels (N,) or one-hot rows (N, classes)."""
    _name = 'SoftmaxWithLoss'

    def __init__(self):
        super().__init__()
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        impl = self._engine(promoted(x))
        self.t = t
        self.loss = self._dtype.type(impl.forward(x, t))
        self.y = impl.y()
        return self.loss

    def backward(self, dout=1):
        return self._last().backward(float(dout))


class Dropout(_Layer):
    """The book's Dropout (not inverted): train: x * mask, mask = np.random.rand(*x.shape) > dropout_ratio;
    test: x * (1 - dropout_ratio). The masks are drawn from NumPy's global random state."""
    _name = 'Dropout'

    def __init__(self, dropout_ratio=0.5):
        super().__init__()
        r = float(dropout_ratio)
        if not 0 <= r < 1:
            raise ValueError(f'dropout_ratio: expected a number in [0, 1), got {dropout_ratio!r}')
        self.dropout_ratio = r

    def forward(self, x, train_flg=True):
        return self._engine(promoted(x), self.dropout_ratio).forward(x, bool(train_flg))


class BatchNormalization(_Layer):
    """The book's BatchNormalization (eps 10e-7); x (N, D) or (N, C, H, W) seen as (N, C*H*W).

    running_mean and running_var start as zeros at the first forward when not given,
    and are replaced by new arrays after each training forward, as the book does.
    """
    _name = 'BatchNormalization'

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        super().__init__()
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.input_shape = None
        self.running_mean = running_mean
        self.running_var = running_var
        self.dgamma = None
        self.dbeta = None

    def forward(self, x, train_flg=True):
        x = np.asarray(x)
        self.input_shape = x.shape
        if self.running_mean is None or self.running_var is None:
            D = int(np.prod(x.shape[1:])) if x.ndim >= 2 else 0
            self.running_mean = np.zeros(D) if self.running_mean is None else self.running_mean
            self.running_var = np.zeros(D) if self.running_var is None else self.running_var
        impl = self._engine(promoted(x, self.gamma, self.beta), float(self.momentum))
        out = impl.forward(self.gamma, self.beta, self.running_mean, self.running_var, x, bool(train_flg))
        if train_flg:
            self.running_mean, self.running_var = impl.running_mean(), impl.running_var()
        return out

    def backward(self, dout):
        dx = self._last().backward(dout)
        self.dgamma, self.dbeta = self._impl.dgamma(), self._impl.dbeta()
        return dx


__all__ = ['Relu', 'Sigmoid', 'Affine', 'Convolution', 'Pooling', 'SoftmaxWithLoss', 'Dropout', 'BatchNormalization']
