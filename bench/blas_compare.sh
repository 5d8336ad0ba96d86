#!/usr/bin/env bash
# The BLAS options side by side at the notebook's products (sgemm GFLOP/s,
# medians): OpenBLAS as it detects the CPU and forced to other core types
# (OPENBLAS_CORETYPE), and BLIS, oneDNN and Eigen where their probes were
# built (bench/CMakeLists.txt; apt-get install -y libblis-dev libdnnl-dev
# libeigen3-dev, then rebuild).
#
#   bench/blas_compare.sh [--threads 1,2] [--reps 7] [--cores "Haswell SkylakeX Cooperlake Prescott"]
#
# Environment: BUILD_DIR (build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$repo/build}
die() { echo "blas_compare.sh: error: $*" >&2; exit 2; }

threads=1,2 reps=7 cores="Haswell SkylakeX Cooperlake Prescott"
while (($#)); do
  case $1 in
    --threads) [[ $# -ge 2 ]] || die "--threads: expected a value"; threads=$2; shift;;
    --reps) [[ $# -ge 2 ]] || die "--reps: expected a value"; reps=$2; shift;;
    --cores) [[ $# -ge 2 ]] || die "--cores: expected a value"; cores=$2; shift;;
    -h|--help) sed -n '2,12p' "$0"; exit 0;;
    *) die "unknown argument '$1'";;
  esac
  shift
done
probe=$BUILD_DIR/bench/sgemm_peak
[[ -x $probe ]] || die "$probe: not built (cmake --build $BUILD_DIR)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names=()
run() {  # run NAME ENV... -- PROGRAM
  local name=$1; shift
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  echo "+ $name: ${envs[*]} $1" >&2
  env "${envs[@]}" "$1" --describe-only >&2 || true
  env "${envs[@]}" "$1" --tsv --threads "$threads" --reps "$reps" > "$tmp/${#names[@]}.tsv"
  names+=("$name")
}
core=$("$probe" --describe-only | sed -n 's/^OpenBLAS core: \([^,]*\),.*/\1/p')
run "OpenBLAS $core (detected)" -- "$probe"
for c in $cores; do
  [[ $c == "$core" ]] && continue
  run "OpenBLAS $c" OPENBLAS_CORETYPE="$c" -- "$probe"
done
for b in blis dnnl eigen; do
  [[ -x $BUILD_DIR/bench/sgemm_peak_$b ]] && run "$b" -- "$BUILD_DIR/bench/sgemm_peak_$b"
done

/usr/bin/python3 - "$tmp" "${names[@]}" <<'PY'
import sys
tmp, names = sys.argv[1], sys.argv[2:]
rows, data = [], {}
for i, name in enumerate(names):
    for line in open(f"{tmp}/{i}.tsv"):
        what, t, g = line.rstrip("\n").split("\t")
        key = (what, int(t))
        if key not in rows:
            rows.append(key)
        data[(key, name)] = float(g)
print("sgemm GFLOP/s (median); threads = the library's own")
ws = [max(len(n), 7) + 2 for n in names]
print(f"{'product':26s} {'T':>2s}" + "".join(f"{n:>{w}s}" for n, w in zip(names, ws)))
for key in rows:
    vals = [data.get((key, n)) for n in names]
    best = max(v for v in vals if v is not None)
    cells = "".join(f"{(f'{v:.1f}' + ('*' if v == best else ' ')) if v is not None else '-':>{w}s}"
                    for v, w in zip(vals, ws))
    print(f"{key[0]:26s} {key[1]:2d}" + cells)
print("* the fastest of the row")
PY
