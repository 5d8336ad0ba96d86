#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (clang 14, ASan + UBSan) into
# build-fuzz/ and runs each for SECONDS (default 60), one after another.
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]     TARGET: idx npz png (default: all)
# Each run starts from a fresh copy of fuzz/corpus/<target> in
# build-fuzz/work/<target>/, so the repository's seeds are never modified.
# Prints per target the executions per second and the final cov/ft; exits
# non-zero if any target crashed, leaked, hung or ran out of memory, and
# prints the path of the input that did it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(idx npz png)
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2; }

# ---- tools: only what is missing (like scripts/install-deps.sh)
pkgs=(clang-14 libclang-rt-14-dev pkg-config zlib1g-dev libzip-dev libpng-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "fuzz.sh: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
CXX=clang++-14
command -v "$CXX" >/dev/null || CXX=clang++

# ---- build: the library sources the readers need, instrumented, then one binary per target
out=build-fuzz
mkdir -p "$out/obj"
san=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
cxxflags=(-std=c++20 -O1 -g "${san[@]}" -Iinclude -Ifuzz $(pkg-config --cflags libzip libpng zlib))
libs=($(pkg-config --libs libzip libpng zlib))
lib_sources=(src/io/mnist.cpp src/io/npz.cpp src/io/image.cpp src/io/atomic_file.cpp)
objs=()
pids=()
for s in "${lib_sources[@]}"; do
  o="$out/obj/$(basename "${s%.cpp}").o"
  objs+=("$o")
  # Rebuild when the source or any public header changed.
  if [[ ! -f $o || $s -nt $o ]] || [[ -n $(find include -newer "$o" -name '*.hpp' -print -quit) ]]; then
    "$CXX" "${cxxflags[@]}" -fsanitize=fuzzer-no-link -c "$s" -o "$o" &
    pids+=($!)
  fi
done
for p in "${pids[@]}"; do wait "$p"; done
for t in "${targets[@]}"; do
  [[ -f fuzz/fuzz_$t.cpp ]] || { echo "fuzz.sh: no target fuzz/fuzz_$t.cpp" >&2; exit 2; }
  "$CXX" "${cxxflags[@]}" -fsanitize=fuzzer "fuzz/fuzz_$t.cpp" "${objs[@]}" "${libs[@]}" -o "$out/fuzz_$t"
done
echo "fuzz.sh: built ${targets[*]/#/$out/fuzz_} with $("$CXX" --version | head -1)"

# ---- run
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=0
summary=()
for t in "${targets[@]}"; do
  work="$out/work/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp fuzz/corpus/"$t"/* "$work/corpus/"
  dict=()
  [[ -f fuzz/$t.dict ]] && dict=(-dict="fuzz/$t.dict")
  echo "fuzz.sh: fuzz_$t for ${seconds}s (log: $work/log)"
  rc=0
  "$out/fuzz_$t" "$work/corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    >"$work/log" 2>&1 || rc=$?
  # The last status line: "#N  DONE  cov: C ft: F corp: K/S ... exec/s: E rss: R"
  last=$(grep -E '^#[0-9]+' "$work/log" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$work/log" | tail -1)
  eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$work/log" | tail -1)
  rss=$(sed -nE 's/^stat::peak_rss_mb: *([0-9]+)/\1/p' "$work/log" | tail -1)
  line="fuzz_$t: ${runs:-?} runs, ${eps:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}, peak rss ${rss:-?} MB"
  crashes=$(find "$work/artifacts" -type f | sort)
  if ((rc != 0)) || [[ -n $crashes ]]; then
    failed=1
    line+=" -- FAILED (exit $rc)"
    grep -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:|uncaught exception|FUZZ_CHECK' "$work/log" | head -5 >&2 || true
    for c in $crashes; do echo "fuzz.sh: fuzz_$t: crash input: $c" >&2; done
    [[ -n $crashes ]] || echo "fuzz.sh: fuzz_$t: see $work/log" >&2
  fi
  echo "$line"
  summary+=("$line")
done
echo "---- fuzz.sh summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
