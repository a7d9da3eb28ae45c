#!/usr/bin/env bash
# Training benchmark: the default candidate set with cross-validation on N synthetic customers in
# local[2]. Generates the data once (generate + features, not timed), then times the train job
# alone and prints a row for benchmarks/RESULTS.md.
#   benchmarks/train.sh 100000                       # default candidates and grids
#   benchmarks/train.sh 1000000 train.cv.num-folds=3 # extra key=value pass to the train job
# Work folder: $BENCH_DIR (default /tmp/propensity-bench). Needs /usr/bin/time (GNU time).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:?usage: benchmarks/train.sh CUSTOMERS [key=value ...]}"
shift
DIR="${BENCH_DIR:-/tmp/propensity-bench}"
WH="$DIR/wh-$N"
RUN="bench-$N-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$DIR"

"$HERE/submit.sh" build   # not timed: the timed run must not start with a rebuild

if [[ ! -d "$WH/features/_delta_log" ]]; then
  echo "benchmark: generating $N customers and their features into $WH (not timed)" >&2
  "$HERE/submit.sh" pipeline warehouse="$WH" spark.master="local[2]" generate.customers="$N" \
    'pipeline.steps=[generate, features]' > "$DIR/generate-$N.log" 2>&1
fi

echo "benchmark: training run $RUN (log: $DIR/$RUN.log)" >&2
/usr/bin/time -v -o "$DIR/$RUN.time" "$HERE/submit.sh" train warehouse="$WH" \
  spark.master="local[2]" train.run-id="$RUN" "$@" > "$DIR/$RUN.log" 2>&1

wall=$(grep 'Elapsed (wall clock)' "$DIR/$RUN.time" | awk '{print $NF}')
rss_kb=$(grep 'Maximum resident set size' "$DIR/$RUN.time" | awk '{print $NF}')
"$HERE/submit.sh" sql "SELECT candidate, round(fit_seconds, 0) AS s, round(cv_mean, 4) AS cv,
  round(validation_auc_roc, 4) AS val_auc, grid_points_evaluated AS pts, grid_points AS grid
  FROM leaderboard WHERE run_id = '$RUN' ORDER BY created_at" --csv warehouse="$WH" \
  2>/dev/null > "$DIR/$RUN.csv"
per_candidate=$(tail -n +2 "$DIR/$RUN.csv" | awk -F, '{printf "%s%s %ss (cv %s, val %s, %s/%s pts)", sep, $1, $2, $3, $4, $5, $6; sep="; "}')
rows=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["splits"]["counts"]["train"]["rows"])' "$WH/runs/$RUN/manifest.json")
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
load="$(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "| $(date -u +%Y-%m-%d) | $(nproc) cores ($cpu), load $load | $N | $rows | $per_candidate | $wall | $((rss_kb / 1024)) MiB | \`benchmarks/train.sh $N $*\` |"
