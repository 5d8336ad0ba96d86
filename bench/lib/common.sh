# shellcheck shell=bash
# Shell helpers shared by the bench/ scripts (sourced, not run):
#
#   here=$(cd "$(dirname "$0")" && pwd); . "$here/lib/common.sh"
#
#   die MESSAGE...                 "SCRIPT: error: MESSAGE" on stderr, exit 2
#   timed_run DIR NAME I CMD...    one run of CMD --timings FILE under /usr/bin/time -v, stdout
#                                  discarded -> DIR/NAME-I.json (benchlib.py result: the --timings
#                                  fields, wall_seconds, peak_rss_kb)
#   cpu_model                      the CPU's model name and family/model, from /proc/cpuinfo
#   FULL_MNIST_ARGS                the full-MNIST regime's `convnet train` options
bench_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "${0##*/}: error: $*" >&2; exit 2; }

# 60000/10000 images, 600 iterations of 100 (one pass over the training set's size, drawn with
# replacement), one evaluation of all 70000 images at the end.
# shellcheck disable=SC2034  # used by the scripts that source this file
FULL_MNIST_ARGS=(--train-size 60000 --test-size 10000 --iters 600 --eval-interval 600 --print-interval 600)

timed_run() {
  local dir=$1 name=$2 i=$3; shift 3
  echo "+ [$name $i] $*" >&2
  /usr/bin/time -v -o "$dir/$name-$i.time" "$@" --timings "$dir/$name-$i.timings" >/dev/null ||
    { cat "$dir/$name-$i.time" >&2; die "$name run $i failed"; }
  /usr/bin/python3 "$bench_lib/benchlib.py" result --timings "$dir/$name-$i.timings" \
      --time-v "$dir/$name-$i.time" --out "$dir/$name-$i.json" --name "$name"
}

cpu_model() {
  local name family model
  name=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
  family=$(sed -n 's/^cpu family[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
  model=$(sed -n 's/^model[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
  echo "${name:-unknown}${family:+ (family $family model ${model:-?})}"
}
