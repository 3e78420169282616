# Thin wrapper over CMake so users type `make`, `make test`, `make demo`.
#   make          release build in build/release (binaries in build/release/bin)
#   make test     scripts/setup, then the whole suite twice: plain and ASan+UBSan
#                 (the optimised release build is compiled too: -O2 warns of
#                 things -O0 does not, and -Werror makes them errors)
#   make test-cluster  only the 3-node Elasticsearch cluster tests (ASan tree)
#   make fuzz     clang + libFuzzer, each target for FUZZ_SECONDS
#   make format   clang-format the sources in place
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
FUZZ_SECONDS ?= 30

.PHONY: all release debug asan fuzz test test-cluster demo demo-stop setup format format-check clean

all: release

define build
	@cmake -S . -B build/$(1) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=$(2) $(3) >/dev/null
	@cmake --build build/$(1) --parallel
endef

release:
	$(call build,release,Release)

debug:
	$(call build,debug,Debug)
	@ln -sf build/debug/compile_commands.json compile_commands.json

asan:
	$(call build,asan,Asan)

setup:
	@scripts/setup

# Fuzz targets also run for real, briefly (FUZZ_TEST_SECONDS each), on every
# `make test`; ctest replays their committed corpora in both trees.
FUZZ_TEST_SECONDS ?= 10

test: setup
	@$(MAKE) --no-print-directory debug asan release
	@scripts/check-source
	$(call build,fuzz,Fuzz,-DCMAKE_C_COMPILER=clang-14)
	@tests/fuzz/run-libfuzzer build/fuzz $(FUZZ_TEST_SECONDS)
	@SLUICE_TEST_CLUSTER=1 tests/run build/debug build/asan

# The 3-node Elasticsearch cluster tests alone (label "cluster": a node
# killed with -9 mid-run), in the ASan tree. `make test` runs them too, in
# the debug tree (SLUICE_TEST_CLUSTER=1): the cluster adds about 24
# CPU-seconds to the servers' boot, its test about 6 s.
test-cluster: setup
	@$(MAKE) --no-print-directory asan
	@SLUICE_TEST_CLUSTER=only tests/run build/asan

fuzz: setup
	$(call build,fuzz,Fuzz,-DCMAKE_C_COMPILER=clang-14)
	@tests/fuzz/run-libfuzzer build/fuzz $(FUZZ_SECONDS)

# The whole pipeline on this machine (scripts/demo): Redis, Elasticsearch,
# an indexer and two shippers on the sample logs, left running; its state
# and logs in build/demo/. demo-stop stops exactly what it started.
# Setup for Elasticsearch 8 only: all a demo needs (no JDK 21).
demo:
	@SLUICE_SETUP_ENGINES=es scripts/setup
	@$(MAKE) --no-print-directory release
	@scripts/demo

demo-stop:
	@scripts/demo stop

format:
	@git ls-files '*.c' '*.h' | xargs clang-format-14 -i

format-check:
	@git ls-files '*.c' '*.h' | xargs clang-format-14 --dry-run --Werror

clean:
	rm -rf build compile_commands.json
