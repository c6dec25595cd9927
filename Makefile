# Huddle — the front door. `make help` lists the targets.
#
# Everything below is a thin wrapper: CMake builds the C daemons, npm builds
# the web app, deploy/local/*.sh run things. Variables you may set:
#   JOBS=N          parallel build jobs (default: nproc)
#   CTEST_ARGS=...  extra ctest arguments, e.g. CTEST_ARGS='-R unit.common.config'
#   HTTP_PORT=8080  port `make run` serves on (see deploy/local/run.sh for more)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
FUZZ_DIR   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
CHAOS_ROUNDS ?= 10
CTEST_ARGS ?=
CTEST      := ctest --test-dir $(ASAN_DIR) --output-on-failure --timeout 600
CTEST_FUZZ := ctest --test-dir $(FUZZ_DIR) --output-on-failure --timeout 600 -L fuzz
FUZZ_HARNESSES = ws_frame http registry_rpc chat_rpc notes_rpc recording_rpc rec_assembly config jwt chunk
WITH_SERVERS := deploy/local/with-servers.sh

C_SOURCES = $(shell find services tests/unit tests/bench -name '*.[ch]' -not -path '*/node_modules/*' 2>/dev/null | sort)
SHELL_SCRIPTS = .ci/run $(wildcard deploy/local/*.sh deploy/coturn/*.sh deploy/*.sh tests/deploy/*.sh)

.PHONY: help bootstrap build build-c build-asan web run test test-unit \
	test-integration test-e2e lint format format-check clean distclean \
	compose-check deploy-check chaos fuzz build-fuzz fuzz-seeds bench-chat bench-notes bench-filters bench-recording bench-mesh bench-files bench soak

help: ## list the targets
	@echo "Huddle — make targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z0-9-]*:.*## / {printf "  %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

bootstrap: ## install missing Debian packages and npm dependencies (idempotent)
	@deploy/local/bootstrap.sh

build: bootstrap ## build the daemons (build/, RelWithDebInfo) and the web app (web/dist)
	@$(MAKE) build-c web

build-c:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j$(JOBS)

build-asan:
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DHUDDLE_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j$(JOBS)

# web/ belongs to the web client; until it has a package.json there is nothing to build.
web:
	@if [[ -f web/package.json ]]; then npm --prefix web run build; \
	else echo "make: no web/package.json; skipping the web build"; fi

run: build ## build, then run redis, coturn and the daemons locally (Ctrl-C stops)
	@BUILD_DIR=$(BUILD_DIR) deploy/local/run.sh

test: bootstrap ## all tests: ASan+UBSan build, web build, ctest (unit, integration, e2e), fuzz smoke + reproducers
	@$(MAKE) build-asan web build-fuzz
	@rv=0; $(WITH_SERVERS) $(CTEST) $(CTEST_ARGS) || rv=$$?; \
	$(WITH_SERVERS) $(CTEST_FUZZ) || rv=$$?; exit $$rv

build-fuzz: ## the libFuzzer harnesses (clang, -fsanitize=fuzzer,address,undefined) in build-fuzz/
	CC=clang cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=Debug -DHUDDLE_FUZZ=ON -DHUDDLE_BUILD_TESTS=OFF \
		-DFUZZ_SMOKE_SECONDS=$(FUZZ_SMOKE_SECONDS)
	cmake --build $(FUZZ_DIR) -j$(JOBS) --target fuzz_all

fuzz: bootstrap ## run every fuzz harness for FUZZ_SECONDS (default 60) each, one at a time (tests/fuzz, corpus kept in build-fuzz/work)
	@$(MAKE) build-fuzz
	@rv=0; for h in $(FUZZ_HARNESSES); do \
		FUZZ_SECONDS=$(FUZZ_SECONDS) $(WITH_SERVERS) bash tests/fuzz/run.sh $(FUZZ_DIR)/bin/fuzz_$$h $$h fuzz $(FUZZ_DIR)/work || rv=1; \
	done; echo "per-run stats: $(FUZZ_DIR)/work/stats.log"; exit $$rv

fuzz-seeds: ## regenerate the fuzz seed corpora (tests/fuzz/corpus) from real protocol messages
	@$(MAKE) build-fuzz
	cmake --build $(FUZZ_DIR) --target fuzz_gen_seeds
	ffmpeg -y -loglevel error -f lavfi -i testsrc=size=64x48:rate=10 -f lavfi -i sine=frequency=440 -t 1 \
		-c:v libvpx -b:v 50k -c:a libopus -f webm $(FUZZ_DIR)/clip.webm </dev/null
	$(FUZZ_DIR)/bin/fuzz_gen_seeds tests/fuzz/corpus $(FUZZ_DIR)/clip.webm

test-unit: bootstrap ## C unit tests only (ctest -L unit), sanitized
	@$(MAKE) build-asan
	$(WITH_SERVERS) $(CTEST) -L unit $(CTEST_ARGS)

test-integration: bootstrap ## daemons over real sockets with Redis and coturn (ctest -L integration)
	@$(MAKE) build-asan web
	$(WITH_SERVERS) $(CTEST) -L integration $(CTEST_ARGS)

test-e2e: bootstrap ## browser tests, Chromium in a private network namespace (ctest -L e2e)
	@$(MAKE) build-asan web
	$(WITH_SERVERS) $(CTEST) -L e2e $(CTEST_ARGS)

chaos: bootstrap ## chaos test, CHAOS_ROUNDS (10) rounds: SIGKILL + restart each process with 3 browsers in a call; time to recover p50/p95 per process
	@$(MAKE) build-asan web
	@rv=0; cd tests && HUDDLE_BIN_DIR=$(abspath $(ASAN_DIR))/bin HUDDLE_WEB_ROOT=$(abspath web/dist) HUDDLE_SOURCE_DIR=$(CURDIR) \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
		CHAOS_ROUNDS=$(CHAOS_ROUNDS) HUDDLE_TEST_LOG_LEVEL=info \
		unshare -n sh -c 'ip link set lo up && exec node_modules/.bin/tsx --test e2e/chaos.run.ts' 2>&1 | tee $(abspath $(ASAN_DIR))/chaos.log || rv=$$?; \
	echo "time to recover per process (ms), $(CHAOS_ROUNDS) rounds:"; grep -o 'chaos_recover_summary.*' $(abspath $(ASAN_DIR))/chaos.log | sort -u || true; exit $$rv

bench-filters: bootstrap ## video filters: cost per 640x480 frame of each filter and background blur, headless Chromium (tests/bench/filters)
	node tests/bench/filters/run.mjs

bench-mesh: bootstrap ## mesh of 2..6 participants in one headless Chromium: time until the last joiner decodes everyone, browser CPU, held 30 s (tests/bench/mesh; MESH_SIZES=2,3)
	@$(MAKE) build-c web
	cd tests && HUDDLE_BIN_DIR=$(abspath $(BUILD_DIR))/bin HUDDLE_WEB_ROOT=$${HUDDLE_WEB_ROOT:-$(abspath web/dist)} HUDDLE_TEST_LOG_LEVEL=info \
		unshare -rn sh -c 'ip link set lo up && exec node_modules/.bin/tsx bench/mesh/run.ts'

bench-files: export HUDDLE_BIN_DIR = $(CURDIR)/$(BUILD_DIR)/bin
bench-files: export HUDDLE_WEB_ROOT = $(CURDIR)/web/dist
bench-files: export HUDDLE_SOURCE_DIR = $(CURDIR)
bench-files: bootstrap ## file transfer throughput (MB/s): loopback, direct and relay (coturn), headless Chromium (tests/bench/files)
	@$(MAKE) build-c web
	unshare -n sh -c 'ip link set lo up && exec "$$0" "$$1"' tests/node_modules/.bin/tsx tests/bench/files/run.ts

bench-chat: bootstrap ## chat benchmark: durable posts/s (1 and 32 posters), history page p50/p99 (SQLite)
	@$(MAKE) build-c
	$(BUILD_DIR)/bin/chat-bench --bin $(BUILD_DIR)/bin/huddle-chat

bench-notes: bootstrap ## notes benchmark: durable updates/s (1 and 32 editors), open p50/p99 of 10k updates, before/after a snapshot
	@$(MAKE) build-c
	$(BUILD_DIR)/bin/notes-bench --bin $(BUILD_DIR)/bin/huddle-notes

bench-recording: bootstrap ## recording benchmark: assembly + remux of a 1-hour recording of synthetic chunks (RelWithDebInfo)
	@$(MAKE) build-c
	$(BUILD_DIR)/bin/recording-bench $(if $(BENCH_MINUTES),--minutes $(BENCH_MINUTES))

lint: ## clang-tidy on services/, shellcheck, TypeScript type checks (runs all, then fails)
	@deploy/local/bootstrap.sh --lint
	@$(MAKE) build-c
	@fail=0; \
	echo "== clang-tidy -p $(BUILD_DIR) services/"; \
	find services -name '*.c' | sort | xargs -r -P$(JOBS) -n4 clang-tidy -p $(BUILD_DIR) --quiet || fail=1; \
	echo "== shellcheck"; \
	shellcheck -x $(SHELL_SCRIPTS) || fail=1; \
	for d in web tests; do \
		if [[ -f $$d/package.json ]] && grep -q '"typecheck"' $$d/package.json; then \
			echo "== npm --prefix $$d run typecheck"; npm --prefix $$d run typecheck || fail=1; fi; \
	done; \
	if ((fail)); then echo "make lint: problems found (above)"; exit 1; fi

format: ## clang-format -i the C sources (services/, tests/unit/, tests/bench/)
	@deploy/local/bootstrap.sh --lint
	clang-format -i $(C_SOURCES)

format-check: ## fail if a C source is not clang-formatted
	@deploy/local/bootstrap.sh --lint
	clang-format --dry-run --Werror $(C_SOURCES)

bench: bootstrap ## build (Release, build-bench/; BENCH_BUILD_DIR=...) and compare Huddle with the socket.io reference (tests/bench/run.sh)
	@JOBS=$(JOBS) tests/bench/run.sh

soak: bootstrap ## soak: SOAK_CONNECTIONS (10000) clients for SOAK_SECONDS (600) with churn and relay traffic; RSS per daemon per SOAK_INTERVAL, verdict (tests/bench/soak.sh; report in build-bench/soak.log)
	@JOBS=$(JOBS) tests/bench/soak.sh

compose-check: ## validate docker-compose.yml (no Docker engine needed)
	@if ! command -v docker-compose >/dev/null; then \
		echo "make: docker-compose not installed; skipping"; exit 0; fi; \
	TURN_SECRET=compose-check RECORDING_TOKEN_SECRET=compose-check JANUS_API_SECRET=compose-check docker-compose config -q && echo "docker-compose.yml: ok"; \
	if env -u TURN_SECRET docker-compose config -q 2>/dev/null; then \
		echo "docker-compose.yml: TURN_SECRET should be required"; exit 1; fi

deploy-check: ## validate deploy/: compose, k8s YAML, coturn configs, systemd units, scripts
	deploy/check.sh

clean: ## remove build outputs (build/, build-asan/, build-fuzz/, web/dist)
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR) web/dist tests/out

distclean: clean ## also remove run/ (local data: meetings, Redis dump, TURN secret) and node_modules
	rm -rf run web/node_modules tests/node_modules web/src/gen
