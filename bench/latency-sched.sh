#!/usr/bin/env bash
# Where a fast query's wait comes from while exports run (issue 13, target 5): loads medium xK
# once (as bench/latency.sh), then times, idle and while system exports run back to back, a point
# read of one Patient two ways: over HTTP (the server JVM and PostgreSQL) and directly in
# PostgreSQL (pgbench, 100 a second, bypassing the JVM). With BENCH_PERF=1 it also records the
# scheduler for 4 s of each phase (perf sched) and prints how long pgbench and its backend waited
# on a run queue after each wake-up. It prints the kernel's autogroup state and which groups the
# server and its PostgreSQL are in (bench/sched_groups.py).
#   bench/latency-sched.sh [K] [SECONDS]        (defaults 10 and 15 per phase)
# BENCH_SLUICE=<launcher> runs another build's server and loader.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-10}"
seconds="${2:-15}"
command -v pgbench >/dev/null || { echo "bench: needs pgbench (Debian: postgresql-client)" >&2; exit 1; }
export SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-} -Xmx512m"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"
start_server latency-sched
load_and_analyze latency-sched
python3 "$here/bench/latency_sched.py" "$base" "$data" "$server" "$(postgres_pid)" "$(pg_port)" \
  --seconds "$seconds" ${BENCH_PERF:+--perf} --work "$work"
