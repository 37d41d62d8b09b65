#!/usr/bin/env python3
"""Search latency while exports run (issue 13, target 5): the queries of search_latency.py,
timed idle, then again while system exports of the same data run back to back; prints p50/p95
per query and overall, the p95 ratio, and the CPU seconds of the server JVM and of PostgreSQL
in each phase, with the load average.

Usage: latency.py BASE_URL DATA_DIR SERVER_PID POSTMASTER_PID [--rounds N]
A round runs every query once, in turn, so both phases meet the same mix. Each export's
manifest counts are checked per type against DATA_DIR's lines, and the last export's files are
downloaded and counted after the clock stops; a failed check stops the bench (exit 1).
Standard library only.
"""
import argparse, collections, glob, json, os, subprocess, sys, threading, time, urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from search_latency import Client, percentile, queries, timed  # noqa: E402
import sched_groups  # noqa: E402


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def request(method, url, headers=None):
    """(status, headers, body) of one HTTP request; an error status is returned, not raised."""
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=600) as res:
            return res.status, dict(res.headers), res.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def cpu_seconds(pid):
    """User + system CPU seconds of a process and its threads, from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        return 0.0


THREAD_GROUPS = [("export loops", ("export-worker",)), ("request carriers", ("ForkJoinPool",)),
                 ("GC", ("GC Thread", "G1 ")), ("JIT", ("C2 Compiler", "C1 Compiler"))]


def thread_cpu(pid):
    """CPU seconds of the JVM's threads by group (THREAD_GROUPS by Linux thread name, the rest as
    other): which of them an export adds to."""
    groups = collections.Counter()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:
            continue
        name = stat[stat.index("(") + 1: stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        group = next((g for g, prefixes in THREAD_GROUPS if name.startswith(prefixes)), "other")
        groups[group] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return groups


def postgres_cpu(postmaster):
    """The postmaster's CPU and that of its children (backends, also those that ended, as
    cumulative child time) ."""
    with open(f"/proc/{postmaster}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    total = ticks / os.sysconf("SC_CLK_TCK")
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
    return total + sum(cpu_seconds(c) for c in children)


def expected_counts(folder):
    counts = {}
    for path in glob.glob(os.path.join(folder, "*.ndjson")):
        with open(path, "rb") as f:
            counts[os.path.basename(path)[: -len(".ndjson")]] = sum(1 for _ in f)
    return counts


class Exports(threading.Thread):
    """System exports back to back until stopped: kick-off, status polls until the manifest,
    the count check, then DELETE (its files go, and the next kick-off is a new job)."""

    def __init__(self, base, expected):
        super().__init__(daemon=True)
        self.base = base
        self.expected = expected
        self.stop = threading.Event()
        self.started = threading.Event()
        self.seconds = []
        self.failure = None
        self.last_manifest = None

    def run(self):
        try:
            # the export under way when stop is asked is the last one, kept for check_files
            while self.last_manifest is None:
                self.one()
        except Exception as e:  # reported by the main thread, which stops the bench
            self.failure = repr(e)
            self.started.set()

    def one(self):
        t0 = time.perf_counter()
        status, headers, body = request("GET", self.base + "/$export",
                                             {"Accept": "application/fhir+json", "Prefer": "respond-async"})
        if status != 202:
            raise RuntimeError(f"kick-off -> {status}: {body[:300]!r}")
        location = headers["Content-Location"]
        self.started.set()
        while True:
            status, _, body = request("GET", location, {"Accept": "application/json"})
            if status == 200:
                break
            if status != 202:
                raise RuntimeError(f"status -> {status}: {body[:300]!r}")
            time.sleep(0.1)
        self.seconds.append(time.perf_counter() - t0)
        manifest = json.loads(body)
        if manifest.get("error"):
            raise RuntimeError(f"export reported errors: {manifest['error']}")
        counts = collections.Counter()
        for f in manifest["output"]:
            counts[f["type"]] += f["count"]
        if dict(counts) != self.expected:
            wrong = {t: (counts.get(t), self.expected.get(t)) for t in set(counts) | set(self.expected)
                     if counts.get(t) != self.expected.get(t)}
            raise RuntimeError(f"export counts (exported, loaded) differ: {wrong}")
        if self.stop.is_set():
            # the last one: its files are checked after the clock stops
            self.last_manifest = (location, manifest)
        else:
            request("DELETE", location)


def check_files(exports):
    """Every file of the last export holds the lines its manifest entry counts."""
    location, manifest = exports.last_manifest
    total = 0
    for f in manifest["output"]:
        status, _, body = request("GET", f["url"], {"Accept": "application/fhir+ndjson"})
        if status != 200:
            raise SystemExit(f"download {f['url']} -> {status}")
        lines = body.count(b"\n")
        if lines != f["count"]:
            raise SystemExit(f"{f['url']}: {lines} lines, the manifest says {f['count']}")
        total += lines
    request("DELETE", location)
    return total, len(manifest["output"])


def phase(client, found, rounds):
    times = {label: [] for label, _ in found}
    for _ in range(rounds):
        for label, path in found:
            times[label].append(timed(client, path))
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("dir")
    ap.add_argument("server_pid", type=int)
    ap.add_argument("postmaster_pid", type=int)
    ap.add_argument("--rounds", type=int, default=50)
    args = ap.parse_args()
    client = Client(args.base)
    found = queries(client, args.dir)
    expected = expected_counts(args.dir)
    # warm up: every query twice, so neither phase pays the JIT's first compilations
    for _ in range(2):
        for _, path in found:
            client.get(path)

    def cpu():
        return (cpu_seconds(args.server_pid), postgres_cpu(args.postmaster_pid), time.perf_counter(),
                thread_cpu(args.server_pid))

    def by_thread(before, after):
        groups = [g for g, _ in THREAD_GROUPS] + ["other"]
        return ", ".join(f"{g} {after[3][g] - before[3][g]:.1f}" for g in groups)

    print(f"== scheduler: {sched_groups.describe(args.server_pid, args.postmaster_pid)}", flush=True)
    print(f"== idle: {args.rounds} rounds of {len(found)} queries (load average {loadavg()})", flush=True)
    c0 = cpu()
    idle = phase(client, found, args.rounds)
    c1 = cpu()
    idle_load = loadavg()
    exports = Exports(args.base, expected)
    exports.start()
    exports.started.wait()
    if exports.failure:
        raise SystemExit(f"export failed: {exports.failure}")
    print(f"== during exports: the same rounds while system exports run back to back (load average {loadavg()})",
          flush=True)
    c2 = cpu()
    busy = phase(client, found, args.rounds)
    c3 = cpu()
    busy_load = loadavg()
    exports.stop.set()
    exports.join()
    if exports.failure:
        raise SystemExit(f"export failed: {exports.failure}")
    resources, files = check_files(exports)

    print(f"\n{'search (first page, _count=50)':55} {'idle p50':>9} {'p95':>7} {'export p50':>11} {'p95':>7}"
          f" {'p95 ratio':>9}")
    for label, _ in found:
        a, b = idle[label], busy[label]
        print(f"{label:55} {percentile(a, 50):>9.1f} {percentile(a, 95):>7.1f} {percentile(b, 50):>11.1f}"
              f" {percentile(b, 95):>7.1f} {percentile(b, 95) / percentile(a, 95):>8.2f}x")
    every_idle = [t for ts in idle.values() for t in ts]
    every_busy = [t for ts in busy.values() for t in ts]
    ratios = [percentile(busy[l], 95) / percentile(idle[l], 95) for l, _ in found]
    print(f"{'overall (every sample of every query)':55} {percentile(every_idle, 50):>9.1f}"
          f" {percentile(every_idle, 95):>7.1f} {percentile(every_busy, 50):>11.1f} {percentile(every_busy, 95):>7.1f}"
          f" {percentile(every_busy, 95) / percentile(every_idle, 95):>8.2f}x")
    print(f"p95 ratio per query: highest {max(ratios):.2f}x, median {percentile(ratios, 50):.2f}x")
    print(f"idle phase {c1[2] - c0[2]:.1f} s: CPU s server JVM {c1[0] - c0[0]:.1f}, PostgreSQL {c1[1] - c0[1]:.1f};"
          f" load average after it {idle_load}")
    print(f"  JVM threads: {by_thread(c0, c1)}")
    print(f"export phase {c3[2] - c2[2]:.1f} s: CPU s server JVM {c3[0] - c2[0]:.1f}, PostgreSQL {c3[1] - c2[1]:.1f};"
          f" load average after it {busy_load}")
    print(f"  JVM threads: {by_thread(c2, c3)}")
    s = exports.seconds
    print(f"exports: {len(s)} completed (kick-off to manifest {min(s):.2f}-{max(s):.2f} s, median"
          f" {percentile(s, 50):.2f} s), each {sum(expected.values()):,} resources, counts per type as loaded;"
          f" the last one's {files} files downloaded: {resources:,} lines as in its manifest")


if __name__ == "__main__":
    main()
