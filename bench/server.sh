# Sourced by bench/load.sh and bench/search.sh. Needs $here (the repository root) and $k.
# start_server NAME: starts ./sluice serve on a free port over a temporary data directory,
# stopped and deleted when the script exits; sets $port, $tmp, $log, $base and $server.
# BENCH_SLUICE=<launcher> serves with another build (a copy of another commit's tree).
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
}
