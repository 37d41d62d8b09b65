#!/usr/bin/env python3
"""The measuring side of bench/flat.sh (issue 13, target 4: flat at x100). Subcommands:

  ids                          stdin "type<TAB>id" lines -> {type: [count, id hash]} (JSON)
  sample PID POSTMASTER OUT    peak memory of the server JVM and its PostgreSQL until SIGTERM
  export BASE PATH LEVEL ROUNDS EXPECTED DIR SERVER POSTMASTER OUT
                               ROUNDS exports: kick-off to manifest, then every file with one
                               curl in parallel (kick-off to last byte); each round checked after
                               its clock stops; one JSON line per round appended to OUT
  steps LOG                    the export and import steps the server logged, per job (JSON)
  report SMALL LARGE           the table: each rate at both sizes, their ratio, PASS/FAIL

The id check is a multiset hash, kept while the files are read line by line: per type, the count
and the sum (mod 2^64) of a 64-bit hash of each "type/id". Equal counts and sums per type mean
the same ids as the database's (the database holds each once), without sorting or holding
3 million ids.
"""
import hashlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

MASK = (1 << 64) - 1
# the server writes the stored JSON, which starts with resourceType and id; anything else is parsed
HEAD = re.compile(rb'^\{"resourceType":"([A-Za-z]+)","id":"([^"]+)"')


def id_hash(rtype, rid):
    return int.from_bytes(hashlib.blake2b(rtype + b"/" + rid, digest_size=8).digest(), "little")


def add(seen, rtype, rid):
    entry = seen.setdefault(rtype.decode(), [0, 0])
    entry[0] += 1
    entry[1] = (entry[1] + id_hash(rtype, rid)) & MASK


def ids():
    seen = {}
    for line in sys.stdin.buffer:
        rtype, rid = line.rstrip(b"\n").split(b"\t")
        add(seen, rtype, rid)
    json.dump(seen, sys.stdout)


