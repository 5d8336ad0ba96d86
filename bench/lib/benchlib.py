#!/usr/bin/python3
"""Helpers of the bench/ scripts (standard library only).

  benchlib.py result  --timings T.json --time-v TIME.txt --out R.json
        merge a run's --timings JSON with /usr/bin/time -v's wall seconds and peak RSS
  benchlib.py report  R.json [--peak GFLOPS --peak-threads N] [--best-peak LIB=GFLOPS] [-- TRAIN ARGS...]
        print the regime report: seconds, images/s, peak RSS, FLOPs (with the formula), GFLOP/s
  benchlib.py compare --a NAME R1.json R2.json ... --b NAME R3.json ...
        medians of each figure per side and the ratio A/B
  benchlib.py old-new --dir DIR --regimes notebook,full [--threshold 1.03] [--cpu TEXT --cores N]
        bench/old_vs_new.sh's summary: per regime, medians of DIR/old-REGIME-*.json and
        DIR/new-REGIME-*.json, the ratio new/old and PASS/FAIL against the threshold
"""
import argparse
import glob
import json
import re
import resource
import statistics
import sys


def fail(msg):
    sys.stderr.write(f'benchlib.py: error: {msg}\n')
    sys.exit(2)


# ---- shared by the peer scripts (bench/peers/*_notebook.py) --------------------

def positive(text):
    """argparse type: an integer > 0."""
    v = int(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f'expected a positive integer, found {text}')
    return v


def non_negative(text):
    """argparse type: an integer >= 0."""
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f'expected an integer >= 0, found {text}')
    return v


