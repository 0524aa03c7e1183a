#!/usr/bin/env bash
# `make bench`: perf/bench.py does the work (targets, workloads, ratios, results history).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 perf/bench.py "$@"
