# The front door. `make serve` and `make test` work on a fresh Debian 12 machine.
#   make build   install dependencies, configure and build (release preset)
#   make test    build, then run every test that needs no GPU
#   make serve   build, then serve the shipped model (HOST/PORT/MODEL/ARGS to override)
#   make asan / make tsan   the sanitizer presets' tests
PRESET ?= release
HOST ?= 127.0.0.1
PORT ?= 8080
ARGS ?=
JOBS ?= $(shell nproc)

.PHONY: all setup configure build test serve asan tsan clean

all: build

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

test: build
	@bash scripts/test.sh $(PRESET)

serve: build
	@./build/$(PRESET)/bin/ingot serve --host $(HOST) --port $(PORT) $(if $(MODEL),-m $(MODEL)) $(ARGS)

asan:
	@$(MAKE) test PRESET=asan

tsan:
	@$(MAKE) test PRESET=tsan

clean:
	rm -rf build
