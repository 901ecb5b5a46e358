#!/usr/bin/env bash
# Memory under the heaviest file traffic the limits allow: 8 clients upload the
# largest video allowed (200 MiB, seed 002's upload-recording) while 8 more
# replay the largest rrweb recording (BENCH_CHUNKS chunks, default 16, each
# inflating to just under the 16 MiB a chunk may have); then 8 clients play the
# uploaded videos back at once. Prints one JSON line per phase with the
# server's peak RSS (VmHWM) and what was moved.
#
#   bash bench/files.sh
#   BENCH_DATABASE_URL=postgres://... bash bench/files.sh   (an empty database)
#   BENCH_SPOOR=target/debug/spoor bash bench/files.sh      (a binary already built)
set -euo pipefail
cd "$(dirname "$0")/.."
CHUNKS=${BENCH_CHUNKS:-16}
SPOOR=${BENCH_SPOOR:-}
if [ -z "$SPOOR" ]; then
  cargo build --release --locked -p spoor >&2
  SPOOR=target/release/spoor
fi
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
hwm() { awk '/VmHWM/ {print $2 * 1024}' "/proc/$PID/status"; }

# The files: a 200 MiB WebM (an EBML header, then filler) and the recording's
# chunks, gzip as the SDK sends them.
python3 - "$DATA" "$CHUNKS" <<'EOF'
import gzip, json, os, random, sys, time
data, chunks = sys.argv[1], int(sys.argv[2])
with open(os.path.join(data, "video.webm"), "wb") as f:
    f.write(bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84]) + b"webm" + bytes([0x18, 0x53, 0x80, 0x67]))
    f.truncate(200 * 1024 * 1024)
random.seed(7)
t = int(time.time() * 1000) - 3_600_000
for c in range(chunks):
    block = "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(1024))
    text = block * 1000  # just under 1 MiB an event; 15 of them and the envelope stay under 16 MiB
    events = [{"type": 2 if i == 0 else 3, "timestamp": t + c * 60_000 + i, "data": {"text": text}} for i in range(15)]
    body = {"session_id": "bench-largest", "chunk_id": str(c), "user_id": "bench", "events": events}
    with open(os.path.join(data, f"chunk{c}.json.gz"), "wb") as f:
        f.write(gzip.compress(json.dumps(body).encode(), 6))
EOF
for c in $(seq 0 $((CHUNKS - 1))); do
  curl -sf -o /dev/null -H 'content-type: text/plain' --data-binary @"$DATA/chunk$c.json.gz" \
    "$URL/v1/recordings?api_key=$KEY"
done
RID=$(curl -sf -H "Authorization: Bearer $TOKEN" "$URL/api/projects/1/recordings?session=bench-largest" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["recordings"][0]["id"])')
idle=$(hwm)

start=$(date +%s.%N)
pids=()
for i in $(seq 1 8); do
  curl -sf -o "$DATA/up$i.json" -H "x-api-key: $KEY" -F "session_id=bench-video-$i" \
    -F "file=@$DATA/video.webm;type=video/webm" "$URL/functions/v1/upload-recording" &
  pids+=($!)
  curl -sf -o /dev/null -w '%{size_download}\n' -H "Authorization: Bearer $TOKEN" \
    "$URL/api/projects/1/recordings/$RID/replay" > "$DATA/replay$i.size" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
secs=$(echo "$(date +%s.%N) - $start" | bc)
replayed=$(cat "$DATA"/replay*.size | paste -sd+ | bc)
echo "{\"scenario\":\"8_video_uploads_and_8_replays\",\"peak_rss_bytes\":$(hwm),\"idle_peak_rss_bytes\":$idle,\"uploaded_bytes\":$((8 * 200 * 1024 * 1024)),\"replayed_bytes\":$replayed,\"seconds\":$secs}"

start=$(date +%s.%N)
pids=()
for i in $(seq 1 8); do
  file_url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["recording"]["file_url"])' "$DATA/up$i.json")
  curl -sf -o /dev/null -w '%{size_download}\n' -H "Authorization: Bearer $TOKEN" "$URL$file_url" > "$DATA/play$i.size" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
secs=$(echo "$(date +%s.%N) - $start" | bc)
played=$(cat "$DATA"/play*.size | paste -sd+ | bc)
echo "{\"scenario\":\"8_video_playbacks\",\"peak_rss_bytes\":$(hwm),\"played_bytes\":$played,\"seconds\":$secs}"