def cpu_seconds(pid, reaped=False):
    """utime + stime of a process, with reaped=True also its children's that have exited."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)
        return ticks / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[1] == str(pid):
                        found.append(int(entry))
            except OSError:
                pass
    return found


def postgres_cpu(pm):
    # the backends that exited since the last reading count in the postmaster's reaped time
    return cpu_seconds(pm, reaped=True) + sum(cpu_seconds(c) for c in children(pm))


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def sample(pid, pm, out):
    peak = {"jvm_hwm_kb": 0, "pg_rss_kb": 0, "pg_pss_kb": 0, "pg_processes": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    last_write = 0.0
    while not stop:
        pids = [pm] + children(pm)
        peak["jvm_hwm_kb"] = max(peak["jvm_hwm_kb"], status_kb(pid, "VmHWM"))
        peak["pg_rss_kb"] = max(peak["pg_rss_kb"], sum(status_kb(p, "VmRSS") for p in pids))
        peak["pg_pss_kb"] = max(peak["pg_pss_kb"], sum(pss_kb(p) for p in pids))
        peak["pg_processes"] = max(peak["pg_processes"], len(pids))
        if time.time() - last_write > 5:
            write_json(out, peak)
            last_write = time.time()
        time.sleep(0.5)
    write_json(out, peak)


def write_json(path, value):
    with open(path + ".tmp", "w") as f:
        json.dump(value, f)
    os.replace(path + ".tmp", path)


def request(url, headers=None, method="GET"):
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def check(manifest, files, expected):
    """Per-file counts as the manifest says, and per type the ids the database holds."""
    seen, problems, nbytes = {}, [], 0
    for entry, path in zip(manifest["output"], files):
        n = 0
        with open(path, "rb") as f:
            for line in f:
                if not line.strip():
                    continue
                m = HEAD.match(line)
                if m:
                    add(seen, m.group(1), m.group(2))
                else:
                    r = json.loads(line)
                    add(seen, r["resourceType"].encode(), r["id"].encode())
                n += 1
        nbytes += os.path.getsize(path)
        if n != entry["count"]:
            problems.append(f"{entry['url']}: {n} lines, manifest says {entry['count']}")
    for t in sorted(set(seen) | set(expected)):
        if seen.get(t) != expected.get(t):
            got, want = seen.get(t, [0, 0]), expected.get(t, [0, 0])
            problems.append(f"{t}: {got[0]} exported, {want[0]} expected"
                            + ("" if got[0] != want[0] else ", same count but other ids"))
    return sum(v[0] for v in seen.values()), nbytes, problems


def export(base, path, level, rounds, expected_file, dir_, server, pm, out):
    with open(expected_file) as f:
        expected = json.load(f)
    for rnd in range(1, int(rounds) + 1):
        cpu0, pg0 = cpu_seconds(server), postgres_cpu(pm)
        t0 = time.time()
        code, headers, body = request(base + path, {"Accept": "application/fhir+json", "Prefer": "respond-async"})
        if code != 202:
            sys.exit(f"bench: kick-off {path}: {code} {body[:300]!r}")
        status_url = headers.get("Content-Location") or headers.get("content-location")
        while True:
            code, _, body = request(status_url, {"Accept": "application/json"})
            if code == 200:
                break
            if code != 202:
                sys.exit(f"bench: status {code}: {body[:300]!r}")
            time.sleep(0.05)
        t_manifest = time.time()
        manifest = json.loads(body)
        os.makedirs(dir_, exist_ok=True)
        files = [os.path.join(dir_, f"{i}.ndjson") for i in range(len(manifest["output"]))]
        config = "".join(f'url = "{e["url"]}"\noutput = "{p}"\n' for e, p in zip(manifest["output"], files))
        fetched = subprocess.run(["curl", "--silent", "--no-progress-meter", "--show-error", "--fail", "--parallel",
                                  "--parallel-max", "4", "--config", "-"], input=config.encode())
        if fetched.returncode != 0:
            for p in files:
                if os.path.exists(p):
                    os.remove(p)
            sys.exit(f"bench: curl failed ({fetched.returncode}) downloading {level} round {rnd}")
        t_last = time.time()
        cpu, pg = cpu_seconds(server) - cpu0, postgres_cpu(pm) - pg0
        resources, nbytes, problems = check(manifest, files, expected)
        for p in files:
            os.remove(p)
        want = sum(v[0] for v in expected.values())
        result = {"level": level, "round": rnd, "job": status_url.rstrip("/").rsplit("/", 1)[1],
                  "manifest_s": t_manifest - t0, "last_byte_s": t_last - t0, "download_s": t_last - t_manifest,
                  "resources": resources, "expected": want, "bytes": nbytes, "files": len(files),
                  "server_cpu_s": cpu, "pg_cpu_s": pg, "problems": problems,
                  "loadavg": open("/proc/loadavg").read().split()[:3]}
        with open(out, "a") as f:
            f.write(json.dumps(result) + "\n")
        print(f"  {level} round {rnd}: manifest {result['manifest_s']:.2f} s, last byte {result['last_byte_s']:.2f} s,"
              f" {resources:,} of {want:,} resources, {len(files)} files, server CPU {cpu:.1f} s, PostgreSQL {pg:.1f} s,"
              f" {'ids OK' if not problems else 'MISMATCH: ' + '; '.join(problems[:5])}"
              f" (load average {' '.join(result['loadavg'])})", file=sys.stderr)
        if problems:
            sys.exit(1)


TS = r"(\d\d):(\d\d):(\d\d)\.(\d{3})"


def seconds(m):
    h, mi, s, ms = (int(x) for x in m.groups()[:4])
    return h * 3600 + mi * 60 + s + ms / 1000


def steps(log):
    jobs = {}
    imports = {"parts": 0, "resources": 0, "part_ms": 0, "parse_ms": 0, "index_ms": 0, "write_ms": 0, "merge_ms": 0}
    patterns = [
        ("queued", re.compile(TS + r".* Export (\S+) queued: (\w+) level")),
        ("planned", re.compile(TS + r".* Export (\S+) planned: (\d+) parts over (\d+) types, (\d+) member patients.*, in (\d+) ms")),
        ("part", re.compile(TS + r".* Export (\S+) part (\d+) \((\S+) (-?\d+)\.\.(-?\d+)\): (\d+) resources, (\d+) bytes in (\d+) ms")),
        ("completed", re.compile(TS + r".* Export (\S+) completed after (\d+) ms: (\d+) resources")),
        ("import_part", re.compile(TS + r".* PartImport - .*: (\d+) resources in (\d+) ms \(parse (\d+) ms, index rows (\d+) ms, other write (\d+) ms\)")),
        ("merge", re.compile(TS + r".* merged (\d+) staged resources in (\d+) ms")),
    ]
    with open(log, errors="replace") as f:
        for line in f:
            for kind, pattern in patterns:
                m = pattern.match(line)
                if not m:
                    continue
                at, g = seconds(m), m.groups()[4:]
                if kind == "import_part":
                    imports["parts"] += 1
                    for key, v in zip(("resources", "part_ms", "parse_ms", "index_ms", "write_ms"), g):
                        imports[key] += int(v)
                    break
                if kind == "merge":
                    imports["merge_ms"] += int(g[1])
                    break
                job = jobs.setdefault(g[0], {"parts": [], "level": None})
                if kind == "queued":
                    job["level"], job["queued"] = g[1], at
                elif kind == "planned":
                    job.update(planned=at, n_parts=int(g[1]), plan_ms=int(g[4]))
                elif kind == "part":
                    job["parts"].append({"at": at, "type": g[2], "resources": int(g[5]), "bytes": int(g[6]), "ms": int(g[7])})
                else:
                    job.update(completed=at, took_ms=int(g[1]), resources=int(g[2]))
                break
    summary = {}
    for job_id, j in jobs.items():
        if "completed" not in j or not j["parts"]:
            continue
        parts = j["parts"]
        last_part = max(p["at"] for p in parts)
        by_type = {}
        for p in parts:
            t = by_type.setdefault(p["type"], [0, 0])
            t[0] += p["resources"]
            t[1] += p["ms"]
        summary[job_id] = {
            "level": j["level"], "resources": j["resources"], "took_ms": j["took_ms"],
            "plan_ms": j.get("plan_ms"), "queued_to_planned_ms": round((j["planned"] - j["queued"]) * 1000),
            "parts": len(parts), "parts_ms": sum(p["ms"] for p in parts),
            "largest_part": max(p["resources"] for p in parts),
            "slowest_part_ms": max(p["ms"] for p in parts),
            "planned_to_last_part_ms": round((last_part - j["planned"]) * 1000),
            "by_type": by_type}
    json.dump({"exports": summary, "import": imports}, sys.stdout)


def report(small_file, large_file):
    small, large = (json.load(open(p)) for p in (small_file, large_file))
    ks, kl = small["k"], large["k"]
    fails = []

    def rate_row(name, a, b, unit="resources/s"):
        if a is None or b is None:
            print(f"{name:44} {'-':>14} {'-':>14}")
            return
        ratio = b / a
        ok = ratio >= 0.8
        if not ok:
            fails.append(name)
        print(f"{name:44} {a:14,.0f} {b:14,.0f} {ratio:7.2f}  {'PASS' if ok else 'FAIL'}")

    def rates(size, level, key):
        rounds = [r for r in size["rounds"] if r["level"] == level]
        values = [r["resources"] / r[key] for r in rounds]
        return (max(values), statistics.median(values)) if values else (None, None)

    print(f"medium x{ks}: {small['lines']:,} resources; medium x{kl}: {large['lines']:,} resources; heap 512 MB;"
          f" {os.cpu_count()} cores; rounds per export {small['rounds_per_level']}")
    print(f"{'rate (resources/s)':44} {'x' + str(ks):>14} {'x' + str(kl):>14} {'ratio':>7}  (PASS: >= 0.80)")
    if small.get("load_s") and large.get("load_s"):
        rate_row("sluice load (HTTP batches)", small["lines"] / small["load_s"], large["lines"] / large["load_s"])
    rate_row("$import InitialLoad, kick-off to 200", small["lines"] / small["import_s"], large["lines"] / large["import_s"])
    for level in ("system", "patient"):
        for key, what in (("manifest_s", "kick-off to manifest"), ("last_byte_s", "kick-off to last byte")):
            (bs, ms), (bl, ml) = rates(small, level, key), rates(large, level, key)
            rate_row(f"{level} export, {what}, best", bs, bl)
            rate_row(f"{level} export, {what}, median", ms, ml)
    print()
    print(f"{'per resource':44} {'x' + str(ks):>14} {'x' + str(kl):>14} {'ratio':>7}")

    def per_row(name, a, b, unit):
        ratio = f"{b / a:7.2f}" if a else "      -"
        print(f"{name:44} {a:11.2f} {unit:>2} {b:11.2f} {unit:>2} {ratio}")

    per_row("import CPU, server JVM + PostgreSQL", 1e6 * small["import_cpu_s"] / small["lines"],
            1e6 * large["import_cpu_s"] / large["lines"], "us")
    for level in ("system", "patient"):
        def cpu(size):
            rounds = [r for r in size["rounds"] if r["level"] == level]
            return 1e6 * statistics.median((r["server_cpu_s"] + r["pg_cpu_s"]) / r["resources"] for r in rounds)
        per_row(f"{level} export CPU (median), JVM + PostgreSQL", cpu(small), cpu(large), "us")
    per_row("database size (pg_database_size)", small["db_bytes"] / small["lines"], large["db_bytes"] / large["lines"], "B ")
    per_row("data directory (du -sb, WAL included)", small["du_bytes"] / small["lines"], large["du_bytes"] / large["lines"], "B ")
    per_row("  of which WAL (pg_wal)", small["wal_bytes"] / small["lines"], large["wal_bytes"] / large["lines"], "B ")
    print()
    print("steps (server log), microseconds per resource; 'grows' when x%s's is over 1.2 times x%s's" % (kl, ks))
    imp_s, imp_l = small["steps"]["import"], large["steps"]["import"]
    for key, name in (("part_ms", "import parts (sum over parts)"), ("parse_ms", "  parse"), ("index_ms", "  index rows"),
                      ("write_ms", "  other write (SQL)"), ("merge_ms", "import merge (indexes built in bulk)")):
        step_row(name, 1000 * imp_s[key] / small["lines"], 1000 * imp_l[key] / large["lines"])
    for level in ("system", "patient"):
        js = [j for j in small["steps"]["exports"].values() if j["level"] == level]
        jl = [j for j in large["steps"]["exports"].values() if j["level"] == level]
        if not js or not jl:
            continue
        for key, name in (("queued_to_planned_ms", "kick-off to planned"), ("plan_ms", "  planning (its own account)"),
                          ("parts_ms", "parts (sum of part times)"), ("planned_to_last_part_ms", "planned to last part done"),
                          ("took_ms", "job, kick-off to completed")):
            step_row(f"{level}: {name}", statistics.median(1000 * j[key] / j["resources"] for j in js),
                     statistics.median(1000 * j[key] / j["resources"] for j in jl))
        print(f"  {level}: parts {js[0]['parts']} at x{ks} (largest {js[0]['largest_part']:,} resources),"
              f" {jl[0]['parts']} at x{kl} (largest {jl[0]['largest_part']:,})")
        types_s, types_l = js[-1]["by_type"], jl[-1]["by_type"]
        for t in sorted(types_l, key=lambda t: -types_l[t][1])[:4]:
            if t in types_s and types_s[t][0] and types_l[t][0]:
                step_row(f"  {level}: {t} parts (last round)", 1000 * types_s[t][1] / types_s[t][0],
                         1000 * types_l[t][1] / types_l[t][0])
    print()
    for name, size in ((f"x{ks}", small), (f"x{kl}", large)):
        m = size["memory"]
        print(f"{name}: server peak RSS (VmHWM) {m['jvm_hwm_kb'] / 1024:,.0f} MB (heap capped at 512 MB);"
              f" PostgreSQL peak total RSS {m['pg_rss_kb'] / 1024:,.0f} MB, PSS {m['pg_pss_kb'] / 1024:,.0f} MB"
              f" ({m['pg_processes']} processes at most); database {size['db_bytes'] / 1e9:.2f} GB"
              f" ({size['db_bytes'] / size['lines']:,.0f} B per resource), data directory {size['du_bytes'] / 1e9:.2f} GB"
              f" ({size['du_bytes'] / size['lines']:,.0f} B per resource), NDJSON {size['ndjson_bytes'] / size['lines']:,.0f} B"
              f" per resource; {size['import_errors']} import errors, holds {size['held']:,} of {size['lines']:,};"
              f" load average {size['loadavg_start']} -> {size['loadavg_end']}")
    counts_ok = all(s["held"] == s["lines"] and s["import_errors"] == 0 for s in (small, large))
    print(f"counts and ids: {'OK' if counts_ok else 'MISMATCH'} (every round checked: per-file counts, per-type counts and id hashes)")
    print("verdict: " + ("every rate within 20 %" if not fails else "not within 20 %: " + ", ".join(fails)))


def step_row(name, a, b):
    grows = b > 1.2 * a and b - a > 0.05
    print(f"{name:44} {a:11.2f} us {b:11.2f} us {b / a if a else float('nan'):7.2f}  {'grows' if grows else ''}")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "ids":
        ids()
    elif cmd == "sample":
        sample(int(args[0]), int(args[1]), args[2])
    elif cmd == "export":
        export(*args[:6], int(args[6]), int(args[7]), args[8])
    elif cmd == "steps":
        steps(args[0])
    elif cmd == "report":
        report(*args)
    else:
        sys.exit(f"unknown subcommand {cmd}")


if __name__ == "__main__":
    main()
