#!/usr/bin/env bash
# Issue 13, target 2: only the Group of 10 of bench/levels.sh, many times, for its time in the
# server (the job's finished_at - created_at), which a levels run samples 3 times only.
#   bench/group10.sh [N] [SIZE]     (default 30 exports of a Group of 10; SIZE 100 is the Group of 10 % of
#   levels.sh, its patients picked the same way, evenly by id; BENCH_JAR=<jar> runs that build)
# Loads medium x10 as bench/levels.sh does (BENCH_MODE=sql keeps the server), puts the same Group
# of 10 patients, then kicks off its export N times one after the other, polling its status every
# 10 ms as levels.sh does, 0.3 s apart; prints the N times in order and their quartiles. The first
# exports of a run are slower (a JVM just started, the load's ANALYZE): compare runs, not exports.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
coproc BENCH { BENCH_MODE=sql exec "$here/run.sh" 10; }
bench_pid=$BENCH_PID
pg_port=""
while IFS= read -r line <&"${BENCH[0]}"; do
  case "$line" in *"PostgreSQL port "*) pg_port="${line##* }"; break ;; esac
done
[ -n "$pg_port" ] || { echo "bench: the load did not finish; see $here/work/server-sql.log" >&2; exit 1; }
trap 'exec {BENCH[1]}>&-; wait "$bench_pid" 2>/dev/null || true' EXIT
echo "bench: ${BENCH_JAR:-this checkout}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/group10.py" "$here/work" "${1:-30}" "${2:-10}"
