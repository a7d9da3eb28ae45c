#!/usr/bin/env bash
# Scoring and PSI benchmark (local[2]): benchmarks/scoring.sh [ROWS...]   e.g. benchmarks/scoring.sh 1000000 10000000
# Results: benchmarks/RESULTS-scoring.md. Not part of mvn verify. BENCH_OPTS=-Dbenchmark.psi-only=true: PSI part only.
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
