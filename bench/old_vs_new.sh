#!/usr/bin/env bash
# Old against new: `convnet train` built from an older git revision against a
# build of the current code, alternated round by round on the same machine.
# Prints, per regime, the median train+eval seconds (--timings) of each, the
# ratio new/old and PASS/FAIL against 3 % (new/old <= 1.03), with the wall
# seconds beside; and whether both print the same accuracy lines.
#
#   bench/old_vs_new.sh [--rounds 5] [--threads 2] [--regimes notebook,full] [--quick] [--no-demo] OLD_REV [NEW_BUILD_DIR]
#
#   OLD_REV          a commit or branch; its `convnet` is built (Release, no tests, no benchmarks,
#                    ccache when found) in OLD_CACHE/build-old-<shortsha>/ and reused from there
#   NEW_BUILD_DIR    the new build; its NEW_BUILD_DIR/convnet is run as it is (default: build)
#   --rounds N       runs of each binary per regime (default 5); round r runs old then new when r
#                    is odd, new then old when it is even
#   --threads N      `--threads` of every run (default 2)
#   --regimes LIST   notebook: the notebook's regime (5000/1000 images, 1000 iterations of 100,
#                    both accuracies every 10); full: full MNIST (60000/10000, 600 iterations, one
#                    evaluation at the end, as compare.sh --full-mnist)
#   --quick          smoke test of the script: 50 iterations in both regimes, 1 round (unless
#                    --rounds), the demo run at 200 iterations
#   --no-demo        skip the accuracy-line check
#
# The accuracy-line check runs each binary once with the default options (not -q: its `iter: N.
# accr_train=..., accr_test=...` lines) and once with --numpy-compatible --iters 100, and diffs
# their stdout. Exit status 0 whatever the ratios and the diffs (a measurement, not a test); 2 when
# a build or a run fails.
#
# Environment: OLD_CACHE (where build-old-<shortsha>/ goes; default the repository's root), JOBS
# (build jobs, default nproc), RESULTS_DIR (keep the per-run JSON there; default a temporary
# directory, removed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$here/lib/common.sh"   # die, timed_run, cpu_model, FULL_MNIST_ARGS
PY=/usr/bin/python3
THRESHOLD=1.03

rounds=5 rounds_set=0 threads=2 regimes=notebook,full quick=0 demo=1 pos=()
while (($#)); do
  case $1 in
    --rounds) [[ $# -ge 2 ]] || die "--rounds: expected a value"; rounds=$2 rounds_set=1; shift;;
    --threads) [[ $# -ge 2 ]] || die "--threads: expected a value"; threads=$2; shift;;
    --regimes) [[ $# -ge 2 ]] || die "--regimes: expected a value"; regimes=$2; shift;;
    --quick) quick=1;;
    --no-demo) demo=0;;
    -h|--help) sed -n '2,30p' "$0"; exit 0;;
    -*) die "unknown option '$1'";;
    *) pos+=("$1");;
  esac
  shift
