#!/usr/bin/env bash
# TreeSHAP benchmark: ./benchmarks/shap.sh [rows=1000000] [trees=100] [depth=5]
# Builds offline, then runs dev.propensity.jobs.explain.ShapBenchmark in local[2].
#   ./benchmarks/shap.sh kernel [rows=2000]: the kernels alone (one thread, CPU time): the published
#   ReferenceTreeShap, the quadrature TreeShap, and the per-leaf tables (LeafTables, Fast TreeSHAP
#   v2) on every tree whose tables take <= 64 MiB, on the default ensemble's tree shapes: 60
#   depth-8 trees, 100 depth-3 GBT trees, 60 depth-12 trees; plus which trees the default per-tree
#   table limit (64 KiB) tables. The default ensemble end to end: benchmarks/scoring.sh
#   (RESULTS-scoring.md).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$HERE"
mvn -B -q -o test-compile -pl jobs -am
OPENS="$(sed -n 's:.*<spark.jvm.opens>\(.*\)</spark.jvm.opens>.*:\1:p' pom.xml)"
CP="jobs/target/classes:jobs/target/test-classes:$(cat jobs/target/local-classpath.txt)"
if [ "${1:-}" = kernel ]; then
  shift
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"
  exec java -cp common/target/classes:common/target/test-classes \
    dev.propensity.common.explain.TreeShapKernelBenchmark "$@"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"
# shellcheck disable=SC2086
SPARK_LOCAL_IP=127.0.0.1 exec java -Xmx6g $OPENS \
  -Dlog4j.configurationFile="$HERE/conf/log4j2.properties" \
  -cp "$CP" dev.propensity.jobs.explain.ShapBenchmark "$@"
