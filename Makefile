# Thin wrapper over CMake so users type `make`, `make test`, `make demo`.
#   make          release build in build/release (binaries in build/release/bin)
#   make test     scripts/setup, then the whole suite twice: plain and ASan+UBSan
#                 (the optimised release build is compiled too: -O2 warns of
#                 things -O0 does not, and -Werror makes them errors)
#   make test-cluster  only the 3-node Elasticsearch cluster tests (ASan tree)
#   make fuzz     clang + libFuzzer, each target for FUZZ_SECONDS
#   make format   clang-format the sources in place
#   make install  release build, installed under PREFIX (default /usr/local),
#                 configs in SYSCONFDIR/sluice (default /etc/sluice, kept if
#                 there), systemd units in PREFIX/lib/systemd/system; DESTDIR
#                 stages it all (cmake/SluiceInstall.cmake lists what goes where)
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
FUZZ_SECONDS ?= 30
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc

.PHONY: all release debug asan fuzz test test-cluster demo demo-stop setup format format-check clean install

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

# The release tree is configured with PREFIX, as the binaries (patterns,
# template) and the units name the installed paths; DESTDIR only stages.
install:
	$(call build,release,Release,-DCMAKE_INSTALL_PREFIX=$(PREFIX) -DSLUICE_SYSCONFDIR=$(SYSCONFDIR))
	@DESTDIR="$(DESTDIR)" cmake --install build/release --prefix "$(PREFIX)"

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
# CPU-seconds to the servers' boot, its test about 6 s. The tests labelled
# "restart" (es_restart: one node killed and started again, a real 413) run
# with them: one more node to boot, about 20 s of tests.
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