done
((${#pos[@]} >= 1 && ${#pos[@]} <= 2)) ||
  die "expected OLD_REV [NEW_BUILD_DIR] (usage: old_vs_new.sh [--rounds N] [--threads N] [--regimes notebook,full] [--quick] [--no-demo] OLD_REV [NEW_BUILD_DIR])"
((quick && !rounds_set)) && rounds=1
[[ $rounds =~ ^[0-9]+$ && $rounds -ge 1 ]] || die "--rounds: expected a positive integer, found '$rounds'"
[[ $threads =~ ^[0-9]+$ && $threads -ge 1 ]] || die "--threads: expected an integer >= 1, found '$threads'"
IFS=, read -r -a regime_list <<<"$regimes"
((${#regime_list[@]})) || die "--regimes: expected notebook, full or both"
for r in "${regime_list[@]}"; do
  [[ $r == notebook || $r == full ]] || die "--regimes: unknown regime '$r' (notebook, full)"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install -y time)"

old_rev=${pos[0]}
new_build=$(cd "${pos[1]:-$repo/build}" 2>/dev/null && pwd) || die "${pos[1]:-$repo/build}: no such build directory"
NEW=$new_build/convnet
[[ -x $NEW ]] || die "$NEW: no convnet binary (build it, or name another NEW_BUILD_DIR)"
"$NEW" --version >/dev/null 2>&1 || die "$NEW does not run ('$NEW --version' failed)"
# The new build's binary and libraries, to notice a rebuild during the measurement.
new_stamp() { stat -c '%n %Y' "$NEW" "$new_build"/lib*.so* 2>/dev/null || true; }
new_stamp_start=$(new_stamp)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
data=$repo/data/mnist
[[ -d $data ]] || die "$data: no MNIST directory"

# ---- the old binary: built once per revision, then reused ----------------------------------
sha=$(git -C "$repo" rev-parse --verify --quiet "$old_rev^{commit}") || die "$old_rev: not a git revision"
short=$(git -C "$repo" rev-parse --short "$sha")
old_dir=${OLD_CACHE:-$repo}/build-old-$short
OLD=$old_dir/build/convnet
if [[ -x $OLD ]]; then
  echo "+ old: reusing $OLD ($short)" >&2
else
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  echo "+ old: building $old_rev ($short) in $old_dir (log: $old_dir/build.log)" >&2
  rm -rf "$old_dir/src"
  mkdir -p "$old_dir/src"
  git -C "$repo" archive --format=tar "$sha" | tar -x -C "$old_dir/src"
  { cmake -S "$old_dir/src" -B "$old_dir/build" -DCMAKE_BUILD_TYPE=Release \
        -DCONVNET_BUILD_TESTS=OFF -DCONVNET_BUILD_BENCH=OFF "${launcher[@]}" &&
    cmake --build "$old_dir/build" -j "${JOBS:-$(nproc)}"; } >"$old_dir/build.log" 2>&1 ||
    { tail -n 30 "$old_dir/build.log" >&2; die "building $old_rev failed (log: $old_dir/build.log)"; }
  [[ -x $OLD ]] || die "$OLD: the build of $old_rev made no convnet"
fi
new_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$new_build/CMakeCache.txt" 2>/dev/null || true)
[[ -z $new_type || $new_type == Release ]] ||
  echo "old_vs_new.sh: warning: $new_build is a '$new_type' build, the old one Release" >&2

if [[ -n ${RESULTS_DIR:-} ]]; then out=$RESULTS_DIR; mkdir -p "$out"; else out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi

# ---- the accuracy lines: same stdout? ----------------------------------------------------------
# demo NAME ARGS...: run both binaries with ARGS; sets demo_result[NAME]
declare -A demo_result=()
demo_names=()
demo() {
  local name=$1 side bin; shift
  for side in old new; do
    [[ $side == old ]] && bin=$OLD || bin=$NEW
    echo "+ [demo $name, $side] $bin train $*" >&2
    "$bin" train "$@" >"$out/demo-$name-$side.out" 2>"$out/demo-$name-$side.err" ||
      { cat "$out/demo-$name-$side.err" >&2; die "demo run '$name' of the $side binary failed"; }
  done
  local lines
  lines=$(wc -l <"$out/demo-$name-new.out")
  if cmp -s "$out/demo-$name-old.out" "$out/demo-$name-new.out"; then
    demo_result[$name]="identical ($lines line$( ((lines == 1)) || echo s))"
  else
    demo_result[$name]="DIFFERENT:"$'\n'$( (diff -u --label old --label new "$out/demo-$name-old.out" "$out/demo-$name-new.out" || true) | sed 's/^/    /')
  fi
  demo_names+=("$name")
}
if ((demo)); then
  if ((quick)); then
    demo "default options, --iters 200" --data "$data" --threads "$threads" --iters 200
  else
    demo "default options" --data "$data" --threads "$threads"
  fi
  demo "--numpy-compatible --iters 100" --data "$data" --threads "$threads" --numpy-compatible --iters 100
fi

# ---- the timed rounds ---------------------------------------------------------------------------
regime_args() {
  case $1 in
    notebook) if ((quick)); then echo --iters 50; fi;;
    full) if ((quick)); then echo --train-size 60000 --test-size 10000 --iters 50 --eval-interval 50
          else echo "${FULL_MNIST_ARGS[*]}"; fi;;
  esac
}
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order=(old new); else order=(new old); fi
  for regime in "${regime_list[@]}"; do
    read -r -a args <<<"$(regime_args "$regime")"
    for side in "${order[@]}"; do
      [[ $side == old ]] && bin=$OLD || bin=$NEW
      timed_run "$out" "$side-$regime" "$r" "$bin" train --threads "$threads" -q --data "$data" "${args[@]}"
    done
  done
done

# ---- summary -------------------------------------------------------------------------------------
new_src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$new_build/CMakeCache.txt" 2>/dev/null || true)
new_desc=
if [[ -n $new_src ]] && git -C "$new_src" rev-parse --short HEAD >/dev/null 2>&1; then
  new_desc=" (built from $new_src, whose HEAD is now $(git -C "$new_src" rev-parse --short HEAD)"
  if [[ -n $(git --no-optional-locks -C "$new_src" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
    new_desc+=" with uncommitted changes"
  fi
  new_desc+=")"
fi
echo
echo "== old vs new =="
old_desc=$short
[[ $old_rev == "$short" ]] || old_desc="$old_rev = $short"
echo "old: $OLD ($old_desc: $(git -C "$repo" log -1 --format=%s "$sha"))"
echo "new: $NEW$new_desc"
for regime in "${regime_list[@]}"; do
  echo "$regime: convnet train --threads $threads -q --data $data $(regime_args "$regime")"
done
$PY -B "$here/lib/benchlib.py" old-new --dir "$out" --regimes "$regimes" --threshold "$THRESHOLD" \
    --cpu "$(cpu_model)" --cores "$(nproc)"
((quick)) && echo "(--quick: a smoke test of the script; these ratios mean nothing)"
if ((demo)); then
  echo
  echo "accuracy lines (stdout), old vs new:"
  for name in "${demo_names[@]}"; do
    echo "  $name: ${demo_result[$name]}"
  done
fi
echo "load average: $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end ($(nproc) cores; other work on the machine skews the figures)"
[[ $(new_stamp) == "$new_stamp_start" ]] ||
  echo "WARNING: $new_build changed during the measurement (rebuilt?): the figures mix two builds" >&2
