"""Sums `perf script` samples of one server's PostgreSQL processes (bench/import-pgperf.sh).

Arguments: perf.txt (perf script -F pid,time,ip,sym,dso with call stacks), pids.txt (pid and
title of the postmaster's children), the postmaster's pid, and the CLOCK_MONOTONIC times of the
kick-off, of the merge's start and of the job's end. Each sample is counted in its phase (staging,
merge), by process kind (title), by activity (the first rule whose frame is in the stack, leaf to
root) and by the kind of its innermost frame; then the top leaf functions per phase.
"""
import collections
import re
import sys

perf_txt, pids_txt, postmaster = sys.argv[1], sys.argv[2], sys.argv[3]
t0, tm, t1 = (float(x) for x in sys.argv[4:7])

titles = {postmaster: "postmaster"}
for line in open(pids_txt):
    parts = line.strip().split(None, 1)
    if len(parts) == 2:
        titles.setdefault(parts[0], parts[1])


def process_kind(pid):
    t = titles.get(pid, "?")
    for name in ("checkpointer", "walwriter", "background writer", "autovacuum", "parallel worker",
                 "logical replication", "stats", "postmaster"):
        if name in t:
            return name
    return "backend" if t.startswith("postgres: ") else "unknown"


# activity: the first rule (in this order) with a frame in the stack
ACTIVITIES = [
    ("index build (swap: CREATE INDEX, ADD PRIMARY KEY/UNIQUE)", re.compile(r"^(btbuild|index_build|_bt_parallel_build_main|_bt_leafbuild)$")),
    ("foreign key validation", re.compile(r"^(RI_Initial_Check|validateForeignKeyConstraint|RI_FKey_check)")),
    ("ANALYZE / statistics", re.compile(r"^(do_analyze_rel|analyze_rel|compute_scalar_stats|BuildRelationExtStatistics)$")),
    ("vacuum", re.compile(r"^(heap_vacuum_rel|lazy_scan_heap|vacuum_rel)$")),
    ("COPY FROM (index and compartment rows)", re.compile(r"^(CopyFrom|DoCopy)$")),
    ("resource rows: INSERT .. SELECT FROM unnest(..) RETURNING", re.compile(r"^FillPortalStore$")),
    ("versions: INSERT of one row, batched by JDBC", re.compile(r"^ExecInsert$")),
    ("other INSERT/UPDATE work (UPDATEs, the executor around the rows)", re.compile(r"^(ExecUpdate|ExecModifyTable)$")),
    ("SELECT .. FOR UPDATE (history of the batch)", re.compile(r"^ExecLockRows$")),
    ("commit (WAL flush, end of transaction)", re.compile(r"^(CommitTransaction|CommitTransactionCommand|RecordTransactionCommit)$")),
    ("other statements (executor)", re.compile(r"^(ExecutorRun|standard_ExecutorRun|PortalRun)$")),
    ("parse, plan, bind", re.compile(r"^(exec_parse_message|exec_bind_message|pg_parse_query|pg_plan_queries|pg_analyze_and_rewrite.*|exec_simple_query)$")),
    ("DROP / RENAME / other DDL", re.compile(r"^(ProcessUtility|standard_ProcessUtility)$")),
    ("reading the client's messages (socket)", re.compile(r"^(pq_getbyte|pq_getmessage|SocketBackend|pq_recvbuf|secure_read)$")),
]

