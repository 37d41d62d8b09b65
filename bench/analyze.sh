#!/usr/bin/env bash
# How soon after a bulk load the planner has statistics (issue #3): starts a throwaway server,
# loads ../shared/data/medium (times k, default 1), then every 5 s prints, per table, the
# seconds after the end of the load at which autovacuum's ANALYZE last ran and the rows
# changed since, until every table that has rows was analyzed after the load (or 300 s
# passed: a table whose changes stay under its analyze threshold is never analyzed again). The
# planner's row estimates for a few types (the loader goes through the files alphabetically, so
# Patient and Procedure come last) are printed right after the load and at the end, with the
# real counts. Last, the time one ANALYZE of every table takes and how many autovacuum ran, for
# what keeping statistics current costs. Usage: bench/analyze.sh [k [seconds to watch, default 300]]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k="${1:-1}"
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
if [ "$k" = 1 ]; then data="$shared/data/medium"; else scale_medium "$here" "$k"; fi
start_server analyze
pg_port=""
for _ in $(seq 1 60); do
  pg_port=$(sed -n 's/.*Embedded PostgreSQL started on port \([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$pg_port" ] && break
  sleep 0.5
done
sql() { psql -X -q -t -A -F ' ' -h localhost -p "$pg_port" -U postgres -d postgres -c "$1"; }
tables="'resource','resource_version','compartment','idx_token','idx_string','idx_date','idx_number','idx_quantity','idx_reference','idx_uri'"

echo "bench: autovacuum settings: $(sql "select string_agg(name || '=' || setting, ' ') from pg_settings
  where name in ('autovacuum','autovacuum_naptime','autovacuum_analyze_scale_factor','autovacuum_analyze_threshold','autovacuum_max_workers')")"
echo "bench: per-table settings: $(sql "select coalesce(string_agg(relname || ':' || array_to_string(reloptions, ','), ' '), 'none')
  from pg_class where relname in ($tables) and reloptions is not null")"
start=$(date +%s.%N)
"$here/sluice" load "$data" --server "$base" > "$work/analyze-load-x$k.log" 2>&1
loaded=$(date +%s.%N)
load_end=$(sql "select now()")
estimate() {
  for type in Observation Patient Procedure; do
    echo "bench: $1: $type resources, planner estimate vs real rows:" \
      "$(sql "explain select pk from resource where res_type = '$type' and not deleted" | head -1 | sed 's/.*rows=\([0-9]*\).*/\1/')" \
      "vs $(sql "select count(*) from resource where res_type = '$type' and not deleted")"
  done
}
runs() { sql "select coalesce(sum(autoanalyze_count), 0) || ' by autovacuum, ' || coalesce(sum(analyze_count), 0) || ' by the server'
  from pg_stat_user_tables where relname in ($tables)"; }
echo "bench: ANALYZE runs during the load: $(runs)"
estimate "right after the load"
printf 'bench: loaded x%s in %.1f s\n' "$k" "$(echo "$loaded - $start" | bc)"

for t in $(seq 0 5 "${2:-300}"); do
  rows=$(sql "select relname || '=' || coalesce(round(extract(epoch from greatest(last_autoanalyze, last_analyze) - '$load_end'::timestamptz))::text, 'never')
                || '(' || n_mod_since_analyze || ')'
              from pg_stat_user_tables where relname in ($tables) order by relname")
  echo "t+${t}s analyzed at (s after load; rows changed since): $(echo $rows)"
  stale=$(sql "select count(*) from pg_stat_user_tables where relname in ($tables) and n_live_tup + n_mod_since_analyze > 0
               and coalesce(greatest(last_autoanalyze, last_analyze), '-infinity') < '$load_end'::timestamptz")
  [ "$stale" = 0 ] && break
  sleep 5
done

estimate "at the end"
echo "bench: ANALYZE runs in all: $(runs)"
# what one automatic ANALYZE round costs: every table analyzed once, by hand, in one session
# whose server process's CPU time (utime + stime, in clock ticks) is read before and after
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
analyze_all="$(echo "$tables" | tr -d "'" | sed 's/,/; analyze /g')"
coproc PSQL { psql -X -q -t -A -h localhost -p "$pg_port" -U postgres -d postgres; }
echo "select pg_backend_pid();" >&"${PSQL[1]}"
read -r backend <&"${PSQL[0]}"
before_ticks=$(ticks "$backend"); before_time=$(date +%s.%N)
echo "analyze $analyze_all; select 1;" >&"${PSQL[1]}"
read -r _ <&"${PSQL[0]}"
after_ticks=$(ticks "$backend"); after_time=$(date +%s.%N)
echo '\q' >&"${PSQL[1]}"
printf 'bench: ANALYZE of every table once: %.2f s CPU, %.2f s elapsed\n' \
  "$(echo "($after_ticks - $before_ticks) / $(getconf CLK_TCK)" | bc -l)" "$(echo "$after_time - $before_time" | bc)"
