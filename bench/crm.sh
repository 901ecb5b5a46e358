#!/usr/bin/env bash
# The CRM: whether the CRM processor keeps up with business events arriving at
# BENCH_RATE (default 10,000) a second for BENCH_SECONDS (default 60), and how
# fast the contacts list answers over BENCH_CUSTOMERS (default 1,050,000)
# customers.
#
# Starts `spoor serve` on a fresh store. Phase 1 sends seed 003's business
# events (spoor-bench --crm-customers: views, searches, logins, bookings,
# payments, each with the customer's email) at the rate, sampling the CRM
# processor's backlog (`spoor_processor_behind_events{processor="crm"}`) every
# 2 s. Phase 2 sends events as fast as they are taken until BENCH_EVENTS
# (default 4,000,000) in all, so that about a million contacts exist, waits
# for the processor, then asks filtered, sorted pages of the contacts list 10
# times each. Prints one JSON line (times in ms as the client measured them).
#
#   bash bench/crm.sh
#   BENCH_DATABASE_URL=postgres://... bash bench/crm.sh   (an empty database)
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${BENCH_RATE:-10000}
SECONDS_AT_RATE=${BENCH_SECONDS:-60}
CUSTOMERS=${BENCH_CUSTOMERS:-1050000}
EVENTS=${BENCH_EVENTS:-4000000}
cargo build --release --locked -p spoor -p spoor-bench >&2
SPOOR=target/release/spoor
DATA=${BENCH_DATA:-$(mktemp -d)}
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; [ -z "${BENCH_DATA:-}" ] && rm -rf "$DATA"' EXIT
STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
KEY=$($SPOOR "${STORE[@]}" keys create --name bench --rate-limit 1000000000 2>/dev/null)
TOKEN=$($SPOOR "${STORE[@]}" tokens create --name bench 2>/dev/null)
coproc SERVER { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 2>/dev/null; }
PID=$SERVER_PID
read -r line <&"${SERVER[0]}"
URL=${line#spoor listening on }

behind() { curl -s "$URL/metrics" | awk '/^spoor_processor_behind_events\{processor="crm"\}/ {print $2}'; }
LOAD=(target/release/spoor-bench --url "$URL" --key "$KEY" --crm-customers "$CUSTOMERS" --batch-size 50 --json)

# Phase 1: the rate, with the backlog sampled.
: > "$DATA/behind.txt"
( while sleep 2; do echo "$(date +%s.%N) $(behind)" >> "$DATA/behind.txt"; done ) &
SAMPLER=$!
"${LOAD[@]}" --connections 8 --rate "$RATE" --duration "$SECONDS_AT_RATE" > "$DATA/rate.json"
rate_end=$(date +%s.%N)
until [ "$(behind)" = "0" ]; do sleep 0.5; done
caught_up=$(echo "$(date +%s.%N) - $rate_end" | bc)
kill $SAMPLER

# Phase 2: the rest of the events, as fast as they are taken.
sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"])' "$DATA/rate.json")
t0=$(date +%s.%N)
"${LOAD[@]}" --connections 16 --events $((EVENTS - sent)) --duration 100000 > "$DATA/fill.json"
loaded=$(echo "$(date +%s.%N) - $t0" | bc)
until [ "$(behind)" = "0" ]; do sleep 2; done
processed=$(echo "$(date +%s.%N) - $t0" | bc)

python3 - "$URL" "$TOKEN" "$DATA" "$caught_up" "$loaded" "$processed" "${BENCH_DATABASE_URL:+postgres}" <<'PY'
import json, sys, time, urllib.parse, urllib.request
url, token, data, caught_up, loaded, processed, store = sys.argv[1:8]
rate = json.load(open(f"{data}/rate.json"))
fill = json.load(open(f"{data}/fill.json"))
samples = [l.split() for l in open(f"{data}/behind.txt") if len(l.split()) == 2]
backlog = [int(float(b)) for _, b in samples]
def ask(path):
    req = urllib.request.Request(f"{url}{path}", headers={"Authorization": f"Bearer {token}"})
    return json.load(urllib.request.urlopen(req))
contacts = ask("/v1/crm/contacts?limit=1")["total"]
out = {
    "store": store or "sqlite",
    "rate_phase": {
        "target_per_s": rate["target_rate"],
        "events": rate["events"], "seconds": rate["seconds"],
        "events_per_s": round(rate["events"] / rate["seconds"]),
        "backlog_samples": backlog,
        "backlog_max": max(backlog) if backlog else None,
        "caught_up_after_load_s": round(float(caught_up), 1),
    },
    "fill_phase": {"events": fill["events"], "load_s": round(float(loaded), 1),
                   "processed_s": round(float(processed), 1),
                   "crm_events_per_s": round(fill["events"] / float(processed))},
    "contacts": contacts,
}
hot = urllib.parse.quote("Hot Lead - Booking In Progress")
pages = {
    "status_by_score": f"/v1/crm/contacts?status={hot}&sort=score&limit=50",
    "status_by_score_page_20": f"/v1/crm/contacts?status={hot}&sort=score&limit=50&offset=1000",
    "min_score_by_score": "/v1/crm/contacts?min_score=40&sort=score&limit=50",
    "status_by_last_activity": f"/v1/crm/contacts?status={hot}&sort=last_activity&limit=50",
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
