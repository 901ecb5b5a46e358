#!/usr/bin/env bash
# The CRM: whether the CRM keeps up with business events arriving at BENCH_RATE
# (default 10,000) a second, and how fast the contacts list answers a filtered,
# sorted page over BENCH_CONTACTS (default 1,000,000) contacts.
#
# 1. Fills a fresh store with the contacts (the crm_contacts example, through
#    the store's CRM writes), then starts `spoor serve` on it.
# 2. The rate: seed 003's business events (spoor-bench --crm-customers: views,
#    searches, logins, bookings, payments, each with the customer's email) for
#    BENCH_SECONDS (default 60) at the rate, in visits as a site gets them:
#    BENCH_ACTIVE (default 20,000) customers active at a time, all replaced
#    every minute. The load generator watches the backlog (spoor-bench
#    --watch-pipeline): the pipeline's (`spoor_pipeline_behind_events`; the CRM
#    is one of its folds), or on a server without it the CRM processor's
#    (`spoor_pipeline_behind_events`), every 250 ms, kept
#    every 2 s, and the time it takes to drain after the load (at most
#    BENCH_DRAIN_TIMEOUT, default 600 s). The CRM keeps up ("keeps_up") when
#    the load reached 95% of the rate, the backlog drained within
#    BENCH_KEEP_UP_SECONDS (default 5) of the load's end, and (where the
#    server tells it, `spoor_pipeline_behind_seconds`) the oldest unread event
#    was never older than that: it stayed within a few seconds of the events.
# 3. The worst case: BENCH_UNIFORM (default 500,000) events from any of the
#    contacts at random (each touches a contact no recent event did), sent as
#    fast as they are taken; the time until the CRM has read them all (null
#    when it has not within BENCH_DRAIN_TIMEOUT of the load's end).
# 4. Filtered, sorted pages of the contacts list, 10 asks each.
#
# Prints one JSON line (times in ms as the client measured them).
#
#   bash bench/crm.sh
#   BENCH_DATABASE_URL=postgres://... bash bench/crm.sh   (an empty database)
#   SPOOR_MEMORY_BUDGET=256MiB bash bench/crm.sh           (the server's budget)
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${BENCH_RATE:-10000}
SECONDS_AT_RATE=${BENCH_SECONDS:-60}
CONTACTS=${BENCH_CONTACTS:-1000000}
ACTIVE=${BENCH_ACTIVE:-20000}
UNIFORM=${BENCH_UNIFORM:-500000}
DRAIN=${BENCH_DRAIN_TIMEOUT:-600}
KEEP_UP=${BENCH_KEEP_UP_SECONDS:-5}
# BENCH_SPOOR=PATH measures another build of spoor (the version before a
# change, side by side in one sitting) with this tree's load generator.
cargo build --release --locked -p spoor-bench >&2
cargo build --release --locked -p spoor-store --example crm_contacts >&2
if [ -n "${BENCH_SPOOR:-}" ]; then
  SPOOR=$BENCH_SPOOR
else
  cargo build --release --locked -p spoor >&2
  SPOOR=target/release/spoor
