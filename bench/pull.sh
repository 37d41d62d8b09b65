#!/usr/bin/env bash
# Download benchmark of `sluice export` (issue 14): loads medium xK (default 10) into a fresh
# server, runs one system-level export to the local store, then downloads that export's files
# three ways in the same run, each into an empty directory:
#   curl       plain parallel GETs (xargs -P N curl), identity encoding: the server's file serving
#   curl-gzip  the same with --compressed (gzip made on the fly by the server, as sluice asks for)
#   sluice     ./sluice export --status URL --parallel N (reattached to the finished export:
#              manifest, downloads, counts and every line checked; --gzip auto: identity here)
#   sluice-gzip  the same with --gzip always
# and prints MB/s of NDJSON for each, sluice's ratio to curl and sluice-gzip's to curl-gzip. Usage: bench/pull.sh [K] [N]
# (N parallel downloads, default 4).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-10}"
par="${2:-4}"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"
# the real folder: sluice load walks a folder without following links (bench/work/medium-x10 may be one)
data="$(cd "$data" && pwd -P)"
start_server pull

echo "bench: loading medium x$k into the server on port $port ..." >&2
"$here/sluice" load "$data" --server "$base" > "$work/pull-load-x$k.out" 2> "$work/pull-load-x$k.err"

echo "bench: exporting ..." >&2
status=$(curl -sf -D - -o /dev/null -H 'Accept: application/fhir+json' -H 'Prefer: respond-async' \
  "$base/\$export" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-location" {print $2}')
manifest="$work/pull-manifest-x$k.json"
while true; do
  code=$(curl -s -o "$manifest" -w '%{http_code}' "$status")
  [ "$code" = 200 ] && break
  [ "$code" = 202 ] || { echo "bench: the export failed: HTTP $code $(cat "$manifest")" >&2; exit 1; }
  sleep 1
done
python3 -c 'import json,sys; [print(f["url"]) for f in json.load(open(sys.argv[1]))["output"]]' "$manifest" \
  > "$work/pull-urls-x$k.txt"
files=$(wc -l < "$work/pull-urls-x$k.txt")

now() { date +%s.%N; }
dl="$work/pull-downloads"
# one run: "name start end bytes" on stdout
curl_run() {  # $1: name, $2: extra curl option or ""
  rm -rf "$dl"; mkdir -p "$dl"
  local t0 t1; t0=$(now)
  awk '{print NR, $0}' "$work/pull-urls-x$k.txt" | DL="$dl" OPT="$2" \
    xargs -P "$par" -L 1 sh -c 'curl -sSf $OPT -o "$DL/$0.ndjson" "$1"'
  t1=$(now)
  echo "$1 $t0 $t1 $(cat "$dl"/*.ndjson | wc -c) $(cat "$dl"/*.ndjson | wc -l)"
}
sluice_run() {  # $1: name, $2: --gzip value
  rm -rf "$dl"
  local t0 t1; t0=$(now)
  "$here/sluice" export --status "$status" --out "$dl" --parallel "$par" --gzip "$2" > "$work/pull-$1-x$k.out" \
    2> "$work/pull-$1-x$k.err" || { echo "bench: sluice export failed; see $work/pull-$1-x$k.*" >&2; exit 1; }
  t1=$(now)
  echo "$1 $t0 $t1 $(cat "$dl"/*.ndjson | wc -c) $(cat "$dl"/*.ndjson | wc -l)"
}

echo "bench: $files files; downloading them four ways, twice, $par at a time ..." >&2
"$here/sluice" --version > /dev/null   # the jar is built before any timing
results="$work/pull-results-x$k.txt"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
: > "$results"
for round in 1 2; do
  curl_run curl "" >> "$results"
  curl_run curl-gzip "--compressed" >> "$results"
  sluice_run sluice auto >> "$results"
  sluice_run sluice-gzip always >> "$results"
done
rm -rf "$dl"

python3 - "$results" "$k" "$par" "$files" "$(cut -d' ' -f1-3 /proc/loadavg)" "$load_start" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
k, par, files, loadavg = sys.argv[2:6]
best = {}
print(f"\nmedium x{k}: {files} files, {par} downloads at a time; load average at the start {sys.argv[6]},"
      f" at the end {loadavg}")
for name, t0, t1, nbytes, lines in rows:
    took = float(t1) - float(t0)
    mbs = int(nbytes) / took / 1e6
    print(f"{name:10} {took:7.1f} s  {int(nbytes)/1e6:8.1f} MB  {int(lines):9,} lines  {mbs:7.1f} MB/s")
    best.setdefault(name, []).append(mbs)
med = {n: statistics.median(v) for n, v in best.items()}
for mine, base in (("sluice", "curl"), ("sluice-gzip", "curl-gzip")):
    print(f"{mine} / {base}: {med[mine] / med[base] * 100:.0f} % (medians of {len(best[base])} runs;"
          f" target: at least 80 %)")
counts = {r[0]: r[4] for r in rows}
if len(set(counts.values())) != 1:
    print(f"line counts differ: {counts}")
    sys.exit(1)
PY
