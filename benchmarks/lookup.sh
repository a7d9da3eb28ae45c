#!/usr/bin/env bash
# Single-customer lookups on customer_propensity before and after `maintain` (OPTIMIZE ZORDER BY
# customer_id): files read per lookup and wall time. benchmarks/lookup.sh [ROWS] (default 10,000,000)
# Results: benchmarks/RESULTS-lookup.md. Not part of mvn verify.
# Env: BENCH_OPTS (e.g. -Dbenchmark.files=200 -Dbenchmark.warehouse=/tmp/wh), BENCH_XMX (8g).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$HERE"
mvn -B -q -o test-compile -pl jobs -am >&2
CP="jobs/target/test-classes:jobs/target/classes:common/target/classes:$(cat jobs/target/local-classpath.txt)"
OPENS="$(sed -n 's:.*<spark.jvm.opens>\(.*\)</spark.jvm.opens>.*:\1:p' "$HERE/pom.xml")"
export SPARK_LOCAL_IP=127.0.0.1
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2 " GiB"}'), $(java -version 2>&1 | head -n 1), $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"
exec java -Xmx${BENCH_XMX:-8g} ${BENCH_OPTS:-} $OPENS -Dlog4j.configurationFile="$HERE/conf/log4j2.properties" \
  -cp "$CP" dev.propensity.jobs.benchmark.LookupBenchmark "$@"
