#!/usr/bin/env bash
# Ingestion alone, build against build: what an event costs the server's CPU.
#
#   bash bench/ingest_cpu.sh OLD_BUILD NEW_BUILD...        SQLite
#   BENCH_DATABASE_URL=postgres://USER@HOST/NAME bash bench/ingest_cpu.sh OLD NEW...
#
# For each round (BENCH_ROUNDS, default 3) and each BUILD (paths of `spoor`
# binaries, in the order given), starts an ingest-only node (`spoor serve --role
# ingest`: no pipeline beside it) on a fresh store and sends it the benchmark's
# load for BENCH_SECONDS (default 10) with the load generator's other options
# taken from BENCH_LOAD (default `--mode batch --batch-size 20`; `--mode track`
# for single events). Prints one JSON line per run: the rate, the p99, and the
# server's CPU time (user and system, from /proc) over the events it took.
#
# Rates move with whatever else the machine does; CPU per event moves much
# less, so it tells two builds apart where the rate cannot.
#
# On PostgreSQL, BENCH_DATABASE_URL names a server and a scratch database name;
# each run gets NAME_run, dropped and made again.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bash bench/ingest_cpu.sh OLD_SPOOR NEW_SPOOR..." >&2; exit 2; }
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-10}
read -r -a LOAD_ARGS <<< "${BENCH_LOAD:---mode batch --batch-size 20}"
# shellcheck source=bench/setup.sh
. bench/setup.sh
store_args() { # DIR
  if [ -n "$PG" ]; then echo "--data-dir $1 --database-url $SERVER/${NAME}_run"; else echo "--data-dir $1"; fi
}
# CPU clock ticks a process has used so far.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

for round in $(seq 1 "$ROUNDS"); do
  for spoor in "$@"; do
    rm -rf "$WORK/run"
    mkdir -p "$WORK/run"
    if [ -n "$PG" ]; then
      admin "DROP DATABASE IF EXISTS ${NAME}_run"
      admin "CREATE DATABASE ${NAME}_run"
    fi
    # shellcheck disable=SC2046
    KEY=$("$spoor" $(store_args "$WORK/run") keys create --name bench \
      --rate-limit 100000000 --per-address-limit 0 2>/dev/null)
    # shellcheck disable=SC2046
    coproc NODE { exec "$spoor" $(store_args "$WORK/run") serve --listen 127.0.0.1:0 --role ingest 2>/dev/null; }
    PID=$NODE_PID
    read -r -t 300 line <&"${NODE[0]}" || { echo "$spoor did not start" >&2; exit 1; }
    URL=${line#spoor listening on }
    before=$(ticks "$PID")
    "$LOAD" --url "$URL" --key "$KEY" --json --duration "$SECS" "${LOAD_ARGS[@]}" > "$WORK/run.json"
    after=$(ticks "$PID")
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
    python3 - "$WORK/run.json" "$spoor" "$round" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[0])
cpu = (float(sys.argv[5]) - float(sys.argv[4])) / float(sys.argv[6])
events = r["events"]
print(json.dumps({
    "build": sys.argv[2], "round": int(sys.argv[3]),
    "events_per_sec": r["events_per_sec"], "requests_per_sec": r["requests_per_sec"],
    "p99_ms": r["latency_ms"]["p99"],
    "server_cpu_us_per_event": round(1e6 * cpu / events, 2) if events else None,
}, separators=(",", ":")))
PY
  done
done
if [ -n "$PG" ]; then admin "DROP DATABASE IF EXISTS ${NAME}_run"; fi
