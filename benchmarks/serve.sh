#!/usr/bin/env bash
# Real-time service benchmark: benchmarks/serve.sh WAREHOUSE [REPLICATE]
#   WAREHOUSE  a warehouse the pipeline wrote (a champion, customer_propensity, features), e.g. the
#              demo's ./warehouse; it is copied, never changed
#   REPLICATE  make the copy's lookup table REPLICATE times larger (ids <id>-<k>), e.g. 500 turns a
#              2,000-customer table into 1M rows (default 1: as it is)
# WAREHOUSE may also be the folder an earlier run prepared (printed at its end): it is reused as is.
# Load generator: wrk (Debian package; installed when missing). Reports start-up, lookups and
# single scores at 1 to 64 connections, 100-row batch scores, reload under load and memory.
# Results: benchmarks/RESULTS-serve.md. Not part of mvn verify.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${1:?usage: benchmarks/serve.sh WAREHOUSE [REPLICATE]}"
REPLICATE="${2:-1}"
DURATION="${BENCH_DURATION:-10s}"
PORT="${BENCH_PORT:-18080}"
OUT="$(mktemp -d /tmp/serve-bench.XXXXXX)"
W="$OUT/warehouse"
command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
export LUA_DIR="$HERE/benchmarks/serve"

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
if [[ -f "$SRC/ids.txt" && -d "$SRC/warehouse" ]]; then
  OUT="$SRC"; W="$OUT/warehouse"
  echo "== reusing $OUT"
else
  cp -r "$SRC" "$W"
  sql() { "$HERE/submit.sh" sql "$1" --csv ${2:-} "warehouse=$W" 2>/dev/null; }
  # the lookups carry segment and action: the segments job's table, when the source has none
  [[ -d "$W/customer_segments" ]] || "$HERE/submit.sh" segments "warehouse=$W" >/dev/null 2>&1 \
    || echo "== (segments job failed: lookups without segment and action)"
  if [[ "$REPLICATE" -gt 1 ]]; then
    echo "== replicating customer_propensity ${REPLICATE}x (Spark, once)"
    sql "CREATE OR REPLACE TABLE customer_propensity_big USING delta LOCATION '$W/customer_propensity_big'
         AS SELECT concat(customer_id, '-', CAST(k.id AS STRING)) AS customer_id, propensity, bin, group_label,
           voter_probabilities, reason_codes, run_id, snapshot_date, scored_at, is_stale
         FROM customer_propensity p CROSS JOIN range($REPLICATE) k" --allow-writes >/dev/null
    rm -rf "$W/customer_propensity" && mv "$W/customer_propensity_big" "$W/customer_propensity"
    if [[ -d "$W/customer_segments" ]]; then
      sql "CREATE OR REPLACE TABLE customer_segments_big USING delta PARTITIONED BY (snapshot_date)
           LOCATION '$W/customer_segments_big'
           AS SELECT concat(customer_id, '-', CAST(k.id AS STRING)) AS customer_id, snapshot_date,
             run_id, propensity, bin, group_label, propensity_group, profit, profit_tier, segment, action,
             created_at
           FROM customer_segments CROSS JOIN range($REPLICATE) k" --allow-writes >/dev/null
      rm -rf "$W/customer_segments" && mv "$W/customer_segments_big" "$W/customer_segments"
    fi
  fi
  sql "SELECT customer_id FROM customer_propensity LIMIT 200000" | tail -n +2 > "$OUT/ids.txt"
  sql "SELECT to_json(struct(*), map('ignoreNullFields', 'false')) AS j FROM features WHERE snapshot_date = (SELECT max(snapshot_date) FROM features) LIMIT 100" \
    | tail -n +2 > "$OUT/rows.csv"
  python3 - "$OUT" <<'PY'
import csv, json, sys
out = sys.argv[1]
rows = [json.loads(r[0]) for r in csv.reader(open(out + "/rows.csv"))]
json.dump(rows[0], open(out + "/one.json", "w"))
json.dump({"rows": rows[:100]}, open(out + "/batch.json", "w"))
PY
  echo "== lookup table: $(wc -l < "$OUT/ids.txt") ids sampled; batch body $(wc -c < "$OUT/batch.json") bytes"
fi

# build first, so start-up is the service's own
(cd "$HERE" && mvn -B -q -DskipTests -pl serve -am package) >&2
start=$(date +%s.%N)
PROPENSITY_SERVE_MEMORY="${BENCH_XMX:-3g}" "$HERE/submit.sh" serve "warehouse=$W" "serve.port=$PORT" \
  serve.reload-interval=0s serve.access-log=false > "$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null; do
  kill -0 $SERVER 2>/dev/null || { cat "$OUT/serve.log"; exit 1; }
  sleep 0.1
done
echo "== start-up to ready: $(echo "$(date +%s.%N) - $start" | bc) s (JVM start, Kernel read, index, model)"
curl -s "http://127.0.0.1:$PORT/ready"; echo

run() { # name connections wrk-args...
  local name=$1 c=$2; shift 2
  printf '%-22s c=%-3s ' "$name" "$c"
  wrk -t "$(( c < 2 ? 1 : 2 ))" -c "$c" -d "$DURATION" "$@" | grep '^RESULT' | sed 's/^RESULT //' || echo "(wrk failed)"
}
for c in 1 4 16 64; do IDS="$OUT/ids.txt" run lookup "$c" -s "$LUA_DIR/lookup.lua" "http://127.0.0.1:$PORT"; done
for c in 1 4 16 64; do BODY="$OUT/one.json" run score "$c" -s "$LUA_DIR/post.lua" "http://127.0.0.1:$PORT/score"; done
for c in 1 4 16; do BODY="$OUT/batch.json" run "score/batch(100)" "$c" -s "$LUA_DIR/post.lua" "http://127.0.0.1:$PORT/score/batch"; done

echo "== reload under load: lookups at 16 connections for 20 s, three forced reloads meanwhile"
IDS="$OUT/ids.txt" wrk -t 2 -c 16 -d 20s -s "$LUA_DIR/lookup.lua" "http://127.0.0.1:$PORT" > "$OUT/reload-wrk.txt" &
WRK=$!
for i in 1 2 3; do sleep 4; curl -s -X POST "http://127.0.0.1:$PORT/admin/reload"; echo; done
wait $WRK
grep '^RESULT' "$OUT/reload-wrk.txt" | sed 's/^RESULT /lookup during reloads   /'
echo "== memory: RSS $(( $(ps -o rss= -p "$(pgrep -P $SERVER java || echo $SERVER)") / 1024 )) MiB"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^propensity_serve_(reload|customers|table_version)'
echo "== files in $OUT"
