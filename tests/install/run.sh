#!/usr/bin/env bash
# ctest: install the built tree into a temporary prefix and use it the way a
# user would, with no LD_LIBRARY_PATH and no ldconfig.
#   run.sh consumer BUILD_DIR SRC_DIR
#     An outside project (this directory) finds the package with
#     find_package(convnet), builds with -Werror against the public headers,
#     and runs.
#   run.sh cli BUILD_DIR SRC_DIR VERSION BINDIR
#     The installed convnet runs (--version, a tiny train) from the prefix
#     and again after the whole prefix has been moved elsewhere, which only
#     an $ORIGIN-relative RPATH survives. Exits 77 (ctest SKIP) after the
#     checks that need no data when data/mnist is absent.
set -euo pipefail
mode=$1 build_dir=$2 src_dir=$3
unset LD_LIBRARY_PATH
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "install test: $*" >&2
  exit 1
}
# Runs a command quietly; shows its output only when it fails.
quiet() {
  "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; fail "failed: $*"; }
}

quiet cmake --install "$build_dir" --prefix "$work/prefix"

if [[ $mode == consumer ]]; then
  quiet cmake -S "$src_dir/tests/install" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix"
  quiet cmake --build "$work/build"
  "$work/build/consumer" || fail "the consumer program failed"
  "$work/build/engine_consumer" || fail "the engine-only consumer program failed"
  # The engine alone pulls in no file-format library.
  deps=$(ldd "$work/build/engine_consumer")
  for lib in libplplot libpng libzip libconvnet.so; do
    [[ $deps != *"$lib"* ]] || fail "engine_consumer links $lib: $(grep "$lib" <<<"$deps")"
  done
  [[ $deps == *libconvnet_engine* ]] || fail "engine_consumer does not load libconvnet_engine"
  exit 0
fi

[[ $mode == cli ]] || fail "unknown mode '$mode' (consumer or cli)"
version=$4 bindir=$5

# Runs the installed convnet under prefix $1: it must load the libconvnet
# of that prefix, not one found elsewhere on the system.
check_cli() {
  local exe=$1/$bindir/convnet out
  [[ -x $exe ]] || fail "$exe is missing"
  out=$(ldd "$exe" | grep libconvnet) || fail "$exe does not link libconvnet"
  [[ $out == *"$1/"* ]] || fail "$exe loads a libconvnet outside its prefix: $out"
  out=$("$exe" --version) || fail "$exe --version failed"
  [[ $out == *"$version"* ]] || fail "$exe --version printed '$out', expected version $version"
}

exe=$work/prefix/$bindir/convnet
rpath=$(readelf -d "$exe" | grep -E '\((RUNPATH|RPATH)\)' || true)
# Single quotes: the literal $ORIGIN, expanded by the dynamic loader.
[[ $rpath == *'$ORIGIN'* ]] || fail "$exe: no \$ORIGIN in its RUNPATH/RPATH (${rpath:-none})"
check_cli "$work/prefix"

# The prefix must work wherever it is moved to.
mkdir "$work/elsewhere"
mv "$work/prefix" "$work/elsewhere/moved"
moved=$work/elsewhere/moved
check_cli "$moved"

data=$src_dir/data/mnist
if [[ ! -e $data/train-images-idx3-ubyte && ! -e $data/train-images-idx3-ubyte.gz ]]; then
  echo "install test: no MNIST in $data, the training run is skipped"
  exit 77
fi
"$moved/$bindir/convnet" train --iters 20 --train-size 200 --test-size 100 --eval-interval 10 \
  --data "$data" --save "$work/m.npz" || fail "the installed convnet train failed"
[[ -s $work/m.npz ]] || fail "convnet train --save wrote no $work/m.npz"
