"""convnet.load_mnist: the book's dataset/mnist.py semantics over our IDX files."""
import os

import numpy as np
import pytest

import convnet

DATA = os.path.join(os.path.dirname(__file__), '..', '..', 'data', 'mnist')
needs_mnist = pytest.mark.skipif(not os.path.isfile(os.path.join(DATA, 'train-labels-idx1-ubyte')),
                                 reason='MNIST not fetched (scripts/fetch-mnist.sh)')


def raw(name, header):
    with open(os.path.join(DATA, name), 'rb') as f:
        return np.frombuffer(f.read(), np.uint8, offset=header)


@pytest.fixture(scope='module')
def default():
    return convnet.load_mnist(data_dir=DATA)


@needs_mnist
def test_defaults_as_the_book(default):
    (x_train, t_train), (x_test, t_test) = default
    assert x_train.shape == (60000, 784) and x_train.dtype == np.float32
    assert x_test.shape == (10000, 784)
    assert t_train.shape == (60000,) and t_train.dtype == np.uint8
    pixels = raw('t10k-images-idx3-ubyte', 16).reshape(-1, 784)
    want = pixels.astype(np.float32)
    want /= 255.0
    np.testing.assert_array_equal(x_test, want)
    np.testing.assert_array_equal(t_train, raw('train-labels-idx1-ubyte', 8))


@needs_mnist
def test_options(default):
    (x, t), (xt, tt) = convnet.load_mnist(normalize=False, flatten=False, one_hot_label=True, data_dir=DATA)
    assert x.dtype == np.uint8 and x.shape == (60000, 1, 28, 28)
    np.testing.assert_array_equal(xt.reshape(10000, -1), raw('t10k-images-idx3-ubyte', 16).reshape(-1, 784))
    assert t.dtype == np.float64 and t.shape == (60000, 10)   # the book's np.zeros((X.size, 10))
    np.testing.assert_array_equal(np.argmax(tt, axis=1), default[1][1])
    assert np.all(t.sum(axis=1) == 1)


def test_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match='MNIST directory not found'):
        convnet.load_mnist(data_dir=str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match='idx1-ubyte: file not found'):
        convnet.load_mnist(data_dir=str(tmp_path))


def test_malformed_file(tmp_path):
    for name in ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte',
                 't10k-labels-idx1-ubyte'):
        (tmp_path / name).write_bytes(b'\x00\x00\x08\x03' + bytes(12))
    with pytest.raises(ValueError, match='ubyte'):
        convnet.load_mnist(data_dir=str(tmp_path))