def emit_result(out, timings_path=None):
    """A peer's result as one JSON line, with this process's peak RSS: on
    stdout, and in timings_path when given (like convnet train --timings)."""
    out['peak_rss_kb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    line = json.dumps(out)
    print(line)
    if timings_path:
        with open(timings_path, 'w') as f:
            f.write(line + '\n')


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        fail(f'{path}: cannot read ({e.strerror})')
    except json.JSONDecodeError as e:
        fail(f'{path}: expected JSON, {e}')


# ---- /usr/bin/time -v ----------------------------------------------------------

def parse_time_v(path):
    """Wall seconds and peak RSS (KiB) from GNU time's -v report."""
    try:
        text = open(path).read()
    except OSError as e:
        fail(f'{path}: cannot read ({e.strerror})')
    wall = rss = None
    m = re.search(r'Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)', text)
    if m:
        parts = [float(p) for p in m.group(1).split(':')]
        wall = 0.0
        for p in parts:
            wall = wall * 60 + p
    m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', text)
    if m:
        rss = int(m.group(1))
    if wall is None or rss is None:
        fail(f'{path}: expected the wall time and "Maximum resident set size" lines of /usr/bin/time -v')
    return wall, rss


# ---- FLOPs -------------------------------------------------------------------------

def train_arg_values(argv):
    """The convnet train options that fix the work, with the notebook's defaults."""
    v = {'--iters': 1000, '--batch-size': 100, '--train-size': 5000, '--test-size': 1000,
         '--eval-interval': 10, '--filters': 30, '--filter-size': 5, '--pad': 0, '--stride': 1,
         '--hidden': 100}
    i = 0
    while i < len(argv):
        a = argv[i]
        key, val = (a.split('=', 1) + [None])[:2] if a.startswith('--') else (a, None)
        if key in v:
            if val is None:
                if i + 1 >= len(argv):
                    fail(f'{key}: expected a value')
                val = argv[i + 1]
                i += 1
            try:
                v[key] = int(val)
            except ValueError:
                fail(f'{key}: expected an integer, found {val!r}')
        i += 1
    return v


def flops(v, image=(1, 28, 28), classes=10):
    """GEMM FLOPs per image of the network's passes; elementwise work (bias, ReLU,
    pooling, softmax, Adam) is not counted."""
    C, H, W = image
    FN, F, P, S, HID = v['--filters'], v['--filter-size'], v['--pad'], v['--stride'], v['--hidden']
    OH = (H + 2 * P - F) // S + 1
    OW = (W + 2 * P - F) // S + 1
    D = FN * (OH // 2) * (OW // 2)  # 2x2 pooling, stride 2
    conv = 2 * FN * C * F * F * OH * OW
    aff1 = 2 * D * HID
    aff2 = 2 * HID * classes
    fwd = conv + aff1 + aff2
    bwd = conv + 2 * aff1 + 2 * aff2  # conv dW only (no dx for the first layer); affines dW + dx
    return {'conv': conv, 'affine1': aff1, 'affine2': aff2, 'forward': fwd, 'backward': bwd,
            'train_step': 2 * fwd + bwd, 'shape': dict(C=C, H=H, W=W, FN=FN, F=F, OH=OH, OW=OW, D=D, HID=HID, O=classes)}


def flop_formula(f):
    s = f['shape']
    return '\n'.join([
        'FLOPs (GEMM work only; bias, ReLU, pooling, softmax and Adam are elementwise and not counted), per image:',
        f"  conv forward    2*FN*C*FH*FW*OH*OW = 2*{s['FN']}*{s['C']}*{s['F']}*{s['F']}*{s['OH']}*{s['OW']} = {f['conv']:,}",
        f"  affine1 forward 2*D*M             = 2*{s['D']}*{s['HID']} = {f['affine1']:,}",
        f"  affine2 forward 2*M*O             = 2*{s['HID']}*{s['O']} = {f['affine2']:,}",
        f"  forward  = conv + affine1 + affine2 = {f['forward']:,}",
        f"  backward = conv (dW; no dx for the first layer) + 2*affine1 + 2*affine2 (dW and dx) = {f['backward']:,}",
        f"  training step = forward + backward (gradient) + forward (loss after the update) = {f['train_step']:,}",
        '  evaluation    = forward of every train+test image, every eval-interval iterations',
        '  run = train_images * step + eval_images * forward',
    ])


def blas_core(blas):
    """OpenBLAS's core type from the "blas" field of --timings:
    '... (core Zen, detected by OpenBLAS)' -> 'Zen'."""
    if '(core ' not in blas:
        return '?'
    return blas.split('(core ', 1)[1].split(',', 1)[0].rstrip(')')


# ---- subcommands ------------------------------------------------------------------

def cmd_result(a):
    r = load_json(a.timings)
    for k in ('train_seconds', 'eval_seconds', 'train_images', 'eval_images'):
        if k not in r:
            fail(f'{a.timings}: expected a field "{k}"')
    r.setdefault('total_seconds', r['train_seconds'] + r['eval_seconds'])
    wall, rss = parse_time_v(a.time_v)
    r['wall_seconds'] = wall
    r['peak_rss_kb'] = rss
    if a.name:
        r['name'] = a.name
    with open(a.out, 'w') as f:
        json.dump(r, f)
        f.write('\n')


def rate(n, s):
    return n / s if s > 0 else float('nan')


def cmd_report(a):
    r = load_json(a.result)
    v = train_arg_values(a.train_args)
    f = flops(v)
    tr_fl = r['train_images'] * f['train_step']
    ev_fl = r['eval_images'] * f['forward']
    ts, es = r['train_seconds'], r['eval_seconds']
    tot = ts + es
    print(f"run: {r.get('name', '')} iters={r.get('iters')} batch={r.get('batch_size', v['--batch-size'])} "
          f"threads={r.get('threads')} dtype={r.get('dtype', '?')}")
    if 'blas' in r:
        print(f"blas: {r['blas']}")
    print(f"wall seconds (whole process):   {r['wall_seconds']:.3f}")
    print(f"train+eval seconds:             {tot:.3f}")
    print(f"training-only seconds:          {ts:.3f}   {rate(r['train_images'], ts):10.1f} images/s  ({r['train_images']} images)")
    print(f"evaluation-only seconds:        {es:.3f}   {rate(r['eval_images'], es):10.1f} images/s  ({r['eval_images']} images)")
    print(f"peak RSS:                       {r['peak_rss_kb'] / 1024:.1f} MiB")
    print()
    print(flop_formula(f))
    print(f"  this run: {r['train_images']} * {f['train_step']:,} + {r['eval_images']} * {f['forward']:,} "
          f"= {tr_fl + ev_fl:.4g} FLOP (training {tr_fl:.4g}, evaluation {ev_fl:.4g})")
    print()
    peak = a.peak
    rows = [('training', tr_fl, ts), ('evaluation', ev_fl, es), ('train+eval', tr_fl + ev_fl, tot)]
    head = f"{'achieved':12} {'GFLOP/s':>9}"
    if peak:
        head += f"   sgemm peak {peak:.1f} GFLOP/s ({a.peak_threads} threads, 2048^3): ratio"
    print(head)
    for name, fl, s in rows:
        g = rate(fl, s) / 1e9
        line = f'{name:12} {g:9.2f}'
        if peak:
            line += f'   {g / peak:.3f}'
        print(line)
    if a.best_peak:
        # The fastest sgemm among the other BLAS libraries built (bench/blas_compare.sh).
        lib, value = a.best_peak.split('=', 1)
        best = float(value)
        print(f"fastest other BLAS built: {lib} sgemm {best:.1f} GFLOP/s ({a.peak_threads} threads, 2048^3); "
              f"train+eval / that: {rate(tr_fl + ev_fl, tot) / 1e9 / best:.3f}")


FIGURES = [
    ('wall seconds', lambda r: r['wall_seconds'], 'lower'),
    ('train+eval seconds', lambda r: r['train_seconds'] + r['eval_seconds'], 'lower'),
    ('train-only images/s', lambda r: rate(r['train_images'], r['train_seconds']), 'higher'),
    ('eval-only images/s', lambda r: rate(r['eval_images'], r['eval_seconds']), 'higher'),
    ('peak RSS MiB', lambda r: r['peak_rss_kb'] / 1024, 'lower'),
]


def cmd_compare(a):
    sides = [(a.a[0], [load_json(p) for p in a.a[1:]]), (a.b[0], [load_json(p) for p in a.b[1:]])]
    for name, rs in sides:
        if not rs:
            fail(f'{name}: no results')
    na, nb = sides[0][0], sides[1][0]
    print(f"medians of {len(sides[0][1])} ({na}) and {len(sides[1][1])} ({nb}) runs, alternated")
    print(f"{'figure':22} {na:>14} {nb:>14} {na + '/' + nb:>14}  better")
    for fig, get, better in FIGURES:
        ma = statistics.median(get(r) for r in sides[0][1])
        mb = statistics.median(get(r) for r in sides[1][1])
        ratio = ma / mb if mb else float('nan')
        print(f'{fig:22} {ma:14.2f} {mb:14.2f} {ratio:14.3f}  {better}')
    if a.all:
        print('\nevery run (train+eval s, train img/s, eval img/s, RSS MiB):')
        for name, rs in sides:
            for r in rs:
                print(f"  {name:10} " + '  '.join(f'{get(r):.2f}' for _, get, _ in FIGURES[1:]))


def cmd_old_new(a):
    regimes = [r for r in a.regimes.split(',') if r]
    runs = {}
    for regime in regimes:
        for side in ('old', 'new'):
            paths = sorted(glob.glob(f'{a.dir}/{side}-{regime}-*.json'),
                           key=lambda p: int(p.rsplit('-', 1)[1].split('.')[0]))
            if not paths:
                fail(f'{a.dir}: no {side}-{regime}-*.json results')
            runs[side, regime] = [load_json(p) for p in paths]
    first_new = runs['new', regimes[0]][0]
    core_new = blas_core(first_new.get('blas', ''))
    core_old = blas_core(runs['old', regimes[0]][0].get('blas', ''))
    cores = f'OpenBLAS core {core_new}' + (f' (old binary: {core_old})' if core_old != core_new else '')
    rounds = len(runs['old', regimes[0]])
    print(f"machine: {a.cpu or '?'}, {a.cores or '?'} cores, {cores}; threads {first_new.get('threads', '?')}")
    print(f"medians of {rounds} round(s), old and new alternated (odd rounds old first, even rounds new first);")
    print(f"compared: train+eval seconds of --timings (total_seconds); PASS when new/old <= {a.threshold:.2f}")
    print()

    def med(side, regime, key):
        return statistics.median(r[key] for r in runs[side, regime])

    def ratio(n, o):
        return n / o if o else float('nan')

    print(f"{'regime':10} {'old s':>8} {'new s':>8} {'new/old':>8}  {'result':6} "
          f"{'old wall':>9} {'new wall':>9} {'new/old':>8}")
    for regime in regimes:
        o, n = med('old', regime, 'total_seconds'), med('new', regime, 'total_seconds')
        ow, nw = med('old', regime, 'wall_seconds'), med('new', regime, 'wall_seconds')
        q = ratio(n, o)
        verdict = 'PASS' if q <= a.threshold else 'FAIL'
        print(f'{regime:10} {o:8.2f} {n:8.2f} {q:8.3f}  {verdict:6} {ow:9.2f} {nw:9.2f} {ratio(nw, ow):8.3f}')
    print()
    print(f"{'regime':10} {'old train':>10} {'new train':>10} {'new/old':>8} {'old eval':>9} {'new eval':>9} {'new/old':>8}"
          f"  {'old RSS':>8} {'new RSS':>8} (MiB)")
    for regime in regimes:
        ot, nt = med('old', regime, 'train_seconds'), med('new', regime, 'train_seconds')
        oe, ne = med('old', regime, 'eval_seconds'), med('new', regime, 'eval_seconds')
        orss, nrss = med('old', regime, 'peak_rss_kb') / 1024, med('new', regime, 'peak_rss_kb') / 1024
        print(f'{regime:10} {ot:10.2f} {nt:10.2f} {ratio(nt, ot):8.3f} {oe:9.2f} {ne:9.2f} {ratio(ne, oe):8.3f}'
              f'  {orss:8.1f} {nrss:8.1f}')
    print()
    print('every run, train+eval seconds, round by round:')
    for regime in regimes:
        for side in ('old', 'new'):
            print(f"  {regime:10} {side}: " + ' '.join(f"{r['total_seconds']:.2f}" for r in runs[side, regime]))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    train_args = []
    if '--' in argv:
        i = argv.index('--')
        argv, train_args = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description='bench/ helpers')
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('result')
    p.add_argument('--timings', required=True)
    p.add_argument('--time-v', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--name')
    p = sub.add_parser('report')
    p.add_argument('result')
    p.add_argument('--peak', type=float)
    p.add_argument('--peak-threads', default='?')
    p.add_argument('--best-peak', metavar='LIBRARY=GFLOPS')
    p = sub.add_parser('compare')
    p.add_argument('--a', nargs='+', required=True, metavar=('NAME', 'RESULT'))
    p.add_argument('--b', nargs='+', required=True, metavar=('NAME', 'RESULT'))
    p.add_argument('--all', action='store_true', help='also list every run')
    p = sub.add_parser('old-new')
    p.add_argument('--dir', required=True)
    p.add_argument('--regimes', required=True)
    p.add_argument('--threshold', type=float, default=1.03)
    p.add_argument('--cpu')
    p.add_argument('--cores')
    a = ap.parse_args(argv)
    a.train_args = train_args
    {'result': cmd_result, 'report': cmd_report, 'compare': cmd_compare,
     'old-new': cmd_old_new}[a.cmd](a)
    return 0


if __name__ == '__main__':
    sys.exit(main())
