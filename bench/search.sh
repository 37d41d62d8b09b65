#!/usr/bin/env bash
# Search benchmark: scales ../shared/data/medium K times (default 10: 318,780 resources) into
# bench/work/, loads it into a fresh server with `./sluice load` (every write indexes every R4
# search parameter), then prints the latency of the first page of common searches next to the
# raw read of one resource. Usage: bench/search.sh [K] [REPEATS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-10}"
repeats="${2:-20}"
shared="$(cd "$here/../shared" && pwd)"
work="$here/bench/work"
data="$work/medium-x$k"

if [ ! -f "$data/.complete" ]; then
  echo "bench: scaling $shared/data/medium x$k into $data ..." >&2
  rm -rf "$data"
  python3 "$shared/tools/scale_ndjson.py" --progress 30 "$shared/data/medium" "$data" "$k" >&2
  touch "$data/.complete"
fi

"$here/sluice" --version >/dev/null   # builds the jar first, outside the measurement

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tmp="$(mktemp -d -t sluice-search-bench-XXXXXX)"
log="$work/search-server-x$k.log"
mkdir -p "$work"
"$here/sluice" serve --port "$port" --data-dir "$tmp" > "$log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
base="http://127.0.0.1:$port/fhir"
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 1
done

lines=$(cat "$data"/*.ndjson | wc -l)
echo "== load: $lines resources (medium x$k) with ./sluice load, search index on"
start=$(date +%s.%N)
"$here/sluice" load --server "$base" "$data" > "$work/search-load-x$k.log" 2>&1
end=$(date +%s.%N)
python3 -c "print(f'loaded {$lines} resources in {$end - $start:.1f} s: {$lines / ($end - $start):.0f} resources/s (load average now: $(cut -d' ' -f1-3 /proc/loadavg))')"

# Fresh statistics after a bulk load; autovacuum gets there on its own, later.
pgport=$(grep -o 'Embedded PostgreSQL started on port [0-9]*' "$log" | grep -o '[0-9]*$' | head -1 || true)
if [ -n "$pgport" ] && command -v psql >/dev/null; then
  psql -q -h 127.0.0.1 -p "$pgport" -U postgres -c "vacuum analyze" postgres
else
  echo "(no psql: the searches run on the statistics autovacuum has gathered so far)"
fi
echo "== search latency (HTTP round trip, median and p95 of $repeats; load average $(cut -d' ' -f1-3 /proc/loadavg))"
python3 "$here/bench/search_latency.py" "$base" "$data" --repeats "$repeats"
