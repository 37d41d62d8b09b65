package dev.sluice.export;

import dev.sluice.fhir.FhirException;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportJobTable;
import dev.sluice.store.ExportPartKind;
import dev.sluice.store.ExportPartTable;
import dev.sluice.store.ExportPartTable.NewPart;
import dev.sluice.store.ExportScan;
import dev.sluice.store.ExportScan.TypeStats;
import dev.sluice.store.PatientRange;
import dev.sluice.fhir.MessageCode;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a queued job into parts: waits until every transaction in progress at kick-off has
 * ended (so every version stamped at or before transactionTime is visible), resolves the
 * Group's members at that time, creates the job's container in the output store (once, before
 * any part writes to it), and cuts each type into pk ranges of about {@code partResources}
 * resources (for a Group or {@code patient}: of the members' compartment rows, the types
 * without any left out unless changed since transactionTime, and the small ones sharing parts:
 * {@link SharedParts}). The plan is written in one transaction.
 */
public final class JobPlanner {
  private static final Logger log = LoggerFactory.getLogger(JobPlanner.class);
  private static final long WAIT_STEP_MILLIS = 20;

  private final ExportSettings settings;
  private final ExportJobTable jobs;
  private final ExportPartTable parts;
  private final ExportScan scan;
  private final RecentTypeSizes sizes;
  private final GroupMembers groups;
  private final ExportTypes types;
  private final OutputStore store;
  private final JobEnds ends;
  private final String owner;

  public JobPlanner(ExportSettings settings, ExportJobTable jobs, ExportPartTable parts, ExportScan scan,
      GroupMembers groups, ExportTypes types, OutputStore store, JobEnds ends, String owner) {
    this.store = store;
    this.ends = ends;
    this.settings = settings;
    this.jobs = jobs;
    this.parts = parts;
    this.scan = scan;
    this.sizes = new RecentTypeSizes(scan, Clock.systemUTC());
    this.groups = groups;
    this.types = types;
    this.owner = owner;
  }

  /**
   * @return true when the job was planned and runs now
   * @throws StoreUnreachable when the output store could not create the job's container
   */
  boolean plan(ExportJobRow job) throws SQLException, IOException, InterruptedException {
    long started = System.nanoTime();
    if (!awaitTransactions(job)) {
      return false;
    }
    long awaited = System.nanoTime();
    ExportRequest request = ExportRequest.fromJson(job.requestJson());
    Instant at = job.transactionTime();
    Collection<String> members;
    List<String> elsewhere = List.of();
    try {
      if (request.level() instanceof ExportLevel.Group g) {
        GroupMembers.Members group = groups.of(g.groupId(), at, request.base());
        members = group.patients();
        if (!request.patients().isEmpty()) {
          members.retainAll(Set.copyOf(request.patients()));
        }
        // the members that are not on this server are reported by the notes part
        elsewhere = group.elsewhere();
      } else {
        members = request.level() instanceof ExportLevel.Patients ? request.patients() : List.of();
      }
    } catch (FhirException e) {
      ends.fail(job.id(), e.status(), e.issues().getFirst().withMessage(MessageCode.EXPORT_PLANNING_FAILED));
      return false;
    }
    long resolved = System.nanoTime();
    store.prepare(job.container());
    long prepared = System.nanoTime();
    List<NewPart> plan = new ArrayList<>();
    Set<String> wanted = new TreeSet<>(request.types().isEmpty() ? types.forLevel(request.level()) : request.types());
    if (request.organizedByPatient()) {
      // blocks by patient: every type in each part, parts cut by patients, never by type
      boolean everyPatient = request.level() instanceof ExportLevel.Patients && request.patients().isEmpty();
      for (PatientRange r : scan.patientRanges(everyPatient ? null : members, partResources(request))) {
        plan.add(NewPart.patientBlocks(r));
      }
      wanted = Set.of();
    }
    // an export of some patients plans from their compartment rows, not from the whole table
    boolean byMembers = request.level() instanceof ExportLevel.Group || !request.patients().isEmpty();
    List<TypeStats> stats = byMembers ? scan.memberTypeStats(members, wanted, at) : scan.typeStats(wanted);
    long counted = System.nanoTime();
    // history and deleted parts follow a resources part's type and range: those keep one type each
    if (byMembers && !request.includes(AssociatedData.HISTORY) && !request.includes(AssociatedData.DELETED)) {
      SharedParts packed = SharedParts.of(stats, sizes.get(), partResources(request), settings.workers());
      plan.addAll(packed.shared());
      stats = packed.own();
    }
    for (TypeStats t : stats) {
      for (long[] range : ranges(t, partResources(request))) {
        long from = range[0];
        long to = range[1];
        plan.add(new NewPart(ExportPartKind.RESOURCES, t.type(), from, to));
        // the same pk range: a resource's versions share its pk
        if (request.includes(AssociatedData.HISTORY)) {
          plan.add(new NewPart(ExportPartKind.HISTORY, t.type(), from, to));
        }
        if (request.includes(AssociatedData.DELETED)) {
          plan.add(new NewPart(ExportPartKind.SOFT_DELETED, t.type(), from, to));
        }
      }
    }
    if (request.includes(AssociatedData.LATEST_PROVENANCE) || request.includes(AssociatedData.RELEVANT_PROVENANCE)) {
      // cut by Provenance pks, so that each Provenance is judged, and written, by one part
      for (TypeStats t : scan.typeStats(List.of("Provenance"))) {
        for (long[] range : ranges(t, partResources(request))) {
          plan.add(new NewPart(ExportPartKind.PROVENANCE, t.type(), range[0], range[1]));
        }
      }
    }
    if (request.since() != null) {
      plan.add(new NewPart(ExportPartKind.DELETED, null, 0, 0));
    }
    if (JobNotes.has(request, elsewhere)) {
      plan.add(new NewPart(ExportPartKind.NOTES, null, 0, 0));
    }
    long cut = System.nanoTime();
    boolean planned = parts.plan(job.id(), owner, members, plan);
    // the steps' shares, for the fixed cost of small exports (bench/README, target 2)
    log.debug("Export {} planning: transactions awaited in {} us, members {} us, container {} us, type counts {} us,"
        + " parts cut (type sizes included) {} us, plan written {} us", job.id(), (awaited - started) / 1000,
        (resolved - awaited) / 1000,
        (prepared - resolved) / 1000, (counted - prepared) / 1000, (cut - counted) / 1000,
        (System.nanoTime() - cut) / 1000);
    if (planned) {
      log.info("Export {} planned: {} parts over {} types, {} member patients{}, in {} ms", job.id(), plan.size(),
          wanted.size(), members.size(), request.organizedByPatient() ? ", organized by patient" : "",
          (System.nanoTime() - started) / 1_000_000);
    }
    return planned;
  }

