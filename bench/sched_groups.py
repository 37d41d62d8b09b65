"""Which scheduling groups the server JVM and its PostgreSQL run in (issue 13, target 5).

With the kernel's autogroups on (kernel.sched_autogroup_enabled=1) and no cpu cgroup, each session
is one group and the scheduler shares the cores between groups first, whatever the niceness of
the tasks inside them. pg_ctl starts the postmaster in a session of its own, so the export's
lowered threads and backends then compete with the API's as equals across the two groups.
"""


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _cpu_cgroup(pid):
    """The cgroup v1 cpu hierarchy's path of a process, or None."""
    for line in (_read(f"/proc/{pid}/cgroup") or "").splitlines():
        fields = line.split(":", 2)
        if len(fields) == 3 and "cpu" in fields[1].split(","):
            return fields[2]
    return None


def describe(server_pid, postmaster_pid):
    cgroup = _cpu_cgroup(server_pid)
    if cgroup not in (None, "/") and cgroup == _cpu_cgroup(postmaster_pid):
        return f"server and PostgreSQL in the cpu cgroup {cgroup} (no autogroups there)"
    enabled = _read("/proc/sys/kernel/sched_autogroup_enabled")
    server = _read(f"/proc/{server_pid}/autogroup")
    postgres = _read(f"/proc/{postmaster_pid}/autogroup")
    state = {"1": "on", "0": "off"}.get(enabled, "not in this kernel")
    if enabled != "1":
        return f"kernel autogroups {state}"
    where = ("one group" if server == postgres
             else f"server {server and server.split()[0]}, PostgreSQL {postgres and postgres.split()[0]}")
    return f"kernel autogroups {state}; {where}"
