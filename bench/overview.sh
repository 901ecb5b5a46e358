#!/usr/bin/env bash
# The overview benchmark. Fills a fresh store with events spread over the past
# 35 days (10 million by default; BENCH_EVENTS to change), waits for the rollup
# processor to read them all, then times the dashboard's overview API for the
# last 30 days, 7 days and 24 hours. Prints one JSON line per range.
#
#   bash bench/overview.sh
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/EMPTY_DB bash bench/overview.sh
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${BENCH_EVENTS:-10000000}
RUNS=${BENCH_RUNS:-20}

cargo build --release --locked -p spoor -p spoor-bench >&2
SPOOR=target/release/spoor
LOAD=target/release/spoor-bench
DATA=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT

STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
KEY=$($SPOOR "${STORE[@]}" keys create --name bench --rate-limit 100000000 --per-address-limit 0 2>/dev/null)
TOKEN=$($SPOOR "${STORE[@]}" tokens create --name bench 2>/dev/null)
coproc SERVER { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 2>/dev/null; }
PID=$SERVER_PID
read -r line <&"${SERVER[0]}"
URL=${line#spoor listening on }

started=$(date +%s)
$LOAD --url "$URL" --key "$KEY" --events "$EVENTS" --duration 100000 --spread-days 35 --json >&2
echo "loaded $EVENTS events in $(( $(date +%s) - started )) s; waiting for the rollups" >&2
behind() { curl -s "$URL/metrics" | awk '/^spoor_pipeline_behind_events /{print $2}'; }
sleep 2
zeros=0
while [ "$zeros" -lt 2 ]; do
  if [ "$(behind)" = "0" ]; then zeros=$((zeros + 1)); else zeros=0; fi
  sleep 1
done
echo "rolled up after $(( $(date +%s) - started )) s" >&2

for range in 30d 7d 24h; do
  times=()
  for _ in $(seq "$RUNS"); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
      "$URL/api/projects/1/overview?range=$range")")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  p50=$(echo "$sorted" | awk -v n="$RUNS" 'NR == int((n + 1) / 2) {print $1 * 1000}')
  max=$(echo "$sorted" | tail -1 | awk '{print $1 * 1000}')
  total=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/projects/1/overview?range=$range" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["events"])')
  echo "{\"range\":\"$range\",\"events_in_range\":$total,\"runs\":$RUNS,\"p50_ms\":$p50,\"max_ms\":$max}"
done
