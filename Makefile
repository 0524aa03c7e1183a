# Tollgate — the two commands of the README contract:
#   make run    build (release) and start the gateway on examples/quickstart.yaml with the built-in mock provider
#   make test   install what is missing and run every test
# and `make bench` for the perf harness and `make fuzz` for the libFuzzer targets (never part of `make test`).

SWIFT      ?= swift
CONFIG     ?= examples/quickstart.yaml
WORKERS    ?= 2
RELEASE_BIN = .build/release/tollgate

# Debian packages each target needs, installed only when missing: checked by command, or by
# a file the package installs when it has no command (an absolute path). The WAF module links
# libmodsecurity and the controller libhiredis at build time, so `run` needs them too; the
# tests load the OWASP CRS and start redis-server.
MODSEC_DEV = /usr/include/modsecurity/modsecurity.h:libmodsecurity-dev
HIREDIS_DEV = /usr/include/hiredis/hiredis.h:libhiredis-dev
CRS_RULES  = /usr/share/modsecurity-crs/rules/REQUEST-949-BLOCKING-EVALUATION.conf:modsecurity-crs
RUN_DEPS   = curl:curl $(MODSEC_DEV) $(HIREDIS_DEV)
# The control-plane tests start their own PostgreSQL server (initdb + postgres from /usr/lib/postgresql/*/bin).
POSTGRES   = pg_ctlcluster:postgresql
TEST_DEPS  = curl:curl python3:python3 openssl:openssl redis-server:redis-server $(POSTGRES) $(MODSEC_DEV) $(HIREDIS_DEV) $(CRS_RULES)
BENCH_DEPS = wrk:wrk nginx:nginx-light curl:curl redis-server:redis-server $(MODSEC_DEV) $(HIREDIS_DEV)

.PHONY: run test bench fuzz build build-debug deps-run deps-test deps-bench check-swift clean help

help:
	@echo "make run    - build release and start Tollgate on $(CONFIG) (mock provider, no API key needed)"
	@echo "make test   - install missing packages and run every test"
	@echo "make bench  - benchmark Tollgate against nginx on the mock provider (perf/)"
	@echo "make fuzz   - build the libFuzzer targets (ASan) and run each for FUZZ_SECONDS (default 60)"

check-swift:
	@command -v $(SWIFT) >/dev/null 2>&1 || { echo "error: the Swift toolchain (6.2+) is not on PATH; install it from swift.org and retry" >&2; exit 1; }

# install_missing CMD:PKG|/PATH:PKG ... — apt-get installs the packages whose command (or file) is missing.
define install_missing
	@missing=""; for pair in $(1); do cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  case $$cmd in /*) [ -e $$cmd ] ;; *) command -v $$cmd >/dev/null 2>&1 || [ -x /usr/sbin/$$cmd ] ;; esac \
	  || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps-run:
	$(call install_missing,$(RUN_DEPS))

deps-test:
	$(call install_missing,$(TEST_DEPS))
	@python3 scripts/ensure-sdks.py

deps-bench:
	$(call install_missing,$(BENCH_DEPS))

build: check-swift
	$(SWIFT) build -c release --product tollgate

build-debug: check-swift
	$(SWIFT) build --build-tests

run: deps-run build
	@CONFIG=$(CONFIG) WORKERS=$(WORKERS) TOLLGATE_BIN=$(RELEASE_BIN) scripts/quickstart.sh

test: deps-test build-debug
	$(SWIFT) test --skip-build --parallel

bench: deps-bench build
	@TOLLGATE_BIN=$(RELEASE_BIN) perf/bench.sh

# libFuzzer targets (Fuzz/, docs/fuzzing.md) in their own scratch path (.build-fuzz). libFuzzer
# and ASan come with the Swift toolchain; the build needs the same system libraries as `run`.
# FUZZ_SECONDS, FUZZ_TARGETS and FUZZ_FLAGS are passed through to scripts/fuzz.sh.
fuzz: deps-run check-swift
	@SWIFT=$(SWIFT) scripts/fuzz.sh

clean:
	rm -rf .build .build-fuzz
