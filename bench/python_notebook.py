#!/usr/bin/python3
"""The notebook's training loop (In [10]-In [15]) driven from Python on the
convnet module, timed: what a Jupyter user runs, in float32 or float64.

    /usr/bin/python3 bench/python_notebook.py [--dtype float32|float64] [--numpy-exact] [--threads N] [--timings FILE]

Same regime and options as `convnet train` (5000/1000 images, 1000 iterations
of 100, Adam, an evaluation of all train and test images every 10), the
timers placed as in convnet's Trainer: train_seconds around the batch draw,
gradient, update and loss; eval_seconds around the two accuracies. Prints
(and writes to --timings) one JSON line with `convnet train --timings`'s
fields. convnet is found as the user's notebook finds it: installed, or
PYTHONPATH=build/python (bench/python_notebook.sh sets that).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from benchlib import emit_result, non_negative, positive  # noqa: E402


def main(argv=None):
    repo = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    ap = argparse.ArgumentParser(description='Time the notebook loop on the convnet Python module.')
    ap.add_argument('--dtype', choices=('float32', 'float64'), default='float32')
    ap.add_argument('--data', default=os.path.join(repo, 'data', 'mnist'))
    ap.add_argument('--train-size', type=positive, default=5000)
    ap.add_argument('--test-size', type=positive, default=1000)
    ap.add_argument('--iters', type=positive, default=1000)
    ap.add_argument('--batch-size', type=positive, default=100)
    ap.add_argument('--eval-interval', type=positive, default=10)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=non_negative, default=0, help='convnet.set_num_threads (0 = all cores)')
    ap.add_argument('--numpy-exact', action='store_true',
                    help="SimpleConvNet(numpy_exact=True): NumPy's operation order (default: the fast kernels)")
    ap.add_argument('--timings', help='also write the JSON line to this file')
    a = ap.parse_args(argv)

    import numpy as np
    try:
        import convnet
    except ImportError as e:
        raise SystemExit(f'python_notebook.py: error: cannot import convnet ({e}); '
                         'set PYTHONPATH=build/python or install it (README, "From Python / Jupyter")')
    convnet.set_num_threads(a.threads)
    dtype = np.float32 if a.dtype == 'float32' else np.float64

    # In [10], In [11]
    (x_train, d_train), (x_test, d_test) = convnet.load_mnist(flatten=False, data_dir=a.data)
    x_train, d_train = x_train[:a.train_size], d_train[:a.train_size]
    x_test, d_test = x_test[:a.test_size], d_test[:a.test_size]

    # In [12]-In [15]
    np.random.seed(a.seed)
    network = convnet.SimpleConvNet(dtype=dtype, numpy_exact=a.numpy_exact)
    optimizer = convnet.optimizer.Adam()
    train_size = x_train.shape[0]
    train_s = eval_s = 0.0
    evals = 0
    loss = float('nan')
    for i in range(a.iters):
        t0 = time.perf_counter()
        batch_mask = np.random.choice(train_size, a.batch_size)
        x_batch = x_train[batch_mask]
        d_batch = d_train[batch_mask]
        grad = network.gradient(x_batch, d_batch)
        optimizer.update(network.params, grad)
        loss = network.loss(x_batch, d_batch)
        train_s += time.perf_counter() - t0
        if (i + 1) % a.eval_interval == 0:
            t0 = time.perf_counter()
            network.accuracy(x_train, d_train)
            network.accuracy(x_test, d_test)
            eval_s += time.perf_counter() - t0
            evals += 1

    out = {'iters': a.iters, 'batch_size': a.batch_size, 'train_seconds': train_s, 'eval_seconds': eval_s,
           'total_seconds': train_s + eval_s, 'train_images': a.iters * a.batch_size,
           'eval_images': evals * (a.train_size + a.test_size), 'evals': evals,
           'threads': convnet.num_threads(), 'dtype': a.dtype, 'numpy_exact': a.numpy_exact,
           'blas': convnet.blas_info(),
           'last_loss': float(loss), 'scaled': False}
    emit_result(out, a.timings)
    return 0


if __name__ == '__main__':
    sys.exit(main())
