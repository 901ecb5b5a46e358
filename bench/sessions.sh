#!/usr/bin/env bash
# Does the sessions processor (sessions, identities and customer summaries) keep
# up with ingestion? Starts `spoor serve` on a fresh store, sends events at a
# fixed rate (BENCH_RATE, default 50,000 a second) for BENCH_SECONDS (default 30)
# with the load generator (100,000 users, each with their own session), samples
# the processor's backlog (`spoor_pipeline_behind_events`) every 2 s, then times
# how long it takes to read the rest once the load stops. Prints one JSON line;
# `keeps_up` says whether the backlog at the end is below its peak in the first
# half of the run (the first seconds, when every person is new, only read).
# The server takes SPOOR_* settings from the environment: the working set must
# hold the people active at once to keep up.
#
#   SPOOR_MEMORY_BUDGET=4000000000 BENCH_SECONDS=40 bash bench/sessions.sh   (a quarter of it holds 200,000 people)
#   BENCH_DATABASE_URL=postgres://... bash bench/sessions.sh   (an empty database)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${BENCH_SECONDS:-30}
RATE=${BENCH_RATE:-50000}

cargo build --release --locked -p spoor -p spoor-bench >&2
SPOOR=target/release/spoor
LOAD=target/release/spoor-bench
DATA=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
KEY=$($SPOOR "${STORE[@]}" keys create --name bench --rate-limit 100000000 --per-address-limit 0 2>/dev/null)
coproc SERVER { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 2>/dev/null; }
PID=$SERVER_PID
read -r line <&"${SERVER[0]}"
URL=${line#spoor listening on }

behind() {
  curl -s "$URL/metrics" | awk '/^spoor_pipeline_behind_events /{print $2}'
}
$LOAD --url "$URL" --key "$KEY" --json --mode batch --batch-size 20 --rate "$RATE" --duration "$SECS" > "$DATA/load.json" &
LOADER=$!
samples=()
while kill -0 "$LOADER" 2>/dev/null; do
  sleep 2
  samples+=("$(behind)")
done
wait "$LOADER"
end_backlog=$(behind)
drain_start=$(date +%s.%N)
while [ "$(behind)" != "0" ]; do sleep 0.5; done
drain=$(echo "$(date +%s.%N) - $drain_start" | bc)
events=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["status_200"]*d["batch_size"])' "$DATA/load.json")
rate=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events_per_sec"])' "$DATA/load.json")
python3 - "$events" "$rate" "$SECS" "$end_backlog" "$drain" "${samples[@]}" <<'PY'
import json, sys
events, rate, secs, backlog, drain = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4] or 0), float(sys.argv[5])
samples = [int(s) for s in sys.argv[6:] if s]
print(json.dumps({
    "scenario": "sessions_processor_under_load",
    "ingested_events_per_sec": rate,
    "backlog_every_2s": samples,
    "backlog_at_end": backlog,
    "drain_seconds": round(drain, 1),
    # Everything read, over the time from the first event to the last read.
    "processed_events_per_sec": round(events / (secs + drain)),
    "keeps_up": bool(samples) and backlog <= max(samples[: max(1, len(samples) // 2)]),
}))
PY
