#!/usr/bin/env bash
# Features scale benchmark: generate N customers (default 1,000,000) with all their events, then
# build their features (2 snapshots, every family), each as its own job in local[2] through
# ./submit.sh with conf/benchmark.conf. Prints one markdown row for benchmarks/RESULTS.md.
#
#   benchmarks/features.sh            # 1M customers
#   benchmarks/features.sh 200000     # a smaller run
#
# Env: BENCH_WAREHOUSE (default /tmp/propensity-benchmark-N, wiped first),
#      PROPENSITY_DRIVER_MEMORY (default here 6g: local mode runs everything in the driver).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-1000000}"
WH="${BENCH_WAREHOUSE:-/tmp/propensity-benchmark-$N}"
export PROPENSITY_DRIVER_MEMORY="${PROPENSITY_DRIVER_MEMORY:-6g}"
LOG="$WH.log"
rm -rf "$WH"
"$ROOT/submit.sh" build >/dev/null 2>&1 || "$ROOT/submit.sh" build

run() { "$ROOT/submit.sh" "$@" -c "$ROOT/conf/benchmark.conf" "warehouse=$WH" "generate.customers=$N"; }

t0=$(date +%s)
run generate >>"$LOG" 2>&1
t1=$(date +%s)
run features >>"$LOG" 2>&1
t2=$(date +%s)
sql="SELECT (SELECT count(*) FROM features) AS features, (SELECT count(*) FROM raw_orders)"
sql+=" + (SELECT count(*) FROM raw_order_lines) + (SELECT count(*) FROM raw_web_sessions)"
sql+=" + (SELECT count(*) FROM raw_email_events) + (SELECT count(*) FROM raw_social_follows)"
sql+=" + (SELECT count(*) FROM raw_support_contacts) + (SELECT count(*) FROM raw_profit) AS events"
counts=$(run sql "$sql" --csv 2>>"$LOG" | tail -n 1)
features_rows="${counts%%,*}"
events="${counts##*,}"
mem=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')
java=$(java -version 2>&1 | head -n 1 | sed 's/"//g')
echo "| $(date -u +%F) | $(nproc) cores, $mem, $java | $N | $events | $((t1 - t0)) | $((t2 - t1)) | $features_rows |"
echo "(log: $LOG)" >&2
