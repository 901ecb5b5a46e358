#!/usr/bin/env bash
# `spoor import` into an empty store: BENCH_EVENTS (default 1,000,000) Segment
# track messages of about 400 bytes, one a line, as a warehouse or Segment's
# export holds them (each with its messageId, timestamp, user agent and
# properties), imported into a fresh embedded store; then the same file again,
# which stores nothing (every message is already there). Prints one JSON line
# with both rates, the store's growth and the importer's peak RSS.
#
#   bash bench/import.sh
#   BENCH_DATABASE_URL=postgres://... bash bench/import.sh   (an empty database)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${BENCH_EVENTS:-1000000}
cargo build --release --locked -p spoor >&2
SPOOR=target/release/spoor
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
FILE="$DATA/events.ndjson"
python3 - "$EVENTS" "$FILE" <<'PY'
import json, sys, time
n, path = int(sys.argv[1]), sys.argv[2]
agents = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
]
start = 1_700_000_000_000
with open(path, "w") as f:
    for i in range(n):
        ts = start + i * 1000
        sec, ms = divmod(ts, 1000)
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%03dZ" % ms
        f.write(json.dumps({
            "type": "track", "event": ["Product Viewed", "Product Added", "Order Completed"][i % 3],
            "messageId": "imp-bench-%d" % i, "anonymousId": "visitor-%d" % (i % 50000),
            "userId": ("user-%d" % (i % 20000)) if i % 4 == 0 else None,
            "timestamp": iso,
            "context": {"userAgent": agents[i % 3], "sessionId": "s-%d" % (i // 20),
                        "page": {"url": "https://shop.example.com/p/%d" % (i % 500)}},
            "properties": {"sku": "SKU-%d" % (i % 500), "price": 19.99, "quantity": 1 + i % 3},
        }, separators=(",", ":")) + "\n")
PY
BYTES=$(stat -c %s "$FILE")
run() {
  /usr/bin/time -f '%M' -o "$DATA/rss" "$SPOOR" "${STORE[@]}" import --quiet "$FILE" > "$DATA/out"
  sed -n 's/.*in \([0-9.]*\) s (\([0-9]*\) events\/s).*/\1 \2/p' "$DATA/out" | head -1
}
read -r FIRST_S FIRST_RATE < <(run)
FIRST_RSS=$(cat "$DATA/rss")
STORE_MB=$(du -sm "$DATA" --exclude=events.ndjson | cut -f1)
read -r AGAIN_S AGAIN_RATE < <(run)
AGAIN_RSS=$(cat "$DATA/rss")
printf '{"events":%d,"file_mb":%d,"first":{"seconds":%s,"events_per_s":%s,"peak_rss_mb":%d},"again":{"seconds":%s,"events_per_s":%s,"peak_rss_mb":%d},"store_mb":%d}\n' \
  "$EVENTS" $((BYTES / 1048576)) "$FIRST_S" "$FIRST_RATE" $((FIRST_RSS / 1024)) "$AGAIN_S" "$AGAIN_RATE" $((AGAIN_RSS / 1024)) "$STORE_MB"
