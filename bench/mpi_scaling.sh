#!/usr/bin/env bash
# Data parallelism against threads on one machine, alternated A B A B ...:
# A = `mpirun -np N convnet train --threads 1` (N processes of one thread),
# B = `convnet train --threads N` (one process of N threads), the notebook's
# regime unless told otherwise. Prints the medians of each side and the
# ratio A/B per figure (benchlib.py compare), then the allreduce's share of
# A's training time (allreduce_seconds / train_seconds of --timings, rank 0:
# pack, MPI_Allreduce, unpack, and the wait for the slower rank).
#
#   bench/mpi_scaling.sh [PAIRS] [--np N] [--all] [-- TRAIN ARGS]
#
#   PAIRS        A/B pairs, at least 3 (default 3)
#   --np N       processes of A, threads of B (default: all cores)
#   --all        list every run too
#   TRAIN ARGS   options of both runs, e.g. --iters 300 (default: the notebook's
#                5000/1000 images, 1000 iterations of 100, an evaluation every 10)
#
# Environment: DRY_RUN=1 (print the commands, run nothing), BUILD_DIR (build),
# CONVNET (BUILD_DIR/convnet), MPIRUN (mpirun), MPIRUN_ARGS (default
# "--bind-to core": one rank per core, as Open MPI binds np <= 2 by default),
# RESULTS_DIR (keep the per-run JSON there; default a temporary directory).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$repo/build}
CONVNET=${CONVNET:-$BUILD_DIR/convnet}
MPIRUN=${MPIRUN:-mpirun}
PY=/usr/bin/python3
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$here/lib/common.sh"   # die, timed_run, cpu_model

pairs=3 np=$(nproc) all=() common=()
while (($#)); do
  case $1 in
    --) shift; common=("$@"); break;;
    --all) all=(--all);;
    --np) [[ $# -ge 2 ]] || die "--np: expected a value"; np=$2; shift;;
    --np=*) np=${1#*=};;
    ''|*[!0-9]*) die "unknown argument '$1' (usage: mpi_scaling.sh [PAIRS] [--np N] [--all] [-- TRAIN ARGS])";;
    *) pairs=$1;;
  esac
  shift
done
[[ $pairs =~ ^[0-9]+$ && $pairs -ge 3 ]] || die "PAIRS: expected an integer >= 3, found '$pairs'"
[[ $np =~ ^[0-9]+$ && $np -ge 2 ]] || die "--np: expected an integer >= 2, found '$np'"
[[ -x $CONVNET ]] || die "$CONVNET: no convnet binary (build it, or set BUILD_DIR / CONVNET)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install -y time)"
command -v "$MPIRUN" >/dev/null || die "$MPIRUN: not found (apt-get install -y openmpi-bin libopenmpi-dev, then rebuild)"
for o in "${common[@]}"; do
  case $o in --threads|--threads=*|--timings|--timings=*) die "$o: set by this script";; esac
done
has() { local o; for o in "${common[@]}"; do [[ $o == "$1" || $o == "$1="* ]] && return 0; done; return 1; }
has --data || common+=(--data "$repo/data/mnist")

if [[ -n ${RESULTS_DIR:-} ]]; then out=$RESULTS_DIR; mkdir -p "$out"; else out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi

read -r -a mpirun_args <<<"${MPIRUN_ARGS:---bind-to core}"
# Open MPI refuses root without being told (containers, CI).
[[ $(id -u) == 0 ]] && mpirun_args=(--allow-run-as-root "${mpirun_args[@]}")
ours=("$CONVNET" train -q --print-interval 0 "${common[@]}")
a=mpi-${np}x1 b=one-1x${np}
run() { timed_run "$out" "$@"; }
if [[ ${DRY_RUN:-0} == 1 ]]; then
  run() { echo "[$1 $2] ${*:3} --timings FILE"; }
fi
for ((i = 1; i <= pairs; i++)); do
  run "$a" "$i" "$MPIRUN" -np "$np" "${mpirun_args[@]}" "${ours[@]}" --threads 1
  run "$b" "$i" "${ours[@]}" --threads "$np"
done

[[ ${DRY_RUN:-0} == 1 ]] && exit 0
echo "regime: ${common[*]}  A: $MPIRUN -np $np ${mpirun_args[*]} ... --threads 1  B: --threads $np  pairs: $pairs"
echo "machine: $(cpu_model), $(nproc) cores; $("$MPIRUN" --version 2>/dev/null | head -n 1)"
$PY "$here/lib/benchlib.py" compare --a "$a" "$out/$a"-*.json --b "$b" "$out/$b"-*.json "${all[@]}"
$PY - "$out/$a"-*.json <<'EOF'
import json, statistics, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
share = [r['allreduce_seconds'] / r['train_seconds'] for r in runs]
per_step = [1e3 * r['allreduce_seconds'] / r['iters'] for r in runs]
step = [1e3 * r['train_seconds'] / r['iters'] for r in runs]
print(f"allreduce per step (A, rank 0): median {statistics.median(per_step):.3f} ms of a "
      f"{statistics.median(step):.3f} ms step = {100 * statistics.median(share):.1f} % of training time "
      f"(runs: {', '.join(f'{100 * s:.1f} %' for s in share)})")
EOF
