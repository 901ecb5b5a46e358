#!/usr/bin/env bash
# Insights' speed on a warm store: BENCH_EVENTS (default 10,000,000) events of
# 100,000 people over the 30 days before today, as the SDK's browsing mix sends
# them (page views, clicks, page leaves, vehicle views) plus sign-ups, checkouts,
# orders with an amount and a currency, and bookings; imported with `spoor
# import` into a fresh store; the pipeline then reads them (`spoor rebuild
# facts`, which runs every fold to the log's end: the insights' facts questions
# read, and the identity links that join a visitor to the user they became),
# and the store is queried through the HTTP API of a node that only serves
# (`--role ingest`: no pipeline competes for the cores).
# Each question (trends, a funnel, retention, paths, revenue, conversions of
# a goal by channel, a trend of a segment) runs once to warm the caches, then
# BENCH_RUNS times (default 5); prints one JSON line with each question's
# median and slowest time in ms and the server's peak RSS (and, at the end,
# its own memory and the derived file's pages it maps, apart). Then (on SQLite,
# unless BENCH_LOG_TOO=0) the same questions of the same store read from the
# log alone, as before the facts existed: a second line.
#
# BENCH_SPOOR=PATH runs another build of spoor (the version before a change,
# for figures side by side); BENCH_FOLD names the fold its `rebuild` takes
# (default facts; a build before the facts existed takes sessions).
#
#   bash bench/insights.sh
#   BENCH_EVENTS=1000000 bash bench/insights.sh        (a quicker look)
#   BENCH_DATABASE_URL=postgres://... bash bench/insights.sh   (an empty database)
#
# BENCH_STORE=DIR keeps the SQLite store in DIR (made there the first time) and
# asks the next run's questions of it without generating and importing again;
# the pipeline still runs (`rebuild`), so a build whose facts differ remakes
# them, unless BENCH_REBUILD=0.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${BENCH_EVENTS:-10000000}
RUNS=${BENCH_RUNS:-5}
PORT=${BENCH_PORT:-7399}
if [ -n "${BENCH_SPOOR:-}" ]; then
  SPOOR=$BENCH_SPOOR
else
  cargo build --release --locked -p spoor >&2
  SPOOR=target/release/spoor
fi
SERVER=
if [ -n "${BENCH_STORE:-}" ]; then
  DATA=$BENCH_STORE
  mkdir -p "$DATA"
  trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null' EXIT
else
  DATA=$(mktemp -d)
  trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$DATA"' EXIT
