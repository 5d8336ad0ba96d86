#!/usr/bin/env bash
# The NumPy notebook timed on a short run and SCALED to the notebook's regime
# (see numpy_notebook.py): prints the scaled estimate, marked as scaled.
#
#   bench/peers/numpy_notebook.sh [--threads N] [--iters 50] [...numpy_notebook.py options]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/time -v -o "$tmp/time.txt" /usr/bin/python3 "$here/numpy_notebook.py" --timings "$tmp/t.json" "$@" >/dev/null ||
  { cat "$tmp/time.txt" >&2; echo "numpy_notebook.sh: error: numpy_notebook.py failed" >&2; exit 2; }
/usr/bin/python3 "$here/../lib/benchlib.py" result --timings "$tmp/t.json" --time-v "$tmp/time.txt" \
    --out "$tmp/r.json" --name numpy
[[ -n ${RESULT_JSON:-} ]] && cp "$tmp/r.json" "$RESULT_JSON"
/usr/bin/python3 - "$tmp/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if r.get('scaled'):
    print(f"MEASURED: {r['measured_iters']} iterations, {r['measured_evals']} evaluations: "
          f"train {r['measured_train_seconds']:.3f} s, eval {r['measured_eval_seconds']:.3f} s")
    print(f"SCALED to {r['iters']} iterations and {r['evals']} evaluations (an estimate, not a run):")
print(f"  train+eval seconds {r['total_seconds']:.1f}  (train {r['train_seconds']:.1f}, eval {r['eval_seconds']:.1f})")
print(f"  train-only images/s {r['train_images'] / r['train_seconds']:.1f}, eval-only images/s {r['eval_images'] / r['eval_seconds']:.1f}")
print(f"  peak RSS {r['peak_rss_kb'] / 1024:.1f} MiB (of the short run); wall of the short run {r['wall_seconds']:.1f} s")
PY
