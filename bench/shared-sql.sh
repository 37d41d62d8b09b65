#!/usr/bin/env bash
# Issue 13, target 2, in the database alone: the COPY of a shared part (ExportScan.sharedSql) of
# bench/levels.sh's Group of 10, as a UNION ALL of a branch per type (before 984afde) and as one
# lateral subquery over the array of types (since), timed in psql.
#   bench/shared-sql.sh [K]     (medium xK, default 10; BENCH_JAR=<jar> loads with that build)
# The data are loaded as bench/levels.sh loads them; a job row and its export_member rows are
# written for the 10 patients levels.sh puts in its Group (every tenth of the patients by id).
# For each form and each part (the two shared parts JobPlanner cuts for that Group on 2 workers,
# of 9 and 6 types, and all 15 types in one) it prints the planning and execution times of
# EXPLAIN (ANALYZE, TIMING OFF, SERIALIZE BINARY), and the time of the COPY itself
# (COPY ... TO '/dev/null' (FORMAT binary), psql's \timing), each the best of REPEAT (default 5),
# in one repeatable-read transaction without parallel plans, as a part runs it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scale="${1:-10}"
repeat="${REPEAT:-5}"
# shellcheck source=bench/sql-server.sh
source "$here/sql-server.sh"
start_sql_server
job="'00000000-0000-0000-0000-000000000013'::uuid"
psql_run <<SQL
insert into export_job (id, client, request_key, request_url, request, status, transaction_time, wait_xids, container)
 values ($job, 'bench', 'bench', 'bench', '{}', 'completed', now(), '', 'bench');
insert into export_member (job_id, patient_id)
 select $job, res_id from (select res_id, row_number() over (order by res_id) - 1 as i, count(*) over () as n
   from resource where res_type = 'Patient' and not deleted) p where i % (n / 10) = 0 order by i limit 10;
SQL
hi="$(psql_run -c "select max(pk) from resource")"
at="$(psql_run -c "select now()")"
# ExportScan.from for a MEMBERS scan; $1 is the type's SQL: a literal, or the lateral form's column
body() {
  echo "from resource_version v where v.res_type = $1 and v.pk between 1 and $hi and v.last_updated <= '$at'
    and (v.valid_to is null or v.valid_to > '$at') and not v.deleted and v.valid_to is null
    and v.pk = any(array(select c.res_pk from export_member m join compartment c
      on c.patient_id = m.patient_id and c.res_type = $1 and c.res_pk between 1 and $hi
      where m.job_id = $job order by 1))"
}
union() {
  local i=0 q=""
  for t in "$@"; do
    [ $i -gt 0 ] && q="$q union all "
    q="$q(select $i::int4, v.content $(body "'$t'") order by v.pk)"
    i=$((i + 1))
  done
  echo "$q"
}
lateral() {
  local IFS=,
  echo "select (s.i - 1)::int4, v.content from unnest('{$*}'::text[]) with ordinality s(t, i)
    cross join lateral (select v.content $(body s.t) order by v.pk) v"
}
best() { sort -n | head -1; }
begin="begin isolation level repeatable read, read only; set local max_parallel_workers_per_gather = 0;"
parts=("Claim Condition DiagnosticReport Encounter ExplanationOfBenefit ImagingStudy Immunization MedicationRequest Procedure"
  "AllergyIntolerance CarePlan Goal Group Observation Patient"
  "AllergyIntolerance CarePlan Claim Condition DiagnosticReport Encounter ExplanationOfBenefit Goal Group ImagingStudy Immunization MedicationRequest Observation Patient Procedure")
printf '\n%-8s %-6s %6s %12s %12s %10s\n' form types rows "planning ms" "execution ms" "COPY ms"
for form in union lateral; do
  for p in "${parts[@]}"; do
    read -ra types <<< "$p"
    q="$($form "${types[@]}")"
    out="$( { echo "$begin"; for _ in $(seq "$repeat"); do
      echo "explain (analyze, timing off, serialize binary) $q;"; done; echo "commit;"; } | psql_run)"
    plan="$(awk '/^Planning Time:/ {print $3}' <<< "$out" | best)"
    exec_ms="$(awk '/^Execution Time:/ {print $3}' <<< "$out" | best)"
    rows="$(grep -m1 -o 'rows=[0-9]* loops=1)$' <<< "$out" | sed 's/rows=\([0-9]*\).*/\1/')"
    copy_ms="$( { echo "$begin"; echo '\timing on'; for _ in $(seq "$repeat"); do
      echo "copy ($q) to '/dev/null' (format binary);"; done; echo '\timing off'; echo "commit;"; } \
      | psql_run 2>&1 | awk '/^Time:/ {print $2}' | best)"
    printf '%-8s %-6s %6s %12s %12s %10s\n' "$form" "${#types[@]}" "$rows" "$plan" "$exec_ms" "$copy_ms"
  done
done
# What a commit's WAL flush costs on this disk: 500 one-row updates, each its own transaction,
# with synchronous_commit on (what the kick-off, part claims, file rows and finishes do) and off
# (the planning claim and the plan): the median time of one, as psql sees it.
psql_run -c "create table bench_commit (n int); insert into bench_commit values (0)"
printf '\n%-20s %10s\n' synchronous_commit "median ms"
for mode in on off; do
  ms="$( { echo "set synchronous_commit = $mode;"; echo '\timing on'; for _ in $(seq 500); do
    echo "update bench_commit set n = n + 1;"; done; } | psql_run 2>&1 | awk '/^Time:/ {print $2}' | sort -n | sed -n 250p)"
  printf '%-20s %10s\n' "$mode" "$ms"
done
psql_run -c "drop table bench_commit"
echo "load average at the end  $(cat /proc/loadavg)"
