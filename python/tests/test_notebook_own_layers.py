"""examples/notebook_own_layers.ipynb: the notebook's own Python Convolution, Pooling
and SimpleConvNet (its In [7]-In [9] cells, taken from the .ipynb as they are)
on convnet.im2col / convnet.col2im and convnet.layers, trained 20 iterations from
np.random.seed(0) next to the NumPy reference (tools/reference/notebook.py):
the same losses. The whole notebook is too slow for the suite (NumPy does the
products); run it with jupyter nbconvert (README)."""
import json
import os
import sys
from collections import OrderedDict

import numpy as np
import pytest

import convnet

REPO = os.path.join(os.path.dirname(__file__), '..', '..')
sys.path.insert(0, os.path.join(REPO, 'tools', 'reference'))
import notebook  # noqa: E402
from test_notebook import TRAIN, run  # noqa: E402  the notebook's loop, In [12]-In [15]

DATA = os.path.join(REPO, 'data', 'mnist')
NOTEBOOK = os.path.join(REPO, 'examples', 'notebook_own_layers.ipynb')


def notebook_classes():
    """The variant's class cells, run as the notebook runs them after In [1]-In [6]."""
    with open(NOTEBOOK, encoding='utf-8') as f:
        cells = [''.join(c['source']) for c in json.load(f)['cells'] if c['cell_type'] == 'code']
    ns = {'np': np, 'OrderedDict': OrderedDict, 'layers': convnet.layers,
          'im2col': convnet.im2col, 'col2im': convnet.col2im}
    for name in ('Convolution', 'Pooling', 'SimpleConvNet'):
        src = [c for c in cells if c.startswith(f'class {name}')]
        assert len(src) == 1, f'{NOTEBOOK}: expected one cell defining {name}'
        exec(src[0], ns)  # noqa: S102 - the notebook's own code is what is tested
    return ns


def test_own_layers_run_on_convnet_im2col():
    ns = notebook_classes()
    x = np.random.RandomState(3).rand(4, 2, 7, 7)
    conv = ns['Convolution'](np.random.RandomState(4).randn(3, 2, 3, 3), np.arange(3.0), stride=2, pad=1)
    ref = notebook.Convolution(conv.W, conv.b, stride=2, pad=1)
    np.testing.assert_allclose(conv.forward(x), ref.forward(x), rtol=1e-12, atol=1e-12)
    dout = np.random.RandomState(5).rand(*ref.forward(x).shape)
    np.testing.assert_allclose(conv.backward(dout), ref.backward(dout), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.dW, ref.dW, rtol=1e-12)
    pool = ns['Pooling'](2, 2, stride=2)
    rpool = notebook.Pooling(2, 2, stride=2)
    y = np.random.RandomState(6).rand(4, 3, 6, 6)
    np.testing.assert_array_equal(pool.forward(y), rpool.forward(y))
    d = np.random.RandomState(7).rand(4, 3, 3, 3)
    np.testing.assert_array_equal(pool.backward(d), rpool.backward(d))


@pytest.mark.skipif(not os.path.isfile(os.path.join(DATA, 'train-labels-idx1-ubyte')),
                    reason='MNIST not fetched (scripts/fetch-mnist.sh)')
def test_twenty_iterations_match_numpy():
    ns = notebook_classes()
    (x_train, d_train), _ = convnet.load_mnist(flatten=False, data_dir=DATA)
    x_train, d_train = x_train[:TRAIN], d_train[:TRAIN]

    ours, acc = run(ns['SimpleConvNet'], convnet.optimizer.Adam, x_train, d_train)
    theirs, nacc = run(notebook.SimpleConvNet, notebook.Adam, x_train, d_train)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=0)
    assert ours[-1] < ours[0]
    assert acc == nacc
