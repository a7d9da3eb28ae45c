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
source "$(dirname "${BASH_SOURCE[0]}")/jvm.sh"
machine
if [ "${1:-}" = kernel ]; then
  shift
  exec java -cp common/target/classes:common/target/test-classes \
    dev.propensity.common.explain.TreeShapKernelBenchmark "$@"
fi
bench_java 6g dev.propensity.jobs.explain.ShapBenchmark "$@"
