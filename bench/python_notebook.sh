#!/usr/bin/env bash
# The notebook's loop driven from Python (bench/python_notebook.py, the convnet
# module) against the same work elsewhere, alternated A B A B ...; prints the
# medians of each side and the ratio A/B (benchlib.py compare):
#
#   f32: Python, dtype=float32   vs  convnet train (float32), same regime and threads
#        target: Python train+eval seconds <= 1.15x the CLI's
#   f64: Python, dtype=float64   vs  the NumPy notebook (bench/peers/numpy_notebook.py,
#        --numpy-iters measured and SCALED to the Python side's iterations and evaluations)
#        target: NumPy train+eval seconds >= 30x Python's
#
#   bench/python_notebook.sh [PAIRS] [--threads N] [--part f32|f64|all] [--numpy-iters 50] [--all] [-- COMMON ARGS]
#
#   PAIRS        A/B pairs, at least 3 (default 3)
#   --threads N  threads for both sides (default: all cores)
#   COMMON ARGS  options all take: --iters --batch-size --train-size --test-size --eval-interval --seed --data
#
# Environment: BUILD_DIR (build), CONVNET (BUILD_DIR/convnet), CONVNET_PYTHONPATH (BUILD_DIR/python; empty:
# the installed module), RESULTS_DIR (keep the per-run JSON there; default a temporary directory, removed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$repo/build}
CONVNET=${CONVNET:-$BUILD_DIR/convnet}
CONVNET_PYTHONPATH=${CONVNET_PYTHONPATH-$BUILD_DIR/python}
PY=/usr/bin/python3
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$here/lib/common.sh"   # die, timed_run, cpu_model

pairs=3 threads=$(nproc) part=all numpy_iters=50 all=()
common=()
while (($#)); do
  case $1 in
    --) shift; common=("$@"); break;;
    --all) all=(--all);;
    --threads) [[ $# -ge 2 ]] || die "--threads: expected a value"; threads=$2; shift;;
    --part) [[ $# -ge 2 ]] || die "--part: expected f32, f64 or all"; part=$2; shift;;
    --numpy-iters) [[ $# -ge 2 ]] || die "--numpy-iters: expected a value"; numpy_iters=$2; shift;;
    ''|*[!0-9]*) die "unknown argument '$1' (usage: python_notebook.sh [PAIRS] [--threads N] [--part f32|f64|all] [--numpy-iters N] [--all] [-- ARGS])";;
    *) pairs=$1;;
  esac
  shift
done
[[ $pairs =~ ^[0-9]+$ && $pairs -ge 3 ]] || die "PAIRS: expected an integer >= 3, found '$pairs'"
[[ $threads =~ ^[0-9]+$ && $threads -ge 1 ]] || die "--threads: expected an integer >= 1, found '$threads'"
[[ $part == f32 || $part == f64 || $part == all ]] || die "--part: expected f32, f64 or all, found '$part'"
[[ $numpy_iters =~ ^[0-9]+$ && $numpy_iters -ge 10 ]] || die "--numpy-iters: expected an integer >= 10, found '$numpy_iters'"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install -y time)"
if [[ -n $CONVNET_PYTHONPATH ]]; then
  [[ -f $CONVNET_PYTHONPATH/convnet/__init__.py ]] ||
    die "$CONVNET_PYTHONPATH: no convnet module (build it with Python on, or set CONVNET_PYTHONPATH= for the installed one)"
  export PYTHONPATH=$CONVNET_PYTHONPATH${PYTHONPATH:+:$PYTHONPATH}
fi
$PY -c 'import convnet' || die "$PY cannot import convnet"
has() { local o; for o in "${common[@]}"; do [[ $o == "$1" || $o == "$1="* ]] && return 0; done; return 1; }
has --data || common+=(--data "$repo/data/mnist")

if [[ -n ${RESULTS_DIR:-} ]]; then out=$RESULTS_DIR; mkdir -p "$out"; else out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi
run() { timed_run "$out" "$@"; }
python=("$PY" "$here/python_notebook.py" --threads "$threads" "${common[@]}")
echo "cpu: $(cpu_model), $(nproc) cores; threads: $threads; pairs: $pairs; regime: ${common[*]}"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ $part == f32 || $part == all ]]; then
  [[ -x $CONVNET ]] || die "$CONVNET: no convnet binary (build it, or set BUILD_DIR / CONVNET)"
  cli=("$CONVNET" train -q --print-interval 0 --threads "$threads" "${common[@]}")
  for ((i = 1; i <= pairs; i++)); do
    run python-f32 "$i" "${python[@]}" --dtype float32
    run convnet "$i" "${cli[@]}"
  done
  echo
  echo "== f32: the notebook loop from Python (dtype=float32) vs convnet train; target python-f32/convnet <= 1.15"
  $PY "$here/lib/benchlib.py" compare --a python-f32 "$out"/python-f32-*.json --b convnet "$out"/convnet-*.json "${all[@]}"
fi

if [[ $part == f64 || $part == all ]]; then
  # NumPy runs numpy_iters iterations, scaled to the regime the Python side runs (--iters, --eval-interval).
  iters=1000 every=10 rest=()
  for ((i = 0; i < ${#common[@]}; i++)); do
    case ${common[i]} in
      --iters) iters=${common[i+1]}; i=$((i + 1));;
      --eval-interval) every=${common[i+1]}; rest+=(--eval-interval "$every"); i=$((i + 1));;
      *) rest+=("${common[i]}");;
    esac
  done
  numpy=("$PY" "$here/peers/numpy_notebook.py" --threads "$threads" --iters "$numpy_iters" "${rest[@]}"
         --scale-iters "$iters" --scale-evals $((iters / every)))
  for ((i = 1; i <= pairs; i++)); do
    run python-f64 "$i" "${python[@]}" --dtype float64
    run numpy "$i" "${numpy[@]}"
  done
  echo
  echo "== f64: the notebook loop from Python (dtype=float64) vs the NumPy notebook, SCALED from $numpy_iters to $iters iterations;"
  echo "   target numpy/python-f64 >= 30 on train+eval seconds (wall and RSS of numpy are its short run's)"
  $PY "$here/lib/benchlib.py" compare --a python-f64 "$out"/python-f64-*.json --b numpy "$out"/numpy-*.json "${all[@]}"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
