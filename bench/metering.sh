#!/usr/bin/env bash
# Usage metering: the cleanup job over BENCH_CALLS (default 1,000,000) call
# sessions, 10% of them without a call_end, and the billing report over
# BENCH_EVENTS (default 10,000,000) widget events.
#
# Starts `spoor serve` on a fresh store with 20 widgets. Sends the call sessions
# (a load, an open, a call_start and, for 90%, a call_end; calls started between
# an hour and 20 days ago) with the load generator, waits until the metering
# processor has read them, and times the cleanup (POST /api/analytics/cleanup).
# Then sends more sessions until the log holds BENCH_EVENTS widget events, waits
# again, and asks /v1/metering/usage for the bill of the last 31 days grouped by
# month, 10 times. Prints one JSON line.
#
#   bash bench/metering.sh
#   BENCH_DATABASE_URL=postgres://... bash bench/metering.sh   (an empty database)
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${BENCH_CALLS:-1000000}
EVENTS=${BENCH_EVENTS:-10000000}
cargo build --release --locked -p spoor -p spoor-bench >&2
SPOOR=target/release/spoor
DATA=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
KEY=$($SPOOR "${STORE[@]}" keys create --name bench --rate-limit 100000000 --per-address-limit 0 2>/dev/null)
TOKEN=$($SPOOR "${STORE[@]}" tokens create --name bench 2>/dev/null)
WIDGETS=$(for i in $(seq 1 20); do $SPOOR "${STORE[@]}" widgets create --name "widget $i" 2>/dev/null; done | paste -sd,)
coproc SERVER { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 2>/dev/null; }
PID=$SERVER_PID
read -r line <&"${SERVER[0]}"
URL=${line#spoor listening on }

behind() { curl -s "$URL/metrics" | awk '/^spoor_pipeline_behind_events /{print $2}'; }
wait_metering() { until [ "$(behind)" = "0" ]; do sleep 1; done; }
# Each session averages 3.9 events.
send() {
  target/release/spoor-bench --url "$URL" --key "$KEY" --widget-ids "$WIDGETS" --batch-size 10 \
    --spread-days 20 --events "$1" --duration 100000 --json
}

t0=$(date +%s.%N)
send $((CALLS * 39 / 10)) > "$DATA/load1.json"
wait_metering
processed1=$(echo "$(date +%s.%N) - $t0" | bc)
cleanup=$(curl -s -w ' %{time_total}' -X POST "$URL/api/analytics/cleanup")
t1=$(date +%s.%N)
sent1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"])' "$DATA/load1.json")
send $((EVENTS - sent1)) > "$DATA/load2.json"
# The inferred ends and the new sessions, read.
wait_metering
processed2=$(echo "$(date +%s.%N) - $t1" | bc)
python3 - "$URL" "$TOKEN" "$cleanup" "$processed1" "$processed2" "$DATA/load1.json" "$DATA/load2.json" <<'PY'
import json, sys, time, urllib.request
url, token, cleanup, p1, p2, l1, l2 = sys.argv[1:8]
cleanup_body, cleanup_secs = cleanup.rsplit(" ", 1)
now = int(time.time() * 1000)
q = f"from={now - 31 * 86400000}&to={now + 86400000}&group=month"
def ask():
    req = urllib.request.Request(f"{url}/v1/metering/usage?{q}", headers={"Authorization": f"Bearer {token}"})
    t = time.perf_counter()
    body = json.load(urllib.request.urlopen(req))
    return (time.perf_counter() - t) * 1000, body
times, body = [], None
for _ in range(10):
    ms, body = ask()
    times.append(ms)
times.sort()
t = body["totals"]
load1, load2 = json.load(open(l1)), json.load(open(l2))
events = load1["events"] + load2["events"]
print(json.dumps({
    "scenario": "metering",
    "cleanup": {
        "call_sessions": round(load1["events"] / 3.9),
        "seconds": round(float(cleanup_secs), 2),
        "answer": json.loads(cleanup_body)["detail"],
    },
    "first_load_and_processing_seconds": round(float(p1), 1),
    "ingest_events_per_sec": [load1["events_per_sec"], load2["events_per_sec"]],
    "billing": {
        "widget_events": events,
        "calls": t["calls"], "completed": t["completed"], "inferred": t["inferred"],
        "rows": len(body["rows"]),
        "ms_p50": round(times[len(times) // 2], 1), "ms_max": round(times[-1], 1),
    },
    "second_load_and_processing_seconds": round(float(p2), 1),
}))
PY
