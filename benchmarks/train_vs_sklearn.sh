#!/usr/bin/env bash
# Side by side: the project's train + select against a scikit-learn peer on the same rows.
#   benchmarks/train_vs_sklearn.sh 100000                 # default candidates, grids and folds
#   benchmarks/train_vs_sklearn.sh 20000 'train.candidates=[logistic, random-forest, gbt, xgboost]'
# 1. generates N customers and their features once (not timed; shared with benchmarks/train.sh),
# 2. times the project's train + select (local[2]; extra key=value go to both) in one Spark
#    application, as the weekly cycle and a scheduled `pipeline` run them (./submit.sh pipeline
#    with pipeline.steps = [train, select]); BENCH_APPS=2 times them as two spark-submits
#    (./submit.sh train, then ./submit.sh select), as two tasks of a scheduler would run them,
# 3. exports the run's labelled snapshot with the run's own split and CV fold of every row (the
#    same seed-fixed hash expressions as model.Splits, in Spark SQL) to CSV (not timed),
# 4. times benchmarks/sklearn_peer.py on it (same families, grids, folds and split; two cores),
# 5. appends a row to benchmarks/RESULTS.md: wall time, peak RSS (GNU time) and ensemble test
#    AUC-ROC of both, and project / peer ratios.
# Needs /usr/bin/time (GNU time) and Debian's python3-sklearn, python3-pandas, python3-xgboost
# (installed with apt-get when missing). Work folder: $BENCH_DIR (default /tmp/propensity-bench).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:?usage: benchmarks/train_vs_sklearn.sh CUSTOMERS [key=value ...]}"
shift
DIR="${BENCH_DIR:-/tmp/propensity-bench}"
WH="$DIR/wh-$N"
RUN="vs-sklearn-$N-$(date -u +%Y%m%d-%H%M%S)"
PY=/usr/bin/python3   # Debian's python, where apt puts scikit-learn
mkdir -p "$DIR"

if ! "$PY" -c 'import sklearn, pandas, xgboost' 2>/dev/null; then
  echo "benchmark: installing python3-sklearn python3-pandas python3-xgboost (apt-get)" >&2
  apt-get install -y -q --no-install-recommends python3-sklearn python3-pandas python3-xgboost >&2
fi

"$HERE/submit.sh" build   # not timed: the timed run must not start with a rebuild

if [[ ! -d "$WH/features/_delta_log" ]]; then
  echo "benchmark: generating $N customers and their features into $WH (not timed)" >&2
  "$HERE/submit.sh" pipeline warehouse="$WH" spark.master="local[2]" generate.customers="$N" \
    'pipeline.steps=[generate, features]' > "$DIR/generate-$N.log" 2>&1
fi

seconds() { # GNU time's h:mm:ss or m:ss.ss to seconds
  awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f", s }' <<< "$1"
}
wall_of() { seconds "$(grep 'Elapsed (wall clock)' "$1" | awk '{print $NF}')"; }
rss_of() { grep 'Maximum resident set size' "$1" | awk '{print $NF}'; }

APPS="${BENCH_APPS:-1}"
[[ "$APPS" == 1 || "$APPS" == 2 ]] || { echo "benchmark: BENCH_APPS is 1 or 2, not $APPS" >&2; exit 2; }
echo "benchmark: project train + select in $APPS Spark application(s), run $RUN (logs: $DIR/$RUN.*.log)" >&2
if [[ "$APPS" == 1 ]]; then
  /usr/bin/time -v -o "$DIR/$RUN.train.time" "$HERE/submit.sh" pipeline warehouse="$WH" \
    spark.master="local[2]" 'pipeline.steps=[train, select]' train.run-id="$RUN" "$@" \
    > "$DIR/$RUN.train.log" 2>&1
else
  /usr/bin/time -v -o "$DIR/$RUN.train.time" "$HERE/submit.sh" train warehouse="$WH" \
    spark.master="local[2]" train.run-id="$RUN" "$@" > "$DIR/$RUN.train.log" 2>&1
  /usr/bin/time -v -o "$DIR/$RUN.select.time" "$HERE/submit.sh" select warehouse="$WH" \
    spark.master="local[2]" select.run-id="$RUN" "$@" > "$DIR/$RUN.select.log" 2>&1