fi
DATA=${BENCH_DATA:-$(mktemp -d)}
PID=
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; [ -z "${BENCH_DATA:-}" ] && rm -rf "$DATA"' EXIT
STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
KEY=$($SPOOR "${STORE[@]}" keys create --name bench --rate-limit 100000000 --per-address-limit 0 2>/dev/null)
TOKEN=$($SPOOR "${STORE[@]}" tokens create --name bench 2>/dev/null)
target/release/examples/crm_contacts "$CONTACTS" "${BENCH_DATABASE_URL:-$DATA}" 2>/dev/null > "$DATA/fill.json"
coproc SERVER { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 2>/dev/null; }
PID=$SERVER_PID
read -r line <&"${SERVER[0]}"
URL=${line#spoor listening on }

LOAD=(target/release/spoor-bench --url "$URL" --key "$KEY" --server-pid "$PID" --crm-customers "$CONTACTS" --batch-size 50 --json
      --watch-pipeline --watch-processor crm --drain-timeout "$DRAIN")

"${LOAD[@]}" --behind-series --crm-active "$ACTIVE" --connections 8 --rate "$RATE" --duration "$SECONDS_AT_RATE" > "$DATA/rate.json"
"${LOAD[@]}" --catch-up --connections 16 --events "$UNIFORM" --duration 100000 > "$DATA/uniform.json"

python3 - "$URL" "$TOKEN" "$DATA" "${BENCH_DATABASE_URL:+postgres}" "$ACTIVE" "$KEEP_UP" <<'PY'
import json, sys, time, urllib.parse, urllib.request
url, token, data, store, active, keep_up = sys.argv[1:7]
fill = json.load(open(f"{data}/fill.json"))
rate = json.load(open(f"{data}/rate.json"))
uniform = json.load(open(f"{data}/uniform.json"))
backlog = rate["pipeline_behind_series"]
caught_up = rate["pipeline_drain_seconds"]
# The load's own time, then the drain: until the CRM had read it all.
uniform_s = uniform["seconds"] + uniform["pipeline_drain_seconds"] if uniform["pipeline_drain_seconds"] is not None else None
def ask(path):
    req = urllib.request.Request(f"{url}{path}", headers={"Authorization": f"Bearer {token}"})
    return json.load(urllib.request.urlopen(req))
out = {
    "store": store or "sqlite",
    "contacts": ask("/v1/crm/contacts?limit=1")["total"],
    "fill_seconds": fill["seconds"],
    "rate": {
        "target_per_s": rate["target_rate"], "active_customers": int(active),
        "events": rate["events"], "seconds": rate["seconds"],
        "events_per_s": round(rate["events"] / rate["seconds"]),
        "backlog_metric": rate["pipeline_backlog_metric"],
        "backlog_samples": backlog,
        "backlog_max": rate["pipeline_max_behind_events"],
        "behind_seconds_max": rate["pipeline_max_behind_seconds"],
        "caught_up_after_load_s": None if caught_up is None else round(caught_up, 1),
        "keeps_up": rate["events"] / rate["seconds"] >= 0.95 * rate["target_rate"]
                    and caught_up is not None and caught_up <= float(keep_up)
                    and (rate["pipeline_max_behind_seconds"] or 0) <= float(keep_up),
        "cpu_us_per_event": rate["pipeline_cpu_us_per_event"],
    },
    "uniform": {"events": uniform["events"], "ingest_per_s": uniform["events_per_sec"],
                "crm_done_s": None if uniform_s is None else round(uniform_s, 1),
                "crm_events_per_s": None if uniform_s is None else round(uniform["events"] / uniform_s),
                "catch_up_events_per_s": uniform["pipeline_events_per_sec_catch_up"]},
}
hot = urllib.parse.quote("Hot Lead - Booking In Progress")
pages = {
    "status_by_score": f"/v1/crm/contacts?status={hot}&sort=score&limit=50",
    "status_by_score_offset_1000": f"/v1/crm/contacts?status={hot}&sort=score&limit=50&offset=1000",
    "status_min_score_by_score": f"/v1/crm/contacts?status={hot}&min_score=60&sort=score&limit=50",
    "status_by_last_activity": f"/v1/crm/contacts?status={hot}&sort=last_activity&limit=50",
    "all_by_score": "/v1/crm/contacts?sort=score&limit=50",
    "all_by_score_offset_1000": "/v1/crm/contacts?sort=score&limit=50&offset=1000",
    "all_min_score_by_score": "/v1/crm/contacts?min_score=60&sort=score&limit=50",
    "all_by_last_activity": "/v1/crm/contacts?sort=last_activity&limit=50",
    "all_by_revenue": "/v1/crm/contacts?sort=revenue&limit=50",
    "search_email": "/v1/crm/contacts?q=cust-77777@&limit=50",
    "funnel": "/v1/crm/funnel",
    "overdue_tasks": "/v1/crm/tasks?due=overdue&limit=50",
}
for name, path in pages.items():
    times = []
    for _ in range(10):
        t = time.perf_counter()
        ask(path)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    out[name] = {"p50_ms": round(times[4], 1), "max_ms": round(times[-1], 1)}
print(json.dumps(out))
PY
