# Sourced by bench/levels-sql.sh and bench/shared-sql.sh, with $here (bench/) and $scale set.
# start_sql_server: run.sh in sql mode (ExportBench scales the data, builds without BENCH_JAR,
# loads as bench/levels.sh does, then keeps its server up until its standard input closes); then
# sets $work, $pg_port, PGPASSWORD and psql_run, and at exit closes that input, which stops the
# bench and its server.
start_sql_server() {
  work="$here/work"
  coproc BENCH { BENCH_MODE=sql exec "$here/run.sh" "$scale"; }
  bench_pid=$BENCH_PID
  pg_port=""
  while IFS= read -r line <&"${BENCH[0]}"; do
    echo "$line"
    case "$line" in *"PostgreSQL port "*) pg_port="${line##* }"; break ;; esac
  done
  [ -n "$pg_port" ] || { echo "bench: the load did not finish; see $work/server-sql.log" >&2; exit 1; }
  trap 'exec {BENCH[1]}>&-; wait "$bench_pid" 2>/dev/null || true' EXIT
  PGPASSWORD="$(cat "$work/server/postgres.password")"
  export PGPASSWORD
  echo "bench: $(psql_run -c "select version()" | cut -d' ' -f1-2), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
psql_run() { psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres "$@"; }