LEAF_KINDS = [
    ("kernel (syscalls, I/O, page faults)", None),
    ("B-tree (search, insert, build)", re.compile(r"^(_bt|bt[a-z]|_bt_)")),
    ("sort (tuplesort, comparisons)", re.compile(r"^(tuplesort|qsort|comparetup|ApplySort|med3|swapfunc|mergeruns|mergeonerun|tuplesort_|heap_(siftup|insert_unordered)|tuplesort_heap)")),
    ("text comparison (varstr_cmp, collation)", re.compile(r"^(varstr_cmp|varstrfastcmp|bttextcmp|texteq|text_cmp|strcoll|__strcoll|__strcoll_l|strxfrm|__strxfrm|varstr_abbrev|hashtext|ucol_|icu)")),
    ("WAL (XLogInsert, CRC, flush)", re.compile(r"^(XLog|CopyXLogRecordToWAL|pg_comp_crc32c|ReserveXLog|WALInsert|log_heap|log_newpage|XLogRecord|issue_xlog_fsync|AdvanceXLInsertBuffer)")),
    ("heap (insert, tuple forming, visibility)", re.compile(r"^(heap_|RelationGetBufferForTuple|RelationPutHeapTuple|PageAddItem|PageGetHeapFreeSpace|HeapTuple|tts_|slot_|ExecStoreTuple|ExecCopySlot|heapgettup|heapam_|toast_|pglz)")),
    ("COPY text parsing", re.compile(r"^(CopyRead|NextCopyFrom|CopyGetData|CopyLoad|CopyConvert|CopyFromText|CopyFromTextLikeOneRow|CopyMultiInsert|pg_verify_mbstr|pg_utf8_verifystr|pg_verify|utf8_)")),
    ("input functions (int, numeric, timestamptz, text)", re.compile(r"^(int[248]in|numeric_in|set_var_from_str|make_result|timestamptz_in|ParseDateTime|DecodeDateTime|DecodeTimezone|DecodeNumber.*|ValidateDate|tm2timestamp|date2j|textin|cstring_to_text.*|byteain|bytea|pg_strtoint|strtoint|InputFunctionCall|boolin|parse_bool|numeric_|apply_typmod|int4in|pg_strtoint.*|DetermineTimeZoneOffset.*|pg_next_dst_boundary|pg_localtime|timesub|DecodeTime|DecodeDate|ParseFractionalSecond)")),
    ("buffers, locks (shared buffers, lightweight locks)", re.compile(r"^(ReadBuffer|Buffer|LockBuffer|PinBuffer|UnpinBuffer|StrategyGetBuffer|hash_search|hash_bytes|LWLock|ReleaseBuffer|MarkBufferDirty|ResourceOwner|GetPrivateRefCount|BufTable|FlushBuffer|smgr|md[a-z]|mdwrite|FileWrite|pg_pwrite|LockAcquire|LockRelease|SetHintBits|TransactionId)")),
    ("memory (palloc, memcpy, memset)", re.compile(r"^(mem|__mem|AllocSet|palloc|pfree|MemoryContext|repalloc|GenerationAlloc|__GI_mem|__nss|_int_malloc|malloc|free|cfree|__libc_malloc|__libc_free|_int_free)")),
    ("expressions, executor", re.compile(r"^(Exec|ExecInterp|ExecEval|ExecJust|ExecProject|ExecScan|SeqNext|IndexNext|index_getnext|index_fetch|fmgr|FunctionCall)")),
]

# samples with any of these frames anywhere in the stack (they overlap the activities above)
ANYWHERE = [
    ("text comparison through a collation (varstr_cmp, bttextcmp)", re.compile(r"^(varstr_cmp|bttextcmp|varstrfastcmp_locale|varlenafastcmp_locale|pg_strncoll)")),
    ("ResourceOwner bookkeeping of COPY's buffered slots", re.compile(r"^(ResourceOwnerAddToHash|ResourceOwnerForget)$")),
    ("pg_get_serial_sequence (a catalog lookup)", re.compile(r"^pg_get_serial_sequence$")),
    ("ON CONFLICT (speculative insertion: check, token lock, confirmation)", re.compile(r"^(ExecCheckIndexConstraints|SpeculativeInsertionLock(Acquire|Release)|heap_finish_speculative)$")),
    ("B-tree inserts (btinsert)", re.compile(r"^btinsert$")),
    ("WAL records (XLogInsert)", re.compile(r"^XLogInsert$")),
]

