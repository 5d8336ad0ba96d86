#!/usr/bin/env bash
# The notebook's regime (5000/1000 images, 1000 iterations of batch 100, both
# accuracies every 10 iterations) run by `convnet train` under /usr/bin/time -v:
# wall, training-only and evaluation-only seconds and images/s, peak RSS, the
# run's FLOPs (formula printed), achieved GFLOP/s beside sgemm_peak's (the
# library's OpenBLAS) and beside the fastest other BLAS probe built, if any.
#
#   bench/notebook_regime.sh [TRAIN ARGS...]        e.g. --iters 50 --threads 1
#
# Environment: BUILD_DIR (build), CONVNET (BUILD_DIR/convnet), SGEMM_PEAK
# (BUILD_DIR/bench/sgemm_peak), PEAK_GFLOPS (skip the sgemm run, use this),
# RESULT_JSON (also keep the merged result there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$repo/build}
CONVNET=${CONVNET:-$BUILD_DIR/convnet}
SGEMM_PEAK=${SGEMM_PEAK:-$BUILD_DIR/bench/sgemm_peak}
PY=/usr/bin/python3
die() { echo "notebook_regime.sh: error: $*" >&2; exit 2; }

[[ -x $CONVNET ]] || die "$CONVNET: no convnet binary (build it, or set BUILD_DIR / CONVNET)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install -y time)"
for a in "$@"; do
  case $a in --timings|--timings=*|--help|-h) die "$a: set by this script";; esac
done

# The notebook's defaults, for each option the caller did not give (CLI11
# refuses an option given twice).
args=("$@")
has() { local o; for o in "${args[@]}"; do [[ $o == "$1" || $o == "$1="* ]] && return 0; done; return 1; }
defaults=(--data "$repo/data/mnist" --train-size 5000 --test-size 1000 --iters 1000 --batch-size 100
          --eval-interval 10 --seed 0)
for ((i = 0; i < ${#defaults[@]}; i += 2)); do
  has "${defaults[i]}" || args+=("${defaults[i]}" "${defaults[i+1]}")
done
has -q || has --quiet || args+=(-q)
# The printed accuracies must fall on evaluations: keep print-interval a multiple of it.
has --print-interval || args+=(--print-interval 0)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "+ $CONVNET train ${args[*]} --timings $tmp/timings.json" >&2
/usr/bin/time -v -o "$tmp/time.txt" "$CONVNET" train "${args[@]}" --timings "$tmp/timings.json" ||
  { cat "$tmp/time.txt" >&2; die "convnet train failed"; }
$PY "$here/lib/benchlib.py" result --timings "$tmp/timings.json" --time-v "$tmp/time.txt" \
    --out "$tmp/result.json" --name convnet

# The sgemm peak at the run's thread count.
threads=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1])).get("threads", 0))' "$tmp/result.json")
[[ $threads -gt 0 ]] || threads=$(nproc)
peak=${PEAK_GFLOPS:-}
if [[ -z $peak ]]; then
  if [[ -x $SGEMM_PEAK ]]; then
    peak=$("$SGEMM_PEAK" --peak-only --threads "$threads")
  else
    echo "notebook_regime.sh: $SGEMM_PEAK missing (build with -DCONVNET_BUILD_BENCH=ON); no peak ratio" >&2
  fi
fi
# The same probe through the other BLAS libraries built (BLIS, oneDNN, Eigen):
# the fastest one's square sgemm, the best the machine offers.
best=
if [[ -z ${PEAK_GFLOPS:-} ]]; then
  for lib in blis dnnl eigen; do
    probe=$BUILD_DIR/bench/sgemm_peak_$lib
    [[ -x $probe ]] || continue
    g=$("$probe" --peak-only --threads "$threads")
    if [[ -z $best ]] || $PY -c 'import sys; sys.exit(not float(sys.argv[1]) > float(sys.argv[2]))' "$g" "${best#*=}"; then
      best="$lib=$g"
    fi
  done
fi
[[ -n ${RESULT_JSON:-} ]] && cp "$tmp/result.json" "$RESULT_JSON"
$PY "$here/lib/benchlib.py" report "$tmp/result.json" ${peak:+--peak "$peak" --peak-threads "$threads"} \
    ${best:+--best-peak "$best"} -- "${args[@]}"
