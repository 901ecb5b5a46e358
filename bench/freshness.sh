#!/usr/bin/env bash
# Freshness: how soon a new customer's order shows, while the server takes
# background load. Meant for PostgreSQL (target: within 5 s); runs on SQLite
# too.
#
# 1. Starts `spoor serve` on a fresh store and sends the load generator's
#    batches at BENCH_RATE (default 25,000) events/s for BENCH_SECONDS (default
#    60), watching the pipeline's backlog (spoor-bench --watch-pipeline).
# 2. Meanwhile, every second, a brand-new user: `POST /v1/identify` (user id,
#    email, name) and then `POST /v1/track` "Order Completed" (revenue, with the
#    email in context.traits), with the write key. From the track's 2xx, polls
#    (every 0.25 s for 10 s, then every second, up to BENCH_VISIBLE_TIMEOUT,
#    default 120 s) until the order shows:
#    - the customer view, `GET /api/customers/{userId}`: total_orders >= 1;
#    - the CRM, `GET /v1/crm/contacts?q=EMAIL`: the user's contact, with
#      last_activity at the order's time (the identify is dated a minute
#      earlier, so only the order moves it there).
#    Both are read with an admin token (`spoor tokens create`).
#
# Prints one JSON line: p50 and max seconds from the 2xx to visible for each
# (null when they fall on a probe that never showed), how many never showed, and
# the background load's result (with the pipeline's backlog).
#
#   bash bench/freshness.sh
#   BENCH_DATABASE_URL=postgres://... bash bench/freshness.sh   (an empty database)
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${BENCH_RATE:-25000}
SECS=${BENCH_SECONDS:-60}
VISIBLE_TIMEOUT=${BENCH_VISIBLE_TIMEOUT:-120}
cargo build --release --locked -p spoor -p spoor-bench >&2
SPOOR=target/release/spoor
DATA=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && { kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; }; rm -rf "$DATA"' EXIT
STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
KEY=$($SPOOR "${STORE[@]}" keys create --name bench --rate-limit 100000000 --per-address-limit 0 2>/dev/null)
TOKEN=$($SPOOR "${STORE[@]}" tokens create --name bench 2>/dev/null)
coproc SERVER { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 2>/dev/null; }
PID=$SERVER_PID
read -r -t 300 line <&"${SERVER[0]}" || { echo "spoor serve did not start" >&2; exit 1; }
URL=${line#spoor listening on }

target/release/spoor-bench --url "$URL" --key "$KEY" --server-pid "$PID" --json --watch-pipeline \
  --mode batch --batch-size 20 --rate "$RATE" --duration "$SECS" > "$DATA/load.json" &
LOAD=$!
python3 - "$URL" "$KEY" "$TOKEN" "$SECS" "$VISIBLE_TIMEOUT" > "$DATA/probes.json" <<'PY'
import base64, json, sys, threading, time, urllib.error, urllib.parse, urllib.request, uuid
from datetime import datetime, timezone
url, key, token, secs, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
run = uuid.uuid4().hex[:8]
basic = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
# A browser's agent: urllib's own is taken for a crawler's, whose messages
# make no people (and so no customer view).
AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

def iso(ms):
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

def send(path, body):
    req = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": basic, "Content-Type": "application/json",
                                          "User-Agent": AGENT})
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()

def ask(path):
    req = urllib.request.Request(f"{url}{path}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        if e.code == 404:  # the customer does not exist yet
            return None
        raise

results = []
lock = threading.Lock()

def probe(i):
    try:
        seen = watch(i)
    except Exception as e:  # counted, not fatal: the other probes still measure
        seen = {"customer": None, "crm": None, "error": f"{type(e).__name__}: {e}"}
    with lock:
        results.append(seen)

def watch(i):
    user, email = f"fresh-{run}-{i}", f"fresh-{run}-{i}@example.com"
    order_ms = int(time.time() * 1000)
    # The identify a minute before the order: a contact's last_activity at the
    # order's time can then only come from the order.
    send("/v1/identify", {"userId": user, "messageId": str(uuid.uuid4()), "timestamp": iso(order_ms - 60_000),
                          "traits": {"email": email, "name": f"Fresh {i}"}, "context": {"userAgent": AGENT}})
    send("/v1/track", {"userId": user, "event": "Order Completed", "messageId": str(uuid.uuid4()),
                       "timestamp": iso(order_ms), "context": {"traits": {"email": email}, "userAgent": AGENT},
                       "properties": {"order_id": f"o-{run}-{i}", "revenue": 42.5, "currency": "USD"}})
    t0 = time.perf_counter()
    seen = {"customer": None, "crm": None}
    q = urllib.parse.quote(email)
    while time.perf_counter() - t0 < limit and None in seen.values():
        if seen["customer"] is None:
            c = ask(f"/api/customers/{urllib.parse.quote(user)}")
            if c and c.get("total_orders", 0) >= 1:
                seen["customer"] = time.perf_counter() - t0
        if seen["crm"] is None:
            page = ask(f"/v1/crm/contacts?q={q}&limit=5") or {"contacts": []}
            if any(c.get("email") == email and (c.get("last_activity") or 0) >= order_ms for c in page["contacts"]):
                seen["crm"] = time.perf_counter() - t0
        # Fine steps while the target (5 s) is in question, then coarser, so
        # that a slow pipeline's many waiting probes do not load the server.
        time.sleep(0.25 if time.perf_counter() - t0 < 10 else 1.0)
    return seen

# Probes start once the load has settled, and stop a second before it ends.
start = time.perf_counter()
threads = []
i = 0
while True:
    at = start + 2 + i
    if at > start + secs - 1:
        break
    time.sleep(max(0.0, at - time.perf_counter()))
    t = threading.Thread(target=probe, args=(i,))
    t.start()
    threads.append(t)
    i += 1
for t in threads:
    t.join()

def summary(name):
    # A probe that never showed counts as beyond the wait: a percentile that
    # falls on one is unknown (null), not the percentile of those that showed.
    times = sorted((r[name] for r in results), key=lambda t: float("inf") if t is None else t)
    pick = lambda t: None if t is None else round(t, 2)
    return {"p50_s": pick(times[(len(times) - 1) // 2]) if times else None,
            "max_s": pick(times[-1]) if times else None,
            "not_visible": sum(t is None for t in times)}
errors = [r["error"] for r in results if "error" in r]
print(json.dumps({"probes": len(results), "customer_view": summary("customer"), "crm": summary("crm"),
                  "probe_errors": len(errors), "first_error": errors[0] if errors else None}))
PY
wait $LOAD
python3 - "$DATA" "${BENCH_DATABASE_URL:+postgres}" "$RATE" "$VISIBLE_TIMEOUT" <<'PY'
import json, sys
data, store, rate, limit = sys.argv[1:5]
probes = json.load(open(f"{data}/probes.json"))
load = json.load(open(f"{data}/load.json"))
keep = ["events_per_sec", "latency_ms", "server_peak_rss_mib", "pipeline_backlog_metric",
        "pipeline_max_behind_events", "pipeline_max_behind_seconds", "pipeline_drain_seconds"]
within = all(probes[k]["not_visible"] == 0 and probes[k]["max_s"] is not None and probes[k]["max_s"] <= 5
             for k in ("customer_view", "crm"))
print(json.dumps({"scenario": "freshness", "store": store or "sqlite", "background_rate": int(rate),
                  **probes, "visible_timeout_s": float(limit), "within_5s": within,
                  "background": {k: load.get(k) for k in keep}}, separators=(",", ":")))
PY
