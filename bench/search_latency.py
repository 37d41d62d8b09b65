#!/usr/bin/env python3
"""Times the first page of common FHIR searches against a running Sluice loaded with a
Synthea population, next to the raw read of one resource (the baseline), and prints a table.

Usage: search_latency.py BASE_URL DATA_DIR [--repeats N]
(bench/latency.py imports its queries and client.)
Standard library only. Values (a patient, a family name, a frequent code) come from DATA_DIR.
"""
import argparse, collections, gzip, http.client, json, os, statistics, time, urllib.parse


def first_lines(folder, type_, n):
    for name in (type_ + ".ndjson", type_ + ".ndjson.gz"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as f:
                for i, line in enumerate(f):
                    if i >= n:
                        return
                    yield json.loads(line)
            return


class Client:
    """One keep-alive HTTP connection to the server; get() returns the parsed JSON of a 200."""

    def __init__(self, base_url):
        base = urllib.parse.urlparse(base_url)
        self.path = base.path
        self.conn = http.client.HTTPConnection(base.hostname, base.port, timeout=120)

    def get(self, path):
        self.conn.request("GET", path, headers={"Accept": "application/fhir+json"})
        res = self.conn.getresponse()
        body = res.read()
        if res.status != 200:
            raise SystemExit(f"GET {path} -> {res.status}: {body[:300]!r}")
        return json.loads(body)


def queries(client, folder):
    """The searches timed, as (label, path): values (a patient, its family name, the most
    frequent Observation code) come from the data; the last is the second page of the biggest
    result, through its next link, when it has one."""
    patient = next(first_lines(folder, "Patient", 1))
    pid, family = patient["id"], patient["name"][0]["family"]
    codes = collections.Counter()
    for o in first_lines(folder, "Observation", 5000):
        c = o["code"]["coding"][0]
        codes[(c["system"], c["code"])] += 1
    system, code = codes.most_common(1)[0][0]
    token = urllib.parse.quote(f"{system}|{code}", safe="")
    p = client.path
    found = [
        ("baseline: read one Patient", f"{p}/Patient/{pid}"),
        ("token: Observation?code", f"{p}/Observation?code={token}"),
        ("date range: Observation?date=ge..&date=lt..", f"{p}/Observation?date=ge2015-01-01&date=lt2015-02-01"),
        ("reference: Observation?subject=Patient/id", f"{p}/Observation?subject=Patient/{pid}"),
        ("reference+token: Observation?patient&code", f"{p}/Observation?patient={pid}&code={token}"),
        ("chain: Observation?subject:Patient.family", f"{p}/Observation?subject:Patient.family={urllib.parse.quote(family)}"),
        ("chain: Encounter?subject:Patient.birthdate=ge1990", f"{p}/Encounter?subject:Patient.birthdate=ge1990"),
        ("reverse chain: Patient?_has:Observation:patient:code", f"{p}/Patient?_has:Observation:patient:code={token}"),
        ("string: Patient?family (prefix)", f"{p}/Patient?family={urllib.parse.quote(family[:3])}"),
        ("compartment: Patient/id/Observation?code", f"{p}/Patient/{pid}/Observation?code={token}"),
        ("sorted: Observation?code&_sort=-date", f"{p}/Observation?code={token}&_sort=-date"),
        ("count: Observation?code&_summary=count", f"{p}/Observation?code={token}&_summary=count"),
    ]
    first = client.get(f"{p}/Observation?code={token}")
    nxt = next((l["url"] for l in first.get("link", []) if l["relation"] == "next"), None)
    if nxt:
        u = urllib.parse.urlparse(nxt)
        found.append(("paging: second page of Observation?code (cursor)", u.path + "?" + u.query))
    return found


def percentile(times, q):
    """The q-th percentile (0-100) of the samples, nearest rank."""
    ordered = sorted(times)
    return ordered[max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered))) - 1))]


def timed(client, path):
    t0 = time.perf_counter()
    client.get(path)
    return (time.perf_counter() - t0) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("dir")
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    client = Client(args.base)
    print(f"{'search (first page, _count=50)':55} {'matches':>8} {'median ms':>10} {'p95 ms':>8}")
    for label, path in queries(client, args.dir):
        if label.startswith("paging"):
            matches = ""
        elif "_summary=count" in path or label.startswith("baseline"):
            matches = client.get(path).get("total", 1)
        else:
            sep = "&" if "?" in path else "?"
            matches = client.get(path + sep + "_summary=count")["total"]
        client.get(path)
        times = [timed(client, path) for _ in range(args.repeats)]
        print(f"{label:55} {matches:>8} {statistics.median(times):>10.1f} {percentile(times, 95):>8.1f}")


if __name__ == "__main__":
    main()
