#!/usr/bin/env python3
"""bench/latency-sched.sh: a point read of one Patient over HTTP and directly in PostgreSQL
(pgbench), idle and while system exports run back to back (latency.Exports, counts checked);
optionally the run-queue waits of pgbench and its backend from `perf sched`.

Usage: latency_sched.py BASE_URL DATA_DIR SERVER_PID POSTMASTER_PID PG_PORT [--seconds S] [--perf] --work DIR
Standard library, psql, pgbench and (with --perf) perf.
"""
import argparse, os, subprocess, sys, tempfile, threading, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sched_groups  # noqa: E402
from latency import Exports, check_files, expected_counts, loadavg  # noqa: E402
from search_latency import percentile  # noqa: E402


def psql(port, sql):
    return subprocess.run(["psql", "-X", "-At", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "postgres",
                           "-c", sql], capture_output=True, text=True, check=True).stdout.strip()


def summary(ms):
    return (f"n={len(ms)} p50 {percentile(ms, 50):.2f} p95 {percentile(ms, 95):.2f} p99 {percentile(ms, 99):.2f}"
            f" max {max(ms):.1f} ms")


def run_queue_waits(data_file, pids):
    """Each wake-up's wait on a run queue (ms) of the given pids, from perf sched timehist."""
    out = subprocess.run(["perf", "sched", "timehist", "-i", data_file], capture_output=True, text=True).stdout
    waits = []
    for line in out.splitlines()[3:]:
        f = line.split()
        if len(f) >= 6 and any(f[2].endswith(f"[{p}]") or f"[{p}/" in f[2] for p in pids):
            try:
                waits.append(float(f[4]))
            except ValueError:
                pass
    return waits


def phase(name, args, patient, work):
    logs = tempfile.mkdtemp(prefix="pgbench-", dir=work)
    script = os.path.join(logs, "read.sql")
    with open(script, "w") as f:
        f.write(f"select count(*) from resource where res_type = 'Patient' and res_id = '{patient}' and not deleted;\n")
    pgbench = subprocess.Popen(["pgbench", "-n", "-h", "127.0.0.1", "-p", args.pg_port, "-U", "postgres",
                                "-f", script, "-R", "100", "-T", str(args.seconds), "-l",
                                f"--log-prefix={logs}/log", "postgres"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    perf_file = os.path.join(logs, "sched.data")
    recorder = None
    if args.perf:
        def record():
            time.sleep(args.seconds / 3)
            subprocess.run(["perf", "sched", "record", "-a", "-o", perf_file, "sleep", "4"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        recorder = threading.Thread(target=record)
        recorder.start()
    time.sleep(0.5)
    backend = psql(args.pg_port, "select pid from pg_stat_activity where application_name = 'pgbench' limit 1")
    http = []
    end = time.time() + args.seconds - 1
    while time.time() < end:
        t = time.perf_counter()
        with urllib.request.urlopen(f"{args.base}/Patient/{patient}") as r:
            r.read()
        http.append((time.perf_counter() - t) * 1000)
        time.sleep(0.01)
    pgbench.wait()
    direct = []
    for name_ in os.listdir(logs):
        if name_.startswith("log"):
            with open(os.path.join(logs, name_)) as f:
                direct += [int(line.split()[2]) / 1000 for line in f]
    print(f"{name:6} HTTP read of one Patient:          {summary(http)}")
    print(f"{name:6} point read in PostgreSQL (pgbench): {summary(direct)}")
    if recorder:
        recorder.join()
        waits = run_queue_waits(perf_file, [str(pgbench.pid), backend])
        print(f"{name:6} run-queue wait after each wake-up of pgbench and its backend: {summary(waits)}")
    print(f"{name:6} load average {loadavg()}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    for a in ("base", "dir", "server_pid", "postmaster_pid", "pg_port"):
        ap.add_argument(a)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--perf", action="store_true")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    print(f"== scheduler: {sched_groups.describe(args.server_pid, args.postmaster_pid)}", flush=True)
    patient = psql(args.pg_port, "select res_id from resource where res_type = 'Patient' and not deleted limit 1")
    for _ in range(200):  # warm up the read's path in the JVM
        urllib.request.urlopen(f"{args.base}/Patient/{patient}").read()
    phase("idle", args, patient, args.work)
    exports = Exports(args.base, expected_counts(args.dir))
    exports.start()
    exports.started.wait()
    time.sleep(1)
    phase("export", args, patient, args.work)
    exports.stop.set()
    exports.join()
    if exports.failure:
        raise SystemExit(f"export failed: {exports.failure}")
    resources, files = check_files(exports)
    s = exports.seconds
    print(f"exports: {len(s)} completed (median {percentile(s, 50):.2f} s), counts per type as loaded;"
          f" the last one's {files} files downloaded: {resources:,} lines")


if __name__ == "__main__":
    main()