  /**
   * About how many resources one part of this request covers. A de-identified resource costs a
   * worker about ten times the CPU of a copied one, so such a part covers a tenth: with parts of the
   * plain size the last one ran alone on one of two workers for seconds (bench/README.md,
   * "De-identified export"). Never below {@link #SMALLEST_DEID_PART}, where a part's fixed cost (its
   * COPY, file and lease) would outweigh the balance it buys.
   */
  private long partResources(ExportRequest request) {
    long plain = settings.partResources();
    return request.anonymization() == null ? plain
        : Math.max(Math.min(plain, SMALLEST_DEID_PART), plain / DEID_PART_DIVISOR);
  }

  private static final long DEID_PART_DIVISOR = 10;
  private static final long SMALLEST_DEID_PART = 100;

  /** A type's pk range cut into ranges of about {@code partResources} rows, as {from, to} inclusive. */
  private static List<long[]> ranges(TypeStats t, long partResources) {
    long n = Math.max(1, (t.count() + partResources - 1) / partResources);
    long span = t.maxPk() - t.minPk() + 1;
    long width = (span + n - 1) / n;
    List<long[]> ranges = new ArrayList<>();
    for (long from = t.minPk(); from <= t.maxPk(); from += width) {
      ranges.add(new long[] {from, Math.min(t.maxPk(), from + width - 1)});
    }
    return ranges;
  }

  /** Waits for the kick-off's in-progress transactions, renewing the planning lease. */
  private boolean awaitTransactions(ExportJobRow job) throws SQLException, InterruptedException {
    long renewAt = System.nanoTime() + settings.renewEvery().toNanos();
    long warnAt = System.nanoTime() + 60_000_000_000L;
    while (jobs.stillRunning(job.waitXids()) > 0) {
      Thread.sleep(WAIT_STEP_MILLIS);
      if (System.nanoTime() > renewAt) {
        if (!jobs.renewPlanning(job.id(), owner, settings.lease())) {
          return false;
        }
        renewAt = System.nanoTime() + settings.renewEvery().toNanos();
      }
      if (System.nanoTime() > warnAt) {
        log.warn("Export {} still waits for transactions that were in progress at its kick-off", job.id());
        warnAt = System.nanoTime() + 60_000_000_000L;
      }
    }
    return true;
  }
}
