#!/usr/bin/env bash
# The customer metrics API (`GET /api/customers/metrics`) over 100,000 users.
# Starts `spoor serve` on a fresh store, sends BENCH_EVENTS (default 1,000,000)
# events from the load generator's 100,000 users, waits until the sessions
# processor has read them all (so every user has a summary and a session), then
# asks for the first page sorted by each column, both ways, 10 times each, and
# prints the latency per sort as one JSON line. The API reads the people and
# sessions tables, not the event log, so its time does not grow with the events.
#
#   bash bench/customers.sh
#   BENCH_DATABASE_URL=postgres://... bash bench/customers.sh   (an empty database)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${BENCH_EVENTS:-1000000}
cargo build --release --locked -p spoor -p spoor-bench >&2
SPOOR=target/release/spoor
DATA=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
KEY=$($SPOOR "${STORE[@]}" keys create --name bench --rate-limit 100000000 --per-address-limit 0 2>/dev/null)
TOKEN=$($SPOOR "${STORE[@]}" tokens create --name bench 2>/dev/null)
coproc SERVER { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 2>/dev/null; }
PID=$SERVER_PID
read -r line <&"${SERVER[0]}"
URL=${line#spoor listening on }
target/release/spoor-bench --url "$URL" --key "$KEY" --events "$EVENTS" --duration 100000 --json >/dev/null
behind() { curl -s "$URL/metrics" | awk '/^spoor_pipeline_behind_events /{print $2}'; }
until [ "$(behind)" = "0" ]; do sleep 1; done
python3 - "$URL" "$TOKEN" <<'PY'
import json, sys, time, urllib.request
url, token = sys.argv[1], sys.argv[2]
def ask(q):
    req = urllib.request.Request(f"{url}/api/customers/metrics?{q}", headers={"Authorization": f"Bearer {token}"})
    t = time.perf_counter()
    body = json.load(urllib.request.urlopen(req))
    return (time.perf_counter() - t) * 1000, body
out = {}
for sort in ["sessions", "orders", "bookings", "last_login", "registered"]:
    for order in ["desc", "asc"]:
        times = sorted(ask(f"sortBy={sort}&sortOrder={order}")[0] for _ in range(10))
        out[f"{sort}_{order}"] = {"p50_ms": round(times[5], 1), "max_ms": round(times[-1], 1)}
_, body = ask("")
print(json.dumps({"scenario": "customer_metrics_api", "users": body["total"],
                  "sessions": body["monitoring"]["sessions"], "latency": out}))
PY
