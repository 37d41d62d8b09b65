#!/usr/bin/env bash
# Issue 13, target 2, in the database alone: the COPY query of each resources part of the biggest
# types as a system export runs it and as a Patient-level export does, under the planner
# settings to choose between, timed by EXPLAIN (ANALYZE, SERIALIZE) in psql.
#   bench/levels-sql.sh [K]     (medium xK, default 7; BENCH_JAR=<jar> loads with that build)
# The data are loaded as bench/levels.sh loads them (bulk SQL, compartment rows derived by the
# server's PatientCompartment); the parts are cut as JobPlanner cuts them (--export-part-size
# 100,000). Each query runs REPEAT times (default 3), the best time is printed; then the plans
# of the biggest type's first part with their buffers. The forms:
#   system      every version current at T (autocommit: a system part runs no snapshot)
#   patient     only those in a Patient compartment (ExportScan's ANY_COMPARTMENT): the same
#               plus "valid_to is null and exists (compartment row of the type and range)", in a
#               repeatable-read transaction
#   bypk        the same without the compartment row's type (see query below)
# each with a suffix of settings: -serial (no parallel plan), -nohash (no hash join). By default
# system, patient (the query of ca0803d, before the change) and bypk-nohash-serial (what ExportScan
# runs since); FORMS="system patient-serial bypk ..." chooses others, TYPES=n how many types.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scale="${1:-7}"
repeat="${REPEAT:-3}"
types="${TYPES:-4}"
part_size=100000
# shellcheck source=bench/sql-server.sh
source "$here/sql-server.sh"
start_sql_server
at="$(psql_run -c "select now()")"

# The COPY query of a part (ExportScan.from): system, or Patient level's ANY_COMPARTMENT with
# its compartment rows named by type and range (patient), or by range alone (bypk: the join on
# res_pk already gives the type, and compartment_res then answers without the table).
query() {  # form type from to
  local q="select v.content from resource_version v where v.res_type = '$2' and v.pk between $3 and $4
    and v.last_updated <= '$at' and (v.valid_to is null or v.valid_to > '$at') and not v.deleted"
  case "$1" in
    patient*) q="$q and v.valid_to is null and exists (select 1 from compartment c where c.res_pk = v.pk
      and c.res_type = '$2' and c.res_pk between $3 and $4)" ;;
    bypk*) q="$q and v.valid_to is null and exists (select 1 from compartment c where c.res_pk = v.pk
      and c.res_pk between $3 and $4)" ;;
  esac
  echo "$q"
}
# The transaction a part's COPY runs in: system parts none, the others a repeatable-read one,
# with the form's planner settings (-serial: no parallel plan, -nohash: no hash join).
transaction() {  # form
  case "$1" in
    system) echo "begin;" ;;
    *) echo "begin isolation level repeatable read, read only;"
      case "$1" in *-nohash*) echo "set local enable_hashjoin = off;" ;; esac
      case "$1" in *-serial) echo "set local max_parallel_workers_per_gather = 0;" ;; esac ;;
  esac
}
read -ra forms <<< "${FORMS:-system patient bypk-nohash-serial}"
# one run: EXPLAIN's execution time in ms (it includes the rows' serialization), then the plan's
# top node and, under a Gather, the node below it
run() {  # form type from to
  { transaction "$1"; echo "explain (analyze, timing off, serialize binary) $(query "$@");"; echo "commit;"; } \
    | psql_run | awk '/^Execution Time:/ {ms = $3} !/^ / && NR == 1 {node = $0}
        /^  ->/ && node ~ /^Gather/ && !under {under = $0} END {sub(/ +\(cost.*/, "", node)
        sub(/^ *-> +/, "", under); sub(/ +\(cost.*/, "", under); print ms, node (under ? " > " under : "")}'
}
plans="$(mktemp)"

# the biggest types but Patient (a Patient-level export reads Patient whole, as the system level)
mapfile -t stats < <(psql_run -F ' ' -c "select res_type, count(*), min(pk), max(pk) from resource
  where res_type <> 'Patient' group by res_type order by 2 desc limit $types")
printf '\n%-22s %8s %5s' type rows parts
for f in "${forms[@]}"; do printf ' %19s' "$f"; done
printf '   (ms, best of %s per part, summed over the parts)\n' "$repeat"
declare -A total
for s in "${stats[@]}"; do
  read -r type count lo hi <<< "$s"
  n=$(( (count + part_size - 1) / part_size ))
  width=$(( (hi - lo + 1 + n - 1) / n ))
  printf '%-22s %8d %5d' "$type" "$count" "$n"
  for f in "${forms[@]}"; do
    sum=0
    for (( from = lo; from <= hi; from += width )); do
      to=$(( from + width - 1 < hi ? from + width - 1 : hi ))
      best=""
      for (( r = 0; r < repeat; r++ )); do
        read -r ms plan <<< "$(run "$f" "$type" "$from" "$to")"
        best=$(awk -v a="${best:-$ms}" -v b="$ms" 'BEGIN {print (b < a ? b : a)}')
        echo "$f $type $from-$to: $plan" >> "$plans"
      done
      sum=$(awk -v a="$sum" -v b="$best" 'BEGIN {print a + b}')
    done
    total[$f]=$(awk -v a="${total[$f]:-0}" -v b="$sum" 'BEGIN {print a + b}')
    printf ' %19.0f' "$sum"
  done
  echo
done
printf '%-22s %8s %5s' "all ${#stats[@]}" "" ""
for f in "${forms[@]}"; do printf ' %19.0f' "${total[$f]}"; done
echo
echo
echo "plans of the parts (runs):"
sort "$plans" | uniq -c
rm -f "$plans"

read -r type count lo hi <<< "${stats[0]}"
n=$(( (count + part_size - 1) / part_size ))
to=$(( lo + (hi - lo + 1 + n - 1) / n - 1 ))
for f in "${forms[@]}"; do
  echo
  echo "== $f: $type, pks $lo-$to"
  { transaction "$f"; echo "explain (analyze, buffers, serialize binary) $(query "$f" "$type" "$lo" "$to");"
    echo "commit;"; } | psql_run
done
