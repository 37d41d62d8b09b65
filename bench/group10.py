#!/usr/bin/env python3
"""bench/group10.sh: N exports of a Group of SIZE patients (default 10) against the server it started; each one's
time in the server."""
import json, subprocess, sys, time, urllib.request, re, os
work = sys.argv[1]
log = open(f"{work}/server-sql.log").read()
port = re.search(r"port=(\d+), dataDir", log).group(1)
pg = re.search(r"Embedded PostgreSQL started on port (\d+)", log).group(1)
base = f"http://127.0.0.1:{port}/fhir"
env = dict(os.environ, PGPASSWORD=open(f"{work}/server/postgres.password").read().strip())
def psql(q):
    return subprocess.run(["psql", "-X", "-At", "-h", "127.0.0.1", "-p", pg, "-U", "postgres", "-d", "postgres", "-c", q],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()
size = int(sys.argv[3]) if len(sys.argv) > 3 else 10
ids = psql(f"""select res_id from (select res_id, row_number() over (order by res_id) - 1 as i, count(*) over () as n
   from resource where res_type = 'Patient' and not deleted) p where i % (n / {size}) = 0 order by i limit {size}""").split("\n")
group = "bench-ten" if size == 10 else f"bench-{size}"
g = {"resourceType": "Group", "id": group, "type": "person", "actual": True,
     "member": [{"entity": {"reference": f"Patient/{i}"}} for i in ids]}
req = urllib.request.Request(f"{base}/Group/{group}", data=json.dumps(g).encode(), method="PUT",
                             headers={"Content-Type": "application/fhir+json"})
urllib.request.urlopen(req).read()
n = int(sys.argv[2])
times = []
for k in range(n):
    req = urllib.request.Request(f"{base}/Group/{group}/$export",
                                 headers={"Accept": "application/fhir+json", "Prefer": "respond-async"})
    r = urllib.request.urlopen(req)
    loc = r.headers["Content-Location"]
    while True:
        time.sleep(0.01)
        s = urllib.request.urlopen(loc)
        if s.status == 200:
            break
    job = loc.rsplit("/", 1)[1]
    ms = float(psql(f"select extract(epoch from finished_at - created_at) * 1000 from export_job where id = '{job}'"))
    times.append(ms)
    time.sleep(0.3)
print("in order:", " ".join(f"{t:.0f}" for t in times))
times.sort()
print("server ms:", " ".join(f"{t:.0f}" for t in times))
print(f"median {times[len(times)//2]:.1f} ms, min {times[0]:.1f}, p25 {times[len(times)//4]:.1f}, p75 {times[3*len(times)//4]:.1f}, load {open('/proc/loadavg').read().strip()}")
