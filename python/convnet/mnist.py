"""load_mnist with the book's dataset/mnist.py semantics, reading the IDX files
through the engine's reader (src/io/mnist.cpp: raw or .gz, validated)."""
import os

import numpy as np

from . import _convnet


def _default_dir():
    # The notebook runs from its own directory; ours keeps MNIST in data/mnist.
    if os.path.isdir(os.path.join('data', 'mnist')):
        return os.path.join('data', 'mnist')
    return os.path.join(_convnet.source_dir, 'data', 'mnist')


def load_mnist(normalize=True, flatten=True, one_hot_label=False, data_dir=None):
    """((x_train, t_train), (x_test, t_test)), as the book's load_mnist:

    images uint8, or float32 in [0, 1] when normalize (astype(np.float32) / 255.0);
    (N, 784) when flatten, else (N, 1, 28, 28); labels uint8 (N,), or one-hot
    float64 rows (N, 10) when one_hot_label. data_dir: the four IDX files
    (default data/mnist here, else the repository's; scripts/fetch-mnist.sh).
    """
    data_dir = _default_dir() if data_dir is None else os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f'{data_dir}: MNIST directory not found; run scripts/fetch-mnist.sh '
                                f'or pass data_dir')
    try:
        (x_train, t_train), (x_test, t_test) = _convnet.read_mnist(data_dir)
    except ValueError as e:
        if ': file not found' in str(e):  # the engine's message for a missing IDX file
            raise FileNotFoundError(str(e)) from None
        raise
    out = []
    for x, t in ((x_train, t_train), (x_test, t_test)):
        if normalize:
            x = x.astype(np.float32)
            x /= 255.0
        if flatten:
            x = x.reshape(x.shape[0], -1)
        if one_hot_label:
            # the book's _change_one_hot_label: np.zeros((X.size, 10)) with a 1 per row
            classes = max(10, int(t.max()) + 1 if t.size else 0)
            T = np.zeros((t.size, classes))
            T[np.arange(t.size), t] = 1
            t = T
        out.append((x, t))
    return tuple(out)
