#!/usr/bin/env bash
# `convnet train` (the notebook regime) with each way OpenBLAS's kernels can be
# chosen, alternated round by round; prints the median seconds of each and its
# ratio to the fastest core type. Shows that the cpuid choice convnet makes on
# a CPU OpenBLAS does not know (simulated: its detection made to return
# Prescott) runs as fast as the best core OpenBLAS has for this CPU.
#
#   bench/blas_cores.sh [--rounds 3] [--threads 2] [--cores "Haswell Zen"] [--no-unfixed] [-- TRAIN ARGS]
#
# Configurations: "detected" (OpenBLAS as it is), "fallback, fixed by convnet"
# (CONVNET_TEST_OPENBLAS_DETECTS=Prescott), "fallback, unfixed"
# (OPENBLAS_CORETYPE=Prescott: what users got before), and every core in
# --cores forced with OPENBLAS_CORETYPE (default: the AVX2 cores, and the
# AVX-512 ones where the CPU has AVX-512). --no-unfixed leaves out the slow
# Prescott runs. Environment: BUILD_DIR (build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$repo/build}
CONVNET=${CONVNET:-$BUILD_DIR/convnet}
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$here/lib/common.sh"   # die

rounds=3 threads=2 cores="Haswell Zen" unfixed=1 extra=()
grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo && cores="$cores SkylakeX"
while (($#)); do
  case $1 in
    --rounds) [[ $# -ge 2 ]] || die "--rounds: expected a value"; rounds=$2; shift;;
    --threads) [[ $# -ge 2 ]] || die "--threads: expected a value"; threads=$2; shift;;
    --cores) [[ $# -ge 2 ]] || die "--cores: expected a value"; cores=$2; shift;;
    --no-unfixed) unfixed=0;;
    --) shift; extra=("$@"); break;;
    -h|--help) sed -n '2,16p' "$0"; exit 0;;
    *) die "unknown argument '$1'";;
  esac
  shift
done
[[ $rounds =~ ^[0-9]+$ && $rounds -ge 1 ]] || die "--rounds: expected a positive integer, found '$rounds'"
[[ -x $CONVNET ]] || die "$CONVNET: no convnet binary (build it, or set BUILD_DIR / CONVNET)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

names=("detected" "fallback, fixed by convnet")
envs=("" "CONVNET_TEST_OPENBLAS_DETECTS=Prescott")
((unfixed)) && names+=("fallback, unfixed") && envs+=("OPENBLAS_CORETYPE=Prescott")
for c in $cores; do names+=("forced $c"); envs+=("OPENBLAS_CORETYPE=$c"); done

for ((r = 1; r <= rounds; r++)); do
  for i in "${!names[@]}"; do
    echo "+ round $r: ${names[i]} (${envs[i]:-no variable})" >&2
    env -u OPENBLAS_CORETYPE -u CONVNET_TEST_OPENBLAS_DETECTS ${envs[i]} "$CONVNET" train -q --threads "$threads" \
      --data "$repo/data/mnist" --timings "$tmp/$i-$r.json" "${extra[@]}"
  done
done

/usr/bin/python3 -B - "$here/lib" "$tmp" "$rounds" "${names[@]}" <<'PY'
import json, statistics, sys
sys.path.insert(0, sys.argv[1])
from benchlib import blas_core
tmp, rounds, names = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
rows = []
for i, name in enumerate(names):
    runs = [json.load(open(f"{tmp}/{i}-{r}.json")) for r in range(1, rounds + 1)]
    total = statistics.median(j["total_seconds"] for j in runs)
    train = statistics.median(j["train_seconds"] for j in runs)
    core = blas_core(runs[0]["blas"])
    rows.append((name, core, total, train))
best = min(r[2] for r in rows if r[0].startswith("forced") or r[0] == "detected")
print(f"median of {rounds} alternated rounds; ratio = seconds / fastest core type's")
print(f"{'configuration':30s} {'core':12s} {'train+eval s':>12s} {'train s':>8s} {'ratio':>6s}")
for name, core, total, train in rows:
    print(f"{name:30s} {core:12s} {total:12.2f} {train:8.2f} {total / best:6.3f}")
PY
