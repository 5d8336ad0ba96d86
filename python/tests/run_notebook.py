#!/usr/bin/python3
"""Executes an example notebook under Jupyter and checks the ten `iter:` lines it prints.

    run_notebook.py NOTEBOOK EXPECTED [--convnet PATH/convnet]

NOTEBOOK runs with `jupyter nbconvert --to notebook --execute` in a temporary
directory (convnet found through PYTHONPATH, as a user would set it); its
`iter:` lines must equal EXPECTED's, the output of the NumPy reference
(tests/data/README.md says how it was made), as text. The last cell must have
drawn the accuracy chart (an image/png output). With --convnet, the CLI's
`train --numpy-compatible --seed 0` must print the same lines too.

Exit status 77 (ctest's SKIP) when Jupyter's pieces or MNIST are missing.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
NEEDS = ['nbconvert', 'nbclient', 'ipykernel', 'matplotlib', 'tqdm']


def fail(msg):
    print(f'run_notebook.py: FAIL: {msg}', file=sys.stderr)
    sys.exit(1)


def iter_lines(text):
    return [line for line in text.splitlines() if line.startswith('iter:')]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('notebook')
    ap.add_argument('expected')
    ap.add_argument('--convnet', help='also compare the lines of this convnet binary\'s train --numpy-compatible')
    a = ap.parse_args()

    missing = []
    for mod in NEEDS:
        try:
            __import__(mod)
        except ImportError:
            missing.append(mod)
    jupyter = shutil.which('jupyter')
    if missing or not jupyter:
        print(f'SKIP: Jupyter is not complete here (missing: {", ".join(missing) or "the jupyter command"}; '
              'apt-get install jupyter-nbconvert python3-ipykernel python3-matplotlib python3-tqdm)')
        return SKIP
    # make test-other-cpus runs every test with OpenBLAS's Prescott kernels. The
    # float64 path's dgemm then sums in another order than the kernels that
    # wrote EXPECTED, so its lines may differ in a last digit; the live
    # NumPy comparisons (NumpyReference.*, Python.notebook) cover those kernels.
    for var in ('OPENBLAS_CORETYPE', 'CONVNET_TEST_OPENBLAS_DETECTS'):
        if os.environ.get(var):
            print(f'SKIP: {var} is set: {a.expected} holds the default kernels\' lines')
            return SKIP
    import convnet  # through PYTHONPATH, as the notebook will
    data = os.path.join(convnet._convnet.source_dir, 'data', 'mnist')
    if not os.path.isfile(os.path.join(data, 'train-labels-idx1-ubyte')):
        print(f'SKIP: MNIST not fetched ({data}; scripts/fetch-mnist.sh)')
        return SKIP

    with open(a.expected, encoding='utf-8') as f:
        expected = iter_lines(f.read())
    if len(expected) != 10:
        fail(f'{a.expected}: expected ten iter: lines, found {len(expected)}')

    with tempfile.TemporaryDirectory(prefix='convnet-notebook-') as tmp:
        nb = os.path.join(tmp, os.path.basename(a.notebook))
        shutil.copy(a.notebook, nb)
        # The kernel runs in tmp: PYTHONPATH's entries must not be relative to here.
        pypath = os.pathsep.join(os.path.abspath(p) for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p)
        env = dict(os.environ, PYTHONPATH=pypath, JUPYTER_RUNTIME_DIR=os.path.join(tmp, 'runtime'), IPYTHONDIR=os.path.join(tmp, 'ipython'),
                   MPLCONFIGDIR=os.path.join(tmp, 'mpl'), JUPYTER_PLATFORM_DIRS='1')
        cmd = [jupyter, 'nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=1200',
               '--ExecutePreprocessor.kernel_name=python3', '--output', 'executed.ipynb', nb]
        r = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            fail(f'{" ".join(cmd)} exited {r.returncode}:\n{r.stderr[-4000:]}')
        with open(os.path.join(tmp, 'executed.ipynb'), encoding='utf-8') as f:
            executed = json.load(f)

    printed, images = [], 0
    for cell in executed['cells']:
        for out in cell.get('outputs', []):
            if out.get('output_type') == 'stream' and out.get('name') == 'stdout':
                printed += iter_lines(''.join(out['text']))
            if 'image/png' in out.get('data', {}):
                images += 1
    if printed != expected:
        fail(f'{a.notebook}: its iter: lines differ from {a.expected}:\n  got:\n    ' + '\n    '.join(printed) +
             '\n  expected:\n    ' + '\n    '.join(expected))
    last = [c for c in executed['cells'] if c['cell_type'] == 'code'][-1]
    if not any('image/png' in o.get('data', {}) for o in last.get('outputs', [])):
        fail(f'{a.notebook}: the last cell (In [16]) drew no chart (no image/png output)')
    print(f'{a.notebook}: the ten iter: lines equal {a.expected}; the chart was drawn')

    if a.convnet:
        r = subprocess.run([a.convnet, 'train', '--numpy-compatible', '--seed', '0', '-q', '--data', data],
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail(f'{a.convnet} train --numpy-compatible exited {r.returncode}: {r.stderr.strip()}')
        cli = iter_lines(r.stdout)
        if cli != expected:
            fail(f'convnet train --numpy-compatible --seed 0 printed other lines than {a.expected}:\n    ' +
                 '\n    '.join(cli))
        print('convnet train --numpy-compatible --seed 0 prints the same ten lines')
    return 0


if __name__ == '__main__':
    sys.exit(main())
