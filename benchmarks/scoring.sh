#!/usr/bin/env bash
# Scoring and PSI benchmark (local[2]): benchmarks/scoring.sh [ROWS...]   e.g. benchmarks/scoring.sh 1000000 10000000
# Results: benchmarks/RESULTS-scoring.md. Not part of mvn verify. BENCH_OPTS=-Dbenchmark.psi-only=true: PSI part only.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$HERE"
mvn -B -q -o test-compile -pl jobs -am >&2
CP="jobs/target/test-classes:jobs/target/classes:common/target/classes:$(cat jobs/target/local-classpath.txt)"
OPENS="-XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector \
--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
--add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED \
--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED \
--add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED \
-Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true"
export SPARK_LOCAL_IP=127.0.0.1
exec java -Xmx${BENCH_XMX:-8g} ${BENCH_OPTS:-} $OPENS -Dlog4j.configurationFile="$HERE/conf/log4j2.properties" \
  -cp "$CP" dev.propensity.jobs.benchmark.ScoringBenchmark "$@"
