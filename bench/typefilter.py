#!/usr/bin/env python3
"""Issue 13, the _typeFilter row: the system export against
_type=Observation&_typeFilter=Observation?category=laboratory, on the same server and data, in
alternated rounds (system, then filtered); each export timed from kick-off to manifest, then its
files downloaded and checked after the clock stops: per-file counts, the system export holds every
loaded resource once, the filtered one exactly the Observations of DATA_DIR with a category coded
laboratory. Prints each round, the best and median of each, and the filtered export's time as a
share of the same round's system export.

Usage: typefilter.py BASE_URL DATA_DIR SERVER_PID [--rounds N]
Standard library only.
"""
import argparse, glob, json, os, statistics, sys, time, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latency import cpu_seconds, loadavg, request  # noqa: E402

FILTER = "_type=Observation&_typeFilter=" + urllib.parse.quote("Observation?category=laboratory", safe="")


def expected_sets(folder):
    """Every loaded resource as TYPE/id, and the Observations with a category coded laboratory."""
    every, laboratory = set(), set()
    for path in glob.glob(os.path.join(folder, "*.ndjson")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                key = r["resourceType"] + "/" + r["id"]
                every.add(key)
                if r["resourceType"] == "Observation" and any(
                        c.get("code") == "laboratory" for cat in r.get("category", []) for c in cat.get("coding", [])):
                    laboratory.add(key)
    return every, laboratory


def export(base, query, server):
    """Kick-off to manifest: (seconds, server CPU seconds, status URL, manifest)."""
    cpu0, t0 = cpu_seconds(server), time.perf_counter()
    status, headers, body = request("GET", base + "/$export" + ("?" + query if query else ""),
                                    {"Accept": "application/fhir+json", "Prefer": "respond-async"})
    if status != 202:
        raise SystemExit(f"kick-off -> {status}: {body[:300]!r}")
    location = headers["Content-Location"]
    while True:
        status, _, body = request("GET", location)
        if status == 200:
            break
        if status != 202:
            raise SystemExit(f"status -> {status}: {body[:300]!r}")
        time.sleep(0.02)
    seconds, cpu = time.perf_counter() - t0, cpu_seconds(server) - cpu0
    manifest = json.loads(body)
    if manifest.get("error"):
        raise SystemExit(f"the export reported errors: {manifest['error']}")
    return seconds, cpu, location, manifest


def check(name, location, manifest, expected):
    """Downloads every file: its lines match the manifest's count, and together they hold exactly
    the expected resources, each once."""
    seen, lines = set(), 0
    for f in manifest["output"]:
        status, _, body = request("GET", f["url"], {"Accept": "application/fhir+ndjson"})
        if status != 200:
            raise SystemExit(f"download {f['url']} -> {status}")
        rows = [json.loads(l) for l in body.splitlines() if l.strip()]
        if len(rows) != f["count"]:
            raise SystemExit(f"{name}: {f['url']} holds {len(rows)} lines, the manifest says {f['count']}")
        for r in rows:
            seen.add(r["resourceType"] + "/" + r["id"])
        lines += len(rows)
    request("DELETE", location)
    if lines != len(seen):
        raise SystemExit(f"{name}: {lines - len(seen)} resources written more than once")
    if seen != expected:
        raise SystemExit(f"{name}: {len(expected - seen)} expected resources missing, {len(seen - expected)} not expected")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("dir")
    ap.add_argument("server_pid", type=int)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    every, laboratory = expected_sets(args.dir)
    print(f"== {len(every):,} resources loaded, {len(laboratory):,} of them Observations with a category coded"
          f" laboratory ({100 * len(laboratory) / len(every):.0f} %)")
    cases = [("system", "", every), ("_typeFilter", FILTER, laboratory)]
    times = {name: [] for name, _, _ in cases}
    ratios = []
    for rnd in range(1, args.rounds + 1):
        for name, query, expected in cases:
            seconds, cpu, location, manifest = export(args.base, query, args.server_pid)
            check(name, location, manifest, expected)
            times[name].append(seconds)
            print(f"round {rnd}: {name:12} {seconds:.2f} s (server CPU {cpu:.1f} s), {len(expected):,} resources,"
                  f" {len(expected) / seconds:,.0f}/s, exactly those expected (load average {loadavg()})", flush=True)
        ratios.append(times["_typeFilter"][-1] / times["system"][-1])
    print()
    for name, _, expected in cases:
        best, median = min(times[name]), statistics.median(times[name])
        print(f"{name:12} best {best:.2f} s, {len(expected) / best:,.0f} resources/s; median {median:.2f} s,"
              f" {len(expected) / median:,.0f} resources/s")
    print(f"_typeFilter time / same round's system export: median {100 * statistics.median(ratios):.0f} %"
          f" (rounds: {', '.join(f'{100 * r:.0f} %' for r in ratios)}); it selects"
          f" {100 * len(laboratory) / len(every):.0f} % of the resources")
    print(f"load average at the end {loadavg()}")


if __name__ == "__main__":
    main()
