# Sourced by the bench scripts. Needs $here (the repository root) and $k.
# start_server NAME: starts ./sluice serve on a free port over a temporary data directory,
# stopped and deleted when the script exits; sets $port, $tmp, $log, $base and $server.
# BENCH_SLUICE=<launcher> serves with another build (a copy of another commit's tree).
# BENCH_CPU_CGROUP=1 moves the server and its embedded PostgreSQL into a cgroup v1 cpu cgroup of their
# own once it answers (root; /sys/fs/cgroup/cpu), where the kernel uses no autogroups: one scheduling
# group for both, as under a systemd unit with CPUWeight= or in a container (docs/config.md, --export-niceness).
# Then: import_data, into_imports, load_and_analyze, pg_port, postgres_pid, cpu_of, postgres_cpu, cpu0 and cpu_used, count_all, stages, import_run.
shared="$(cd "$here/../shared" && pwd)"
work="$here/bench/work"

# shellcheck source=bench/scale.sh
source "$here/bench/scale.sh"

start_server() {
  local sluice="${BENCH_SLUICE:-$here/sluice}"
  "$sluice" --version >/dev/null   # builds the jar first, outside the measurement
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  tmp="$(mktemp -d -t "sluice-$1-XXXXXX")"
  log="$work/$1-server-x$k.log"
  mkdir -p "$work"
  "$sluice" serve --port "$port" --data-dir "$tmp" > "$log" 2>&1 &
  server=$!
  trap stop_server EXIT
  base="http://127.0.0.1:$port/fhir"
  for _ in $(seq 1 240); do
    if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      # psql connects with the embedded PostgreSQL's password
      PGPASSWORD="$(cat "$tmp/postgres.password")"; export PGPASSWORD
      if [ -n "${BENCH_CPU_CGROUP:-}" ]; then into_cpu_cgroup; fi
      return 0
    fi
    if ! kill -0 "$server" 2>/dev/null; then echo "bench: the server did not start; see $log" >&2; exit 1; fi
    sleep 0.5
  done
  echo "bench: the server did not answer within 120 s; see $log" >&2
  exit 1
}

stop_server() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
  if [ -n "${cpu_cgroup:-}" ]; then
    for _ in $(seq 1 20); do rmdir "$cpu_cgroup" 2>/dev/null && break; sleep 0.5; done
  fi
}

# The server JVM, its postmaster and the postmaster's children into one new cpu cgroup; backends
# forked later are born in it.
into_cpu_cgroup() {
  cpu_cgroup="/sys/fs/cgroup/cpu/sluice-bench-$$"
  mkdir "$cpu_cgroup"
  local pm
  pm=$(postgres_pid)
  for pid in "$server" "$pm" $(pgrep -P "$pm"); do echo "$pid" > "$cpu_cgroup/cgroup.procs"; done
  echo "bench: server and PostgreSQL in the cpu cgroup $cpu_cgroup"
}

# import_data: $data as its real folder (a symlinked one is read like a real one) and $types, the
# resource types of its files, which import_run names as inputs.
import_data() {
  data="$(readlink -f "$data")"
  types=$(for f in "$data"/*.ndjson; do basename "$f" .ndjson; done)
}

# into_imports: $data's files copied into the running server's import folder.
into_imports() {
  mkdir -p "$tmp/imports"; cp "$data"/*.ndjson "$tmp/imports/"
}

# load_and_analyze NAME: loads $data into the running server with `sluice load` (BENCH_SLUICE's when set;
# the folder's real path, which older builds' loaders need), its output in $work/NAME-load-x$k.log,
# then VACUUM ANALYZE, so that the measures after it meet the planner's statistics of a settled server.
load_and_analyze() {
  echo "== load: $(cat "$data"/*.ndjson | wc -l) resources (medium x$k) with ./sluice load (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  "${BENCH_SLUICE:-$here/sluice}" load --server "$base" "$(readlink -f "$data")" > "$work/$1-load-x$k.log" 2>&1
  psql -q -h 127.0.0.1 -p "$(pg_port)" -U postgres -c "vacuum analyze" postgres
}

pg_port() {  # the embedded PostgreSQL's port, from the server log
  sed -n 's/.*Embedded PostgreSQL started on port \([0-9]*\).*/\1/p' "$log" | head -1
}
postgres_pid() {  # the postmaster of the running server
  head -1 "$tmp/postgres/postmaster.pid" 2>/dev/null || pgrep -f -- "-D $tmp/postgres" | head -1 || true
}
cpu_of() { ps -o times= -p "$1" 2>/dev/null | awk '{s+=$1} END {print s+0}'; }
# The postmaster of the running server and its backends, in CPU seconds: the live backends' own,
# and the postmaster's with its reaped children's (cutime, cstime), so that a backend that
# exits between two readings still counts.
postgres_cpu() {
  local pm
  pm=$(postgres_pid)
  [ -n "$pm" ] || { echo 0; return; }
  { sed 's/.*) //' "/proc/$pm/stat" | awk -v hz="$(getconf CLK_TCK)" '{print ($12 + $13 + $14 + $15) / hz}'
    ps -o times= --ppid "$pm"; } | awk '{s+=$1} END {printf "%d\n", s}'
}
cpu0() { server_cpu0=$(cpu_of "$server"); pg_cpu0=$(postgres_cpu); }
cpu_used() {  # "JVM s, PostgreSQL s" since cpu0
  echo "server JVM $(( $(cpu_of "$server") - server_cpu0 )) s, PostgreSQL $(( $(postgres_cpu) - pg_cpu0 )) s"
}

count_all() {  # BASE: the resources a server holds, over the types in $types
  local total=0 n
  for t in $types; do
    n=$(curl -sf "$1/$t?_summary=count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    total=$(( total + n ))
  done
  echo "$total"
}

stages() {  # the import parts' own account of their time, summed over the parts (server log)
  grep -o 'resources in [0-9]* ms (parse [0-9]* ms, index rows [0-9]* ms, other write [0-9]* ms)' "$1" \
    | awk '{t+=$3; p+=$6; i+=$10; w+=$14} END {printf "parts %.1f s: parse %.1f s, index rows %.1f s, other write (SQL) %.1f s", t/1000, p/1000, i/1000, w/1000}'
}

# import_run BASE MODE: kicks off $import of every type in $types (TYPE.ndjson in the server's
# import folder) and waits for its end; prints the seconds, leaves the status in $work.
import_run() {
  local body inputs="" t0 t1 status code
  for t in $types; do
    inputs="$inputs{\"name\":\"input\",\"part\":[{\"name\":\"type\",\"valueString\":\"$t\"},{\"name\":\"url\",\"valueUri\":\"$t.ndjson\"}]},"
  done
  body="{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"inputFormat\",\"valueString\":\"application/fhir+ndjson\"},{\"name\":\"mode\",\"valueString\":\"$2\"},${inputs%,}]}"
  t0=$(date +%s.%N)
  status=$(curl -sf -D - -o /dev/null -X POST "$1/\$import" -H 'Content-Type: application/fhir+json' \
    -H 'Accept: application/fhir+json' -H 'Prefer: respond-async' --data "$body" \
    | tr -d '\r' | awk -F': ' 'tolower($1)=="content-location" {print $2}')
  while true; do
    code=$(curl -s -o "$work/import-$2-status.json" -w '%{http_code}' "$status")
    [ "$code" = 200 ] && break
    [ "$code" = 202 ] || { echo "bench: status $code: $(cat "$work/import-$2-status.json")" >&2; exit 1; }
    sleep 0.5
  done
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.1f}')"
}