fi
STORE=(--data-dir "$DATA")
[ -n "${BENCH_DATABASE_URL:-}" ] && STORE+=(--database-url "$BENCH_DATABASE_URL")
FILE="$DATA/events.ndjson"
DAY=86400000
END=$(( $(date +%s) / 86400 * DAY ))
# A kept store answers for the days it was made for.
[ -f "$DATA/bench-end" ] && END=$(cat "$DATA/bench-end")
START=$(( END - 30 * DAY ))
import_s=0
if [ "$(cat "$DATA/bench-events" 2>/dev/null)" != "$EVENTS" ]; then
python3 - "$EVENTS" "$FILE" "$START" "$END" <<'PY'
import random, sys, time
n, path, start, end = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(20261126)
people = 100_000
agents = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
]
pages = ["/", "/pricing", "/vehicles", "/property/%d", "/checkout", "/account", "/blog/%d"]
currencies = ["TZS", "USD", "KES"]
services = ["Repair Service", "Inspection", "Rental"]
# (weight, kind): the browsing mix, then the business events.
mix = [(40, "page"), (25, "click"), (12, "leave"), (10, "vehicle"), (6, "signup"), (3, "checkout"), (2.5, "order"), (1.5, "booking")]
kinds = [k for w, k in mix for _ in range(int(w * 2))]
span = end - start
times = sorted(start + rng.randrange(span) for _ in range(n))
with open(path, "w") as f:
    for i, ts in enumerate(times):
        p = rng.randrange(people)
        kind = kinds[rng.randrange(len(kinds))]
        page = pages[rng.randrange(len(pages))]
        if "%d" in page:
            page = page % rng.randrange(500)
        sec, ms = divmod(ts, 1000)
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%03dZ" % ms
        user = ',"userId":"user-%d"' % p if p % 3 == 0 else ""
        ctx = '"context":{"userAgent":"%s","sessionId":"s-%d-%d","page":{"url":"https://shop.example.com%s"}}' % (
            agents[p % 4], p, ts // 1_800_000, page)
        head = '{"messageId":"ins-%d","anonymousId":"anon-%d"%s,"timestamp":"%s",%s' % (i, p, user, iso, ctx)
        if kind == "page":
            f.write(head + ',"type":"page","properties":{"url":"https://shop.example.com%s"}}\n' % page)
            continue
        if kind == "click":
            props = '{"selector":"#cta-%d","text":"Go"}' % rng.randrange(40)
            name = "element_clicked"
        elif kind == "leave":
            props = '{"scroll_depth":%d}' % rng.randrange(101)
            name = "page_leave"
        elif kind == "vehicle":
            props = '{"vehicle_id":"v-%d","make":"%s"}' % (rng.randrange(2000), ["Toyota", "Nissan", "Subaru"][rng.randrange(3)])
            name = "vehicle_viewed"
        elif kind == "signup":
            props = '{"plan":"%s"}' % ["free", "pro", "team"][rng.randrange(3)]
            name = "signed_up"
        elif kind == "checkout":
            props = '{"items":%d}' % (1 + rng.randrange(4))
            name = "checkout_started"
        elif kind == "order":
            props = '{"total_amount":%d,"currency":"%s","product":"p-%d"}' % (
                1000 * (1 + rng.randrange(200)), currencies[rng.randrange(3)], rng.randrange(50))
            name = "order_completed"
        else:
            props = '{"service":"%s"}' % services[rng.randrange(3)]
            name = "booking_completed"
        f.write(head + ',"type":"track","event":"%s","properties":%s}\n' % (name, props))
PY

import_started=$(date +%s%N)
"$SPOOR" "${STORE[@]}" import --quiet "$FILE" >&2
import_s=$(( ($(date +%s%N) - import_started) / 1000000000 ))
rm -f "$FILE"
echo "$END" > "$DATA/bench-end"
echo "$EVENTS" > "$DATA/bench-events"
fi
derive_s=0
if [ "${BENCH_REBUILD:-1}" = 1 ]; then
  derive_started=$(date +%s%N)
  "$SPOOR" "${STORE[@]}" rebuild "${BENCH_FOLD:-facts}" >&2
  derive_s=$(( ($(date +%s%N) - derive_started) / 1000000000 ))
fi
TOKEN=$("$SPOOR" "${STORE[@]}" tokens create --name bench | tail -1)
start_server() {
  "$SPOOR" "${STORE[@]}" serve --role ingest --listen "127.0.0.1:$PORT" > "$DATA/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/livez" > /dev/null && break
    sleep 0.2
  done
}

# One question: warm once, then RUNS times; prints "median slowest" in ms.
ask() {
  local method=$1 path=$2 body=${3:-}
  local args=(-s -o "$DATA/answer" -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $TOKEN")
  [ "$method" = POST ] && args+=(-X POST -H 'Content-Type: application/json' --data "$body")
  local first
  first=$(curl "${args[@]}" "http://127.0.0.1:$PORT$path")
  if [ "${first%% *}" != 200 ]; then
    echo "$path answered ${first%% *}: $(cat "$DATA/answer")" >&2
    exit 1
  fi
  for _ in $(seq "$RUNS"); do
    curl "${args[@]}" "http://127.0.0.1:$PORT$path" | cut -d' ' -f2
  done | sort -n | awk '{ t[NR] = $1 * 1000 } END { printf "%.0f %.0f\n", t[int((NR + 1) / 2)], t[NR] }'
}

define() {
  curl -sf -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data "$2" "http://127.0.0.1:$PORT/api/projects/1/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

# Every question once; prints one JSON line labelled $1.
questions() {
  local P=/api/projects/1/insights R="from=$START&to=$END"
  read -r trend_med trend_max < <(ask GET "$P/trends?event=\$pageview&$R&interval=day&breakdown=\$browser")
  read -r revenue_med revenue_max < <(ask GET "$P/trends?event=order_completed&$R&interval=day&measure=sum:total_amount&breakdown=currency")
  read -r funnel_med funnel_max < <(ask POST "$P/funnel" \
    "{\"steps\":[{\"event\":\"\$pageview\"},{\"event\":\"vehicle_viewed\"},{\"event\":\"checkout_started\"},{\"event\":\"order_completed\"}],\"window_seconds\":86400,\"from\":$START,\"to\":$END}")
  read -r retention_med retention_max < <(ask POST "$P/retention" \
    "{\"start_event\":\"signed_up\",\"return_event\":\"order_completed\",\"period\":\"week\",\"periods\":8,\"from\":$START,\"to\":$END}")
  read -r paths_med paths_max < <(ask POST "$P/paths" \
    "{\"start\":{\"event\":\"\$pageview\",\"page\":\"/pricing\"},\"include\":\"both\",\"steps\":3,\"from\":$START,\"to\":$END}")
  read -r by_product_med by_product_max < <(ask GET "$P/revenue?event=order_completed&amount=total_amount&$R&interval=day&breakdown=product")
  read -r conversions_med conversions_max < <(ask GET "/api/projects/1/goals/conversions?$R&breakdown=\$channel")
  read -r segment_med segment_max < <(ask GET "$P/trends?event=order_completed&$R&interval=day&segment=$SEGMENT")
  # The peak RSS counts the pages of the derived file its readers map
  # (shared, the kernel's page cache); at the end, the process's own memory
  # (RssAnon) and those mapped pages (RssFile) apart.
  local rss_kb anon_kb file_kb
  rss_kb=$(awk '/VmHWM/ { print $2 }' "/proc/$SERVER/status")
  anon_kb=$(awk '/RssAnon/ { print $2 }' "/proc/$SERVER/status")
  file_kb=$(awk '/RssFile/ { print $2 }' "/proc/$SERVER/status")
  ms() { printf '{"median":%s,"max":%s}' "$1" "$2"; }
  printf '{"read_from":"%s","events":%d,"import_s":%d,"pipeline_s":%d,"trend_pageviews_by_browser_ms":%s,"trend_revenue_by_currency_ms":%s,"funnel_4_steps_ms":%s,"retention_8_weeks_ms":%s,"paths_3_steps_ms":%s,"revenue_by_product_ms":%s,"conversions_by_channel_ms":%s,"trend_of_a_segment_ms":%s,"server_peak_rss_mb":%d,"server_rss_anon_mb":%d,"server_rss_file_mb":%d}\n' \
    "$1" "$EVENTS" "$import_s" "$derive_s" "$(ms "$trend_med" "$trend_max")" "$(ms "$revenue_med" "$revenue_max")" \
    "$(ms "$funnel_med" "$funnel_max")" "$(ms "$retention_med" "$retention_max")" "$(ms "$paths_med" "$paths_max")" \
    "$(ms "$by_product_med" "$by_product_max")" "$(ms "$conversions_med" "$conversions_max")" \
    "$(ms "$segment_med" "$segment_max")" $((rss_kb / 1024)) $((anon_kb / 1024)) $((file_kb / 1024))
}

start_server
# A goal and a segment, for conversions by channel and a trend of the segment
# (once in a kept store).
if [ ! -f "$DATA/bench-segment" ]; then
  define goals '{"name":"Ordered","event":"order_completed"}' > /dev/null
  define segments '{"name":"Signed up","event":"signed_up"}' > "$DATA/bench-segment"
fi
SEGMENT=$(cat "$DATA/bench-segment")
questions facts
# The same questions of the same store read from the log alone (the version
# before the facts, on SQLite): without the facts
# fold's cursor a question reads the log.
if [ -z "${BENCH_DATABASE_URL:-}" ] && [ "${BENCH_LOG_TOO:-1}" = 1 ]; then
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  cursor() {
    # The program is python's stdin, so the saved rows come as an argument.
    python3 - "$DATA/spoor-derived.db" "$1" "${2:-}" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
if sys.argv[2] == "take":
    rows = db.execute("SELECT * FROM processor_cursors WHERE name = 'facts'").fetchall()
    db.execute("DELETE FROM processor_cursors WHERE name = 'facts'")
    print(json.dumps(rows))
else:
    for row in json.loads(sys.argv[3]):
        db.execute("INSERT INTO processor_cursors VALUES (%s)" % ",".join("?" * len(row)), row)
db.commit()
PY
  }
  saved=$(cursor take)
  start_server
  questions log
  # A kept store keeps its facts for the next run.
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  SERVER=
  cursor put "$saved"
fi
