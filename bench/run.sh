#!/usr/bin/env bash
# Spoor's ingestion benchmark. Builds release binaries, starts `spoor serve` on a
# fresh store in a temporary directory, and runs the load generator against it over
# loopback. Prints one JSON line per scenario.
#
#   bash bench/run.sh            1,000 events/s for 20 s (steady_1000, on the
#                                fresh server: its server_peak_rss_mib is the
#                                "at 1,000 events/s" figure), sustained batches,
#                                latency at half rate, single events, overload;
#                                then the pipeline's CPU per event by stage in
#                                the sustained scenario (cpu_per_event_by_stage)
#   bash bench/run.sh --large    fills the store to 10 million events
#                                (BENCH_LARGE_EVENTS), measures how fast the
#                                pipeline catches up on them, then the sustained
#                                rate again
#   bash bench/run.sh --two-nodes   (with BENCH_DATABASE_URL) one node, then two
#                                nodes on the same database, each with its own
#                                load generator; prints each node's rate
#
# Every scenario watches the derived-data pipeline through /metrics
# (spoor-bench --watch-pipeline): its largest backlog, the time it takes to drain
# after the load (at most BENCH_DRAIN_TIMEOUT, default 60 s, then null), and its
# CPU per event by stage. Waiting for the drain also starts each scenario with
# the pipeline caught up.
#
# --large: when `spoor serve` has `--role`, the fill goes to an ingest-only
# server (the pipeline does not run), then a derive-only server on the same store
# reads the backlog: "catch_up_after_10M_import", the catch-up after a 10-million-
# event import. Without `--role` (or with BENCH_LARGE_IMPORT=0), the pipeline
# runs during the fill and falls behind; "catch_up_after_10M_fill" is the rate at
# which its backlog falls after the fill. Either waits at most
# BENCH_CATCH_UP_TIMEOUT (default 1800 s); if the backlog has not drained by
# then, the rate is over the wait. BENCH_LARGE_IMPORT=1 insists on the roles.
#
# With BENCH_DATABASE_URL=postgres://... the server runs on that PostgreSQL
# database instead of SQLite; give it an empty database.
set -euo pipefail
cd "$(dirname "$0")/.."
LARGE=0; [ "${1:-}" = "--large" ] && LARGE=1
TWO=0; [ "${1:-}" = "--two-nodes" ] && TWO=1
SECS=${BENCH_SECONDS:-30}
STEADY_SECS=${BENCH_STEADY_SECONDS:-20}
LARGE_EVENTS=${BENCH_LARGE_EVENTS:-10000000}

# BENCH_SPOOR=PATH measures another build of spoor (the version before a
# change, side by side in one sitting) with this tree's load generator.
cargo build --release --locked -p spoor-bench >&2
if [ -n "${BENCH_SPOOR:-}" ]; then
  SPOOR=$BENCH_SPOOR
else
  cargo build --release --locked -p spoor >&2
  SPOOR=target/release/spoor
fi
LOAD=target/release/spoor-bench
DATA=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && { kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; }; rm -rf "$DATA"' EXIT

STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
KEY=$($SPOOR "${STORE[@]}" keys create --name bench --rate-limit 100000000 --per-address-limit 0 2>/dev/null)
start_server() {
  coproc SERVER { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 "$@" 2>/dev/null; }
  PID=$SERVER_PID
  # A server that fails to start would otherwise leave the read waiting for ever.
  read -r -t 300 line <&"${SERVER[0]}" || { echo "spoor serve $* did not start" >&2; exit 1; }
  URL=${line#spoor listening on }
}
stop_server() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
DRAIN=${BENCH_DRAIN_TIMEOUT:-60}
# Each result is also kept in $DATA/NAME.json, for the summary lines.
run() {
  $LOAD --url "$URL" --key "$KEY" --server-pid "$PID" --json --watch-pipeline --drain-timeout "$DRAIN" "${@:2}" > "$DATA/$1.json"
  echo "{\"scenario\":\"$1\",\"result\":$(cat "$DATA/$1.json")}"
}
# The pipeline's CPU per event by stage in one scenario, with their sum.
cpu_by_stage() {
  python3 - "$DATA/$1.json" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
per = r.get("pipeline_cpu_us_per_event")
if per:
    per = dict(per, total=round(sum(per.values()), 3))
print(json.dumps({"scenario": "cpu_per_event_by_stage", "from": sys.argv[2],
                  "events": r.get("pipeline_events_read"), "us_per_event": per},
                 separators=(",", ":")))
PY
}
# 10000000 -> 10M, 300000 -> 300k: the fill's size in scenario names.
short() { awk -v n="$1" 'BEGIN { if (n % 1000000 == 0) printf "%dM", n / 1000000; else if (n % 1000 == 0) printf "%dk", n / 1000; else printf "%d", n }'; }

if [ $TWO = 1 ]; then
  [ -n "${BENCH_DATABASE_URL:-}" ] || { echo "--two-nodes needs BENCH_DATABASE_URL" >&2; exit 2; }
  start_server
  # CPU seconds a process has used so far, to tell how much work each event cost
  # the nodes whatever else shares the machine's cores (the pipeline's drain
  # after the load included).
  cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
  before=$(cpu "$PID")
  run "one_node_batch20" --mode batch --batch-size 20 --duration "$SECS" | tee "$DATA/one.json"
  one_cpu=$(echo "$(cpu "$PID") - $before" | bc)
  FIRST_PID=$PID FIRST_URL=$URL
  coproc SECOND { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 2>/dev/null; }
  read -r line <&"${SECOND[0]}"; SECOND_URL=${line#spoor listening on }
  before1=$(cpu "$PID"); before2=$(cpu "$SECOND_PID")
  $LOAD --url "$SECOND_URL" --key "$KEY" --json --watch-pipeline --drain-timeout "$DRAIN" --duration "$SECS" > "$DATA/second.json" &
  LOAD2=$!
  run "two_nodes_first" --mode batch --batch-size 20 --duration "$SECS" | tee "$DATA/first.json"
  wait $LOAD2
  two_cpu=$(echo "$(cpu "$PID") - $before1 + $(cpu "$SECOND_PID") - $before2" | bc)
  echo "{\"scenario\":\"two_nodes_second\",\"result\":$(cat "$DATA/second.json")}"
  rate() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("result", d)["events_per_sec"])' "$1"; }
  one=$(rate "$DATA/one.json"); two=$(echo "$(rate "$DATA/first.json") + $(rate "$DATA/second.json")" | bc)
  echo "{\"scenario\":\"cpu_per_event\",\"one_node_events_per_cpu_second\":$(echo "$one * $SECS / $one_cpu" | bc),\"two_nodes_events_per_cpu_second\":$(echo "$two * $SECS / $two_cpu" | bc)}"
  kill "$SECOND_PID"; wait "$SECOND_PID" 2>/dev/null || true
  exit 0
fi
if [ $LARGE = 1 ]; then
  N=$(short "$LARGE_EVENTS")
  CATCH_UP_TIMEOUT=${BENCH_CATCH_UP_TIMEOUT:-1800}
  IMPORT=${BENCH_LARGE_IMPORT:-auto}
  # Not a pipe into grep -q: under pipefail, its early exit fails the pipe.
  if [ "$IMPORT" = auto ]; then
    [[ $($SPOOR serve --help) == *--role* ]] && IMPORT=1 || IMPORT=0
  fi
  if [ "$IMPORT" = 1 ]; then
    # The fill, with the pipeline off: an import. Not watched (nothing drains).
    start_server --role ingest
    echo "{\"scenario\":\"import_$N\",\"result\":$($LOAD --url "$URL" --key "$KEY" --server-pid "$PID" --json --events "$LARGE_EVENTS" --duration 100000)}"
    stop_server
    # The pipeline alone on the backlog; the generator sends nothing.
    start_server --role derive
    DRAIN=$CATCH_UP_TIMEOUT run "catch_up_after_${N}_import" --duration 0 --connections 1 --catch-up
    stop_server
    cpu_from="catch_up_after_${N}_import"
  else
    # No roles: the pipeline runs beside the fill, falls behind, and catches
    # up once the fill stops.
    start_server
    DRAIN=$CATCH_UP_TIMEOUT run "catch_up_after_${N}_fill" --events "$LARGE_EVENTS" --duration 100000 --catch-up
    stop_server
    cpu_from="catch_up_after_${N}_fill"
  fi
  start_server
  run "sustained_batch20_10M" --mode batch --batch-size 20 --duration "$SECS"
  cpu_by_stage "$cpu_from"
  exit 0
fi
start_server
# First, on the fresh server: its peak RSS is the memory at 1,000 events/s, not
# what a heavier scenario before it left behind.
run "steady_1000"            --mode batch --batch-size 20 --duration "$STEADY_SECS" --rate 1000
run "sustained_batch20"      --mode batch --batch-size 20 --duration "$SECS"
run "half_rate_latency"      --mode batch --batch-size 20 --duration "$SECS" --rate 25000
run "single_track"           --mode track --duration "$SECS"
stop_server
# The load generator is one address standing for many clients: the cap on
# connections per client address would otherwise close most of its 1,024.
start_server --queue-events 5000 --max-connections-per-ip 2048
run "overload_1024_conns"    --mode batch --batch-size 20 --duration 20 --connections 1024
cpu_by_stage "sustained_batch20"
