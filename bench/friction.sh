#!/usr/bin/env bash
# Friction analytics: the 30-day reports over BENCH_EVENTS (default
# 10,000,000) events of a browsing mix (spoor-bench --friction: a third of them
# clicks on /property/ID pages, so that page's heatmap holds over 3 million
# clicks; web vitals, page leaves, 1% friction), spread over 30 days.
#
# Starts `spoor serve` on a fresh store, sends the events with the load
# generator, waits until the friction processor has read them all, then asks
# each report for the last 30 days 10 times and prints one JSON line with
# each one's p50 and max (ms, as the client measured them). Then it exports the
# 30-day friction summary as a PDF 5 times (an export job each: queued, run,
# stored) and adds how long each took from the request to "completed".
#
#   bash bench/friction.sh
#   BENCH_DATABASE_URL=postgres://... bash bench/friction.sh   (an empty database)
#   BENCH_KEEP=1 bash bench/friction.sh   (keeps the server running for bench/heatmap.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${BENCH_EVENTS:-10000000}
cargo build --release --locked -p spoor -p spoor-bench >&2
SPOOR=target/release/spoor
DATA=${BENCH_DATA:-$(mktemp -d)}
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; [ -z "${BENCH_DATA:-}" ] && rm -rf "$DATA"' EXIT
STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
KEY=$($SPOOR "${STORE[@]}" keys create --name bench --rate-limit 100000000 --per-address-limit 0 2>/dev/null)
TOKEN=$($SPOOR "${STORE[@]}" tokens create --name bench 2>/dev/null)
coproc SERVER { exec $SPOOR "${STORE[@]}" serve --listen 127.0.0.1:0 2>/dev/null; }
PID=$SERVER_PID
read -r line <&"${SERVER[0]}"
URL=${line#spoor listening on }

behind() { curl -s "$URL/metrics" | awk '/^spoor_pipeline_behind_events /{print $2}'; }
t0=$(date +%s.%N)
target/release/spoor-bench --url "$URL" --key "$KEY" --friction --spread-days 30 --batch-size 50 \
  --connections 16 --events "$EVENTS" --duration 100000 --json > "$DATA/load.json"
loaded=$(echo "$(date +%s.%N) - $t0" | bc)
until [ "$(behind)" = "0" ]; do sleep 2; done
processed=$(echo "$(date +%s.%N) - $t0" | bc)
python3 - "$URL" "$TOKEN" "$loaded" "$processed" "$DATA/load.json" "${BENCH_DATABASE_URL:+postgres}" <<'PY'
import json, sys, time, urllib.request
url, token, loaded, processed, load, store = sys.argv[1:7]
reports = {
    "friction": "/friction?range=30d",
    "friction_sessions": "/friction/sessions?range=30d&kind=rage_click&selector=%23spot-3",
    "errors": "/errors?range=30d",
    "heatmap": "/heatmap?range=30d&page=/property/*",
    "heatmap_pages": "/heatmap/pages?range=30d",
    "vitals": "/vitals?range=30d",
}
out = {"store": store or "sqlite", "events": json.load(open(load))["events"],
       "load_seconds": round(float(loaded), 1), "processed_seconds": round(float(processed), 1)}
for name, path in reports.items():
    times, body = [], None
    for _ in range(10):
        req = urllib.request.Request(f"{url}/api/projects/1{path}", headers={"Authorization": f"Bearer {token}"})
        t = time.perf_counter()
        body = json.load(urllib.request.urlopen(req))
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    out[name] = {"p50_ms": round(times[4], 1), "max_ms": round(times[-1], 1)}
    if name == "heatmap":
        out[name].update(clicks=body["clicks"], cells=len(body["cells"]))
    if name == "friction":
        out[name].update({k: v["count"] for k, v in body["totals"].items()})
    if name == "errors":
        out[name].update(issues=len(body["issues"]))
def call(method, path, body=None):
    req = urllib.request.Request(f"{url}/api/projects/1{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
times, size = [], 0
for _ in range(5):
    t = time.perf_counter()
    job = call("POST", "/exports", {"report": "friction", "format": "pdf", "days": 30})["job"]
    while job["status"] not in ("completed", "failed"):
        time.sleep(0.02)
        job = call("GET", f"/exports/{job['id']}")
    times.append((time.perf_counter() - t) * 1000)
    assert job["status"] == "completed", job
    size = job["bytes"]
times.sort()
out["friction_pdf_export"] = {"p50_ms": round(times[2], 1), "max_ms": round(times[-1], 1), "bytes": size}
print(json.dumps(out))
PY
if [ -n "${BENCH_KEEP:-}" ]; then
  echo "serving at $URL with token $TOKEN; Ctrl-C stops" >&2
  wait $PID
fi
