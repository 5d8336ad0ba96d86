#!/usr/bin/python3
"""Writes the seed corpora under fuzz/corpus/ (small valid and near-valid files).

Run with Debian's Python (it needs NumPy): /usr/bin/python3 fuzz/make_corpus.py
The output is deterministic; the files are committed, so this is only needed
to change them. No .png/.npz suffixes: the repository ignores those names.
"""
import gzip
import io
import os
import struct
import zipfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def out(kind, name, data):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    # mtime=0: the same bytes on every run.
    return gzip.compress(data, compresslevel=9, mtime=0)


# ---- IDX -------------------------------------------------------------------
def idx(magic, dims, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload


rng = np.random.RandomState(0)
pix = rng.randint(0, 256, size=(3, 5, 4)).astype(np.uint8).tobytes()
images = idx(0x803, (3, 5, 4), pix)
labels = idx(0x801, (3,), bytes([7, 2, 1]))
out("idx", "images-3x5x4", images)
out("idx", "labels-3", labels)
out("idx", "images-3x5x4.gz", gz(images))
out("idx", "labels-3.gz", gz(labels))
out("idx", "images-two-gzip-members.gz", gz(images[:20]) + gz(images[20:]))
out("idx", "images-truncated", images[:-7])
out("idx", "images-too-long", images + b"\0")
out("idx", "images-truncated.gz", gz(images)[:-9])
out("idx", "images-too-long.gz", gz(images + b"\xff\xff"))
out("idx", "images-zero-count", idx(0x803, (0, 5, 4), b""))
out("idx", "images-huge-header", idx(0x803, (60000, 28, 28), pix))
out("idx", "images-huge-header.gz", gz(idx(0x803, (60000, 28, 28), pix)))
out("idx", "labels-wrong-magic", idx(0x802, (3,), bytes([7, 2, 1])))
out("idx", "header-only", struct.pack(">I", 0x803))
# 4 dims (N x C x H x W); pixels from a formula, not rng, so the npz seeds below stay as they were.
pix4 = bytes((i * 37 + 11) % 256 for i in range(2 * 3 * 5 * 4))
images4 = idx(0x804, (2, 3, 5, 4), pix4)
out("idx", "images-2x3x5x4", images4)
out("idx", "images-2x3x5x4.gz", gz(images4))
out("idx", "images-4d-truncated", images4[:-5])
out("idx", "images-4d-zero-channels", idx(0x804, (2, 0, 5, 4), b""))
out("idx", "images-4d-huge-header", idx(0x804, (0x7FFFFFFF, 65536, 65536, 65536), pix4))
out("idx", "images-5-dims", idx(0x805, (2, 3, 5, 4, 1), pix4))

# ---- npz -------------------------------------------------------------------
arrays = {
    "W1": rng.randn(2, 1, 3, 3).astype(np.float32),
    "b1": np.zeros(2, dtype=np.float64),
    "n": np.int64(5),
    "u": np.arange(6, dtype=np.uint8).reshape(2, 3),
    "m": np.array([[True, False], [False, True]]),
    "i4": np.array([-1, 2], dtype=np.int32),
    "u4": np.array([3], dtype=np.uint32),
    "u8": np.array([], dtype=np.uint64),
}


def npz(compressed, items):
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **items)
    return buf.getvalue()


def npy(arr, version=None, fortran=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asfortranarray(arr) if fortran else arr, version=version)
    return buf.getvalue()


def zip_of(members, method=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=method)
    return buf.getvalue()


