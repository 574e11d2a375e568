# Thin front end over CMake. Every target installs what it needs first.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_FLAGS ?=
DEPS_STAMP := $(BUILD_DIR)/.deps-ok

# ccache keyed by paths relative to the checkout and not by the build
# directory, so a fresh clone elsewhere (CI) reuses what an earlier build
# of the same sources compiled, for the normal and the sanitizer builds.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps configure build test run bench soak lint format clean e2e asan fuzz

-include deploy/deploy.mk

all: build

$(DEPS_STAMP): scripts/deps.sh
	@bash scripts/deps.sh
	@mkdir -p $(BUILD_DIR) && touch $@

deps:
	@bash scripts/deps.sh

configure: $(DEPS_STAMP)
	@test -f $(BUILD_DIR)/build.ninja || cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600
	bash tests/e2e/run_e2e.sh $(BUILD_DIR)

e2e: build
	bash tests/e2e/run_e2e.sh $(BUILD_DIR)

run: build
	bash scripts/run.sh $(BUILD_DIR)

bench: build
	bash bench/run.sh $(BUILD_DIR)

# Ten minutes at half capacity over the whole suite (not in CI); writes
# docs/SOAK.md. SOAK_SECONDS shortens it.
soak: build
	bash bench/soak.sh $(BUILD_DIR)

lint: configure
	bash scripts/lint.sh

format:
	find services tools bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

# The whole test suite built with AddressSanitizer + UndefinedBehaviorSanitizer.
asan: $(DEPS_STAMP)
	@test -f build-asan/build.ninja || cmake -S . -B build-asan -G Ninja -DEDUAID_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) --timeout 900

clean:
	rm -rf $(BUILD_DIR)

# libFuzzer targets (clang from Debian), each run for FUZZ_SECONDS; new
# crashing inputs are left in fuzz/crashes/ to be added to fuzz/corpus/.
FUZZ_SECONDS ?= 30
fuzz: $(DEPS_STAMP)
	@dpkg-query -W clang libclang-rt-14-dev >/dev/null 2>&1 || apt-get install -y -q clang libclang-rt-14-dev >/dev/null
	@test -f build-fuzz/build.ninja || CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DEDUAID_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target id_number_fuzz page_token_fuzz csv_fuzz policy_fuzz
	@mkdir -p fuzz/crashes
	@for t in id_number page_token csv policy; do \
	  echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  cp -r fuzz/corpus/$$t /tmp/eduaid-fuzz-$$t 2>/dev/null || true; \
	  build-fuzz/fuzz/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=fuzz/crashes/$$t- /tmp/eduaid-fuzz-$$t fuzz/corpus/$$t || exit 1; \
	done
