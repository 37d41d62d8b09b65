#!/usr/bin/env bash
# Export benchmark: ../shared/data/medium scaled x10 (318,780 resources), a system $export and
# its download, against the raw read of the same rows measured in the same run.
#   bench/run.sh [scale]        (default 10; needs a JDK 21+, Maven and python3)
# DEID_CONFIG=<file> de-identifies the export with that configuration (bench/deid.sh).
# BENCH_MODE=download|levels|sql runs bench/download.sh's, bench/levels.sh's or
# bench/levels-sql.sh's measures instead.
# BENCH_JAR=<jar> runs that build (an earlier commit's, copied aside) instead of building this one.
# Everything it makes lives in bench/work/ (git-ignored); each run starts from an empty server.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=../bin/jdk.sh
source "$root/bin/jdk.sh"
scale="${1:-10}"
work="$here/work"
mkdir -p "$work"
# shellcheck source=scale.sh
source "$here/scale.sh"
scale_medium "$root" "$scale"
jar="${BENCH_JAR:-$root/target/sluice.jar}"
if [ -z "${BENCH_JAR:-}" ]; then
  (cd "$root" && mvn -B -q -DskipTests package >&2)
fi
rm -rf "$work/server"
exec "$JAVA_HOME/bin/java" -cp "$jar" "$here/ExportBench.java" \
  "$JAVA_HOME/bin/java" "$jar" "$data" "$work" ${DEID_CONFIG:+"$DEID_CONFIG"}
