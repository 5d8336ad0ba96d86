#!/usr/bin/python3
"""The notebook's regime in PyTorch on the CPU: the peer `convnet train` is timed against.

Same data (the first --train-size/--test-size images of the raw IDX files,
float32 in [0, 1]), the same network (Conv2d(1,30,5) - ReLU - MaxPool2d(2,2) -
Linear(4320,100) - ReLU - Linear(100,10), cross-entropy; weights N(0, 0.01^2),
biases 0, as the notebook), Adam lr 0.001 (torch's), minibatches drawn with
replacement (np.random.choice), the loss recomputed after each update, and the
accuracy of all train and test images in batches of 100 every --eval-interval
iterations, without autograd. Prints the fields of `convnet train --timings`
plus peak_rss_kb as one JSON line (and writes it to --timings FILE).

--net deep: the book's DeepConvNet (ch08/deep_convnet.py) instead, the peer of
`convnet train --net deep`: six 3x3 convolutions (pads 1,1,1,2,1,1), three
2x2 max pools, Linear(1024,50) - ReLU - Dropout(0.5) - Linear(50,10) -
Dropout(0.5); weights N(0, 2/fan_in) (He, as the book), biases 0; the loss
recomputed after each update with dropout active (the book's loss() predicts
with train_flg=True). torch's Dropout is the inverted form (a scale by 2 in
training instead of 0.5 at evaluation): the same work.

    /usr/bin/python3 bench/peers/pytorch_notebook.py --threads 2 [--iters 50]

Needs Debian's python3-torch (1.13) and python3-numpy.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from benchlib import emit_result, non_negative, positive  # noqa: E402


def read_idx(path, magic, ndim):
    """uint8 array of an IDX file (raw, not gzip), header checked."""
    import numpy as np
    try:
        raw = open(path, 'rb').read()
    except OSError as e:
        raise SystemExit(f'pytorch_notebook.py: error: {path}: cannot read ({e.strerror}); run scripts/fetch-mnist.sh')
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise SystemExit(f'pytorch_notebook.py: error: {path}: expected an IDX header of {header} bytes, found {len(raw)}')
    dims = [int(d) for d in np.frombuffer(raw, '>u4', count=1 + ndim)]
    if dims[0] != magic:
        raise SystemExit(f'pytorch_notebook.py: error: {path}: expected IDX magic {magic}, found {dims[0]}')
    count = int(np.prod(dims[1:]))
    if len(raw) != header + count:
        shape = 'x'.join(map(str, dims[1:]))
        raise SystemExit(f'pytorch_notebook.py: error: {path}: expected {header + count} bytes for {shape}, found {len(raw)}')
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims[1:])


def main(argv=None):
    ap = argparse.ArgumentParser(description='The notebook regime in PyTorch (CPU), timed like convnet train --timings.')
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--data', default=os.path.join(here, '..', '..', 'data', 'mnist'))
    ap.add_argument('--net', choices=('simple', 'deep'), default='simple',
                    help="the notebook's SimpleConvNet or the book's DeepConvNet (simple)")
    ap.add_argument('--train-size', type=non_negative, default=5000, help='0 = all')
    ap.add_argument('--test-size', type=non_negative, default=1000, help='0 = all')
    ap.add_argument('--iters', type=positive, default=1000)
    ap.add_argument('--batch-size', type=positive, default=100)
    ap.add_argument('--eval-interval', type=non_negative, default=10, help='0 = never')
    ap.add_argument('--eval-batch-size', type=positive, default=100)
    ap.add_argument('--seed', type=non_negative, default=0)
    ap.add_argument('--threads', type=non_negative, default=0, help='torch.set_num_threads (0 = all cores)')
    ap.add_argument('--mkldnn', choices=('on', 'off'), default='on', help='torch.backends.mkldnn.enabled (on)')
    ap.add_argument('--channels-last', action='store_true', help='NHWC memory format for the conv (off)')
    ap.add_argument('--eval-mode', choices=('inference', 'no_grad'), default='inference',
                    help='torch.inference_mode() or torch.no_grad() for evaluation (inference)')
    ap.add_argument('--timings', help='also write the JSON line to this file')
    ap.add_argument('--print-accuracy', action='store_true', help='print accuracies after each evaluation (stderr)')
    a = ap.parse_args(argv)

    import numpy as np
    import torch
    import torch.nn.functional as F

    threads = a.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    torch.backends.mkldnn.enabled = a.mkldnn == 'on'

    # The first N images, float32 / 255 as the book's load_mnist(normalize=True).
    d = a.data
    x_train = read_idx(os.path.join(d, 'train-images-idx3-ubyte'), 2051, 3)
    t_train = read_idx(os.path.join(d, 'train-labels-idx1-ubyte'), 2049, 1)
    x_test = read_idx(os.path.join(d, 't10k-images-idx3-ubyte'), 2051, 3)
    t_test = read_idx(os.path.join(d, 't10k-labels-idx1-ubyte'), 2049, 1)
    a.train_size = a.train_size or len(x_train)
    a.test_size = a.test_size or len(x_test)
    if a.train_size > len(x_train) or a.test_size > len(x_test):
        raise SystemExit(f'pytorch_notebook.py: error: asked for {a.train_size}/{a.test_size} images, '
                         f'{d} has {len(x_train)}/{len(x_test)}')
    rows, cols = x_train.shape[1:]

    def to_tensor(x, n):
        return torch.from_numpy(x[:n].astype(np.float32) / np.float32(255.0)).reshape(n, 1, rows, cols)

    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    X_train = to_tensor(x_train, a.train_size).contiguous(memory_format=fmt)
    X_test = to_tensor(x_test, a.test_size).contiguous(memory_format=fmt)
    T_train = torch.from_numpy(t_train[:a.train_size].astype(np.int64))
    T_test = torch.from_numpy(t_test[:a.test_size].astype(np.int64))

    torch.manual_seed(a.seed)
    nn = torch.nn
    if a.net == 'simple':
        # The notebook's SimpleConvNet, weights N(0, 0.01^2) and zero biases.
        oh, ow = rows - 4, cols - 4
        model = nn.Sequential(
            nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
            nn.Linear(30 * (oh // 2) * (ow // 2), 100), nn.ReLU(), nn.Linear(100, 10))
    else:
        def conv(c_in, c_out, pad):
            return [nn.Conv2d(c_in, c_out, 3, padding=pad), nn.ReLU()]
        h = ((rows // 2) // 2 + 2) // 2  # conv4's pad 2 grows 7 to 9 (book: 64*4*4 for 28)
        w = ((cols // 2) // 2 + 2) // 2
        model = nn.Sequential(
            *conv(1, 16, 1), *conv(16, 16, 1), nn.MaxPool2d(2, 2),
            *conv(16, 32, 1), *conv(32, 32, 2), nn.MaxPool2d(2, 2),
            *conv(32, 64, 1), *conv(64, 64, 1), nn.MaxPool2d(2, 2), nn.Flatten(),
            nn.Linear(64 * h * w, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, 10), nn.Dropout(0.5))
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                fan_in = p[0].numel()
                p.normal_(0.0, 0.01 if a.net == 'simple' else (2.0 / fan_in) ** 0.5)
            else:
                p.zero_()
    model = model.to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    rng = np.random.RandomState(a.seed)
    eval_ctx = torch.inference_mode if a.eval_mode == 'inference' else torch.no_grad

    def accuracy(X, T):
        correct = 0
        model.eval()
        with eval_ctx():
            for i in range(0, len(X), a.eval_batch_size):
                y = model(X[i:i + a.eval_batch_size])
                correct += int((y.argmax(dim=1) == T[i:i + a.eval_batch_size]).sum())
        model.train()
        return correct / len(X)

    train_s = eval_s = 0.0
    evals = 0
    for it in range(1, a.iters + 1):
        t0 = time.perf_counter()
        idx = torch.from_numpy(rng.choice(a.train_size, a.batch_size))
        xb, tb = X_train[idx], T_train[idx]
        loss = F.cross_entropy(model(xb), tb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        # the notebook's loss = network.loss(x_batch, d_batch), after the update
        # (DeepConvNet: in training mode, dropout drawing new masks)
        with torch.no_grad():
            loss = float(F.cross_entropy(model(xb), tb))
        train_s += time.perf_counter() - t0
        if a.eval_interval and it % a.eval_interval == 0:
            t0 = time.perf_counter()
            acc_train = accuracy(X_train, T_train)
            acc_test = accuracy(X_test, T_test)
            eval_s += time.perf_counter() - t0
            evals += 1
            if a.print_accuracy:
                print(f'iter: {it}. loss={loss:.4f} accr_train={acc_train}, accr_test={acc_test}', file=sys.stderr)

    out = {'iters': a.iters, 'batch_size': a.batch_size, 'train_seconds': train_s, 'eval_seconds': eval_s,
           'total_seconds': train_s + eval_s, 'train_images': a.iters * a.batch_size,
           'eval_images': evals * (a.train_size + a.test_size), 'evals': evals, 'threads': threads,
           'dtype': 'float32', 'torch': torch.__version__, 'mkldnn': a.mkldnn, 'channels_last': a.channels_last,
           'eval_mode': a.eval_mode, 'net': a.net, 'last_loss': loss}
    emit_result(out, a.timings)
    return 0


if __name__ == '__main__':
    sys.exit(main())
