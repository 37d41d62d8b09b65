#!/usr/bin/env bash
# Authorization overhead: ../shared/data/medium scaled K times (default 1: 31,878 resources)
# loaded once, then served with --auth none and --auth smart in turn on the same data, each
# mode twice: median search round trips and a system $export with its download.
#   bench/auth.sh [K] [REPEATS]    (default 1 and 50; needs a JDK 21+, Maven and python3)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=../bin/jdk.sh
source "$root/bin/jdk.sh"
k="${1:-1}"
repeats="${2:-50}"
work="$here/work"
mkdir -p "$work"
# shellcheck source=scale.sh
source "$here/scale.sh"
scale_medium "$root" "$k"
(cd "$root" && mvn -B -q -DskipTests package >&2)
rm -rf "$work/auth-server"
trap 'rm -rf "$work/auth-server"' EXIT
"$JAVA_HOME/bin/java" -cp "$root/target/sluice.jar" "$here/AuthBench.java" \
  "$JAVA_HOME/bin/java" "$root/target/sluice.jar" "$data" "$work" "$repeats"
