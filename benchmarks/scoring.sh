#!/usr/bin/env bash
# Scoring and PSI benchmark (local[2]): benchmarks/scoring.sh [ROWS...]   e.g. benchmarks/scoring.sh 1000000 10000000
# Results: benchmarks/RESULTS-scoring.md. Not part of mvn verify. BENCH_OPTS=-Dbenchmark.psi-only=true: PSI part only.
# Trains with the default candidates and grids (logistic, random forest, GBT) unless BENCH_OPTS pins them.
# Reason codes with and without (score job, explain.top-k 3 vs 0) plus the exactness check on 2,000 rows:
#   BENCH_OPTS='-Dbenchmark.reason-codes-only=true' benchmarks/scoring.sh 1000000 10000000
# (RESULTS-scoring.md gives the exact command of each run, including any pinned grid.)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$HERE"
mvn -B -q -o test-compile -pl jobs -am >&2
CP="jobs/target/test-classes:jobs/target/classes:common/target/classes:$(cat jobs/target/local-classpath.txt)"
# the JVM options the tests use (Spark's module opens), from the one place they are kept
OPENS="$(sed -n 's:.*<spark.jvm.opens>\(.*\)</spark.jvm.opens>.*:\1:p' "$HERE/pom.xml")"
export SPARK_LOCAL_IP=127.0.0.1
exec java -Xmx${BENCH_XMX:-8g} ${BENCH_OPTS:-} $OPENS -Dlog4j.configurationFile="$HERE/conf/log4j2.properties" \
  -cp "$CP" dev.propensity.jobs.benchmark.ScoringBenchmark "$@"
