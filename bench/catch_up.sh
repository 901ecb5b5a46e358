#!/usr/bin/env bash
# The derivation pipeline alone, build against build, on one backlog.
#
#   bash bench/catch_up.sh OLDEST_BUILD NEWER_BUILD...        SQLite
#   BENCH_DATABASE_URL=postgres://USER@HOST/NAME bash bench/catch_up.sh OLDEST NEWER...
#
# Fills a store once through an ingest-only node (`spoor serve --role ingest`,
# BENCH_CATCH_UP_EVENTS events of the benchmark's load, default 300,000), then,
# for each round (BENCH_ROUNDS, default 2) and each BUILD (paths of `spoor`
# binaries, in the order given), copies the filled store and times a
# derive-only node (`--role derive`) reading the whole backlog. Every build
# reads the same events from the same state, so the spread between runs is
# the machine's alone. Prints one JSON line per run: the catch-up rate and the
# pipeline's CPU per event by stage; on PostgreSQL also each table's row
# updates and how many were made in place (`pg_updates`): an update in place
# writes no index entry, so the tables whose updates are not are where
# PostgreSQL's index work goes.
#
# On PostgreSQL, BENCH_DATABASE_URL names a server and a scratch database
# name; the fill goes to NAME_fill, each run to a copy, NAME_run (CREATE
# DATABASE ... TEMPLATE). Both are dropped and made again.
#
# The fill is made with the first BUILD, and each run's build migrates its copy
# to what it knows before it reads: give the oldest build first, so that each
# build reads with its own schema (a store a newer build migrated stays so).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bash bench/catch_up.sh OLDEST_SPOOR NEWER_SPOOR..." >&2; exit 2; }
EVENTS=${BENCH_CATCH_UP_EVENTS:-300000}
ROUNDS=${BENCH_ROUNDS:-2}
TIMEOUT=${BENCH_CATCH_UP_TIMEOUT:-1800}
# shellcheck source=bench/setup.sh
. bench/setup.sh
if [ -n "$PG" ]; then
  admin "DROP DATABASE IF EXISTS ${NAME}_run"
  admin "DROP DATABASE IF EXISTS ${NAME}_fill"
  admin "CREATE DATABASE ${NAME}_fill"
fi
store_args() { # DIR DATABASE
  if [ -n "$PG" ]; then echo "--data-dir $1 --database-url $SERVER/$2"; else echo "--data-dir $1"; fi
}
start() { # BINARY ARGS...
  coproc NODE { exec "$@" 2>/dev/null; }
  PID=$NODE_PID
  read -r -t 300 line <&"${NODE[0]}" || { echo "$* did not start" >&2; exit 1; }
  URL=${line#spoor listening on }
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }

FIRST=$1
mkdir -p "$WORK/fill"
# shellcheck disable=SC2046
KEY=$("$FIRST" $(store_args "$WORK/fill" "${NAME:-}_fill") keys create --name bench \
  --rate-limit 100000000 --per-address-limit 0 2>/dev/null)
# shellcheck disable=SC2046
start "$FIRST" $(store_args "$WORK/fill" "${NAME:-}_fill") serve --listen 127.0.0.1:0 --role ingest
"$LOAD" --url "$URL" --key "$KEY" --json --events "$EVENTS" --duration 100000 > "$WORK/fill.json"
stop
echo "{\"fill\":$(cat "$WORK/fill.json")}"

for round in $(seq 1 "$ROUNDS"); do
  for spoor in "$@"; do
    rm -rf "$WORK/run"
    cp -a "$WORK/fill" "$WORK/run"
    if [ -n "$PG" ]; then
      admin "DROP DATABASE IF EXISTS ${NAME}_run"
      admin "CREATE DATABASE ${NAME}_run TEMPLATE ${NAME}_fill"
    fi
    # shellcheck disable=SC2046
    start "$spoor" $(store_args "$WORK/run" "${NAME:-}_run") serve --listen 127.0.0.1:0 --role derive
    "$LOAD" --url "$URL" --key "$KEY" --server-pid "$PID" --json --watch-pipeline \
      --drain-timeout "$TIMEOUT" --duration 0 --connections 1 --catch-up > "$WORK/run.json"
    stop
    # On PostgreSQL, each table's row updates and how many of them were made
    # in place (heap-only: no index entry written), from the statistics the
    # node's connections left when they closed.
    UPDATES='{}'
    if [ -n "$PG" ]; then
      # A connection's counts reach the statistics when it ends: wait (at most
      # 10 s) until the node's have.
      for _ in $(seq 1 20); do
        [ "$(psql -X -q -At "$SERVER/${NAME}_run" -c "SELECT count(*) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()")" = 0 ] && break
        sleep 0.5
      done
      UPDATES=$(psql -X -q -At "$SERVER/${NAME}_run" -c "SELECT coalesce(json_object_agg(
          relname, json_build_object('updates', n_tup_upd, 'in_place', n_tup_hot_upd)), '{}')
        FROM pg_stat_user_tables WHERE n_tup_upd > 0")
    fi
    python3 - "$WORK/run.json" "$spoor" "$round" "$UPDATES" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpu = r.get("pipeline_cpu_us_per_event") or {}
line = {
    "build": sys.argv[2],
    "round": int(sys.argv[3]),
    "events_per_sec": r.get("pipeline_events_per_sec_catch_up"),
    "drained": (r.get("pipeline_catch_up") or {}).get("drained"),
    "cpu_us_per_event": round(sum(cpu.values()), 1),
    "cpu_by_stage": cpu,
    "peak_rss_mib": r.get("server_peak_rss_mib_with_drain"),
}
updates = json.loads(sys.argv[4])
if updates:
    line["pg_updates"] = updates
print(json.dumps(line))
PY
  done
done
if [ -n "$PG" ]; then
  admin "DROP DATABASE IF EXISTS ${NAME}_run"
  admin "DROP DATABASE IF EXISTS ${NAME}_fill"
fi
