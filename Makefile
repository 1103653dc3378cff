# logpipe: the whole set-up on a fresh Debian 12 machine is `make run` or `make test`.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# Every tests/fuzz/fuzz_<name>.cpp, run from tests/fuzz/corpus/<name>.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.cpp,%,$(wildcard tests/fuzz/fuzz_*.cpp))
FUZZ_SECONDS ?= 20
JOBS ?= $(shell nproc)
# ccache hits wherever the checkout lives (a CI clone, a worktree): paths below the checkout are
# hashed relative to it, and the build directory's path is left out of the hash.
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= true
CTEST_JOBS ?= 2

# Everything the project needs, from Debian 12's own archive.
DEB_PACKAGES := build-essential cmake pkg-config ccache git curl procps python3 \
	libboost1.81-dev libhiredis-dev libpq-dev libsimdjson-dev prometheus-cpp-dev libfmt-dev \
	libcli11-dev libtomlplusplus-dev liblz4-dev libzstd-dev libsnappy-dev zlib1g-dev libre2-dev googletest libgtest-dev libbenchmark-dev \
	redis-server postgresql-15 clang-format clang-tidy clang libclang-rt-14-dev prometheus python3-yaml \
	libssl-dev openssl bsdutils rsyslog rsyslog-gnutls prometheus-alertmanager nginx gdb \
	chromium fonts-dejavu-core

.PHONY: deps build build-asan clients browser-tests screenshots run test test-unit deploy-test fuzz bench bench-micro bench-pipeline bench-rate-limits bench-tail bench-query bench-scaling format lint clean

deps:
	@scripts/install-deps $(DEB_PACKAGES)

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOGPIPE_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLOGPIPE_SANITIZE=ON -DLOGPIPE_BENCH=OFF -DLOGPIPE_WERROR=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

# The real clients the integration tests drive (tests/clients: the Elasticsearch JS client, pino,
# the OpenTelemetry JS SDK and exporters, protobufjs, snappyjs), at the exact versions of its
# lockfile; installed again only when the lockfile changes. Node.js and npm come from the machine (NodeSource's
# nodejs here; Debian's own would conflict with it), so they are required, not installed.
CLIENTS := tests/clients
clients: $(CLIENTS)/node_modules/.package-lock.json

$(CLIENTS)/node_modules/.package-lock.json: $(CLIENTS)/package.json $(CLIENTS)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		echo "make clients: node and npm must be on PATH (Node.js 18 or later) for the integration tests' clients" >&2; exit 1; }
	cd $(CLIENTS) && npm ci --no-audit --no-fund
	@touch $@

# The web UI's browser tests' packages (tests/browser: puppeteer-core, which drives Debian's
# chromium, and Lighthouse), at the exact versions of its lockfile; again only when it changes.
BROWSER_TESTS := tests/browser
browser-tests: $(BROWSER_TESTS)/node_modules/.package-lock.json

$(BROWSER_TESTS)/node_modules/.package-lock.json: $(BROWSER_TESTS)/package.json $(BROWSER_TESTS)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		echo "make browser-tests: node and npm must be on PATH (Node.js 18 or later) for the browser tests" >&2; exit 1; }
	cd $(BROWSER_TESTS) && npm ci --no-audit --no-fund
	@touch $@

# The web UI's pages in both themes, as the browser test UiBrowser.ScreenshotsOfEveryPageInBothThemes
# takes them (into $(BUILD)/ui-screenshots), copied to docs/screenshots for the README.
screenshots: build browser-tests
	cd $(BUILD) && ctest --output-on-failure -R 'services\.|UiBrowser\.Screenshots'
	mkdir -p docs/screenshots && cp $(BUILD)/ui-screenshots/*.png docs/screenshots/

# Starts private Redis + PostgreSQL under ./var, migrates, and serves on 127.0.0.1:8080.
# Ctrl-C stops logpipe and then both services.
run: build
	@scripts/run-local $(BUILD)/logpipe

# Unit and integration tests, in the normal and the sanitizer (ASan + UBSan) build.
test: build build-asan clients browser-tests
	cd $(BUILD) && ctest --output-on-failure -j$(CTEST_JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(CTEST_JOBS)

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

# Seed 000's multi-instance shape for real (docs/DEPLOY.md): nginx with deploy/nginx in front of two
# serve instances, two workers, Prometheus with deploy/prometheus, Alertmanager; load, a serve and a
# worker killed mid-run, the alert fired and resolved, every dashboard query answered. About 4 min.
deploy-test: build clients
	@scripts/deploy-test $(BUILD)/logpipe

# Every parser of untrusted input under libFuzzer (clang, ASan+UBSan) for FUZZ_SECONDS each,
# starting from the seed corpus in tests/fuzz/corpus; new inputs go to a temporary directory.
fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLOGPIPE_FUZZ=ON \
		-DLOGPIPE_TESTS=OFF -DLOGPIPE_BENCH=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@set -o pipefail; for target in $(FUZZ_TARGETS); do \
		work=$$(mktemp -d); \
		$(FUZZ_BUILD)/tests/fuzz/fuzz_$$target -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			-print_final_stats=1 $$work tests/fuzz/corpus/$$target 2>&1 | tail -n 12 || exit 1; \
		rm -rf $$work; \
	done

# Benchmarks (see docs/PERFORMANCE.md): the hot-path micro-benchmarks, the whole pipeline against
# PostgreSQL's own COPY (about two minutes), what keys and limits cost, the live tail under load
# (about 2.5 minutes), then read latency at 10M logs (about ten minutes), and the per-core inputs
# of docs/SCALING.md (about a minute), each on private Redis + PostgreSQL.
bench: bench-micro bench-pipeline bench-rate-limits bench-tail bench-query bench-scaling

bench-micro: build
	$(BUILD)/bench/bench_hot_paths --benchmark_min_time=0.5

bench-pipeline: build
	bench/pipeline --build $(BUILD)

# What authentication, rate limits and quotas cost end to end (README "Rate limits and quotas").
bench-rate-limits: build
	bench/rate-limits --build $(BUILD) --e2e

# The live tail under 50,000 logs/s with 100 subscribers, and with a stalled one (about 2.5 minutes).
bench-tail: build clients
	bench/tail --build $(BUILD)

# Read latency on 10M seeded logs (about ten minutes; BENCH_ROWS to change the volume).
BENCH_ROWS ?= 10000000
bench-query: build browser-tests
	bench/query --build $(BUILD) --rows $(BENCH_ROWS)

# Per-core rates and per-log bytes for docs/SCALING.md's capacity model (about a minute; 2 cores).
bench-scaling: build
	bench/scaling --build $(BUILD) --logs 1000000 --rounds 3

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

lint: build
	@git ls-files 'src/*.cpp' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
