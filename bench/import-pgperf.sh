#!/usr/bin/env bash
# Where an InitialLoad's PostgreSQL CPU goes (bench/README.md, "Where PostgreSQL's CPU goes"): one
# fresh server with the heap capped at 512 MB, medium x K (default 10) copied into its import
# folder, `$import` in InitialLoad mode while `perf record` samples the machine (system-wide, DWARF
# call stacks; needs root or perf_event_paranoid <= 0: `perf record -p` does not follow the backends
# the postmaster forks later, such as the parallel workers of an index build). Only the samples of
# this server's PostgreSQL processes are kept (its postmaster's children, listed every 0.1 s). It
# prints PostgreSQL's and the server JVM's CPU seconds in the two phases (staging: kick-off until
# the job's status turns `merging`; merge: from then to the end), then the PostgreSQL samples of each
# phase by process and by what the backend was doing (the outermost known frame: COPY of index rows,
# INSERT of versions, the batch's other statements, index builds, commit, ...) and by the kind of
# the innermost frame (B-tree, heap, WAL, COPY parsing, input functions, sort, memory, ...), and the
# top leaf functions.
# Usage: bench/import-pgperf.sh [K]    BENCH_SLUICE=<launcher> measures another build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-10}"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"
import_data
export SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-} -Xmx512m"
out="$work/pgperf-x$k"; rm -rf "$out"; mkdir -p "$out"

start_server pgperf
into_imports
pm=$(postgres_pid)
# this server's PostgreSQL processes, with their titles (a backend's title names its state)
( while [ ! -e "$out/stop" ]; do
    ps -o pid=,args= --ppid "$pm" >> "$out/pids.txt" 2>/dev/null || true; sleep 0.1
  done ) &
lister=$!
# the CPU used when the job turns to its merge, seen in the server log (no polling of PostgreSQL,
# which would add backends of its own); up to 0.2 s late, so the phases' samples are split at the
# log line's own time instead
( while kill -0 "$server" 2>/dev/null; do
    if grep -q 'every input staged; merging' "$log"; then
      echo "seen $(postgres_cpu) $(cpu_of "$server")" > "$out/merge-start.txt"
      break
    fi
    sleep 0.05
  done ) &
watcher=$!
perf record -a -k CLOCK_MONOTONIC --call-graph dwarf,16384 -F 199 -o "$out/perf.data" >"$out/perf-record.log" 2>&1 &
perf=$!
sleep 1
cpu0
# the kick-off on both clocks: the merge's start is then taken from the server log's own time stamp
read -r t0 t0_wall < <(python3 -c 'import time; print(time.clock_gettime(time.CLOCK_MONOTONIC), time.time())')
seconds=$(import_run "$base" InitialLoad)
used=$(cpu_used)
t1=$(python3 -c 'import time; print(time.clock_gettime(time.CLOCK_MONOTONIC))')
kill -INT "$perf"; wait "$perf" || true
touch "$out/stop"; kill "$watcher" 2>/dev/null || true
wait "$lister" "$watcher" 2>/dev/null || true
read -r _ pg_m jvm_m < "$out/merge-start.txt"
tm=$(python3 - "$t0" "$t0_wall" "$(grep -m1 'every input staged; merging' "$log" | cut -d' ' -f1)" <<'PY'
import datetime, sys
t0, wall, hms = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
day = datetime.datetime.fromtimestamp(wall)  # the log's times are local, to the millisecond
h, m, s = hms.split(":")
logged = day.replace(hour=int(h), minute=int(m), second=0, microsecond=0).timestamp() + float(s)
print(t0 + logged - wall)
PY
)
echo "InitialLoad of medium x$k: $seconds s; CPU: $used; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "staging $(python3 -c "print(f'{$tm - $t0:.1f}')") s: PostgreSQL $(( pg_m - pg_cpu0 )) s, JVM $(( jvm_m - server_cpu0 )) s;" \
  "merge $(python3 -c "print(f'{$t1 - $tm:.1f}')") s (to the job's 200): PostgreSQL $(( $(postgres_cpu) - pg_m )) s, JVM $(( $(cpu_of "$server") - jvm_m )) s"
grep -o 'merged .*' "$log" || true
pids=$(awk '$1 ~ /^[0-9]+$/ {print $1}' "$out/pids.txt" | sort -un | paste -sd,)
perf script --no-inline -i "$out/perf.data" --pid "$pm,$pids" -F pid,time,ip,sym,dso 2> /dev/null > "$out/perf.txt"
python3 "$here/bench/pgperf.py" "$out/perf.txt" "$out/pids.txt" "$pm" "$t0" "$tm" "$t1" | tee "$out/report.txt"
