#!/usr/bin/env bash
# Scoring and PSI benchmark (local[2]): benchmarks/scoring.sh [ROWS...]   e.g. benchmarks/scoring.sh 1000000 10000000
# Results: benchmarks/RESULTS-scoring.md. Not part of mvn verify. BENCH_OPTS=-Dbenchmark.psi-only=true: PSI part only.
# Trains with the default candidates and grids (logistic, random forest, XGBoost) unless BENCH_OPTS pins them.
# Reason codes with and without (score job, explain.top-k 3 vs 0) plus the exactness check on 2,000 rows:
#   BENCH_OPTS='-Dbenchmark.reason-codes-only=true' benchmarks/scoring.sh 1000000 10000000
# (RESULTS-scoring.md gives the exact command of each run, including any pinned grid.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/jvm.sh"
bench_java "${BENCH_XMX:-8g}" dev.propensity.jobs.benchmark.ScoringBenchmark "$@"
