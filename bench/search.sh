#!/usr/bin/env bash
# Search benchmark. Scales ../shared/data/medium x10 (318,780 resources), loads it into a fresh
# Sluice through transaction Bundles (printing the load rate), then prints the latency of the
# first page of common searches next to a raw read.
#
#   bench/search.sh [SCALE] [REPEATS]        defaults: 10 20
#
# Work files go to $SLUICE_BENCH_DIR (default /tmp/sluice-bench-search); the scaled data is
# kept there and reused. The server is stopped at the end.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
scale="${1:-10}"
repeats="${2:-20}"
work="${SLUICE_BENCH_DIR:-/tmp/sluice-bench-search}"
data="$work/medium-x$scale"
port="${SLUICE_BENCH_PORT:-18091}"
mkdir -p "$work"

if [ ! -f "$data/.complete" ]; then
  rm -rf "$data"
  python3 "$root/../shared/tools/scale_ndjson.py" --progress 60 "$root/../shared/data/medium" "$data" "$scale" >&2
  touch "$data/.complete"
fi

"$root/sluice" --version >/dev/null   # builds the jar when needed
rm -rf "$work/server-data"
SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:--Xmx3g}" "$root/sluice" serve --port "$port" --data-dir "$work/server-data" \
  > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 1
done

echo "== load: $(find "$data" -name '*.ndjson*' | wc -l) files, x$scale medium"
python3 "$here/load_ndjson.py" "http://127.0.0.1:$port/fhir" "$data"
# Statistics right after a bulk load (autovacuum would get there on its own, later)
pgport=$(grep -o 'Embedded PostgreSQL started on port [0-9]*' "$work/server.log" | grep -o '[0-9]*$' | head -1 || true)
if [ -n "$pgport" ] && command -v psql >/dev/null; then
  psql -q -h 127.0.0.1 -p "$pgport" -U postgres -c "vacuum analyze" postgres
else
  echo "(psql or the embedded PostgreSQL port not found: no ANALYZE after the load)"
fi
echo "== search latency"
python3 "$here/search_latency.py" "http://127.0.0.1:$port/fhir" "$data" --repeats "$repeats"