fi

MANIFEST="$WH/runs/$RUN/manifest.json"
# the export query: the run's snapshot, its split and folds, the features it trained on (double
# literals and arithmetic as model.Splits: a plain 0.5 would be a SQL decimal)
QUERY=$("$PY" - "$MANIFEST" "$DIR/$RUN.export" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
s = m["settings"]["propensity"]
schema, split, seed = s["schema"], m["splits"], int(m["splits"]["seed"])
idc, label, snap_col = schema["id-column"], schema["label-column"], schema["snapshot-column"]
if s["train"]["snapshots"] != 1 or s["train"]["out-of-time"]:
    sys.exit("benchmark: the export handles train.snapshots = 1 without out-of-time only")
cols = m["features"]["numeric"] + [f"CAST(`{c}` AS STRING) AS `{c}`" for c in m["features"]["categorical"]]
where = f"`{label}` IS NOT NULL"
if snap_col and m["input"]["snapshot"]:
    where += f" AND `{snap_col}` = DATE'{m['input']['snapshot']}'"
tr, va = split["train"], split["train"] + split["validation"]
print(f"""INSERT OVERWRITE DIRECTORY '{sys.argv[2]}' USING csv OPTIONS (header 'true')
WITH t AS (SELECT *, CAST(`{label}` AS DOUBLE) AS __y FROM {schema['table']} WHERE {where}),
u AS (SELECT *, (row_number() OVER (PARTITION BY __y ORDER BY xxhash64({seed}L, 'split',
  CAST(`{idc}` AS STRING)), `{idc}`) - 0.5D) / count(1) OVER (PARTITION BY __y) AS __u FROM t),
s AS (SELECT *, CASE WHEN __u < {tr!r}D THEN 'train' WHEN __u < {va!r}D THEN 'validation'
  ELSE 'test' END AS __split FROM u),
f AS (SELECT *, CASE WHEN __split = 'train' THEN (row_number() OVER (PARTITION BY __split, __y
  ORDER BY xxhash64({seed}L, 'fold', CAST(`{idc}` AS STRING)), `{idc}`) - 1) % {m['cv']['folds']}
  END AS __fold FROM s)
SELECT `{idc}`, CAST(__y AS INT) AS __label, __split, __fold, {', '.join(cols)} FROM f""")
EOF
)
echo "benchmark: exporting the labelled snapshot to $DIR/$RUN.export (not timed)" >&2
"$HERE/submit.sh" sql "$QUERY" --allow-writes warehouse="$WH" > "$DIR/$RUN.export.log" 2>&1

echo "benchmark: scikit-learn peer (log: $DIR/$RUN.peer.log)" >&2
/usr/bin/time -v -o "$DIR/$RUN.peer.time" env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
  "$PY" "$HERE/benchmarks/sklearn_peer.py" --data "$DIR/$RUN.export" --manifest "$MANIFEST" \
  --out "$DIR/$RUN.peer.json" > "$DIR/$RUN.peer.log" 2>&1

if [[ "$APPS" == 1 ]]; then
  project_s=$(printf "%.0f" "$(wall_of "$DIR/$RUN.train.time")")
  project_rss=$(rss_of "$DIR/$RUN.train.time")
  # when the pipeline started select, from its own log: the split of the one application's time
  select_at=$(grep -o 'step 2 of 2: select (elapsed [0-9]* s)' "$DIR/$RUN.train.log" | grep -o '[0-9]* s' | tail -1)
  apps="one application, select from ${select_at:-?}"
else
  train_s=$(wall_of "$DIR/$RUN.train.time")
  select_s=$(wall_of "$DIR/$RUN.select.time")
  project_s=$(awk -v a="$train_s" -v b="$select_s" 'BEGIN { printf "%.0f", a + b }')
  project_rss=$(( $(rss_of "$DIR/$RUN.train.time") > $(rss_of "$DIR/$RUN.select.time") \
    ? $(rss_of "$DIR/$RUN.train.time") : $(rss_of "$DIR/$RUN.select.time") ))
  apps="two applications, train $(printf "%.0f" "$train_s") s + select $(printf "%.0f" "$select_s") s"
