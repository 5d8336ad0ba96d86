#!/usr/bin/python3
"""The NumPy peer: the notebook itself (tools/reference/notebook.py), timed.

The whole regime (1000 iterations, 100 evaluations) takes more than ten
minutes in NumPy, so by default this runs a short one (--iters 50, an
evaluation every 10 iterations: 5 evaluations) and scales it to the notebook's
regime: train_seconds * 1000/iters, eval_seconds * 100/evals. The JSON line
says "scaled": true and keeps the measured figures as measured_*.

    /usr/bin/python3 bench/peers/numpy_notebook.py --threads 2 [--iters 50] [--no-scale]

Same fields as `convnet train --timings`, plus peak_rss_kb. --threads sets
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS before NumPy is imported (Debian's
NumPy uses the system BLAS, OpenBLAS here). The loop is notebook.py's main
loop, with the timers placed as in convnet's Trainer.
"""
import argparse
import importlib.util
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from benchlib import emit_result, positive  # noqa: E402


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, '..', '..'))
    ap = argparse.ArgumentParser(description='Time the NumPy notebook (short run, scaled to the full regime).')
    ap.add_argument('--data', default=os.path.join(repo, 'data', 'mnist'))
    ap.add_argument('--train-size', type=positive, default=5000)
    ap.add_argument('--test-size', type=positive, default=1000)
    ap.add_argument('--iters', type=positive, default=50)
    ap.add_argument('--batch-size', type=positive, default=100)
    ap.add_argument('--eval-interval', type=positive, default=10)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=0, help='BLAS threads (0 = leave the environment as it is)')
    ap.add_argument('--scale-iters', type=positive, default=1000, help='iterations of the regime scaled to (1000)')
    ap.add_argument('--scale-evals', type=positive, default=100, help='evaluations of the regime scaled to (100)')
    ap.add_argument('--no-scale', action='store_true', help='report the measured run only')
    ap.add_argument('--notebook', default=os.path.join(repo, 'tools', 'reference', 'notebook.py'))
    ap.add_argument('--timings', help='also write the JSON line to this file')
    a = ap.parse_args(argv)
    if a.iters < a.eval_interval:
        ap.error(f'--iters {a.iters} runs no evaluation at --eval-interval {a.eval_interval}: nothing to scale')

    if a.threads > 0:  # before NumPy loads OpenBLAS
        for k in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS'):
            os.environ[k] = str(a.threads)
    if not os.path.isfile(a.notebook):
        raise SystemExit(f'numpy_notebook.py: error: {a.notebook}: not found (the NumPy notebook script)')
    spec = importlib.util.spec_from_file_location('notebook', a.notebook)
    nb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nb)
    np = nb.np

    (x_train, d_train), (x_test, d_test) = nb.load_subset(a.data, a.train_size, a.test_size, 'numpy_notebook.py')

    # notebook In [12]-In [15]
    network = nb.notebook_network(a.seed)
    optimizer = nb.Adam()
    train_s = eval_s = 0.0
    evals = 0
    loss = float('nan')
    for i in range(a.iters):
        t0 = time.perf_counter()
        batch_mask = np.random.choice(a.train_size, a.batch_size)
        x_batch, d_batch = x_train[batch_mask], d_train[batch_mask]
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
           'threads': a.threads or os.environ.get('OPENBLAS_NUM_THREADS', 'default'),
           'dtype': 'float64 (the notebook: float32 data, float64 weights)', 'numpy': np.__version__,
           'last_loss': float(loss), 'scaled': False}
    if not a.no_scale:
        per_step, per_eval = train_s / a.iters, eval_s / evals
        out.update(scaled=True, measured_iters=a.iters, measured_evals=evals, measured_train_seconds=train_s,
                   measured_eval_seconds=eval_s, iters=a.scale_iters, evals=a.scale_evals,
                   train_seconds=per_step * a.scale_iters, eval_seconds=per_eval * a.scale_evals,
                   train_images=a.scale_iters * a.batch_size,
                   eval_images=a.scale_evals * (a.train_size + a.test_size))
        out['total_seconds'] = out['train_seconds'] + out['eval_seconds']
    emit_result(out, a.timings)
    return 0


if __name__ == '__main__':
    sys.exit(main())
