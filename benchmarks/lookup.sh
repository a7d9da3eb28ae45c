#!/usr/bin/env bash
# Single-customer lookups on customer_propensity before and after `maintain` (OPTIMIZE ZORDER BY
# customer_id): files read per lookup and wall time. benchmarks/lookup.sh [ROWS] (default 10,000,000)
# Results: benchmarks/RESULTS-lookup.md. Not part of mvn verify.
# Env: BENCH_OPTS (e.g. -Dbenchmark.files=200 -Dbenchmark.warehouse=/tmp/wh), BENCH_XMX (8g).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/jvm.sh"
machine
bench_java "${BENCH_XMX:-8g}" dev.propensity.jobs.benchmark.LookupBenchmark "$@"