samples = collections.Counter()           # phase
anywhere = collections.Counter()          # (phase, name)
by_process = collections.Counter()        # (phase, kind)
by_activity = collections.Counter()       # (phase, activity)
by_leaf_kind = collections.Counter()      # (phase, leaf kind)
by_activity_leaf = collections.Counter()  # (phase, activity, leaf kind)
leaf_fns = collections.Counter()          # (phase, function)


def phase_of(t):
    if t < t0 or t > t1:
        return None
    return "staging" if t < tm else "merge"


def leaf_kind(sym, dso):
    if "kernel" in dso:
        return LEAF_KINDS[0][0]
    for name, rx in LEAF_KINDS[1:]:
        if rx.search(sym):
            return name
    return "other"


def done(pid, t, frames):
    phase = phase_of(t)
    if phase is None or not frames:
        return
    samples[phase] += 1
    kind = process_kind(pid)
    by_process[phase, kind] += 1
    if kind == "backend" or kind == "parallel worker":
        activity = "other (backend)"
        for name, rx in ACTIVITIES:
            if any(rx.search(f[0]) for f in frames):
                activity = name
                break
    else:
        activity = "process: " + kind
    sym, dso = frames[0]
    lk = leaf_kind(sym, dso)
    by_activity[phase, activity] += 1
    for name, rx in ANYWHERE:
        if any(rx.search(f[0]) for f in frames):
            anywhere[phase, name] += 1
    by_leaf_kind[phase, lk] += 1
    by_activity_leaf[phase, activity, lk] += 1
    leaf_fns[phase, sym] += 1


header = re.compile(r"^\s*(\d+)\s+([0-9.]+):")
frame = re.compile(r"^\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$")
pid, t, frames = None, 0.0, []
for line in open(perf_txt, errors="replace"):
    m = header.match(line)
    if m and not line.startswith("\t"):
        done(pid, t, frames)
        pid, t, frames = m.group(1), float(m.group(2)), []
        continue
    f = frame.match(line)
    if f and pid is not None:
        sym = re.sub(r"\+0x[0-9a-f]+$", "", f.group(1))
        frames.append((sym, f.group(2)))
done(pid, t, frames)

total = sum(samples.values())
print(f"PostgreSQL samples (perf, 199 Hz per CPU): {total}; staging {samples['staging']}, merge {samples['merge']}")
for phase in ("staging", "merge"):
    n = samples[phase]
    if not n:
        continue
    print(f"\n== {phase}: {n} samples ({100 * n / total:.0f} % of PostgreSQL's)")
    print("by process:")
    for (p, k), c in sorted(by_process.items(), key=lambda x: -x[1]):
        if p == phase:
            print(f"  {100 * c / n:5.1f} %  {k}")
    print("by activity (and, within each, the innermost frame's kind when at least 1 % of the phase):")
    for (p, a), c in sorted(by_activity.items(), key=lambda x: -x[1]):
        if p != phase:
            continue
        print(f"  {100 * c / n:5.1f} %  {a}")
        for (p2, a2, lk), c2 in sorted(by_activity_leaf.items(), key=lambda x: -x[1]):
            if p2 == phase and a2 == a and c2 / n >= 0.01:
                print(f"            {100 * c2 / n:5.1f} %  {lk}")
    print("with a frame anywhere in the stack:")
    for name, _ in ANYWHERE:
        print(f"  {100 * anywhere[phase, name] / n:5.1f} %  {name}")
    print("by the innermost frame's kind:")
    for (p, lk), c in sorted(by_leaf_kind.items(), key=lambda x: -x[1]):
        if p == phase:
            print(f"  {100 * c / n:5.1f} %  {lk}")
    print("leaf functions (top 30):")
    top = sorted(((c, f) for (p, f), c in leaf_fns.items() if p == phase), reverse=True)[:30]
    for c, f in top:
        print(f"  {100 * c / n:5.1f} %  {f}")
