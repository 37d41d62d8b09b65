#!/usr/bin/env bash
# organizeOutputBy=Patient against the plain Patient-level export of the same data, in one run:
# scales ../shared/data/medium K times (default 10) into bench/work/ (once), starts a fresh
# server over an embedded PostgreSQL in a temporary data directory, loads the files with
# `./sluice load` (which writes the Patient compartment rows both exports read), then runs
# ROUNDS (default 2) rounds of plain then organized export, each timed kick-off to manifest and
# then downloaded and checked (bench/OrganizeBench.java). Usage: bench/organize.sh [K] [ROUNDS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-10}"
rounds="${2:-2}"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"
data="$(readlink -f "$data")"   # bench/work/medium-xK may be a symlink, which the loader does not follow
start_server organize
echo "bench: loading medium x$k into a fresh server on port $port ..." >&2
load_start=$(date +%s)
"$here/sluice" load "$data" --server "$base" > "$work/organize-load-x$k.out" 2> "$work/organize-load-x$k.err"
echo "bench: loaded in $(( $(date +%s) - load_start )) s" >&2
jvm=$(pgrep -P "$server" java || echo "$server")
postmaster=$(pgrep -f -- "-D $tmp/postgres" | head -1)
# shellcheck source=../bin/jdk.sh
source "$here/bin/jdk.sh"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$JAVA_HOME/bin/java" -cp "$here/target/sluice.jar" "$here/bench/OrganizeBench.java" "$base" "$jvm" "$postmaster" \
  "$rounds" ""
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
