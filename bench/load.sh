#!/usr/bin/env bash
# Load benchmark: scales ../shared/data/medium K times (default 10) into bench/work/, starts a
# fresh server over an embedded PostgreSQL in a temporary data directory, loads the files with
# `./sluice load`, and prints resources/s and MB/s, the raw-read baseline of the same files,
# and whether the server holds every resource. Usage: bench/load.sh [K] [again]: with `again`, the
# same files are then loaded a second time into the same server (nothing changed, so nothing is
# written: docs/ARCHITECTURE.md, "An unchanged update keeps its version") and timed the same way.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-10}"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"

lines=$(cat "$data"/*.ndjson | wc -l)
bytes=$(cat "$data"/*.ndjson | wc -c)
read_start=$(date +%s.%N)
cat "$data"/*.ndjson > /dev/null
read_end=$(date +%s.%N)

start_server load

echo "bench: loading $lines resources ($(( bytes / 1000000 )) MB) into a fresh server on port $port ..." >&2
server_cpu0=$(cpu_of "$server"); pg_cpu0=$(postgres_cpu)
start=$(date +%s.%N)
set +e
TIMEFORMAT='%U %S'
{ time "$here/sluice" load "$data" --server "$base" > "$work/load-x$k.out" 2>"$work/load-x$k.err"; } 2> "$work/load-x$k.time"
status=$?
set -e
end=$(date +%s.%N)
server_cpu=$(( $(cpu_of "$server") - server_cpu0 )); pg_cpu=$(( $(postgres_cpu) - pg_cpu0 ))
loader_cpu=$(awk '{printf "%d", $1 + $2}' "$work/load-x$k.time")
tail -n 3 "$work/load-x$k.err" >&2
cat "$work/load-x$k.out"

stored=0
for f in "$data"/*.ndjson; do
  type="$(basename "$f" .ndjson)"
  n=$(curl -sf "$base/$type?_summary=count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  stored=$(( stored + n ))
done

python3 - "$lines" "$bytes" "$start" "$end" "$read_start" "$read_end" "$stored" "$status" "$k" \
  "$server_cpu" "$pg_cpu" "$loader_cpu" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import sys
lines, nbytes = int(sys.argv[1]), int(sys.argv[2])
start, end, rs, re_ = map(float, sys.argv[3:7])
stored, status, k = int(sys.argv[7]), int(sys.argv[8]), sys.argv[9]
took, read = end - start, max(re_ - rs, 1e-6)
print()
print(f"medium x{k}: {lines:,} resources, {nbytes/1e6:,.1f} MB of NDJSON")
print(f"load (wall clock, whole command): {took:,.1f} s, {lines/took:,.0f} resources/s, {nbytes/took/1e6:,.1f} MB/s")
print(f"raw read baseline (cat > /dev/null): {read:,.2f} s, {nbytes/read/1e6:,.0f} MB/s")
print(f"count check: the server holds {stored:,} of {lines:,} resources -> {'OK' if stored == lines else 'MISMATCH'}")
print(f"loader exit code: {status}")
server_cpu, pg_cpu, loader_cpu, cores, loadavg = int(sys.argv[10]), int(sys.argv[11]), int(sys.argv[12]), sys.argv[13], sys.argv[14]
print(f"CPU seconds during the load: server JVM {server_cpu}, PostgreSQL {pg_cpu}, loader {loader_cpu}"
      f" ({cores} cores, {cores} x {took:,.0f} s = {int(cores) * took:,.0f} core-seconds; load average at the end {loadavg})")
sys.exit(0 if stored == lines and status == 0 else 1)
PY

if [ "${2:-}" = again ]; then
  server_cpu0=$(cpu_of "$server"); pg_cpu0=$(postgres_cpu)
  start=$(date +%s.%N)
  { time "$here/sluice" load "$data" --server "$base" > "$work/load-again-x$k.out" 2>"$work/load-again-x$k.err"; } \
    2> "$work/load-again-x$k.time"
  end=$(date +%s.%N)
  server_cpu=$(( $(cpu_of "$server") - server_cpu0 )); pg_cpu=$(( $(postgres_cpu) - pg_cpu0 ))
  loader_cpu=$(awk '{printf "%d", $1 + $2}' "$work/load-again-x$k.time")
  python3 - "$lines" "$start" "$end" "$server_cpu" "$pg_cpu" "$loader_cpu" <<'PY'
import sys
lines, start, end = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
took = end - start
print(f"the same files again (wall clock, whole command): {took:,.1f} s, {lines/took:,.0f} resources/s;"
      f" CPU seconds: server JVM {sys.argv[4]}, PostgreSQL {sys.argv[5]}, loader {sys.argv[6]}")
PY
fi
