#!/usr/bin/env bash
# Would two writers on one large input be faster than one (bench/README.md, "Import")? The
# Observation input of medium x K (146,320 resources at x10) imported into a fresh server (heap
# 512 MB) as one file, then as N files of every N-th line (no resource in two files, so each is
# its own part: N parts and N writing connections at once; the server's workers, 2 by default, raised to N),
# one mode at a time, alternately, ROUNDS times. Prints each import's time and the CPU of the JVM and
# PostgreSQL, and checks the count.
# Usage: bench/import-split.sh [K] [MODE] [N] [ROUNDS]   (defaults: 10 IncrementalLoad 2 2)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-10}"; mode="${2:-IncrementalLoad}"; n="${3:-2}"; rounds="${4:-2}"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"
data="$(readlink -f "$data")"
export SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-} -Xmx512m"
input="$data/Observation.ndjson"
lines=$(wc -l < "$input")
split_dir="$work/split-x$k-$n"
if [ ! -f "$split_dir/.complete" ]; then
  rm -rf "$split_dir"; mkdir -p "$split_dir"
  awk -v n="$n" -v d="$split_dir" '{print > (d "/Observation" (NR % n) ".ndjson")}' "$input"
  touch "$split_dir/.complete"
fi
one() {  # FILES... : a fresh server, the files copied into its import folder, one import of them all
  start_server split
  mkdir -p "$tmp/imports"; cp "$@" "$tmp/imports/"
  local inputs="" f status code t0 t1
  for f in "$@"; do
    inputs="$inputs{\"name\":\"input\",\"part\":[{\"name\":\"type\",\"valueString\":\"Observation\"},{\"name\":\"url\",\"valueUri\":\"$(basename "$f")\"}]},"
  done
  cpu0
  t0=$(date +%s.%N)
  status=$(curl -sf -D - -o /dev/null -X POST "$base/\$import" -H 'Content-Type: application/fhir+json' \
    -H 'Accept: application/fhir+json' -H 'Prefer: respond-async' \
    --data "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"inputFormat\",\"valueString\":\"application/fhir+ndjson\"},{\"name\":\"mode\",\"valueString\":\"$mode\"},${inputs%,}]}" \
    | tr -d '\r' | awk -F': ' 'tolower($1)=="content-location" {print $2}')
  while true; do
    code=$(curl -s -o "$work/split-status.json" -w '%{http_code}' "$status")
    [ "$code" = 200 ] && break
    [ "$code" = 202 ] || { echo "bench: status $code: $(cat "$work/split-status.json")" >&2; exit 1; }
    sleep 0.2
  done
  t1=$(date +%s.%N)
  seconds=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
  used=$(cpu_used)
  held=$(curl -sf "$base/Observation?_summary=count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  [ "$held" = "$lines" ] || { echo "bench: the server holds $held Observations, not $lines" >&2; exit 1; }
  echo "$seconds s, $(python3 -c "print(f'{$lines / $seconds:,.0f}')")/s; CPU: $used"
  stop_server
}
echo "Observation of medium x$k: $lines resources, $mode; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  echo "round $r, one file, one writer:      $(one "$input")"
  echo "round $r, $n files, $n writers at once: $(SLUICE_EXPORT_WORKERS=$(( n > 2 ? n : 2 )) one "$split_dir"/Observation*.ndjson)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
