#!/usr/bin/env bash
# Side by side, alternated A B A B ...: `convnet train` against the PyTorch
# peer (bench/peers/pytorch_notebook.py) on the same regime and threads, or
# ours at 1 thread against ours at N threads. Prints, per figure (wall and
# train+eval seconds, train-only and eval-only images/s, peak RSS), the median
# of each side and the ratio A/B.
#
#   bench/compare.sh [PAIRS] [--full-mnist] [--threads N] [--threads-scaling] [--all] [-- COMMON ARGS]
#
#   PAIRS              A/B pairs, at least 3 (default 3)
#   --threads N        threads for both sides (default: all cores)
#   --full-mnist       60000/10000 images, 600 iterations of 100 (one pass over the
#                      training set's size, drawn with replacement), and one
#                      evaluation, at the end: --eval-interval 600
#   --threads-scaling  A = ours at --threads 1, B = ours at N threads (no PyTorch)
#   --all              list every run too
#   COMMON ARGS        options both programs take: --iters --batch-size --train-size
#                      --test-size --eval-interval --seed --data
#
# Environment: DRY_RUN=1 (print the commands, run nothing), BUILD_DIR (build), CONVNET (BUILD_DIR/convnet), TORCH_ARGS (extra
# options of pytorch_notebook.py, e.g. "--mkldnn off"), RESULTS_DIR (keep the
# per-run JSON there; default a temporary directory, removed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$repo/build}
CONVNET=${CONVNET:-$BUILD_DIR/convnet}
PY=/usr/bin/python3
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$here/lib/common.sh"   # die, timed_run, cpu_model, FULL_MNIST_ARGS

pairs=3 threads=$(nproc) full=0 scaling=0 all=()
common=()
while (($#)); do
  case $1 in
    --) shift; common=("$@"); break;;
    --full-mnist) full=1;;
    --threads-scaling) scaling=1;;
    --all) all=(--all);;
    --threads) [[ $# -ge 2 ]] || die "--threads: expected a value"; threads=$2; shift;;
    --threads=*) threads=${1#*=};;
    ''|*[!0-9]*) die "unknown argument '$1' (usage: compare.sh [PAIRS] [--full-mnist] [--threads N] [--threads-scaling] [--all] [-- ARGS])";;
    *) pairs=$1;;
  esac
  shift
done
[[ $pairs =~ ^[0-9]+$ && $pairs -ge 3 ]] || die "PAIRS: expected an integer >= 3, found '$pairs'"
[[ $threads =~ ^[0-9]+$ && $threads -ge 1 ]] || die "--threads: expected an integer >= 1, found '$threads'"
[[ -x $CONVNET ]] || die "$CONVNET: no convnet binary (build it, or set BUILD_DIR / CONVNET)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install -y time)"
has() { local o; for o in "${common[@]}"; do [[ $o == "$1" || $o == "$1="* ]] && return 0; done; return 1; }
preset=(--data "$repo/data/mnist")
((full)) && preset+=("${FULL_MNIST_ARGS[@]}")
# A preset only where COMMON ARGS do not say otherwise (convnet refuses an option twice).
for ((i = 0; i < ${#preset[@]}; i += 2)); do
  has "${preset[i]}" || common+=("${preset[i]}" "${preset[i+1]}")
done

if [[ -n ${RESULTS_DIR:-} ]]; then out=$RESULTS_DIR; mkdir -p "$out"; else out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi

# run NAME INDEX COMMAND...: one timed run -> $out/NAME-INDEX.json
run() { timed_run "$out" "$@"; }
ours=("$CONVNET" train -q --print-interval 0 "${common[@]}")
read -r -a torch_args <<<"${TORCH_ARGS:-}"
torch=("$PY" "$here/peers/pytorch_notebook.py" "${torch_args[@]}" "${common[@]}")

if ((scaling)); then
  a=ours-1t b=ours-${threads}t
else
  a=convnet b=pytorch
fi
if [[ ${DRY_RUN:-0} == 1 ]]; then
  run() { echo "[$1 $2] ${*:3} --timings FILE"; }
fi
for ((i = 1; i <= pairs; i++)); do
  if ((scaling)); then
    run "$a" "$i" "${ours[@]}" --threads 1
    run "$b" "$i" "${ours[@]}" --threads "$threads"
  else
    run "$a" "$i" "${ours[@]}" --threads "$threads"
    run "$b" "$i" "${torch[@]}" --threads "$threads"
  fi
done

[[ ${DRY_RUN:-0} == 1 ]] && exit 0
echo "regime: ${common[*]}  threads: $threads  pairs: $pairs  cpu: $(cpu_model)"
$PY "$here/lib/benchlib.py" compare --a "$a" "$out/$a"-*.json --b "$b" "$out/$b"-*.json "${all[@]}"
