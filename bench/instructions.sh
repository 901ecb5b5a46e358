#!/usr/bin/env bash
# The pipeline's instructions per event, build against build, counted by
# valgrind's callgrind: a count, not a time, so it comes out the same however
# busy the machine is, and a change of a few percent shows where a timed run's
# spread hides it.
#
#   bash bench/instructions.sh OLDEST_BUILD NEWER_BUILD...        SQLite
#
# Fills a store once through an ingest-only node (`spoor serve --role ingest`,
# BENCH_INSTR_EVENTS events of the benchmark's load, default 100,000), then for
# each BUILD (paths of `spoor` binaries, in the order given) copies the filled
# store and runs a derive-only node (`--role derive`) under callgrind until
# its backlog is drained: the same events from the same state, as
# `bench/catch_up.sh` reads them. Prints one JSON line per build: the
# instructions per event (the node's start, about a hundredth, included) and
# the callgrind file (kept in BENCH_INSTR_KEEP, default a temporary directory
# removed at the end), which `callgrind_annotate` breaks down by function.
#
# The benchmark's load spreads over 100,000 people, so in a 100,000-event
# fill about two events in three are a person's first. BENCH_INSTR_WARM=N
# first fills N events and derives them (with the first build, uncounted),
# then fills and counts BENCH_INSTR_EVENTS more: with N=300000 nearly every
# counted event is a returning person's, as in a long run.
#
# BENCH_INSTR_LOAD holds more of the load generator's options, to count
# another load: BENCH_INSTR_LOAD="--crm-customers 20000 --batch-size 50" is
# seed 003's business events from 20,000 customers, the CRM benchmark's
# active set (`bench/crm.sh`), each customer's contact written by most of
# their events.
#
# Build with debug information (the release profile has it) so that the
# breakdown names functions. Counting runs the pipeline about 50 times slower:
# the default takes four to five minutes a build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bash bench/instructions.sh OLDEST_SPOOR NEWER_SPOOR..." >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is needed (Debian package valgrind)" >&2; exit 2; }
EVENTS=${BENCH_INSTR_EVENTS:-100000}
WARM=${BENCH_INSTR_WARM:-0}
read -r -a MORE <<< "${BENCH_INSTR_LOAD:-}"
# shellcheck source=bench/setup.sh
. bench/setup.sh
KEEP=${BENCH_INSTR_KEEP:-$WORK}
mkdir -p "$KEEP"

start() { # ARGS...: starts a node, sets PID and URL
  coproc NODE { exec "$@" 2>/dev/null; }
  PID=$NODE_PID
  read -r -t 600 line <&"${NODE[0]}" || { echo "$* did not start" >&2; exit 1; }
  URL=${line#spoor listening on }
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
behind() { # the pipeline's backlog, from /metrics
  curl -s "$URL/metrics" | awk '/^spoor_pipeline_behind_events /{print $2}'
}

FIRST=$1
mkdir -p "$WORK/fill"
KEY=$("$FIRST" --data-dir "$WORK/fill" keys create --name bench \
  --rate-limit 100000000 --per-address-limit 0 2>/dev/null)
fill() { # N: sends N events of the load through an ingest-only node
  start "$FIRST" --data-dir "$WORK/fill" serve --listen 127.0.0.1:0 --role ingest
  "$LOAD" --url "$URL" --key "$KEY" --json --events "$1" --duration 100000 ${MORE[@]+"${MORE[@]}"} > "$WORK/fill.json"
  stop
  echo "{\"fill\":$(cat "$WORK/fill.json")}"
}
if [ "$WARM" -gt 0 ]; then
  # Returning people: WARM events derived first (by the first build, not
  # counted), so that the counted events mostly meet people already stored.
  fill "$WARM"
  start "$FIRST" --data-dir "$WORK/fill" serve --listen 127.0.0.1:0 --role derive
  until [ "$(behind)" -gt 0 ] 2>/dev/null; do sleep 1; done
  until [ "$(behind)" = 0 ]; do sleep 1; done
  stop
fi
fill "$EVENTS"

n=0
for spoor in "$@"; do
  n=$((n + 1))
  rm -rf "$WORK/run"
  cp -a "$WORK/fill" "$WORK/run"
  out="$KEEP/callgrind.$n.out"
  start valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$spoor" --data-dir "$WORK/run" serve --listen 127.0.0.1:0 --role derive
  # The backlog reads 0 until the first pass has ended.
  until [ "$(behind)" -gt 0 ] 2>/dev/null; do sleep 1; done
  until [ "$(behind)" = 0 ]; do sleep 1; done
  stop
  python3 - "$out" "$spoor" "$WORK/fill.json" <<'PY'
import json, sys
out, build, fill = sys.argv[1], sys.argv[2], sys.argv[3]
# The events the fill sent: the asked-for count rounded up to whole batches
# on every connection (101,260 for 100,000 in batches of 20 on 64).
counted = json.load(open(fill))["events"]
total = 0
for line in open(out):
    if line.startswith("totals:") or line.startswith("summary:"):
        total = int(line.split()[1])
print(json.dumps({
    "build": build,
    "events": counted,
    "instructions_per_event": round(total / counted),
    "callgrind_file": out,
}))
PY
done
