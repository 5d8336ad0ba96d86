#!/usr/bin/python3
"""The README's install command, for real: `cmake --install BUILD --component python
--prefix PREFIX` into a temporary prefix used as a user's site directory
(PYTHONUSERBASE, what --prefix ~/.local is), then `import convnet` from another
directory with no PYTHONPATH: the installed package must load (its libraries
through $ORIGIN) and compute im2col as the notebook's NumPy code does.

    run_install.py BUILD_DIR
"""
import os
import subprocess
import sys
import tempfile

CHECK = r'''
import os, sys
import numpy as np
import convnet
prefix = os.environ['PYTHONUSERBASE']
assert os.path.realpath(convnet.__file__).startswith(os.path.realpath(prefix)), convnet.__file__
x = np.random.RandomState(1).rand(2, 3, 5, 6)
col = convnet.im2col(x, 3, 2, stride=1, pad=1)
# the notebook's im2col (In [2]), element by element
p = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])
oh, ow = 5 + 2 - 3 + 1, 6 + 2 - 2 + 1
ref = np.array([[p[n, c, y + i, xx + j] for c in range(3) for i in range(3) for j in range(2)]
                for n in range(2) for y in range(oh) for xx in range(ow)])
assert np.array_equal(col, ref)
print('installed convnet at', os.path.dirname(convnet.__file__), 'computes im2col as NumPy does')
'''


def main():
    build = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix='convnet-pyinstall-') as tmp:
        prefix = os.path.join(tmp, 'home', '.local')
        r = subprocess.run(['cmake', '--install', build, '--component', 'python', '--prefix', prefix],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f'FAIL: cmake --install {build} --component python exited {r.returncode}:\n{r.stdout}{r.stderr}')
            return 1
        env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME', 'LD_LIBRARY_PATH')}
        env['PYTHONUSERBASE'] = prefix
        elsewhere = os.path.join(tmp, 'elsewhere')
        os.mkdir(elsewhere)
        r = subprocess.run([sys.executable, '-c', CHECK], cwd=elsewhere, env=env, capture_output=True, text=True)
        sys.stdout.write(r.stdout + r.stderr)
        if r.returncode != 0:
            print('FAIL: the installed module did not import or compute correctly')
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
