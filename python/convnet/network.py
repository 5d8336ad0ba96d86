"""Networks on the engine: the notebook's SimpleConvNet (In [9]) and any
Sequential network described by an architecture (docs/FORMATS.md).

`params` is a dict of NumPy arrays that are views of the engine's parameter
memory: updating them in place (convnet.optimizer, or the book's own Python
Adam) changes the network. The views keep the network's memory alive.
"""
import json
import os

import numpy as np

from ._util import check_int, engine, suffix


class Sequential:
    """A network built from an architecture: a dict, a JSON text or a JSON file's path.

    The initial weights are drawn from NumPy's global random state (W1 first, in
    layer order), as are Dropout's masks in training passes.

    numpy_exact=False (the default) runs the fast kernels, float64 included: NumPy's
    arithmetic summed in another order, so results agree with NumPy's to rounding
    (about 1e-15 relative per operation; the notebook's printed accuracies are the
    same). numpy_exact=True runs the notebook's algorithms in NumPy's operation
    order: in float64 NumPy's results to the last bit or so (exp and log come from the C
    library, which may differ from NumPy's in the last bit), several times slower.
    """

    def __init__(self, architecture, dtype=np.float64, numpy_exact=False):
        if isinstance(architecture, dict):
            text, source = json.dumps(architecture), 'architecture'
        elif isinstance(architecture, str) and architecture.lstrip().startswith('{'):
            text, source = architecture, 'architecture'
        elif isinstance(architecture, (str, os.PathLike)):
            with open(architecture, encoding='utf-8') as f:
                text, source = f.read(), os.fspath(architecture)
        else:
            raise ValueError(f'architecture: expected a dict, a JSON text or a path, got {type(architecture).__name__}')
        self._init(engine('Network', dtype).sequential(text, source, bool(numpy_exact)), dtype)

    def _init(self, impl, dtype):
        suffix(dtype)  # refuses other dtypes
        self._impl = impl
        self.dtype = np.dtype(dtype)
        self.params = impl.params()     # views: W1, b1, W2, ...
        self.buffers = impl.buffers()   # views: BatchNorm's running_mean1, running_var1, ...
        self.numpy_exact = impl.numpy_exact()

    @property
    def layer_names(self):
        """The layers as they run, e.g. ['Conv1+Relu1+Pool1', 'Affine1', ...]: without numpy_exact the
        first conv, relu and pool may run as one fused layer."""
        return self._impl.layer_names()

    def architecture(self):
        """The architecture as JSON text (what Sequential accepts)."""
        return self._impl.architecture_json()

    def predict(self, x, train_flg=False):
        """Class scores (N, classes) before softmax."""
        return self._impl.predict(x, bool(train_flg))

    def loss(self, x, t, train_flg=None):
        """Softmax cross-entropy against integer labels (N,) or one-hot rows (N, classes).
        train_flg None: the architecture's loss_mode (the book's networks differ here)."""
        if train_flg is None:
            train_flg = self._impl.loss_train_mode()
        return self.dtype.type(self._impl.loss(x, t, bool(train_flg)))

    def accuracy(self, x, t, batch_size=100):
        """As the notebook's: whole batches only, divided by x.shape[0]."""
        t = np.asarray(t)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        batch_size = check_int('batch_size', batch_size, 1)
        x = np.asarray(x)
        if t.shape[0] != x.shape[0]:
            raise ValueError(f't: expected {x.shape[0]} labels for x of shape {x.shape}, got {t.shape[0]}')
        # The same count as batch by batch: in evaluation each image's scores
        # are its own. The fast kernels take several batches per call (about
        # 500 images: the affine layer's weights are packed once per call, not
        # per 100 images; within 64 MiB of activations); numpy_exact keeps the
        # notebook's batches (convnet::eval_forward_size, evaluate.hpp).
        whole = int(x.shape[0] / batch_size) * batch_size
        step = self._impl.eval_forward_size(batch_size)
        acc = 0
        for i in range(0, whole, step):
            s = slice(i, min(i + step, whole))
            acc += self._impl.count_correct(x[s], t[s])
        return acc / x.shape[0]

    def gradient(self, x, t):
        """Forward and backward: the gradients as a dict of new arrays, named as params."""
        return self._impl.gradient(x, t)


class SimpleConvNet(Sequential):
    """The notebook's SimpleConvNet (In [9]): conv - relu - pool - affine - relu - affine - softmax.

    The weights are weight_init_std * np.random.randn(...) from NumPy's global random
    state, W1, W2, W3 in the notebook's order, so np.random.seed(0) first gives the
    NumPy notebook's network. numpy_exact: as Sequential's (False: the fast kernels,
    the first three layers as one fused layer; True: NumPy's operation order).
    """

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1},
                 hidden_size=100, output_size=10, weight_init_std=0.01, dtype=np.float64, numpy_exact=False):
        input_dim = tuple(input_dim)
        if len(input_dim) != 3:
            raise ValueError(f'input_dim: expected (C, H, W), got {input_dim}')
        dims = [check_int(f'input_dim[{i}]', d, 1) for i, d in enumerate(input_dim)]
        impl = engine('Network', dtype).simple_convnet(
            dims, check_int("conv_param['filter_num']", conv_param['filter_num'], 1),
            check_int("conv_param['filter_size']", conv_param['filter_size'], 1),
            check_int("conv_param['pad']", conv_param['pad']), check_int("conv_param['stride']", conv_param['stride'], 1),
            check_int('hidden_size', hidden_size, 1), check_int('output_size', output_size, 1), float(weight_init_std),
            bool(numpy_exact))
        self._init(impl, dtype)


__all__ = ['Sequential', 'SimpleConvNet']
