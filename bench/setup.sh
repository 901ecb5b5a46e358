# What the build-against-build benchmarks (catch_up.sh, ingest_cpu.sh,
# instructions.sh) set up alike; each sources this from the repository's root.
#
# Builds the load generator (LOAD) and makes a scratch directory (WORK); on
# exit, stops the node whose pid is in PID, if any, and removes WORK. With
# BENCH_DATABASE_URL=postgres://USER@HOST/NAME, PG holds it, SERVER and NAME
# its parts, and `admin SQL` runs a statement on the server's postgres
# database (to make and drop the scratch databases).
cargo build --release --locked -p spoor-bench >&2
LOAD=target/release/spoor-bench
WORK=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && { kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; }; rm -rf "$WORK"' EXIT

PG=${BENCH_DATABASE_URL:-}
if [ -n "$PG" ]; then
  SERVER=${PG%/*}
  NAME=${PG##*/}
  admin() { psql -X -q "$SERVER/postgres" -c "$1"; }
fi
