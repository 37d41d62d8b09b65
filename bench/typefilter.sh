#!/usr/bin/env bash
# Issue 13, the table's _typeFilter row: the system export of medium xK against
# _type=Observation&_typeFilter=Observation?category=laboratory on the same server, in alternated
# rounds. Scales ../shared/data/medium K times (default 10: 318,780 resources) into bench/work/,
# loads it into a fresh server (heap capped at 512 MB) with `./sluice load` (the filter is a search:
# it needs the index rows a real write makes), runs VACUUM ANALYZE, then bench/typefilter.py
# prints each round, the best and median rates and the filtered export's time as a share of the
# system export's, and checks counts and ids.
#   bench/typefilter.sh [K] [ROUNDS]        (defaults 10 and 5)
# BENCH_SLUICE=<launcher> runs the server and the loader of another build (e.g. main's, in a copy of
# its tree: git archive main | tar -x -C DIR).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-10}"
rounds="${2:-5}"
export SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-} -Xmx512m"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"

start_server typefilter

load_and_analyze typefilter
python3 "$here/bench/typefilter.py" "$base" "$data" "$server" --rounds "$rounds"
