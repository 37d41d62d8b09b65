#!/usr/bin/env bash
# One $import InitialLoad of medium scaled K times (default 10) on a fresh server started with a given
# ahead-of-time cache, to compare caches (docs/config.md, "Ahead-of-time cache"): the caches to compare
# are kept aside as files, and runs of them alternate.
# Usage: bench/aot-initial.sh CACHE [K]    CACHE: a .aot file (SLUICE_AOT=<file>: used as it is, no
# training) or `off` (SLUICE_AOT=off). Heap 512 MB, as bench/import.sh. Prints one line: the UTC time, the
# commit, the cache (name and the first 12 hex digits of its SHA-256), the InitialLoad's seconds, the CPU
# seconds of the server JVM (and of its JIT compiler threads among them), of PostgreSQL and of the machine's
# other processes during the InitialLoad (another bench or build running beside it), and the load average after it. SLUICE_JAVA_OPTS adds JVM options (e.g. -XX:+UnlockDiagnosticVMOptions -XX:-AOTReplayTraining).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${1:?usage: bench/aot-initial.sh CACHE|off [K]}"
k="${2:-10}"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"
import_data
if [ "$cache" = off ]; then
  name=off
else
  cache="$(readlink -f "$cache")"
  [ -f "$cache" ] || { echo "bench: no cache file $cache" >&2; exit 1; }
  name="$(basename "$cache") $(sha256sum "$cache" | cut -c1-12)"
fi
export SLUICE_AOT="$cache"
export SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-} -Xmx512m"
lines=$(cat "$data"/*.ndjson | wc -l)

# jit_cpu: CPU seconds of the server JVM's C1 and C2 compiler threads (live ones; they live as long as the JVM)
jit_cpu() {
  local hz
  hz=$(getconf CLK_TCK)
  for t in /proc/"$server"/task/*; do
    if grep -q 'CompilerThre' "$t/comm" 2>/dev/null; then sed 's/.*) //' "$t/stat"; fi
  done | awk -v hz="$hz" '{s += $12 + $13} END {printf "%.0f\n", s / hz}'
}

# busy: CPU seconds all processes of the machine used so far (user, nice, system, irq, softirq);
# steal: seconds the hypervisor gave this machine's CPUs to others
busy() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / {printf "%.0f\n", ($2 + $3 + $4 + $7 + $8) / hz}' /proc/stat; }
steal() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / {printf "%.0f\n", $9 / hz}' /proc/stat; }

start_server aot
if grep -q 'AOTCache\|AOT cache\|CDS' "$log" && [ "$cache" != off ]; then
  echo "bench: the JVM said something of the cache (see $log):" >&2; grep 'AOTCache\|AOT cache\|CDS' "$log" >&2
fi
into_imports   # copied outside the measurement
cpu0; jit0=$(jit_cpu); busy0=$(busy); steal0=$(steal)
s=$(import_run "$base" InitialLoad)
busy1=$(busy); stolen=$(( $(steal) - steal0 )); used=$(cpu_used); jit=$(( $(jit_cpu) - jit0 ))
others=$(( busy1 - busy0 - $(cpu_of "$server") + server_cpu0 - $(postgres_cpu) + pg_cpu0 ))
n=$(count_all "$base")
[ "$n" = "$lines" ] || { echo "bench: the server holds $n resources of $lines" >&2; exit 1; }
echo "$(date -u +%H:%M) UTC $(git -C "$here" rev-parse --short HEAD) cache: $name | InitialLoad ${s} s," \
  "$used (JIT threads $jit s), the machine's other processes $others s, stolen $stolen s | load average $(cut -d' ' -f1-3 /proc/loadavg)"
