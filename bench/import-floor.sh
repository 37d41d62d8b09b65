#!/usr/bin/env bash
# The floor of any import path on this machine (bench/README.md, "Import", "The floor"): the CPU
# that HAPI's strict parse and the index rows of every line of medium x K take on one thread, with
# nothing else running in that JVM (bench/ImportFloor.java), warmed up on medium first; the
# server's heap cap (512 MB) as in bench/import.sh.
# Usage: bench/import-floor.sh [K]    (default 10: 318,780 resources)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-10}"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"
data="$(readlink -f "$data")"
"$here/sluice" --version >/dev/null   # builds the jar
source "$here/bin/jdk.sh"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$JAVA_HOME/bin/java" -Xmx512m -cp "$here/target/sluice.jar" "$here/bench/ImportFloor.java" \
  "$here/../shared/data/medium" "$data"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