stored = npz(False, arrays)
out("npz", "savez", stored)
out("npz", "savez_compressed", npz(True, arrays))
out("npz", "empty", npz(False, {}))
out("npz", "one-array", npz(False, {"x": np.arange(4, dtype=np.float32)}))
out("npz", "npy-v2", zip_of([("a.npy", npy(np.ones((2, 2), np.float32), version=(2, 0)))]))
out("npz", "npy-v3", zip_of([("a.npy", npy(np.ones(3, np.int32), version=(3, 0)))]))
out("npz", "fortran", zip_of([("f.npy", npy(np.ones((2, 3), np.float64), fortran=True))]))
out("npz", "deflated-v1", zip_of([("a.npy", npy(np.arange(5, dtype=np.int64)))], zipfile.ZIP_DEFLATED))
out("npz", "not-npy-member", zip_of([("readme.txt", b"hello")]))
out("npz", "truncated", stored[: len(stored) // 2])
out("npz", "short-data", zip_of([("a.npy", npy(np.ones(4, np.float32))[:-4])]))
out("npz", "structured", zip_of([("s.npy", npy(np.zeros(2, dtype=[("a", "<i4")])))]))
out("npz", "big-endian", zip_of([("b.npy", npy(np.ones(2, dtype=">f4")))]))

# ---- PNG (our own tiny encoder: no PIL here) ---------------------------------
def chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def pack_row(samples, depth):
    if depth >= 8:
        fmt = ">%d%s" % (len(samples), "B" if depth == 8 else "H")
        return struct.pack(fmt, *samples)
    bits, acc, n = b"", 0, 0
    out_b = bytearray()
    for s in samples:
        acc = (acc << depth) | s
        n += depth
        if n == 8:
            out_b.append(acc)
            acc, n = 0, 0
    if n:
        out_b.append(acc << (8 - n))
    return bytes(out_b)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png(rows, color, depth, channels, interlace=False, extra=b""):
    """rows: list of rows, each a list of pixels, each a tuple of `channels` samples."""
    h, w = len(rows), len(rows[0])
    raw = b""
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        for y in range(y0, h, dy):
            line = [s for x in range(x0, w, dx) for s in rows[y][x]]
            if line:
                raw += b"\0" + pack_row(line, depth)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 1 if interlace else 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


# A 7x6 "1": dark ink on a light background, like a photo of a digit.
digit = [[1 if (x == 3 or (y == 1 and x == 2)) and 0 < y < 6 else 0 for x in range(6)] for y in range(7)]


def grey_img(depth):
    top = (1 << depth) - 1
    return [[(top - v * top,) for v in r] for r in digit]


for depth in (1, 2, 4, 8, 16):
    out("png", "grey%d" % depth, png(grey_img(depth), 0, depth, 1))
out("png", "grey8-interlaced", png(grey_img(8), 0, 8, 1, interlace=True))
ga = [[(0, 255 if v else 0) for v in r] for r in digit]  # ink opaque, rest transparent
out("png", "grey-alpha8", png(ga, 4, 8, 2))
rgb = [[(20, 30, 200) if v else (250, 240, 230) for v in r] for r in digit]
out("png", "rgb8", png(rgb, 2, 8, 3))
out("png", "rgb8-interlaced", png(rgb, 2, 8, 3, interlace=True))
out("png", "rgb16", png([[tuple(c * 257 for c in p) for p in r] for r in rgb], 2, 16, 3))
rgba = [[(0, 0, 0, 255) if v else (0, 0, 0, 0) for v in r] for r in digit]
out("png", "rgba8", png(rgba, 6, 8, 4))
pal = [[(1 if v else 0,) for v in r] for r in digit]
plte = chunk(b"PLTE", bytes([255, 255, 255, 0, 0, 0]))
out("png", "palette2", png(pal, 3, 2, 1, extra=plte))
out("png", "palette-trns", png(pal, 3, 8, 1, extra=plte + chunk(b"tRNS", bytes([0, 255]))))
ok = png(grey_img(8), 0, 8, 1)
out("png", "truncated", ok[:-20])
out("png", "bad-crc", ok[:30] + bytes([ok[30] ^ 1]) + ok[31:])
# Valid header claiming 16384x16384 (kMaxPngSide), followed by a tiny IDAT.
big_ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 16384, 16384, 8, 0, 0, 0, 0))
out("png", "huge-header", ok[:8] + big_ihdr + ok[8 + 25:])
out("png", "too-large", ok[:8] + chunk(b"IHDR", struct.pack(">IIBBBBB", 16385, 1, 8, 0, 0, 0, 0)) + ok[8 + 25:])
# Raw pictures for to_mnist_like (see fuzz_png.cpp): rows, cols, size, box, pixels.
out("png", "raw-digit", bytes([7, 6, 28, 20]) + bytes(255 - 255 * v for r in digit for v in r))
out("png", "raw-blank", bytes([4, 4, 28, 20]) + bytes(16))
out("png", "raw-1x1", bytes([1, 1, 5, 5, 200]))
out("png", "raw-bad-box", bytes([2, 2, 8, 9, 0, 255, 0, 0]))
