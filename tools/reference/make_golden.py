#!/usr/bin/python3
"""Write the golden random streams of NumPy's legacy np.random into tests/data/numpy/.

tests/test_random.cpp checks convnet::RandomState against these files value by
value (==). Run with Debian's NumPy:

    /usr/bin/python3 tools/reference/make_golden.py [--out tests/data/numpy]

Files (one value per line, floats as repr() so strtod reads them back exactly):
  randn_seed{S}.txt          np.random.seed(S); np.random.randn(N)
  choice_seed{S}.txt         np.random.seed(S); np.random.choice(5000, 100) x (N/100), concatenated
                             (the notebook's batch_mask stream)
  random_sample_seed{S}.txt  np.random.seed(S); np.random.random_sample(100)
  mixed_seed{S}.txt          "op value" lines from one seeded stream mixing calls, so that the
                             cached second Gaussian must carry across other calls
  state_seed42.txt           get_state() after np.random.seed(42); np.random.randn(3), then the
                             values that follow it (to check state()/set_state())
Header lines start with '#'.
"""
import argparse
import os
import sys

import numpy as np

SEEDS = [0, 1, 42, 12345, 4294967295]
# 10000 values for these seeds, 2000 for the others (keeps the files < 1.5 MB).
LONG_SEEDS = {0, 42, 4294967295}


def header(f, what):
    f.write(f"# {what}\n# numpy {np.__version__}, written by tools/reference/make_golden.py\n")


def write_values(path, what, values, fmt):
    with open(path, "w") as f:
        header(f, what)
        for v in values:
            f.write(fmt(v) + "\n")


def mixed_ops(seed):
    """One stream mixing calls; returns (op, value) pairs.

    Ops: randn, random_sample, choice<n>, randint<n> (np.random.randint(0, n)),
    seed<s> (np.random.seed(s), value 0). Odd randn counts leave a cached
    Gaussian that the next randn must return after the calls in between.
    """
    out = []
    np.random.seed(seed)

    def randn(k):
        out.extend(("randn", repr(float(v))) for v in np.random.randn(k))

    def choice(n, k):
        out.extend((f"choice{n}", str(int(v))) for v in np.random.choice(n, k))

    def randint(n):
        out.append((f"randint{n}", str(int(np.random.randint(0, n)))))

    def sample(k):
        out.extend(("random_sample", repr(float(v))) for v in np.random.random_sample(k))

    randn(7)
    choice(60000, 3)
    randn(5)
    sample(3)
    randn(1)
    randint(10)
    randn(1)
    randint(1)            # range 0: no draw
    choice(1, 2)          # range 0: no draw
    randn(3)
    randint(2**32)        # full 32-bit range: raw draws, no mask
    randint(2**31 + 1)    # worst case for rejection (mask 2^32-1)
    randint(3)
    randn(2)
    choice(5000, 100)
    randn(1)
    np.random.seed(seed + 1 if seed < 4294967295 else 0)   # reseeding drops the cached value
    out.append(("seed", str(seed + 1 if seed < 4294967295 else 0)))
    randn(1)
    sample(1)
    randn(2)
    choice(60000, 5)
    randn(9)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "data", "numpy"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    for s in SEEDS:
        n = 10000 if s in LONG_SEEDS else 2000
        np.random.seed(s)
        write_values(os.path.join(args.out, f"randn_seed{s}.txt"),
                     f"np.random.seed({s}); np.random.randn({n})",
                     np.random.randn(n).tolist(), repr)
        np.random.seed(s)
        idx = np.concatenate([np.random.choice(5000, 100) for _ in range(n // 100)])
        write_values(os.path.join(args.out, f"choice_seed{s}.txt"),
                     f"np.random.seed({s}); np.random.choice(5000, 100) x {n // 100}",
                     idx.tolist(), str)
        np.random.seed(s)
        write_values(os.path.join(args.out, f"random_sample_seed{s}.txt"),
                     f"np.random.seed({s}); np.random.random_sample(100)",
                     np.random.random_sample(100).tolist(), repr)
        with open(os.path.join(args.out, f"mixed_seed{s}.txt"), "w") as f:
            header(f, f"np.random.seed({s}); mixed calls, see mixed_ops() in make_golden.py")
            for op, v in mixed_ops(s):
                f.write(f"{op} {v}\n")

    # get_state() in the middle of a Gaussian pair, then what follows.
    np.random.seed(42)
    np.random.randn(3)
    name, key, pos, has_gauss, gauss = np.random.get_state()
    assert name == "MT19937" and has_gauss == 1
    after = np.random.randn(5).tolist()
    after_idx = np.random.choice(60000, 5).tolist()
    with open(os.path.join(args.out, "state_seed42.txt"), "w") as f:
        header(f, "np.random.seed(42); np.random.randn(3); get_state(), then randn(5), choice(60000, 5)")
        f.write(f"pos {pos}\nhas_gauss {has_gauss}\ngauss {gauss!r}\n")
        f.write("key " + " ".join(str(int(k)) for k in key) + "\n")
        f.write("randn " + " ".join(repr(v) for v in after) + "\n")
        f.write("choice60000 " + " ".join(str(v) for v in after_idx) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
