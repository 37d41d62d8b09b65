#!/usr/bin/env bash
# Seeded fuzzing of a fresh server over raw sockets (FuzzTest): 10,000 malformed requests by
# default. Passes when no answer is a 5xx (505 for another HTTP version aside), no connection
# ends without an answer, and the server is healthy at the end; prints the seed, the answers by
# status and each failing request (the whole log: bench/work/fuzz.log).
# Usage: bench/fuzz.sh [SEED] [REQUESTS]
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seed="${1:-20261204}"
requests="${2:-10000}"
mkdir -p "$here/bench/work"
log="$here/bench/work/fuzz.log"
# shellcheck source=bin/jdk.sh
source "$here/bin/jdk.sh"
cd "$here"
# mvn test, not run-tests (verify): no jar to build afterwards
mvn -B test -Dtest=FuzzTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dsluice.fuzz.seed="$seed" -Dsluice.fuzz.requests="$requests" > "$log" 2>&1
status=$?
grep -E '^FuzzTest: seed .*replays' "$log"
# the figures, then each kind of failure with one request that shows it
sed -n '/^FuzzTest: seed .* requests in/,/^FuzzTest: .* failures of/p' "$log" | head -300
grep -E 'Tests run:' "$log" | tail -1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
