#!/usr/bin/env python3
"""Loads a folder of FHIR NDJSON into a Sluice server through transaction Bundles of PUT
entries (POST [base]), with a few concurrent connections, and prints resources/second.

Usage: load_ndjson.py BASE_URL DIR [--bundle N] [--workers N]
Standard library only. The order of files does not matter: references need not resolve.
"""
import argparse, gzip, http.client, json, os, queue, sys, threading, time, urllib.parse


def lines(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield line.strip()


def bundles(folder, size):
    entries = []
    for name in sorted(os.listdir(folder)):
        if not (name.endswith(".ndjson") or name.endswith(".ndjson.gz")):
            continue
        for line in lines(os.path.join(folder, name)):
            head = json.loads(line)
            url = head["resourceType"] + "/" + head["id"]
            entries.append('{"resource":' + line + ',"request":{"method":"PUT","url":"' + url + '"}}')
            if len(entries) == size:
                yield entries
                entries = []
    if entries:
        yield entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("dir")
    ap.add_argument("--bundle", type=int, default=500)
    ap.add_argument("--workers", type=int, default=3)
    args = ap.parse_args()
    base = urllib.parse.urlparse(args.base)
    work = queue.Queue(maxsize=args.workers * 2)
    done = {"resources": 0, "errors": 0}
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection(base.hostname, base.port, timeout=600)
        while True:
            entries = work.get()
            if entries is None:
                return
            body = '{"resourceType":"Bundle","type":"transaction","entry":[' + ",".join(entries) + "]}"
            conn.request("POST", base.path, body.encode("utf-8"), {"Content-Type": "application/fhir+json",
                                                                     "Prefer": "return=minimal"})
            res = conn.getresponse()
            data = res.read()
            with lock:
                if res.status != 200:
                    done["errors"] += 1
                    print("bundle failed:", res.status, data[:300], file=sys.stderr)
                else:
                    done["resources"] += len(entries)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()
    start = time.time()
    for b in bundles(args.dir, args.bundle):
        work.put(b)
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join()
    elapsed = time.time() - start
    print(f"loaded {done['resources']} resources in {elapsed:.1f} s: {done['resources'] / elapsed:.0f} resources/s"
          f" ({done['errors']} failed bundles)")
    sys.exit(1 if done["errors"] else 0)


if __name__ == "__main__":
    main()
