#!/usr/bin/env bash
# Search latency while exports run (issue 13, target 5): scales ../shared/data/medium K times
# (default 10: 318,780 resources) into bench/work/, loads it once into a fresh server with
# `./sluice load`, runs VACUUM ANALYZE, then bench/latency.py times the search queries of
# bench/search_latency.py ROUNDS times idle and ROUNDS times while system exports of the same
# data run back to back, and prints p50/p95 per query and overall, the p95 ratio, and the CPU
# seconds of the server JVM (by thread group) and of PostgreSQL per phase, with the load average.
#   bench/latency.sh [K] [ROUNDS]        (defaults 10 and 50)
# BENCH_SLUICE=<launcher> runs the server and the loader of another build (e.g. main's, in a copy of
# its tree: git archive main | tar -x -C DIR). BENCH_CPU_CGROUP=1 (root) runs the server and its PostgreSQL
# in one cpu cgroup (bench/server.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-10}"
rounds="${2:-50}"
# the issue's condition for every target: the server's heap capped at 512 MB
export SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-} -Xmx512m"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"

start_server latency

load_and_analyze latency
python3 "$here/bench/latency.py" "$base" "$data" "$server" "$(postgres_pid)" --rounds "$rounds"
