#!/usr/bin/env bash
# Search benchmark: scales ../shared/data/medium K times (default 10: 318,780 resources) into
# bench/work/, loads it into a fresh server with `./sluice load` (every write indexes every R4
# search parameter), then prints the latency of the first page of common searches next to the
# raw read of one resource. Usage: bench/search.sh [K] [REPEATS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-10}"
repeats="${2:-20}"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"

start_server search

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
