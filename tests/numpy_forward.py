#!/usr/bin/python3
"""An independent NumPy forward pass of a convnet model.npz.

Usage: numpy_forward.py MODEL.npz DATA_DIR N  -> prints the accuracy on the
first N test images (t10k-*), as Python prints a float.
Written without the C++ code's im2col: the convolution is an einsum over
sliding windows, the pooling a reshape-max.
"""
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def read_idx(path):
    """The data of a raw ubyte IDX file: after the magic 0x000008DD and DD sizes."""
    with open(path, "rb") as f:
        raw = f.read()
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * raw[3])


def main():
    model, data, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    p = np.load(model)
    C, H, W = (int(v) for v in p["input_dim"])
    FN, FS, pad, stride = (int(v) for v in p["conv_param"])
    x = read_idx(f"{data}/t10k-images-idx3-ubyte").reshape(-1, C, H, W)[:n]  # 3 or 4 dims
    t = read_idx(f"{data}/t10k-labels-idx1-ubyte")[:n].astype(np.int64)
    x = x.astype(np.float32) / np.float32(255.0)
    x = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    win = sliding_window_view(x, (FS, FS), axis=(2, 3))[:, :, ::stride, ::stride]  # N,C,OH,OW,FS,FS
    conv = np.einsum("ncyxij,fcij->nfyx", win, p["W1"]) + p["b1"][None, :, None, None]
    a = np.maximum(conv, 0)
    N, F, OH, OW = a.shape
    a = a[:, :, : OH // 2 * 2, : OW // 2 * 2].reshape(N, F, OH // 2, 2, OW // 2, 2).max(axis=(3, 5))
    h = np.maximum(a.reshape(N, -1) @ p["W2"] + p["b2"], 0)
    y = h @ p["W3"] + p["b3"]
    print(repr(float(np.sum(np.argmax(y, axis=1) == t)) / n))


if __name__ == "__main__":
    main()
