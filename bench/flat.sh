#!/usr/bin/env bash
# Issue 13, target 4 (flat at x100): medium scaled K_SMALL and K_LARGE times, each on a fresh
# server with the heap capped at 512 MB, in one run:
#   1. `$import` InitialLoad of the files (the server's import folder is the scaled folder
#      itself: nothing copied), timed from the kick-off to the job's 200; with --with-load, first
#      `sluice load` of the same files into another fresh server (HTTP batches: slow at x100);
#   2. the resources the server holds, its database's size (pg_database_size) and data directory
#      (du -sb, WAL included), per resource;
#   3. ROUNDS (default 3) system exports, then ROUNDS Patient-level exports: kick-off to manifest,
#      then every file downloaded by one curl in parallel (kick-off to last byte); each round
#      checked after its clock stops (per-file counts, per type the count and a hash of the ids
#      against the database's, bench/flat.py);
#   4. the peak RSS of the server (VmHWM) and of its PostgreSQL processes (total RSS and PSS),
#      sampled every 0.5 s for the whole run;
#   5. the steps the server logs (import parts and merge; export planning, parts with
#      PartWorker's debug line switched on, the end), per resource at both sizes.
# Then a table: each rate at both sizes, the ratio, PASS/FAIL against "within 20 %".
# Usage: bench/flat.sh [--with-load] [K_SMALL=10] [K_LARGE=100]   (ROUNDS=<n> in the environment)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
with_load=no
if [ "${1:-}" = --with-load ]; then with_load=yes; shift; fi
k_small="${1:-10}"
k_large="${2:-100}"
rounds="${ROUNDS:-3}"
k="$k_small"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
"${BENCH_SLUICE:-$here/sluice}" --version >/dev/null   # builds the jar first, outside the measurement
mkdir -p "$work"

# the server's own logging configuration, with each export part's timing line (debug) switched on
jar="$(dirname "${BENCH_SLUICE:-$here/sluice}")/target/sluice.jar"
unzip -p "$jar" logback.xml \
  | sed 's#</configuration>#  <logger name="dev.sluice.export.PartWorker" level="DEBUG"/>\n</configuration>#' \
  > "$work/flat-logback.xml"
export SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-} -Xmx512m -Dlogback.configurationFile=$work/flat-logback.xml"

sampler=""
stop_all() {
  if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=""; fi
  stop_server
}

measure() {  # K: one size, from an empty server; writes $work/flat-xK.json
  k="$1"
  local result="$work/flat-x$k.json" rounds_file="$work/flat-rounds-x$k.jsonl" load_s="" loadavg_start
  loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
  scale_medium "$here" "$k"
  import_data
  lines=$(cat "$data"/*.ndjson | wc -l)
  ndjson_bytes=$(cat "$data"/*.ndjson | wc -c)

  if [ "$with_load" = yes ]; then
    echo "bench: x$k: sluice load of $lines resources (load average $(cut -d' ' -f1-3 /proc/loadavg)) ..." >&2
    start_server flat-load
    local t0 t1
    t0=$(date +%s.%N)
    "${BENCH_SLUICE:-$here/sluice}" load "$data" --server "$base" > "$work/flat-load-x$k.out" 2> "$work/flat-load-x$k.err"
    t1=$(date +%s.%N)
    load_s=$(python3 -c "print($t1 - $t0)")
    [ "$(count_all "$base")" = "$lines" ] || { echo "bench: sluice load: the server does not hold $lines" >&2; exit 1; }
    stop_server
  fi

  echo "bench: x$k: \$import InitialLoad of $lines resources (load average $(cut -d' ' -f1-3 /proc/loadavg)) ..." >&2
  export SLUICE_IMPORT_DIR="$data"
  start_server flat
  trap stop_all EXIT
  unset SLUICE_IMPORT_DIR
  python3 "$here/bench/flat.py" sample "$server" "$(postgres_pid)" "$work/flat-memory-x$k.json" &
  sampler=$!
  cpu0
  import_s=$(import_run "$base" InitialLoad)
  import_cpu=$(cpu_used)
  import_errors=$(python3 -c "import json; print(sum(e['count'] for e in json.load(open('$work/import-InitialLoad-status.json'))['error']))")
  held=$(count_all "$base")
  echo "bench: x$k: imported in $import_s s ($import_cpu); holds $held of $lines; $(stages "$log")" >&2

  local pgp
  pgp=$(pg_port)
  sql() { psql -X -q -t -A -h 127.0.0.1 -p "$pgp" -U postgres -d postgres -c "$1"; }
  db_bytes=$(sql "select pg_database_size('postgres')")
  du_bytes=$(du -sb "$tmp/postgres" | cut -f1)
  wal_bytes=$(du -sb "$tmp/postgres/pg_wal" | cut -f1)
  sql "copy (select res_type, res_id from resource where not deleted) to stdout" \
    | python3 "$here/bench/flat.py" ids > "$work/flat-expected-system-x$k.json"
  sql "copy (select distinct r.res_type, r.res_id from resource r join compartment c on c.res_pk = r.pk where not r.deleted) to stdout" \
    | python3 "$here/bench/flat.py" ids > "$work/flat-expected-patient-x$k.json"

  rm -f "$rounds_file"
  echo "bench: x$k: $rounds system and $rounds Patient-level exports ..." >&2
  python3 "$here/bench/flat.py" export "$base" '/$export' system "$rounds" "$work/flat-expected-system-x$k.json" \
    "$work/flat-downloads" "$server" "$(postgres_pid)" "$rounds_file"
  python3 "$here/bench/flat.py" export "$base" '/Patient/$export' patient "$rounds" "$work/flat-expected-patient-x$k.json" \
    "$work/flat-downloads" "$server" "$(postgres_pid)" "$rounds_file"

  kill "$sampler"; wait "$sampler" || true; sampler=""
  python3 "$here/bench/flat.py" steps "$log" > "$work/flat-steps-x$k.json"
  python3 - "$result" <<PY
import json, sys
cpu = "$import_cpu".replace(",", "").split()
json.dump({"k": $k, "lines": $lines, "ndjson_bytes": $ndjson_bytes, "load_s": float("${load_s:-0}") or None,
           "import_s": $import_s, "import_cpu_s": int(cpu[2]) + int(cpu[5]), "import_errors": $import_errors,
           "held": $held, "db_bytes": $db_bytes, "du_bytes": $du_bytes, "wal_bytes": $wal_bytes, "rounds_per_level": $rounds,
           "rounds": [json.loads(l) for l in open("$rounds_file")],
           "memory": json.load(open("$work/flat-memory-x$k.json")),
           "steps": json.load(open("$work/flat-steps-x$k.json")),
           "loadavg_start": "$loadavg_start", "loadavg_end": "$(cut -d' ' -f1-3 /proc/loadavg)"}, open(sys.argv[1], "w"))
PY
  stop_all
}

measure "$k_small"
measure "$k_large"
python3 "$here/bench/flat.py" report "$work/flat-x$k_small.json" "$work/flat-x$k_large.json" | tee "$work/flat-report.txt"
