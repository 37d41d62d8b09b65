#!/usr/bin/env bash
# Where an InitialLoad's server JVM CPU goes (bench/README.md, "Import"): one fresh server with
# the heap capped at 512 MB, medium x K (default 2) copied into its import folder, `$import` in
# InitialLoad mode under a JFR recording (settings=profile), then the execution samples summed
# by what the sampled code was doing (the innermost frame of a known kind: JDBC, FHIRPath,
# serialisation of the stored content, index rows, strict parse, reading) and by leaf method,
# with the GC's pauses and the server JVM's and PostgreSQL's CPU seconds.
# (/proc truncates thread names to 15 characters: the kinds go by their beginnings.)
# Usage: bench/import-profile.sh [K]    BENCH_SLUICE=<launcher> profiles another build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-2}"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
scale_medium "$here" "$k"
import_data
export SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-} -Xmx512m"
source "$here/bin/jdk.sh"

start_server profile
into_imports
jvm=$(pgrep -P "$server" java || echo "$server")   # the launcher execs java: usually the same pid
rec="$work/import-profile-x$k.jfr"; rm -f "$rec"
"$JAVA_HOME/bin/jcmd" "$jvm" JFR.start name=import settings=profile filename="$rec" >/dev/null
threads() {  # CPU seconds of the server JVM's live threads by kind (from /proc: name, utime + stime)
  for t in /proc/"$jvm"/task/*; do
    [ -r "$t/stat" ] || continue
    sed -E 's/^[0-9]+ \((.*)\) [A-Za-z] (([^ ]+ ){10})([0-9]+) ([0-9]+).*/\1\t\4\t\5/' "$t/stat"
  done | awk -F'\t' -v hz="$(getconf CLK_TCK)" '{
      k = "other threads"
      if ($1 ~ /^(GC Thread|G1 )/) k = "GC"
      else if ($1 ~ /^C[12] Compiler/) k = "JIT compiler"
      else if ($1 ~ /^ForkJoinPool\.co/) k = "parallel parse (common pool)"
      else if ($1 ~ /^ForkJoinPool-/) k = "virtual threads (import workers, HTTP)"
      else if ($1 ~ /^import-read/) k = "import readers"
      s[k] += ($2 + $3) / hz } END { for (k in s) printf "%s\t%.1f\n", k, s[k] }'
}
threads > "$work/import-profile-threads0.txt"
# PostgreSQL's parallel workers (a parallel index build in the merge shows as such), sampled
( while kill -0 "$server" 2>/dev/null; do
    pgrep -c -P "$(postgres_pid)" -f "parallel worker" || true; sleep 0.5
  done > "$work/import-profile-parallel.txt" ) &
sampler=$!
cpu0
seconds=$(import_run "$base" InitialLoad)
used=$(cpu_used)
threads > "$work/import-profile-threads1.txt"
kill "$sampler" 2>/dev/null || true
"$JAVA_HOME/bin/jcmd" "$jvm" JFR.stop name=import >/dev/null
echo "InitialLoad of medium x$k: $seconds s; CPU: $used; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(stages "$log")"
grep -o 'merged .*' "$log" || true
echo "PostgreSQL parallel workers: at most $(sort -n "$work/import-profile-parallel.txt" | tail -1) at once, seen in" \
  "$(awk '$1 > 0' "$work/import-profile-parallel.txt" | wc -l) samples of 0.5 s"
echo "server JVM CPU by thread kind (live threads; threads that ended are counted in the JVM total only):"
awk -F'\t' 'NR == FNR {b[$1] = $2; next} {printf "  %6.1f s  %s\n", $2 - b[$1], $1}' \
  "$work/import-profile-threads0.txt" "$work/import-profile-threads1.txt" | sort -rn
"$JAVA_HOME/bin/jfr" print --events jdk.ExecutionSample --stack-depth 96 "$rec" > "$work/import-profile-x$k.samples"
"$JAVA_HOME/bin/jfr" print --events jdk.GarbageCollection "$rec" > "$work/import-profile-x$k.gc"
python3 - "$work/import-profile-x$k.samples" "$work/import-profile-x$k.gc" <<'PY'
import re, sys, collections
# innermost (leaf-most) frame of a known kind decides a sample's kind
kinds = [
    ("JDBC (pgjdbc encoding, socket)", re.compile(r"^org\.postgresql\.")),
    ("FHIRPath evaluation", re.compile(r"FHIRPathEngine|org\.hl7\.fhir\.r4\.utils\.")),
    ("serialisation of stored content (StoredJson)", re.compile(r"dev\.sluice\.fhir\.StoredJson")),
    ("index rows (ResourceIndexer, SearchIndexWriter)", re.compile(r"dev\.sluice\.store\.(ResourceIndexer|SearchIndexWriter)")),
    ("other batch write (VersionImport)", re.compile(r"dev\.sluice\.store\.VersionImport")),
    ("strict parse (LineCheck: HAPI)", re.compile(r"dev\.sluice\.imports\.LineCheck|dev\.sluice\.fhir\.FhirModel\.parse")),
    ("reading lines (InputLines)", re.compile(r"dev\.sluice\.imports\.InputLines")),
]
samples, stack, leafs, by_kind = 0, None, collections.Counter(), collections.Counter()
def done(frames):
    global samples
    if not frames: return
    samples += 1
    leafs[frames[0]] += 1
    for f in frames:
        for name, rx in kinds:
            if rx.search(f):
                by_kind[name] += 1; return
    by_kind["other (server, JIT'd runtime, idle pollers)"] += 1
for line in open(sys.argv[1]):
    s = line.strip()
    if s.startswith("stackTrace = ["): stack = []
    elif stack is not None and (s == "]" or s.startswith("]")):
        done(stack); stack = None
    elif stack is not None and s and s != "...":
        stack.append(re.sub(r"\s+line:.*$", "", s))
print(f"JFR execution samples: {samples}")
for name, n in by_kind.most_common(): print(f"  {100*n/samples:5.1f} %  {name}")
print("leaf methods (top 25):")
for f, n in leafs.most_common(25): print(f"  {100*n/samples:5.1f} %  {f}")
gc = [float(m.group(1)) * (1000 if m.group(2) == "s" else 1) for m in re.finditer(r"sumOfPauses = ([0-9.]+) (ms|s)", open(sys.argv[2]).read())]
print(f"GC: {len(gc)} collections, pauses {sum(gc):.0f} ms in all")
PY
