#!/usr/bin/python3
"""Which configuration of the PyTorch peer is fastest here: runs
pytorch_notebook.py under each configuration, round-robin (config 1, 2, ...,
then again), and prints the median train-only and eval-only images/s of each.

    /usr/bin/python3 bench/peers/pytorch_configs.py [--rounds 3] [--threads 2] [-- ARGS for every run]

Default ARGS: --iters 20 --eval-interval 10 (a short regime; pass the full one
for the real answer). The fastest goes into compare.sh through TORCH_ARGS.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

CONFIGS = [
    ('mkldnn on, NCHW, inference_mode', []),
    ('mkldnn off, NCHW, inference_mode', ['--mkldnn', 'off']),
    ('mkldnn on, channels_last, inference_mode', ['--channels-last']),
    ('mkldnn off, channels_last, inference_mode', ['--mkldnn', 'off', '--channels-last']),
    ('mkldnn on, NCHW, no_grad', ['--eval-mode', 'no_grad']),
]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    extra = ['--iters', '20', '--eval-interval', '10']
    if '--' in argv:
        i = argv.index('--')
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    a = ap.parse_args(argv)
    if a.rounds < 1:
        ap.error(f'--rounds: expected >= 1, found {a.rounds}')
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pytorch_notebook.py')
    runs = {name: [] for name, _ in CONFIGS}
    for r in range(a.rounds):
        for name, opts in CONFIGS:
            cmd = ['/usr/bin/python3', script, '--threads', str(a.threads)] + opts + extra
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                sys.stderr.write(p.stderr)
                raise SystemExit(f'pytorch_configs.py: error: {" ".join(cmd)} exited {p.returncode}')
            runs[name].append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(f'round {r + 1}: {name}', file=sys.stderr)
    print(f'threads {a.threads}, {a.rounds} rounds, args: {" ".join(extra)}')
    print(f"{'configuration':44} {'train img/s':>12} {'eval img/s':>12} {'train+eval s':>13}")
    for name, _ in CONFIGS:
        rs = runs[name]
        tr = statistics.median(r['train_images'] / r['train_seconds'] for r in rs)
        ev = statistics.median(r['eval_images'] / r['eval_seconds'] if r['eval_seconds'] else float('nan') for r in rs)
        tot = statistics.median(r['total_seconds'] for r in rs)
        print(f'{name:44} {tr:12.1f} {ev:12.1f} {tot:13.3f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
