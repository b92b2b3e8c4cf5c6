# Thin wrapper over Meson/Ninja so the usual commands work on a fresh
# Debian 12 machine: `make demo`, `make check`, `make`, `make bench`.
BUILD ?= build
MESON ?= meson
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps bench-deps demo check test bench lint format coverage sanitize clang fuzz clean reproducible-check

all: $(BUILD)/build.ninja
	ninja -C $(BUILD) -j$(JOBS)

$(BUILD)/build.ninja:
	@command -v meson >/dev/null 2>&1 || scripts/deps.sh
	$(MESON) setup $(BUILD)

deps:
	scripts/deps.sh

demo: deps all
	scripts/demo.sh $(BUILD) $(DEMO_DIR)

check: deps all
	$(MESON) test -C $(BUILD) --print-errorlogs --num-processes $(JOBS)

test: check

# deps.sh's bench mode adds PyTorch and numpy (the training benchmark's reference).
bench: bench-deps all
	bench/run.sh $(BUILD)

bench-deps:
	scripts/deps.sh bench

# Address and undefined-behaviour sanitizers, in a build folder of their own.
sanitize: deps
	@[ -f build-asan/build.ninja ] || $(MESON) setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	ninja -C build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(MESON) test -C build-asan --print-errorlogs --num-processes $(JOBS) --timeout-multiplier 3

# The design promises gcc and clang both build veil (-Werror): check clang.
clang: deps
	@[ -f build-clang/build.ninja ] || CC=clang $(MESON) setup build-clang
	ninja -C build-clang -j$(JOBS)

# A real fuzzing session (libFuzzer, clang): fuzz/run.sh [SECONDS per target].
fuzz:
	scripts/deps.sh fuzz
	fuzz/run.sh $(FUZZ_SECONDS)

# Builds veil-worker twice in two folders and checks the binaries are identical.
reproducible-check: deps
	scripts/reproducible-check.sh

lint: deps all
	scripts/lint.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

coverage: deps
	@[ -f build-cov/build.ninja ] || $(MESON) setup build-cov -Db_coverage=true -Dbuildtype=debug
	ninja -C build-cov -j$(JOBS)
	$(MESON) test -C build-cov --num-processes $(JOBS)
	mkdir -p coverage
	gcovr -r . --object-directory build-cov --filter 'src/' --html-details coverage/index.html --txt coverage/summary.txt --print-summary
	@echo "coverage report: coverage/index.html"

clean:
	rm -rf $(BUILD) build-asan build-cov build-clang build-fuzz coverage