fi
peer_s=$(printf "%.0f" "$(wall_of "$DIR/$RUN.peer.time")")
peer_rss=$(rss_of "$DIR/$RUN.peer.time")
project_auc=$("$PY" -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["test"]["auc_roc"])' \
  "$WH/runs/$RUN/ensemble/metrics.json")
read -r peer_auc peer_voters peer_detail < <("$PY" - "$DIR/$RUN.peer.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
detail = "; ".join(f"{c['candidate']} {c['seconds']:.0f} s (cv {c['cv_auc_roc']:.4f}, val "
                   f"{c['validation_auc_roc']:.4f})" for c in p["candidates"])
print("%.4f" % p["ensemble_test_auc_roc"], "+".join(p["voters"]), detail)
EOF
)
project_detail=$("$HERE/submit.sh" sql "SELECT candidate, round(fit_seconds, 0) AS s,
  round(cv_mean, 4) AS cv, round(validation_auc_roc, 4) AS val FROM leaderboard
  WHERE run_id = '$RUN' AND candidate <> 'ensemble' ORDER BY created_at" --csv warehouse="$WH" 2>/dev/null | tail -n +2 \
  | awk -F, '{printf "%s%s %s s (cv %s, val %s)", sep, $1, $2, $3, $4; sep="; "}')
project_voters=$("$PY" -c 'import json,sys; print("+".join(v["name"] for v in json.load(open(sys.argv[1]))["voters"]))' \
  "$WH/runs/$RUN/voters.json" 2>/dev/null || echo "?")
rows=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["splits"]["counts"]["train"]["rows"])' "$MANIFEST")
ratio_t=$(awk -v a="$project_s" -v b="$peer_s" 'BEGIN { printf "%.2f", a / b }')
ratio_m=$(awk -v a="$project_rss" -v b="$peer_rss" 'BEGIN { printf "%.2f", a / b }')
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
load="$(cut -d' ' -f1-3 /proc/loadavg)"
args="$*"

row="| $(date -u +%Y-%m-%d) | $(nproc) cores ($cpu), load after $load | $N | $rows | ${project_s} s, $((project_rss / 1024)) MiB, test AUC $project_auc ($apps; $project_voters; $project_detail) | ${peer_s} s, $((peer_rss / 1024)) MiB, test AUC $peer_auc ($peer_voters; $peer_detail) | ${ratio_t} | ${ratio_m} | \`benchmarks/train_vs_sklearn.sh $N${args:+ $args}\` |"
echo
echo "$row"
RESULTS="$HERE/benchmarks/RESULTS.md"
if ! grep -q '^## Training side by side with scikit-learn' "$RESULTS"; then
  cat >> "$RESULTS" <<'EOF'

## Training side by side with scikit-learn (`benchmarks/train_vs_sklearn.sh`)

`benchmarks/train_vs_sklearn.sh CUSTOMERS [key=value ...]` generates the customers once, then
times the project's `train` + `select` (default config, `local[2]`, each a JVM through
`./submit.sh`: wall times added, peak RSS the larger of the two) and `benchmarks/sklearn_peer.py`
(scikit-learn from Debian, the same families, grids, stratified folds and train / validation /
test rows, exported with the run's own split expressions; two cores: grid points two at a time,
one thread each) under GNU time. Test AUC-ROC is the ensemble's on the test split (project: the
selected voters' calibrated vote; peer: the mean of the top voters by validation AUC). Ratios are
project / peer (below 1: the project is faster or smaller).

| date | machine | customers | training rows | project (train + select) | scikit-learn peer | time ratio | RSS ratio | command |
|---|---|---|---|---|---|---|---|---|
EOF
fi
echo "$row" >> "$RESULTS"
echo "benchmark: row appended to $RESULTS" >&2
