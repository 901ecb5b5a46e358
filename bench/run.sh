#!/usr/bin/env bash
# Spoor's ingestion benchmark. Builds release binaries, starts `spoor serve` on a
# fresh store in a temporary directory, and runs the load generator against it over
# loopback. Prints one JSON line per scenario.
#
#   bash bench/run.sh            sustained batches, latency at half rate, single
#                                events, overload
#   bash bench/run.sh --large    also fills the store to 10 million events first,
#                                then measures the sustained rate again
#   bash bench/run.sh --two-nodes   (with BENCH_DATABASE_URL) one node, then two
#                                nodes on the same database, each with its own
#                                load generator; prints each node's rate
#
# With BENCH_DATABASE_URL=postgres://... the server runs on that PostgreSQL
# database instead of SQLite; give it an empty database.
set -euo pipefail
cd "$(dirname "$0")/.."
LARGE=0; [ "${1:-}" = "--large" ] && LARGE=1
TWO=0; [ "${1:-}" = "--two-nodes" ] && TWO=1
SECS=${BENCH_SECONDS:-30}

cargo build --release --locked -p spoor -p spoor-bench >&2
SPOOR=target/release/spoor
LOAD=target/release/spoor-bench
DATA=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT

STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
KEY=$($SPOOR "${STORE[@]}" keys create --name bench --rate-limit 1000000000 2>/dev/null)
start_server() {
  coproc SERVER { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 "$@" 2>/dev/null; }
  PID=$SERVER_PID
  read -r line <&"${SERVER[0]}"
  URL=${line#spoor listening on }
}
stop_server() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
run() { echo "{\"scenario\":\"$1\",\"result\":$($LOAD --url "$URL" --key "$KEY" --server-pid "$PID" --json "${@:2}")}"; }

start_server
if [ $TWO = 1 ]; then
  [ -n "${BENCH_DATABASE_URL:-}" ] || { echo "--two-nodes needs BENCH_DATABASE_URL" >&2; exit 2; }
  # CPU seconds a process has used so far, to tell how much work each event cost
  # the nodes whatever else shares the machine's cores.
  cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
  before=$(cpu "$PID")
  run "one_node_batch20" --mode batch --batch-size 20 --duration "$SECS" | tee "$DATA/one.json"
  one_cpu=$(echo "$(cpu "$PID") - $before" | bc)
  FIRST_PID=$PID FIRST_URL=$URL
  coproc SECOND { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 2>/dev/null; }
  read -r line <&"${SECOND[0]}"; SECOND_URL=${line#spoor listening on }
  before1=$(cpu "$PID"); before2=$(cpu "$SECOND_PID")
  $LOAD --url "$SECOND_URL" --key "$KEY" --json --duration "$SECS" > "$DATA/second.json" &
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
  # Fill the store with 10 million events (not measured), then measure on it.
  $LOAD --url "$URL" --key "$KEY" --events 10000000 --duration 100000 --json >/dev/null
  run "sustained_batch20_10M" --mode batch --batch-size 20 --duration "$SECS"
  exit 0
fi
run "sustained_batch20"      --mode batch --batch-size 20 --duration "$SECS"
run "half_rate_latency"      --mode batch --batch-size 20 --duration "$SECS" --rate 25000
run "single_track"           --mode track --duration "$SECS"
stop_server
# The load generator is one address standing for many clients: the cap on
# connections per client address would otherwise close most of its 1,024.
start_server --queue-events 5000 --max-connections-per-ip 2048
run "overload_1024_conns"    --mode batch --batch-size 20 --duration 20 --connections 1024
