#!/usr/bin/env bash
# The CRM: whether the CRM processor keeps up with business events arriving at
# BENCH_RATE (default 10,000) a second, and how fast the contacts list answers
# a filtered, sorted page over BENCH_CONTACTS (default 1,000,000) contacts.
#
# 1. Fills a fresh store with the contacts (the crm_contacts example, through
#    the store's CRM writes), then starts `spoor serve` on it.
# 2. The rate: seed 003's business events (spoor-bench --crm-customers: views,
#    searches, logins, bookings, payments, each with the customer's email) for
#    BENCH_SECONDS (default 60) at the rate, in visits as a site gets them:
#    BENCH_ACTIVE (default 20,000) customers active at a time, all replaced
#    every minute. The CRM processor's backlog
#    (`spoor_processor_behind_events{processor="crm"}`) is sampled every 2 s.
# 3. The worst case: BENCH_UNIFORM (default 500,000) events from any of the
#    contacts at random (each touches a contact no recent event did), sent as
#    fast as they are taken; the time until the CRM has read them all.
# 4. Filtered, sorted pages of the contacts list, 10 asks each.
#
# Prints one JSON line (times in ms as the client measured them).
#
#   bash bench/crm.sh
#   BENCH_DATABASE_URL=postgres://... bash bench/crm.sh   (an empty database)
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${BENCH_RATE:-10000}
SECONDS_AT_RATE=${BENCH_SECONDS:-60}
CONTACTS=${BENCH_CONTACTS:-1000000}
ACTIVE=${BENCH_ACTIVE:-20000}
UNIFORM=${BENCH_UNIFORM:-500000}
cargo build --release --locked -p spoor -p spoor-bench >&2
cargo build --release --locked -p spoor-store --example crm_contacts >&2
SPOOR=target/release/spoor
DATA=${BENCH_DATA:-$(mktemp -d)}
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; [ -z "${BENCH_DATA:-}" ] && rm -rf "$DATA"' EXIT
STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
KEY=$($SPOOR "${STORE[@]}" keys create --name bench --rate-limit 1000000000 2>/dev/null)
TOKEN=$($SPOOR "${STORE[@]}" tokens create --name bench 2>/dev/null)
target/release/examples/crm_contacts "$CONTACTS" "${BENCH_DATABASE_URL:-$DATA}" 2>/dev/null > "$DATA/fill.json"
coproc SERVER { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 2>/dev/null; }
PID=$SERVER_PID
read -r line <&"${SERVER[0]}"
URL=${line#spoor listening on }

behind() { curl -s "$URL/metrics" | awk '/^spoor_processor_behind_events\{processor="crm"\}/ {print $2}'; }
LOAD=(target/release/spoor-bench --url "$URL" --key "$KEY" --crm-customers "$CONTACTS" --batch-size 50 --json)

: > "$DATA/behind.txt"
( while sleep 2; do echo "$(date +%s.%N) $(behind)" >> "$DATA/behind.txt"; done ) &
SAMPLER=$!
"${LOAD[@]}" --crm-active "$ACTIVE" --connections 8 --rate "$RATE" --duration "$SECONDS_AT_RATE" > "$DATA/rate.json"
rate_end=$(date +%s.%N)
until [ "$(behind)" = "0" ]; do sleep 0.5; done
caught_up=$(echo "$(date +%s.%N) - $rate_end" | bc)
kill $SAMPLER

t0=$(date +%s.%N)
"${LOAD[@]}" --connections 16 --events "$UNIFORM" --duration 100000 > "$DATA/uniform.json"
until [ "$(behind)" = "0" ]; do sleep 0.5; done
uniform_s=$(echo "$(date +%s.%N) - $t0" | bc)

python3 - "$URL" "$TOKEN" "$DATA" "$caught_up" "$uniform_s" "${BENCH_DATABASE_URL:+postgres}" "$ACTIVE" <<'PY'
import json, sys, time, urllib.parse, urllib.request
url, token, data, caught_up, uniform_s, store, active = sys.argv[1:8]
fill = json.load(open(f"{data}/fill.json"))
rate = json.load(open(f"{data}/rate.json"))
uniform = json.load(open(f"{data}/uniform.json"))
backlog = [int(float(l.split()[1])) for l in open(f"{data}/behind.txt") if len(l.split()) == 2]
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
        "backlog_samples": backlog,
        "backlog_max": max(backlog) if backlog else None,
        "caught_up_after_load_s": round(float(caught_up), 1),
    },
    "uniform": {"events": uniform["events"], "ingest_per_s": uniform["events_per_sec"],
                "crm_done_s": round(float(uniform_s), 1),
                "crm_events_per_s": round(uniform["events"] / float(uniform_s))},
}
hot = urllib.parse.quote("Hot Lead - Booking In Progress")
pages = {
    "status_by_score": f"/v1/crm/contacts?status={hot}&sort=score&limit=50",
    "status_by_score_offset_1000": f"/v1/crm/contacts?status={hot}&sort=score&limit=50&offset=1000",
    "status_min_score_by_score": f"/v1/crm/contacts?status={hot}&min_score=60&sort=score&limit=50",
    "status_by_last_activity": f"/v1/crm/contacts?status={hot}&sort=last_activity&limit=50",
    "all_by_score": "/v1/crm/contacts?sort=score&limit=50",
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
