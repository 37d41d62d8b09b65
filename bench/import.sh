#!/usr/bin/env bash
# Import benchmark (docs/import.md): medium scaled K times (default 10, 318,780 resources), three
# fresh servers with the heap capped at 512 MB, one after the other in the same run:
#   1. `sluice load` of the files (HTTP batches), the baseline;
#   2. `$import` in InitialLoad mode of the same files, copied into the server's import folder;
#   3. `$import` in IncrementalLoad mode of the same files.
# For each: wall clock from the command (or the kick-off) to the end, resources/s, and the count
# each server holds; then a set of searches whose totals must be equal on the three servers.
# Usage: bench/import.sh [K]    BENCH_SLUICE=<launcher> serves the three servers with another build
# (a copy of another commit's tree, bench/server.sh); `sluice load` stays this tree's client.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-10}"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"
import_data
export SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-} -Xmx512m"

lines=$(cat "$data"/*.ndjson | wc -l)
"$here/sluice" --version >/dev/null   # builds the jar first, outside the measurement
"${BENCH_SLUICE:-$here/sluice}" --version >/dev/null

pids=(); dirs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for d in "${dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

# serve NAME: a fresh server; sets $port, $tmp, $base, $server
serve() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  tmp="$(mktemp -d -t "sluice-$1-XXXXXX")"; dirs+=("$tmp")
  mkdir -p "$work"
  "${BENCH_SLUICE:-$here/sluice}" serve --port "$port" --data-dir "$tmp" > "$work/import-$1-server-x$k.log" 2>&1 &
  server=$!; pids+=("$server")
  base="http://127.0.0.1:$port/fhir"
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
    kill -0 "$server" 2>/dev/null || { echo "bench: the $1 server did not start" >&2; exit 1; }
    sleep 0.5
  done
  echo "bench: the $1 server did not answer" >&2; exit 1
}

searches=(
  "Patient?gender=female" "Patient?birthdate=lt1970" "Patient?name=Smith"
  "Observation?code=http://loinc.org|8302-2" "Observation?value-quantity=gt100" "Observation?status=final"
  "Condition?clinical-status=active" "Encounter?date=ge2015-01-01" "Procedure?date=lt2010"
  "MedicationRequest?status=active" "Claim?use=claim" "Immunization?vaccine-code=http://hl7.org/fhir/sid/cvx|140"
  "DiagnosticReport?category=http://loinc.org|34117-2" "Observation?_lastUpdated=gt2000-01-01"
)
answers() {  # the total of every search, one line each
  for s in "${searches[@]}"; do
    echo "$s $(curl -sf "$1/$s&_summary=count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
  done
}

echo "bench: 1/3 sluice load of $lines resources ..." >&2
serve load; load_base=$base
cpu0
t0=$(date +%s.%N)
"$here/sluice" load "$data" --server "$load_base" > "$work/import-load.out" 2> "$work/import-load.err"
t1=$(date +%s.%N)
load_s=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
echo "sluice load CPU: $(cpu_used) (loader not counted)" > "$work/import-cpu.txt"
load_n=$(count_all "$load_base"); answers "$load_base" > "$work/answers-load.txt"
load_avg_load=$(cut -d' ' -f1-3 /proc/loadavg)
kill "$server"; wait "$server" 2>/dev/null || true

echo "bench: 2/3 \$import InitialLoad ..." >&2
serve initial; initial_base=$base
into_imports   # copied outside the measurement
cpu0
initial_s=$(import_run "$initial_base" InitialLoad)
echo "InitialLoad CPU: $(cpu_used); $(stages "$work/import-initial-server-x$k.log")" >> "$work/import-cpu.txt"
initial_n=$(count_all "$initial_base"); answers "$initial_base" > "$work/answers-initial.txt"
initial_errors=$(python3 -c "import json; print(sum(e['count'] for e in json.load(open('$work/import-InitialLoad-status.json'))['error']))")
initial_avg=$(cut -d' ' -f1-3 /proc/loadavg)
kill "$server"; wait "$server" 2>/dev/null || true

echo "bench: 3/3 \$import IncrementalLoad ..." >&2
serve incremental; incremental_base=$base
into_imports
cpu0
incremental_s=$(import_run "$incremental_base" IncrementalLoad)
echo "IncrementalLoad CPU: $(cpu_used); $(stages "$work/import-incremental-server-x$k.log")" >> "$work/import-cpu.txt"
incremental_n=$(count_all "$incremental_base"); answers "$incremental_base" > "$work/answers-incremental.txt"
incremental_errors=$(python3 -c "import json; print(sum(e['count'] for e in json.load(open('$work/import-IncrementalLoad-status.json'))['error']))")
incremental_avg=$(cut -d' ' -f1-3 /proc/loadavg)

same_initial=$(cmp -s "$work/answers-load.txt" "$work/answers-initial.txt" && echo equal || echo DIFFERENT)
set +e
same_incremental=$(cmp -s "$work/answers-load.txt" "$work/answers-incremental.txt" && echo equal || echo DIFFERENT)
python3 - "$lines" "$k" "$load_s" "$load_n" "$initial_s" "$initial_n" "$initial_errors" "$incremental_s" \
  "$incremental_n" "$incremental_errors" "$same_initial" "$same_incremental" "$load_avg_load" "$initial_avg" \
  "$incremental_avg" "$(nproc)" <<'PY'
import sys
a = sys.argv
lines, k = int(a[1]), a[2]
load_s, load_n = float(a[3]), int(a[4])
ini_s, ini_n, ini_e = float(a[5]), int(a[6]), int(a[7])
inc_s, inc_n, inc_e = float(a[8]), int(a[9]), int(a[10])
print(f"medium x{k}: {lines:,} resources; heap 512 MB; {a[16]} cores")
print(f"sluice load:              {load_s:7.1f} s  {lines/load_s:9,.0f} resources/s  holds {load_n:,}"
      f"  (load average after: {a[13]})")
print(f"$import InitialLoad:      {ini_s:7.1f} s  {lines/ini_s:9,.0f} resources/s  holds {ini_n:,}, {ini_e} errors,"
      f" {load_s/ini_s:.2f}x load  (load average after: {a[14]})")
print(f"$import IncrementalLoad:  {inc_s:7.1f} s  {lines/inc_s:9,.0f} resources/s  holds {inc_n:,}, {inc_e} errors,"
      f" {load_s/inc_s:.2f}x load  (load average after: {a[15]})")
print(f"search answers after InitialLoad: {a[11]}; after IncrementalLoad: {a[12]} (14 searches, totals compared)")
ok = load_n == lines and ini_n == lines and inc_n == lines and a[11] == "equal" and a[12] == "equal"
print("counts and answers: " + ("OK" if ok else "MISMATCH"))
sys.exit(0 if ok else 1)
PY
status=$?
cat "$work/import-cpu.txt"
exit $status
