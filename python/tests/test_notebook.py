"""End to end: the notebook's training loop (In [12]-In [15]) with np.random.seed(0),
20 iterations on the first 1000 MNIST images, once with convnet and once with
the NumPy classes of tools/reference/notebook.py: the same losses — to the
last bits or so with numpy_exact=True, to rounding with the fast kernels."""
import os
import sys

import numpy as np
import pytest

import convnet

REPO = os.path.join(os.path.dirname(__file__), '..', '..')
sys.path.insert(0, os.path.join(REPO, 'tools', 'reference'))
import notebook  # noqa: E402

DATA = os.path.join(REPO, 'data', 'mnist')
ITERS, TRAIN, BATCH = 20, 1000, 100


def run(network_class, optimizer_class, x_train, d_train):
    np.random.seed(0)
    network = network_class()
    opt = optimizer_class()
    losses = []
    for i in range(ITERS):
        batch_mask = np.random.choice(TRAIN, BATCH)
        x_batch, d_batch = x_train[batch_mask], d_train[batch_mask]
        grad = network.gradient(x_batch, d_batch)
        opt.update(network.params, grad)
        losses.append(float(network.loss(x_batch, d_batch)))
    return losses, network.accuracy(x_train, d_train)


@pytest.mark.skipif(not os.path.isfile(os.path.join(DATA, 'train-labels-idx1-ubyte')),
                    reason='MNIST not fetched (scripts/fetch-mnist.sh)')
# numpy_exact: NumPy's operation order (libm's exp and log may differ from
# NumPy's own in the last bit); fast: other summation orders, ~1e-15 per
# operation, grown over 20 Adam steps.
@pytest.mark.parametrize('numpy_exact, rtol', [(True, 1e-15), (False, 1e-11)])
def test_twenty_iterations_match_numpy(numpy_exact, rtol):
    (x_train, d_train), _ = convnet.load_mnist(flatten=False, data_dir=DATA)
    x_train, d_train = x_train[:TRAIN], d_train[:TRAIN]
    (nx, nd), _ = notebook.load_mnist(DATA)
    np.testing.assert_array_equal(x_train, nx[:TRAIN])         # same pixels, as float32
    ours, acc = run(lambda: convnet.SimpleConvNet(numpy_exact=numpy_exact), convnet.optimizer.Adam, x_train, d_train)
    theirs, nacc = run(notebook.SimpleConvNet, notebook.Adam, nx[:TRAIN], nd[:TRAIN])
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0)
    assert ours[-1] < ours[0]
    assert acc == nacc


@pytest.mark.skipif(not os.path.isfile(os.path.join(DATA, 'train-labels-idx1-ubyte')),
                    reason='MNIST not fetched (scripts/fetch-mnist.sh)')
def test_readme_example_prints_the_notebooks_test_accuracy_at_iteration_100():
    # README.md's five-line example ("From Python / Jupyter") is the notebook's
    # loop for 100 iterations from seed 0: its accuracy on the first 1000 test
    # images is the NumPy notebook's accr_test at iter 100 (tests/data/notebook_seed0.txt).
    import contextlib
    import io
    import re
    with open(os.path.join(REPO, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    section = readme[readme.index('## From Python / Jupyter'):]
    code = re.search(r'```python\n(.*?)```', section, re.S).group(1)
    assert len(code.strip().splitlines()) == 5
    with open(os.path.join(REPO, 'tests', 'data', 'notebook_seed0.txt'), encoding='utf-8') as f:
        expected = re.search(r'iter: 100\. .*accr_test=([0-9.]+)', f.read()).group(1)
    out = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(REPO)  # load_mnist()'s default data directory, as for a user in the checkout
        with contextlib.redirect_stdout(out):
            exec(compile(code, 'README.md', 'exec'), {})
    finally:
        os.chdir(cwd)
    assert out.getvalue().strip() == expected
